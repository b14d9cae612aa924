// SPDX-License-Identifier: BSD-2-Clause
/*
 * The edu driver (see edu.h): registers as QEMU's hw/misc/edu.c lays them
 * out, completion by interrupt (MSI where the platform offers it, INTx
 * otherwise: pci_irq_setup), DMA by bus address.
 *
 * Invariants: every register access goes through the BAR0 mapping made
 * once by edu_init(); a DMA's registers are written only while the
 * device is idle (edu ignores writes while a transfer runs), and the
 * command goes last, after a barrier that makes the CPU's writes to the
 * source visible; what the device wrote is read only after its completion
 * interrupt and a barrier. The interrupt handler acknowledges exactly the
 * bits it read from the interrupt status register (so a level-triggered
 * INTx drops before the GIC ends the interrupt, and a cause raised after
 * the read is not lost), and publishes them to `irq_seen` before waking
 * the waiter; a waiter clears its bit before starting the operation, so
 * a stale completion never ends a new wait.
 */
#include "kernel/drivers/edu.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mmio.h"
#include "kernel/pci/pci.h"
#include "kernel/printk.h"
#include "kernel/sync/wait.h"
#include "lib/fmt.h"
#include "kernel/arch.h"

#define EDU_ID	       0x00
#define EDU_LIVENESS   0x04
#define EDU_FACTORIAL  0x08
#define EDU_STATUS     0x20
#define EDU_IRQ_STATUS 0x24
#define EDU_IRQ_RAISE  0x60
#define EDU_IRQ_ACK    0x64
#define EDU_DMA_SRC    0x80
#define EDU_DMA_DST    0x88
#define EDU_DMA_COUNT  0x90
#define EDU_DMA_CMD    0x98

#define EDU_STATUS_IRQFACT   0x80u /* raise FACT_IRQ when a factorial is done */
#define EDU_DMA_RUN	     0x1u
#define EDU_DMA_DIR_TO_RAM   0x2u /* direction bit: 0 RAM -> device, 1 device -> RAM */
#define EDU_DMA_IRQ	     0x4u /* raise DMA_IRQ when the transfer is done */

#define IRQ_WAIT_NS 1000000000ull /* 1 s: edu starts a DMA after 100 ms */

CMDLINE_PARAM(edu_dma_bits_param, .key = "edu.dma_bits", .kind = CMDLINE_U64, .min = 20,
	      .max = 64, .def = "28",
	      .help = "edu: width of the device's DMA addresses (QEMU -device edu,dma_mask=)");

CMDLINE_PARAM(edu_break_param, .key = "edu.break", .kind = CMDLINE_ENUM,
	      .values = "none|double_count", .def = "none",
	      .help = "edu: test only: double_count counts every completion interrupt twice");

static struct pci_dev *pdev;
static volatile uint8_t *regs;
static struct mutex edu_lock = MUTEX_INIT;
static struct pci_irq irq;
static struct wait_queue irq_wq = WAIT_QUEUE_INIT;
static uint32_t irq_seen; /* causes the handler acknowledged and no waiter consumed yet */
static uint32_t irq_last; /* the status the handler read last */
static struct edu_irq_stats stats;

static uint32_t rd32(unsigned off)
{
	return mmio_read32(regs + off);
}
static void wr32(unsigned off, uint32_t v)
{
	mmio_write32(regs + off, v);
}

/* Runs on the boot CPU with interrupts off, before the controller's EOI. */
static void edu_irq_handler(void *arg)
{
	(void)arg;
	uint32_t status = rd32(EDU_IRQ_STATUS);
	if (!status) {
		stats.spurious++; /* not the device's: nothing to acknowledge or count */
		return;
	}
	wr32(EDU_IRQ_ACK, status);
	unsigned times = cmdline_enum("edu.break") == 1 ? 2 : 1;
	for (unsigned i = 0; i < times; i++) {
		stats.handled++;
		stats.dma += !!(status & EDU_IRQ_DMA);
		stats.factorial += !!(status & EDU_IRQ_FACTORIAL);
	}
	__atomic_store_n(&irq_last, status, __ATOMIC_RELAXED);
	__atomic_fetch_or(&irq_seen, status, __ATOMIC_RELEASE);
	wait_queue_wake_all(&irq_wq);
}

static bool irq_arrived(void *bits)
{
	return __atomic_load_n(&irq_seen, __ATOMIC_ACQUIRE) & *(uint32_t *)bits;
}

/*
 * Waits for the handler to see any of `bits` (cleared by the caller before
 * it started the operation), then consumes them. edu_lock held.
 */
static int wait_irq(uint32_t bits)
{
	bool ok = wait_queue_wait_timeout(&irq_wq, irq_arrived, &bits, IRQ_WAIT_NS);
	__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
	return ok ? 0 : -ETIMEDOUT;
}

static void irq_expect(uint32_t bits)
{
	__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
}

/* Writes `v` to register `off` and waits for the interrupt with `cause`. edu_lock held. */
static int write_and_wait(unsigned off, uint32_t v, uint32_t cause)
{
	irq_expect(cause);
	wr32(off, v);
	return wait_irq(cause);
}

/* 0 when the device is there and has an interrupt; otherwise why it cannot be used. */
static int edu_usable(void)
{
	return !regs ? -ENOENT : irq.kind == PCI_IRQ_NONE ? -ENODEV : 0;
}

