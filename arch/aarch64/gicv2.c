// SPDX-License-Identifier: BSD-2-Clause
/*
 * GICv2 driver (arm,cortex-a15-gic, arm,gic-400): distributor (GICD) and
 * memory-mapped CPU interface (GICC), both mapped with vm_map_mmio().
 *
 * SGI and PPI registers of the distributor (the first word of each array)
 * are banked per CPU, so each CPU programs its own. GICD_SGIR addresses
 * CPU *interface* numbers, which need not match Pagoda's logical ids: each
 * CPU reads its own interface bit from the banked GICD_ITARGETSR0-7 at
 * init, and the sender translates through that table.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define GICD_CTLR	0x000
#define GICD_TYPER	0x004
#define GICD_ISENABLER	0x100
#define GICD_ICENABLER	0x180
#define GICD_ICPENDR	0x280
#define GICD_ICACTIVER	0x380
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR	0x800
#define GICD_ICFGR	0xC00
#define GICD_SGIR	0xF00

#define GICC_CTLR 0x00
#define GICC_PMR  0x04
#define GICC_BPR  0x08
#define GICC_IAR  0x0C
#define GICC_EOIR 0x10

/* Group 0 and Group 1 enables (one enable bit in the Non-secure view). */
#define CTLR_ENABLE 0x3

static uintptr_t gicd, gicc;
static unsigned nr_lines;

static uint32_t priority_word(void)
{
	return GIC_PRIORITY * 0x01010101u;
}

/* This CPU's interface bit: the banked ITARGETSR bytes of SGIs/PPIs read back as it. */
static uint32_t own_target(void)
{
	for (unsigned i = 0; i < 8; i++) {
		uint32_t v = mmio_read32(gicd + GICD_ITARGETSR + 4 * i);
		for (; v; v >>= 8)
			if (v & 0xFF)
				return v & 0xFF;
	}
	return 0; /* a uniprocessor GIC may read as zero: nobody else to address */
}

static void gicv2_init(void)
{
	/* GICD is 4 KiB, GICC 8 KiB in GICv2; the device tree usually says 64 KiB each. */
	gicd = gic_map(fdt_platform.gicd_base, fdt_platform.gicd_size, 0x1000, "GICv2 GICD");
	gicc = gic_map(fdt_platform.gicc_base, fdt_platform.gicc_size, 0x2000, "GICv2 GICC");
	mmio_write32(gicd + GICD_CTLR, 0);
	unsigned lines = ((mmio_read32(gicd + GICD_TYPER) & 0x1F) + 1) * 32;
	if (lines > 1020)
		lines = 1020;
	nr_lines = lines;
	uint32_t boot_target = own_target() * 0x01010101u;
	/* SPIs: off, not pending, not active; routed to the boot CPU, level triggered. */
	for (unsigned i = 32; i < lines; i += 32) {
		mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xFFFFFFFFu);
		mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xFFFFFFFFu);
		mmio_write32(gicd + GICD_ICACTIVER + i / 8, 0xFFFFFFFFu);
	}
	for (unsigned i = 32; i < lines; i += 4) {
		mmio_write32(gicd + GICD_IPRIORITYR + i, priority_word());
		mmio_write32(gicd + GICD_ITARGETSR + i, boot_target);
	}
	for (unsigned i = 32; i < lines; i += 16)
		mmio_write32(gicd + GICD_ICFGR + i / 4, 0);
	mmio_write32(gicd + GICD_CTLR, CTLR_ENABLE);
	printk("gic: GICv2, distributor %#lx, CPU interface %#lx, %u interrupt lines",
	       (unsigned long)fdt_platform.gicd_base, (unsigned long)fdt_platform.gicc_base, lines);
}

