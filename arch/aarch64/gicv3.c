// SPDX-License-Identifier: BSD-2-Clause
/*
 * GICv3 driver (arm,gic-v3): distributor with affinity routing, one
 * redistributor per CPU, and the system-register CPU interface (ICC_*).
 *
 * Each CPU finds its own redistributor by walking the GICR frames until
 * GICR_TYPER's affinity matches its MPIDR, wakes it (GICR_WAKER) and
 * programs its SGIs and PPIs there. SGIs are sent with ICC_SGI1R_EL1,
 * addressed by affinity (cluster Aff3.Aff2.Aff1 plus a bit for Aff0), so
 * the target's MPIDR comes from boot_info. Every interrupt is Group 1.
 *
 * Identical SGIs from several senders may be acknowledged once: callers
 * never count IPIs (kernel/arch.h).
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/gicv3_its.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

#define GICD_CTLR	0x0000
#define GICD_TYPER	0x0004
#define GICD_IGROUPR	0x0080
#define GICD_ISENABLER	0x0100
#define GICD_ICENABLER	0x0180
#define GICD_ICPENDR	0x0280
#define GICD_IPRIORITYR 0x0400
#define GICD_ICFGR	0x0C00
#define GICD_IROUTER	0x6000

#define GICD_CTLR_RWP	    (1u << 31)
#define GICD_CTLR_ARE	    (1u << 4) /* ARE_NS in the Non-secure view */
#define GICD_CTLR_ENABLE_G1 (1u << 1) /* EnableGrp1 / EnableGrp1A */

/* Redistributor: RD_base frame, then the SGI_base frame 64 KiB above it. */
#define GICR_TYPER	     0x0008
#define GICR_WAKER	     0x0014
#define GICR_SGI	     0x10000
#define GICR_IGROUPR0	     (GICR_SGI + 0x0080)
#define GICR_ISENABLER0	     (GICR_SGI + 0x0100)
#define GICR_ICENABLER0	     (GICR_SGI + 0x0180)
#define GICR_ICPENDR0	     (GICR_SGI + 0x0280)
#define GICR_IPRIORITYR	     (GICR_SGI + 0x0400)
#define GICR_FRAME	     0x20000
#define GICR_TYPER_VLPIS     (1u << 1) /* GICv4: two more 64 KiB frames per CPU */
#define GICR_TYPER_LAST	     (1u << 4)
#define WAKER_SLEEP	     (1u << 1)
#define WAKER_CHILDREN_SLEEP (1u << 2)

#define ICC_SRE_SRE 1u

static uintptr_t gicd;
static uintptr_t gicr; /* the redistributor region, every CPU's frames */
static unsigned nr_lines;

static void wait_rwp(void)
{
	for (unsigned i = 0; mmio_read32(gicd + GICD_CTLR) & GICD_CTLR_RWP; i++)
		if (i > 10000000)
			panic("gicv3: distributor register write never completed (GICD_CTLR.RWP)");
}

/* MPIDR affinity as GICR_TYPER and GICD_IROUTER lay it out: Aff3.Aff2.Aff1.Aff0. */
static uint32_t packed_affinity(uint64_t mpidr)
{
	return (uint32_t)((mpidr & 0xFFFFFF) | ((mpidr >> 32 & 0xFF) << 24));
}

