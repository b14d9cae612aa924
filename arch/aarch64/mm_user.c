// SPDX-License-Identifier: BSD-2-Clause
/*
 * Address spaces on aarch64: a struct mm's tables go in TTBR0 tagged with
 * its ASID (TCR_EL1.A1 = 0: the ASID comes from TTBR0; 16 bits wide when
 * the CPU has them, TCR_EL1.AS set by head.S, else 8; cpuinfo.c puts the
 * width in arch_tlb_caps()), the kernel stays in TTBR1 with global
 * entries. Tagged entries survive a switch, so a CPU may hold an mm's
 * translations after it stopped running it (generic code keeps it in the
 * mm's set).
 *
 * TLB maintenance comes in two transports, chosen on the command line:
 * by IPI (each CPU runs local `tlbi ... ` for itself) or by broadcast
 * (`tlbi ...is` reaches every CPU's TLB in hardware; one `dsb ish` at the
 * end waits for all of them). Broadcast is the default. A broadcast of a
 * page range uses range TLBIs (FEAT_TLBIRANGE, tlbi_range.h) when the CPU
 * has them: at most five instructions instead of one per page.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/layout.h"
#include "arch/aarch64/tlbi_range.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/printk.h"

#define ASID_SHIFT TLBI_ASID_SHIFT

void arch_mm_root_init(phys_addr_t root)
{
	(void)root; /* the kernel half lives in TTBR1: nothing to share */
}

void arch_mm_activate(phys_addr_t root, unsigned asid)
{
	write_sysreg(ttbr0_el1, root | ((uint64_t)asid << ASID_SHIFT));
	write_sysreg(tcr_el1, read_sysreg(tcr_el1) & ~(uint64_t)TCR_EPD0);
	isb();
	tlb_shadow_load(root, asid); /* tagged: nothing is dropped */
}

void arch_mm_deactivate(void)
{
	write_sysreg(tcr_el1, read_sysreg(tcr_el1) | TCR_EPD0);
	write_sysreg(ttbr0_el1, aarch64_empty_table());
	isb();
	tlb_shadow_unload(true); /* a walk begun before may still finish */
}

unsigned arch_mm_active_asid(void)
{
	/* With TCR_EL1.AS clear (8-bit ASIDs) the hardware ignores TTBR0's top 8 bits. */
	uint64_t mask = (1ull << arch_tlb_caps()->asid_bits) - 1;
	return (unsigned)((read_sysreg(ttbr0_el1) >> ASID_SHIFT) & mask);
}

bool arch_mm_holds_translations(unsigned asid, bool loaded)
{
	(void)loaded; /* tagged: entries outlive the switch away */
	return asid != 0;
}

void arch_tlb_flush_user_page(unsigned asid, virt_addr_t va)
{
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi vae1, %0\n\t"
			     "dsb nsh\n\t"
			     "isb" ::"r"(((uint64_t)asid << ASID_SHIFT) | TLBI_VA(va))
			     : "memory");
	tlb_shadow_drop(false, asid, va, va + PAGE_SIZE, false);
}

void arch_tlb_flush_user_full(unsigned asid)
{
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi aside1, %0\n\t"
			     "dsb nsh\n\t"
			     "isb" ::"r"((uint64_t)asid << ASID_SHIFT)
			     : "memory");
	tlb_shadow_drop(false, asid, 0, 0, false);
}

static void tlbi_vae1is(uint64_t arg)
{
	__asm__ __volatile__("tlbi vae1is, %0" ::"r"(arg) : "memory");
}

/* `sys` encoding: the assembler is told armv8-a, which has no range TLBIs. */
static void tlbi_rvae1is(uint64_t arg)
{
	__asm__ __volatile__("sys #0, c8, c2, #1, %0" /* tlbi rvae1is */ ::"r"(arg) : "memory");
}

/* One TLBI VAE1IS per page of [start, end), every 1 << stride_shift bytes. */
static void broadcast_by_page(unsigned asid, virt_addr_t start, virt_addr_t end,
			      unsigned stride_shift, struct tlb_invals *done)
{
	uint64_t tag = (uint64_t)asid << ASID_SHIFT;
	for (virt_addr_t va = start; va < end; va += 1ull << stride_shift) {
		tlbi_vae1is(tag | TLBI_VA(va));
		tlb_shadow_drop(true, asid, va, va + (1ull << stride_shift), false);
		done->pages++;
	}
}

