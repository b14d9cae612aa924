// SPDX-License-Identifier: BSD-2-Clause
/*
 * The edu driver (see edu.h): registers as QEMU's hw/misc/edu.c lays them
 * out, completion by interrupt (MSI where the platform offers it, INTx
 * otherwise: pci_irq_setup), DMA by bus address.
 *
 * Invariants: every register access goes through the BAR0 mapping made
 * once by edu_init(); a command (DMA or factorial) is written only while
 * the device is idle (edu drops writes while a transfer runs or a
 * factorial computes, so a busy device refuses with -EBUSY rather than
 * wait for a command it dropped), and a DMA's command goes last, after a
 * barrier that makes the CPU's writes to the source visible; what the
 * device wrote is read only after its completion was seen (the acquire in
 * irq_arrived). The interrupt handler acknowledges exactly the bits it
 * read from the interrupt status register (so a cause raised after the
 * read is not lost) and reads the status again, which flushes the posted
 * acknowledgement, so a level-triggered INTx is low before the GIC ends
 * the interrupt; it publishes the bits to `irq_seen` before waking the
 * waiter. A waiter clears its bit, with a barrier, before the register
 * write that starts the operation, so a stale completion never ends a new
 * wait. A wait that times out does not give the device up while it may
 * still run: it waits for the late completion (edu goes idle, then
 * interrupts), so no transfer writes RAM after its call returned and no
 * late interrupt ends the next caller's wait; a device that never
 * completes is not used again (-EIO).
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

#define EDU_STATUS_COMPUTING 0x1u /* a factorial is being computed */

#define IRQ_WAIT_NS 1000000000ull /* 1 s: edu starts a DMA after 100 ms */
#define QUIESCE_NS  5000000000ull /* after a timeout: far beyond edu's 100 ms */
#define LOST_IRQ_GRACE_NS 100000000ull /* idle at the timeout: how long a late interrupt may take */

CMDLINE_PARAM(edu_dma_bits_param, .key = "edu.dma_bits", .kind = CMDLINE_U64, .min = 20,
	      .max = 64, .def = "28",
	      .help = "edu: width of the device's DMA addresses (QEMU -device edu,dma_mask=)");

CMDLINE_PARAM(edu_break_param, .key = "edu.break", .kind = CMDLINE_ENUM,
	      .values = "none|double_count|no_quiesce", .def = "none",
	      .help = "edu: test only: double_count counts every completion interrupt twice; "
		      "no_quiesce returns from a timed-out wait while the device still runs");

static struct pci_dev *pdev;
static volatile uint8_t *regs;
static struct mutex edu_lock = MUTEX_INIT;
static struct pci_irq irq;
static struct wait_queue irq_wq = WAIT_QUEUE_INIT;
static uint32_t irq_seen; /* causes the handler acknowledged and no waiter consumed yet */
static uint32_t irq_last; /* the status the handler read last */
static uint64_t irq_wait_ns = IRQ_WAIT_NS; /* edu_test_set_irq_wait_ns() shortens it */
static bool edu_broken;	  /* a command never completed: the device is not used again */
static bool double_count; /* edu.break=double_count, read once by edu_init */
static spinlock_t stats_lock = SPINLOCK_INIT; /* the handler (any CPU it is routed to), readers */
static struct edu_irq_stats stats;

static uint32_t rd32(unsigned off)
{
	return mmio_read32(regs + off);
}
static void wr32(unsigned off, uint32_t v)
{
	mmio_write32(regs + off, v);
}

/* Runs with interrupts off, before the controller's EOI. */
static void edu_irq_handler(void *arg)
{
	(void)arg;
	uint32_t status = rd32(EDU_IRQ_STATUS);
	if (status) {
		wr32(EDU_IRQ_ACK, status);
		(void)rd32(EDU_IRQ_STATUS); /* flushes the posted ack: INTx is low before the EOI */
	}
	spin_lock(&stats_lock); /* interrupts are already off */
	if (!status)
		stats.spurious++; /* not the device's: nothing to acknowledge or count */
	for (unsigned i = 0; status && i < (double_count ? 2u : 1u); i++) {
		stats.handled++;
		stats.dma += !!(status & EDU_IRQ_DMA);
		stats.factorial += !!(status & EDU_IRQ_FACTORIAL);
	}
	spin_unlock(&stats_lock);
	if (!status)
		return;
	__atomic_store_n(&irq_last, status, __ATOMIC_RELAXED);
	__atomic_fetch_or(&irq_seen, status, __ATOMIC_RELEASE);
	wait_queue_wake_all(&irq_wq);
}

static bool irq_arrived(void *bits)
{
	return __atomic_load_n(&irq_seen, __ATOMIC_ACQUIRE) & *(uint32_t *)bits;
}

