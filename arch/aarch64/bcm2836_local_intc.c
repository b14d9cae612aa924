// SPDX-License-Identifier: BSD-2-Clause
/*
 * The BCM2836 ARM local interrupt controller of the Raspberry Pi 3 (and
 * 2), behind the GIC contract (gic.h) so the IRQ path, the IPIs and the
 * xcall and TLB-shootdown layers above it are unchanged.
 *
 * Mapping onto the contract:
 *  - IPIs: each core has four mailboxes, a write-set and a read/clear
 *    register each. IPI kind k (an "SGI" k) is mailbox k of the target
 *    core; its interrupt is enabled in the core's mailbox control register.
 *    Acknowledging clears the whole mailbox, so requests of one kind merge,
 *    as the contract allows (kernel/arch.h).
 *  - Timer: the generic timer's four per-core outputs (CNTPS, CNTPNS,
 *    CNTHP, CNTV) are lines 0-3 of the core's timer control register; the
 *    device tree's timer specifier gives the line (fdt_boot.c), stored as a
 *    "PPI", so "PPI" n is line n and its INTID 16 + n, what time.c and
 *    irq.c already expect.
 *  - No SPIs: the GPU's interrupts (the VideoCore controller) are not
 *    routed; lines() is 0, so gic_enable_spi refuses every device line.
 *
 * Acknowledge reads the core's IRQ source register: mailboxes first (an
 * IPI_STOP must not wait behind a tick), then timer lines. End of
 * interrupt is nothing: the mailbox was cleared at acknowledge, the timer
 * line drops when the timer is re-armed.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"

#define LOCAL_PMU_ROUTE_CLR  0x14 /* bits 0-3: PMU IRQ off per core, 4-7: FIQ */
#define LOCAL_LTIMER_CTL     0x34 /* the block's own timer: bit 28 run, bit 29 IRQ */
#define LOCAL_LTIMER_FLAGS   0x38 /* bit 31: clear its pending interrupt */
#define LOCAL_TIMER_CTL(c)   (0x40 + 4 * (c))
#define LOCAL_MBOX_CTL(c)    (0x50 + 4 * (c))
#define LOCAL_IRQ_SOURCE(c)  (0x60 + 4 * (c))
#define LOCAL_MBOX_SET(c, m) (0x80 + 16 * (c) + 4 * (m))
#define LOCAL_MBOX_CLR(c, m) (0xC0 + 16 * (c) + 4 * (m))
#define LOCAL_CORES	     4
#define LOCAL_MBOXES	     4
#define SRC_TIMERS	     0x0Fu
#define SRC_MBOX_SHIFT	     4
#define LOCAL_SIZE	     0x100

_Static_assert(IPI_KIND_COUNT <= LOCAL_MBOXES, "one mailbox per IPI kind");

static uintptr_t local;
/* Test-only (intc.break=wrong_core): an IPI rings the next core's mailbox. */
static bool break_wrong_core;

/* The words of `intc.break=`, in this order. */
enum intc_cmdline_break { INTC_BREAK_NONE, INTC_BREAK_WRONG_CORE };
CMDLINE_PARAM(intc_break_param, .key = "intc.break", .kind = CMDLINE_ENUM,
	      .values = "none|wrong_core", .def = "none",
	      .help = "test-only: break the local controller's IPIs (tests must then fail)");

static unsigned this_core(void)
{
	return (unsigned)(aarch64_this_cpu()->mpidr & 0xFF);
}