/* Range TLBIs (and one VAE1IS for an odd page) for pages < TLBI_RANGE_MAX_PAGES from start. */
static void broadcast_by_range(unsigned asid, virt_addr_t start, uint64_t pages,
			       struct tlb_invals *done)
{
	struct tlbi_op ops[TLBI_RANGE_MAX_OPS];
	unsigned n = tlbi_range_ops(asid, start, pages, ops);
	tlb_shadow_drop(true, asid, start, start + (pages << PAGE_SHIFT), false);
	for (unsigned i = 0; i < n; i++) {
		if (ops[i].range) {
			tlbi_rvae1is(ops[i].arg);
			done->ranges++;
		} else {
			tlbi_vae1is(ops[i].arg);
			done->pages++;
		}
	}
}

struct tlb_invals arch_tlb_broadcast_user_nosync(unsigned asid, virt_addr_t start, virt_addr_t end,
						 unsigned stride_shift, bool full)
{
	struct tlb_invals done = {0};
	__asm__ __volatile__("dsb ishst" ::: "memory");
	if (full) {
		__asm__ __volatile__("tlbi aside1is, %0" ::"r"((uint64_t)asid << ASID_SHIFT)
				     : "memory");
		tlb_shadow_drop(true, asid, 0, 0, false);
		done.full++;
	} else if (arch_tlb_caps()->range && stride_shift == PAGE_SHIFT &&
		   (end - start) >> PAGE_SHIFT < TLBI_RANGE_MAX_PAGES) {
		broadcast_by_range(asid, start, (end - start) >> PAGE_SHIFT, &done);
	} else {
		broadcast_by_page(asid, start, end, stride_shift, &done);
	}
	return done;
}

void arch_tlb_broadcast_sync(void)
{
	/* One wait for the whole batch, on every CPU of the inner-shareable domain. */
	__asm__ __volatile__("dsb ish\n\tisb" ::: "memory");
}

struct tlb_invals arch_tlb_broadcast_user(unsigned asid, virt_addr_t start, virt_addr_t end,
					  unsigned stride_shift, bool full)
{
	struct tlb_invals done =
	    arch_tlb_broadcast_user_nosync(asid, start, end, stride_shift, full);
	arch_tlb_broadcast_sync();
	return done;
}

struct tlb_invals arch_tlb_broadcast_user_pages(unsigned asid, virt_addr_t start, uint64_t pages,
						bool range)
{
	struct tlb_invals done = {0};
	if (range && (!arch_tlb_caps()->range || pages >= TLBI_RANGE_MAX_PAGES))
		panic("arch_tlb_broadcast_user_pages: no range TLBI for this run");
	__asm__ __volatile__("dsb ishst" ::: "memory");
	if (range)
		broadcast_by_range(asid, start, pages, &done);
	else
		broadcast_by_page(asid, start, start + (pages << PAGE_SHIFT), PAGE_SHIFT, &done);
	__asm__ __volatile__("dsb ish\n\tisb" ::: "memory");
	return done;
}

/* IPS/PARange code -> bits (the SMMU's IPS uses the same table). */
static const unsigned ips_bits[] = {32, 36, 40, 42, 44, 48};

bool arch_mm_iommu_stage1(struct arch_iommu_stage1 *s)
{
	/* Read back what head.S programmed, so the IOMMU walks exactly as the CPU does. */
	uint64_t tcr = read_sysreg(tcr_el1);
	unsigned ips = (unsigned)(tcr >> 32) & 7;
	if ((tcr >> 14 & 3) != 0 || ips >= ARRAY_SIZE(ips_bits))
		return false; /* TG0 is not 4 KiB, or an output size this table does not know */
	*s = (struct arch_iommu_stage1){
		.va_bits = 64 - (unsigned)(tcr & 0x3f),
		.granule_shift = 12,
		.pa_bits = ips_bits[ips],
		.walk_inner = (unsigned)(tcr >> 8) & 3,
		.walk_outer = (unsigned)(tcr >> 10) & 3,
		.walk_share = (unsigned)(tcr >> 12) & 3,
		.mair = read_sysreg(mair_el1),
	};
	return true;
}