static bool device_idle(void)
{
	return !(rd32(EDU_DMA_CMD) & EDU_DMA_RUN) && !(rd32(EDU_STATUS) & EDU_STATUS_COMPUTING);
}

/*
 * After a timed-out wait for `bits`: the device may still run the command
 * and will then raise `bits` after going idle. Waits for that (the cause is
 * left in irq_seen if it came after the first wait gave up) and consumes
 * it: -ETIMEDOUT, the device idle and nothing more to come. -EIO, and the
 * device is not used again, when it never completes. edu_lock held.
 */
static int quiesce(uint32_t bits)
{
	if (cmdline_enum("edu.break") == 2) {
		__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
		return -ETIMEDOUT; /* test only: the device may still write RAM */
	}
	if (device_idle()) {
		/*
		 * The work is done and only its interrupt is missing: lost on
		 * the way (an MSI that a stream no longer translating dropped)
		 * or late. Nothing will write RAM any more; a short grace
		 * takes a late one, so that it cannot end the next wait.
		 */
		wait_queue_wait_timeout(&irq_wq, irq_arrived, &bits, LOST_IRQ_GRACE_NS);
		__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
		return -ETIMEDOUT;
	}
	bool done = wait_queue_wait_timeout(&irq_wq, irq_arrived, &bits, QUIESCE_NS);
	__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
	if (done && device_idle())
		return -ETIMEDOUT;
	printk("edu: no completion %llu s after a timeout (causes %#x): device not used again",
	       (unsigned long long)(QUIESCE_NS / 1000000000ull), bits);
	__atomic_store_n(&edu_broken, true, __ATOMIC_RELAXED);
	return -EIO;
}

/*
 * Waits for the handler to see any of `bits` (cleared by the caller before
 * it started the operation), then consumes them. 0; -ETIMEDOUT after
 * quiesce() (the device is idle again); -EIO. edu_lock held.
 */
static int wait_irq(uint32_t bits)
{
	uint64_t ns = __atomic_load_n(&irq_wait_ns, __ATOMIC_RELAXED);
	if (!wait_queue_wait_timeout(&irq_wq, irq_arrived, &bits, ns))
		return quiesce(bits);
	__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
	return 0;
}

/* Before the register write that starts an operation raising `bits`. edu_lock held. */
static void irq_expect(uint32_t bits)
{
	__atomic_fetch_and(&irq_seen, ~bits, __ATOMIC_RELAXED);
	/*
	 * The clear is visible before the device sees the start: on arm64 nothing
	 * else orders a store to Normal memory before a later Device store, and a
	 * completion the handler published meanwhile would be cleared (lost).
	 */
	mmio_wmb();
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
	if (!regs)
		return -ENOENT;
	if (irq.kind == PCI_IRQ_NONE)
		return -ENODEV;
	return __atomic_load_n(&edu_broken, __ATOMIC_RELAXED) ? -EIO : 0;
}

/* Takes edu_lock for a command; -EBUSY (lock not held) while the device still runs one. */
static int edu_lock_idle(void)
{
	mutex_lock(&edu_lock);
	if (device_idle())
		return 0;
	mutex_unlock(&edu_lock);
	return -EBUSY;
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
	double_count = cmdline_enum("edu.break") == 1;
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
	irqflags_t flags = spin_lock_irqsave(&stats_lock);
	struct edu_irq_stats s = stats;
	spin_unlock_irqrestore(&stats_lock, flags);
	return s;
}

uint64_t edu_test_set_irq_wait_ns(uint64_t ns)
{
	return __atomic_exchange_n(&irq_wait_ns, ns ? ns : IRQ_WAIT_NS, __ATOMIC_RELAXED);
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
	err = edu_lock_idle();
	if (err)
		return err;
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
	err = edu_lock_idle();
	if (err)
		return err;
	mmio_write64(regs + EDU_DMA_SRC, dir == EDU_TO_DEVICE ? bus : dev);
	mmio_write64(regs + EDU_DMA_DST, dir == EDU_TO_DEVICE ? dev : bus);
	mmio_write64(regs + EDU_DMA_COUNT, len);
	/* Its barrier also orders the source bytes before the command that reads them. */
	irq_expect(EDU_IRQ_DMA);
	mmio_write64(regs + EDU_DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ |
					     (dir == EDU_FROM_DEVICE ? EDU_DMA_DIR_TO_RAM : 0));
	/*
	 * The caller's reads of what the device wrote are ordered by the acquire
	 * that saw the completion (irq_arrived, pairing with the handler's
	 * release), and the device makes its DMA writes visible before its
	 * interrupt: no MMIO barrier is needed here.
	 */
	err = wait_irq(EDU_IRQ_DMA);
	mutex_unlock(&edu_lock);
	return err;
}