/* Chooses and installs the interrupt; false (logged) when the device has none. */
static bool edu_irq_init(char *how, size_t n)
{
	int err = pci_irq_setup(pdev, edu_irq_handler, NULL, &irq);
	if (err) {
		snprintf(how, n, "no interrupt (%s, error %d): DMA and factorial refused",
			 pdev->msi_cap ? "MSI unavailable or off, INTx not routed" : "no MSI, no INTx",
			 err);
		return false;
	}
	char name[40];
	arch_irq_describe(irq.irq, name, sizeof(name));
	snprintf(how, n, "interrupt: %s %s", irq.kind == PCI_IRQ_MSI ? "MSI" : "INTx", name);
	wr32(EDU_STATUS, EDU_STATUS_IRQFACT); /* every factorial ends with FACT_IRQ */
	return true;
}

void edu_init(void)
{
	pdev = pci_find(EDU_VENDOR, EDU_DEVICE);
	if (!pdev) {
		printk("edu: no 1234:11e8 on the PCI bus (QEMU -device edu)");
		return;
	}
	int err = pci_enable(pdev, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	regs = err ? NULL : pci_map_bar(pdev, 0, "edu BAR0");
	if (!regs) {
		printk("edu: %02x:%02x.%u: BAR0 unassigned or not memory; not used", pdev->bus,
		       pdev->dev, pdev->fn);
		pdev = NULL;
		return;
	}
	uint32_t id = rd32(EDU_ID);
	if (id != EDU_IDENTITY) {
		printk("edu: %02x:%02x.%u: identity %#x, expected %#x; not used", pdev->bus,
		       pdev->dev, pdev->fn, id, EDU_IDENTITY);
		regs = NULL;
		pdev = NULL;
		return;
	}
	char how[120];
	edu_irq_init(how, sizeof(how));
	printk("edu: %02x:%02x.%u BAR0 %#llx, version %u.%u, DMA below %#llx; %s", pdev->bus,
	       pdev->dev, pdev->fn, (unsigned long long)pdev->bar[0].addr, id >> 24,
	       (id >> 16) & 0xff, (unsigned long long)edu_dma_limit() + 1, how);
}

const struct pci_irq *edu_irq(void)
{
	return regs ? &irq : NULL;
}

struct edu_irq_stats edu_irq_stats(void)
{
	irqflags_t flags = arch_irq_save(); /* the handler runs on this CPU 0 alone */
	struct edu_irq_stats s = stats;
	arch_irq_restore(flags);
	return s;
}

int edu_raise(uint32_t bits, uint32_t *status)
{
	int err = edu_usable();
	if (err)
		return err;
	if (!bits)
		return -EINVAL;
	mutex_lock(&edu_lock);
	err = write_and_wait(EDU_IRQ_RAISE, bits, bits);
	*status = __atomic_load_n(&irq_last, __ATOMIC_RELAXED);
	mutex_unlock(&edu_lock);
	return err;
}

bool edu_present(void)
{
	return regs != NULL;
}

uint32_t edu_identity(void)
{
	return regs ? rd32(EDU_ID) : 0;
}

uint32_t edu_liveness(uint32_t v)
{
	if (!regs)
		return v; /* not ~v: a caller's check fails */
	mutex_lock(&edu_lock);
	wr32(EDU_LIVENESS, v);
	uint32_t r = rd32(EDU_LIVENESS);
	mutex_unlock(&edu_lock);
	return r;
}

int edu_factorial(uint32_t n, uint32_t *out)
{
	int err = edu_usable();
	if (err)
		return err;
	mutex_lock(&edu_lock);
	err = write_and_wait(EDU_FACTORIAL, n, EDU_IRQ_FACTORIAL);
	if (!err)
		*out = rd32(EDU_FACTORIAL);
	mutex_unlock(&edu_lock);
	return err;
}

uint64_t edu_dma_limit(void)
{
	uint64_t bits = cmdline_u64("edu.dma_bits");
	return bits >= 64 ? ~0ull : (1ull << bits) - 1;
}

struct pci_dev *edu_pci_dev(void)
{
	return regs ? pdev : NULL;
}

int edu_dma(enum edu_dma_dir dir, phys_addr_t ram, uint32_t off, uint32_t len)
{
	if (ram + len - 1 < ram || ram + len - 1 > edu_dma_limit())
		return regs ? -EINVAL : -ENOENT;
	return edu_dma_bus(dir, ram, off, len);
}

int edu_dma_bus(enum edu_dma_dir dir, uint64_t bus, uint32_t off, uint32_t len)
{
	int err = edu_usable();
	if (err)
		return err;
	if (len == 0 || off > EDU_BUF_SIZE || len > EDU_BUF_SIZE - off || bus + len - 1 < bus ||
	    bus + len - 1 > edu_dma_limit())
		return -EINVAL;
	uint64_t dev = EDU_BUF_ADDR + off;
	mutex_lock(&edu_lock);
	mmio_write64(regs + EDU_DMA_SRC, dir == EDU_TO_DEVICE ? bus : dev);
	mmio_write64(regs + EDU_DMA_DST, dir == EDU_TO_DEVICE ? dev : bus);
	mmio_write64(regs + EDU_DMA_COUNT, len);
	irq_expect(EDU_IRQ_DMA);
	mmio_wmb(); /* the source bytes before the command that reads them */
	mmio_write64(regs + EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ |
					     (dir == EDU_FROM_DEVICE ? EDU_DMA_DIR_TO_RAM : 0));
	err = wait_irq(EDU_IRQ_DMA);
	mmio_rmb(); /* the completion before the bytes the device wrote */
	mutex_unlock(&edu_lock);
	return err;
}