static void gicv2_init_cpu(void)
{
	struct aarch64_percpu *p = aarch64_this_cpu();
	p->gicv2_target = own_target();
	/* Banked SGI/PPI state: PPIs off until asked for, our SGIs on, one priority. */
	mmio_write32(gicd + GICD_ICENABLER, 0xFFFF0000u);
	mmio_write32(gicd + GICD_ICPENDR, 0xFFFFFFFFu);
	mmio_write32(gicd + GICD_ICACTIVER, 0xFFFFFFFFu);
	for (unsigned i = 0; i < 32; i += 4)
		mmio_write32(gicd + GICD_IPRIORITYR + i, priority_word());
	mmio_write32(gicd + GICD_ISENABLER, (1u << IPI_KIND_COUNT) - 1);
	mmio_write32(gicc + GICC_PMR, GIC_PMR);
	mmio_write32(gicc + GICC_BPR, 0);
	mmio_write32(gicc + GICC_CTLR, CTLR_ENABLE);
}

static uint32_t gicv2_ack(uint32_t *raw)
{
	uint32_t iar = mmio_read32(gicc + GICC_IAR);
	/* The sender's stores precede its SGI; keep our reads of them after the ack. */
	dsb(sy);
	*raw = iar; /* bits 12:10 hold an SGI's source CPU: EOIR wants them back */
	return iar & 0x3FF;
}

static void gicv2_eoi(uint32_t raw)
{
	mmio_write32(gicc + GICC_EOIR, raw);
}

static void gicv2_send_sgi(cpumask_t targets, unsigned sgi)
{
	uint32_t list = 0;
	for_each_cpu(cpu, targets) list |= aarch64_percpu[cpu].gicv2_target;
	if (!list)
		return;
	/* Normal-memory stores (the request the IPI announces) before the device write. */
	dsb(ishst);
	mmio_write32(gicd + GICD_SGIR, (list & 0xFF) << 16 | (sgi & 0xF));
}

static void gicv2_enable_ppi(unsigned intid)
{
	mmio_write32(gicd + GICD_ISENABLER, 1u << intid);
}

/* Serialises the read-modify-write of GICD_ICFGR, whose words hold 16 SPIs each. */
static spinlock_t cfg_lock = SPINLOCK_INIT;

/*
 * GICD_ICFGR: two bits per interrupt, the upper one set for edge-triggered.
 * An edge SPI's stale pending state (a previous owner's late MSI) is cleared
 * before it is enabled: its handler is installed but the device not yet
 * told to signal, so nothing of the new owner's is lost.
 */
static void gicv2_enable_spi(unsigned intid, bool level)
{
	uintptr_t cfg = gicd + GICD_ICFGR + intid / 16 * 4;
	uint32_t edge = 2u << (intid % 16 * 2);
	uint32_t bit = 1u << (intid % 32);
	irqflags_t flags = spin_lock_irqsave(&cfg_lock);
	mmio_write32(gicd + GICD_ICENABLER + intid / 32 * 4, bit);
	mmio_write32(cfg, level ? mmio_read32(cfg) & ~edge : mmio_read32(cfg) | edge);
	if (!level)
		mmio_write32(gicd + GICD_ICPENDR + intid / 32 * 4, bit);
	mmio_write32(gicd + GICD_ISENABLER + intid / 32 * 4, bit);
	spin_unlock_irqrestore(&cfg_lock, flags);
}

static void gicv2_disable_spi(unsigned intid)
{
	mmio_write32(gicd + GICD_ICENABLER + intid / 32 * 4, 1u << (intid % 32));
}

static unsigned gicv2_lines(void)
{
	return nr_lines;
}

const struct gic_ops gicv2_ops = {
    .name = "GICv2",
    .init = gicv2_init,
    .init_cpu = gicv2_init_cpu,
    .ack = gicv2_ack,
    .eoi = gicv2_eoi,
    .send_sgi = gicv2_send_sgi,
    .enable_ppi = gicv2_enable_ppi,
    .enable_spi = gicv2_enable_spi,
    .disable_spi = gicv2_disable_spi,
    .lines = gicv2_lines,
};
