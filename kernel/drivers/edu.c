// SPDX-License-Identifier: BSD-2-Clause
/*
 * The edu driver (see edu.h): registers as QEMU's hw/misc/edu.c lays them
 * out, polled completion with bounded waits, DMA by physical address.
 *
 * Invariants: every register access goes through the BAR0 mapping made
 * once by edu_init(); a DMA's registers are written only while the
 * device is idle (edu ignores writes while a transfer runs), and the
 * command goes last, after a barrier that makes the CPU's writes to the
 * source visible; what the device wrote is read only after the run bit
 * reads clear and a barrier.
 */
#include "kernel/drivers/edu.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mmio.h"
#include "kernel/pci/pci.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/wait.h"
#include "kernel/arch.h"

#define EDU_ID	       0x00
#define EDU_LIVENESS   0x04
#define EDU_FACTORIAL  0x08
#define EDU_STATUS     0x20
#define EDU_DMA_SRC    0x80
#define EDU_DMA_DST    0x88
#define EDU_DMA_COUNT  0x90
#define EDU_DMA_CMD    0x98

#define EDU_STATUS_COMPUTING 0x1u
#define EDU_DMA_RUN	     0x1u
#define EDU_DMA_DIR_TO_RAM   0x2u /* direction bit: 0 RAM -> device, 1 device -> RAM */

#define FACTORIAL_WAIT_NS 100000000ull /* 100 ms: the device computes at once */
#define DMA_WAIT_NS	  1000000000ull /* 1 s: edu starts a DMA after 100 ms */
#define DMA_POLL_NS	  1000000ull	/* sleep between polls (a tick in practice) */

CMDLINE_PARAM(edu_dma_bits_param, .key = "edu.dma_bits", .kind = CMDLINE_U64, .min = 20,
	      .max = 64, .def = "28",
	      .help = "edu: width of the device's DMA addresses (QEMU -device edu,dma_mask=)");

static struct pci_dev *pdev;
static volatile uint8_t *regs;
static struct mutex edu_lock = MUTEX_INIT;

static uint32_t rd32(unsigned off)
{
	return mmio_read32(regs + off);
}
static void wr32(unsigned off, uint32_t v)
{
	mmio_write32(regs + off, v);
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
	printk("edu: %02x:%02x.%u BAR0 %#llx, version %u.%u, DMA below %#llx; polled (no "
	       "interrupts yet)", pdev->bus, pdev->dev, pdev->fn,
	       (unsigned long long)pdev->bar[0].addr, id >> 24, (id >> 16) & 0xff,
	       (unsigned long long)edu_dma_limit() + 1);
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
	if (!regs)
		return -ENOENT;
	mutex_lock(&edu_lock);
	int err = 0;
	wr32(EDU_FACTORIAL, n);
	uint64_t deadline = arch_time_ns() + FACTORIAL_WAIT_NS;
	while (rd32(EDU_STATUS) & EDU_STATUS_COMPUTING) {
		if (arch_time_ns() > deadline) {
			err = -ETIMEDOUT;
			break;
		}
		arch_cpu_relax();
	}
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
	if (!regs)
		return -ENOENT;
	if (len == 0 || off > EDU_BUF_SIZE || len > EDU_BUF_SIZE - off || bus + len - 1 < bus ||
	    bus + len - 1 > edu_dma_limit())
		return -EINVAL;
	uint64_t dev = EDU_BUF_ADDR + off;
	mutex_lock(&edu_lock);
	mmio_write64(regs + EDU_DMA_SRC, dir == EDU_TO_DEVICE ? bus : dev);
	mmio_write64(regs + EDU_DMA_DST, dir == EDU_TO_DEVICE ? dev : bus);
	mmio_write64(regs + EDU_DMA_COUNT, len);
	mmio_wmb(); /* the source bytes before the command that reads them */
	mmio_write64(regs + EDU_DMA_CMD,
		     EDU_DMA_RUN | (dir == EDU_FROM_DEVICE ? EDU_DMA_DIR_TO_RAM : 0));
	int err = 0;
	uint64_t deadline = arch_time_ns() + DMA_WAIT_NS;
	while (mmio_read64(regs + EDU_DMA_CMD) & EDU_DMA_RUN) {
		if (arch_time_ns() > deadline) {
			err = -ETIMEDOUT;
			break;
		}
		thread_sleep_ns(DMA_POLL_NS);
	}
	mmio_rmb(); /* the run bit before the bytes the device wrote */
	mutex_unlock(&edu_lock);
	return err;
}