static void gicv3_init(void)
{
	gicd = gic_map(fdt_platform.gicd_base, fdt_platform.gicd_size, 0x10000, "GICv3 GICD");
	/* Every CPU's frames, mapped once here; without a size only one CPU's two frames. */
	gicr =
	    gic_map(fdt_platform.gicr_base, fdt_platform.gicr_size, 2 * GICR_FRAME, "GICv3 GICR");
	mmio_write32(gicd + GICD_CTLR, 0);
	wait_rwp();
	unsigned lines = ((mmio_read32(gicd + GICD_TYPER) & 0x1F) + 1) * 32;
	if (lines > 1020)
		lines = 1020;
	nr_lines = lines;
	uint64_t boot = aarch64_this_cpu()->mpidr;
	uint64_t route = (boot & 0xFFFFFF) | ((boot >> 32 & 0xFF) << 32);
	/* SPIs: Group 1, off, not pending, one priority, routed to the boot CPU. */
	for (unsigned i = 32; i < lines; i += 32) {
		mmio_write32(gicd + GICD_IGROUPR + i / 8, 0xFFFFFFFFu);
		mmio_write32(gicd + GICD_ICENABLER + i / 8, 0xFFFFFFFFu);
		mmio_write32(gicd + GICD_ICPENDR + i / 8, 0xFFFFFFFFu);
	}
	for (unsigned i = 32; i < lines; i += 4)
		mmio_write32(gicd + GICD_IPRIORITYR + i, GIC_PRIORITY * 0x01010101u);
	wait_rwp();
	/* Affinity routing must be on before the groups are enabled. */
	mmio_write32(gicd + GICD_CTLR, GICD_CTLR_ARE);
	wait_rwp();
	for (unsigned i = 32; i < lines; i++)
		mmio_write64(gicd + GICD_IROUTER + 8 * i, route);
	mmio_write32(gicd + GICD_CTLR, GICD_CTLR_ARE | GICD_CTLR_ENABLE_G1);
	wait_rwp();
	printk("gic: GICv3, distributor %#lx, redistributors %#lx+%#lx, %u interrupt lines",
	       (unsigned long)fdt_platform.gicd_base, (unsigned long)fdt_platform.gicr_base,
	       (unsigned long)fdt_platform.gicr_size, lines);
}

static uintptr_t find_redistributor(uint64_t mpidr)
{
	uintptr_t base = gicr;
	uint64_t size = fdt_platform.gicr_size ? fdt_platform.gicr_size : 2 * GICR_FRAME;
	uint32_t want = packed_affinity(mpidr);
	for (uint64_t off = 0; off + GICR_FRAME <= size;) {
		uint64_t typer = mmio_read64(base + off + GICR_TYPER);
		if ((uint32_t)(typer >> 32) == want)
			return base + off;
		if (typer & GICR_TYPER_LAST)
			break;
		off += typer & GICR_TYPER_VLPIS ? 2 * GICR_FRAME : GICR_FRAME;
	}
	panic("gicv3: no redistributor for MPIDR %#lx in %#lx+%#lx", (unsigned long)mpidr,
	      (unsigned long)fdt_platform.gicr_base, (unsigned long)size);
}

static void gicv3_init_cpu(void)
{
	struct aarch64_percpu *p = aarch64_this_cpu();
	uintptr_t rd = find_redistributor(p->mpidr);
	p->gicr = rd;

	mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~WAKER_SLEEP);
	for (unsigned i = 0; mmio_read32(rd + GICR_WAKER) & WAKER_CHILDREN_SLEEP; i++)
		if (i > 10000000)
			panic("gicv3: redistributor %#lx never woke (GICR_WAKER.ChildrenAsleep)",
			      (unsigned long)(fdt_platform.gicr_base + (rd - gicr)));

	mmio_write32(rd + GICR_IGROUPR0, 0xFFFFFFFFu);
	mmio_write32(rd + GICR_ICENABLER0, 0xFFFF0000u);
	mmio_write32(rd + GICR_ICPENDR0, 0xFFFFFFFFu);
	for (unsigned i = 0; i < 32; i += 4)
		mmio_write32(rd + GICR_IPRIORITYR + i, GIC_PRIORITY * 0x01010101u);
	mmio_write32(rd + GICR_ISENABLER0, (1u << IPI_KIND_COUNT) - 1);

	write_sysreg(icc_sre_el1, read_sysreg(icc_sre_el1) | ICC_SRE_SRE);
	isb();
	if (!(read_sysreg(icc_sre_el1) & ICC_SRE_SRE))
		panic("gicv3: ICC_SRE_EL1.SRE stays 0: the system-register interface is disabled "
		      "(by EL2 or EL3)");
	write_sysreg(icc_pmr_el1, GIC_PMR);
	write_sysreg(icc_bpr1_el1, 0);
	write_sysreg(icc_ctlr_el1, 0); /* EOImode 0: EOIR drops priority and deactivates */
	write_sysreg(icc_igrpen1_el1, 1);
	isb();
	its_init_cpu(rd, fdt_platform.gicr_base + (rd - gicr));
}