static void local_init(void)
{
	local = gic_map(fdt_platform.local_intc_base, fdt_platform.local_intc_size, LOCAL_SIZE,
			"bcm2836 local intc");
	/*
	 * Nothing enabled until each core asks: no stray tick or mailbox. The
	 * sources this driver never serves (PMU, the block's own timer) are
	 * switched off too: firmware may leave one raised, and local_ack would
	 * report it as spurious with the line still up, forever.
	 */
	mmio_write32(local + LOCAL_PMU_ROUTE_CLR, 0xFF);
	mmio_write32(local + LOCAL_LTIMER_CTL, 0);
	mmio_write32(local + LOCAL_LTIMER_FLAGS, 1u << 31);
	for (unsigned c = 0; c < LOCAL_CORES; c++) {
		mmio_write32(local + LOCAL_TIMER_CTL(c), 0);
		mmio_write32(local + LOCAL_MBOX_CTL(c), 0);
	}
	printk("irq: bcm2836 local controller at %#lx: IPIs by mailboxes 0-%u, timer line %u",
	       (unsigned long)fdt_platform.local_intc_base, IPI_KIND_COUNT - 1,
	       fdt_platform.timer_ppi_virt);
	if (cmdline_enum("intc.break") == INTC_BREAK_WRONG_CORE) {
		break_wrong_core = true;
		printk("irq: WARNING: IPIs ring the next core's mailbox (intc.break=wrong_core): "
		       "tests must fail");
	}
}

static void local_init_cpu(void)
{
	unsigned c = this_core();
	if (c >= LOCAL_CORES)
		panic("local_init_cpu: core %u (MPIDR Aff0) has no local registers", c);
	for (unsigned m = 0; m < LOCAL_MBOXES; m++)
		mmio_write32(local + LOCAL_MBOX_CLR(c, m), 0xFFFFFFFFu);
	mmio_write32(local + LOCAL_MBOX_CTL(c), (1u << IPI_KIND_COUNT) - 1);
}

static uint32_t local_ack(uint32_t *raw)
{
	unsigned c = this_core();
	uint32_t src = mmio_read32(local + LOCAL_IRQ_SOURCE(c));
	uint32_t mbox = (src >> SRC_MBOX_SHIFT) & ((1u << LOCAL_MBOXES) - 1);
	*raw = 0;
	if (mbox) {
		unsigned m = (unsigned)__builtin_ctz(mbox);
		mmio_write32(local + LOCAL_MBOX_CLR(c, m), 0xFFFFFFFFu);
		/*
		 * The clear must reach the block before the handler reads the
		 * request: a sender's set that arrived after it then stays
		 * pending for the next interrupt. A Device write may be
		 * acknowledged early, so a dsb alone does not prove arrival; a
		 * read of the same block does.
		 */
		(void)mmio_read32(local + LOCAL_MBOX_CLR(c, m));
		dsb(sy);
		return m;
	}
	if (src & SRC_TIMERS)
		return 16 + (unsigned)__builtin_ctz(src & SRC_TIMERS);
	return GIC_SPURIOUS;
}

static void local_eoi(uint32_t raw)
{
	(void)raw;
}

static void local_send(cpumask_t targets, unsigned kind)
{
	/* Normal-memory stores (the request the IPI announces) before the device write. */
	dsb(ishst);
	for_each_cpu(cpu, targets)
	{
		unsigned c = (unsigned)(boot_info.cpus[cpu].hw_id & 0xFF);
		if (break_wrong_core)
			c = (c + 1) % LOCAL_CORES;
		if (c < LOCAL_CORES)
			mmio_write32(local + LOCAL_MBOX_SET(c, kind), 1);
	}
}

static void local_enable_ppi(unsigned intid)
{
	unsigned c = this_core(), line = intid - 16;
	if (intid < 16 || line >= 4)
		panic("local_enable_ppi: INTID %u is no timer line (16-19)", intid);
	uint32_t v = mmio_read32(local + LOCAL_TIMER_CTL(c));
	mmio_write32(local + LOCAL_TIMER_CTL(c), v | 1u << line);
}

static void local_enable_spi(unsigned intid, bool level)
{
	(void)level;
	panic("local_enable_spi: no device interrupt lines (INTID %u)", intid);
}

static void local_disable_spi(unsigned intid)
{
	(void)intid;
}

static unsigned local_lines(void)
{
	return 0;
}

const struct gic_ops bcm2836_local_intc_ops = {
    .name = "bcm2836 local",
    .init = local_init,
    .init_cpu = local_init_cpu,
    .ack = local_ack,
    .eoi = local_eoi,
    .send_sgi = local_send,
    .enable_ppi = local_enable_ppi,
    .enable_spi = local_enable_spi,
    .disable_spi = local_disable_spi,
    .lines = local_lines,
};