static uint32_t gicv3_ack(uint32_t *raw)
{
	uint32_t intid = (uint32_t)read_sysreg(icc_iar1_el1) & 0xFFFFFF;
	/* The sender's stores precede its SGI; keep our reads of them after the ack. */
	dsb(sy);
	*raw = intid;
	return intid;
}

static void gicv3_eoi(uint32_t raw)
{
	write_sysreg(icc_eoir1_el1, raw);
	isb();
}

static void gicv3_send_sgi(cpumask_t targets, unsigned sgi)
{
	/* System-register writes are not ordered by dmb: a dsb publishes our stores first. */
	dsb(ishst);
	for_each_cpu(cpu, targets)
	{
		uint64_t mpidr = boot_info.cpus[cpu].hw_id;
		uint64_t aff0 = mpidr & 0xFF;
		uint64_t v = (mpidr >> 32 & 0xFF) << 48 | (mpidr >> 16 & 0xFF) << 32 |
			     (mpidr >> 8 & 0xFF) << 16 | (uint64_t)(sgi & 0xF) << 24 |
			     (aff0 >> 4) << 44 | 1ull << (aff0 & 0xF);
		write_sysreg(icc_sgi1r_el1, v);
	}
	isb();
}

static void gicv3_enable_ppi(unsigned intid)
{
	mmio_write32(aarch64_this_cpu()->gicr + GICR_ISENABLER0, 1u << intid);
}

/* Serialises the read-modify-write of GICD_ICFGR, whose words hold 16 SPIs each. */
static spinlock_t cfg_lock = SPINLOCK_INIT;

/*
 * As on GICv2: GICD_ICFGR's upper bit of each pair means edge, under
 * cfg_lock, and an edge SPI's stale pending state is cleared before it is
 * enabled; routing was set at init.
 */
static void gicv3_enable_spi(unsigned intid, bool level)
{
	uintptr_t cfg = gicd + GICD_ICFGR + intid / 16 * 4;
	uint32_t edge = 2u << (intid % 16 * 2);
	uint32_t bit = 1u << (intid % 32);
	irqflags_t flags = spin_lock_irqsave(&cfg_lock);
	mmio_write32(gicd + GICD_ICENABLER + intid / 32 * 4, bit);
	wait_rwp();
	mmio_write32(cfg, level ? mmio_read32(cfg) & ~edge : mmio_read32(cfg) | edge);
	if (!level)
		mmio_write32(gicd + GICD_ICPENDR + intid / 32 * 4, bit);
	mmio_write32(gicd + GICD_ISENABLER + intid / 32 * 4, bit);
	spin_unlock_irqrestore(&cfg_lock, flags);
}

static void gicv3_disable_spi(unsigned intid)
{
	mmio_write32(gicd + GICD_ICENABLER + intid / 32 * 4, 1u << (intid % 32));
	wait_rwp();
}

static unsigned gicv3_lines(void)
{
	return nr_lines;
}

const struct gic_ops gicv3_ops = {
    .name = "GICv3",
    .init = gicv3_init,
    .init_cpu = gicv3_init_cpu,
    .ack = gicv3_ack,
    .eoi = gicv3_eoi,
    .send_sgi = gicv3_send_sgi,
    .enable_ppi = gicv3_enable_ppi,
    .enable_spi = gicv3_enable_spi,
    .disable_spi = gicv3_disable_spi,
    .lines = gicv3_lines,
};
