// SPDX-License-Identifier: BSD-2-Clause
/*
 * Address spaces on aarch64: a struct mm's tables go in TTBR0 tagged with
 * its 8-bit ASID (TCR_EL1.A1 = 0: the ASID comes from TTBR0; AS = 0: 8
 * bits), the kernel stays in TTBR1 with global entries. Tagged entries
 * survive a switch, so a CPU may hold an mm's translations after it
 * stopped running it (generic code keeps it in the mm's set).
 *
 * TLB maintenance comes in two transports, chosen on the command line:
 * by IPI (each CPU runs local `tlbi ... ` for itself) or by broadcast
 * (`tlbi ...is` reaches every CPU's TLB in hardware; one `dsb ish` at the
 * end waits for all of them). Broadcast is the default.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/layout.h"
#include "kernel/arch.h"
#include "kernel/mm/pt_arch.h"

#define ASID_SHIFT 48
#define TLBI_VA(va) (((va) >> 12) & ((1ull << 44) - 1))

void arch_mm_root_init(phys_addr_t root)
{
	(void)root; /* the kernel half lives in TTBR1: nothing to share */
}

void arch_mm_activate(phys_addr_t root, unsigned asid)
{
	write_sysreg(ttbr0_el1, root | ((uint64_t)asid << ASID_SHIFT));
	write_sysreg(tcr_el1, read_sysreg(tcr_el1) & ~(uint64_t)TCR_EPD0);
	isb();
}

void arch_mm_deactivate(void)
{
	write_sysreg(tcr_el1, read_sysreg(tcr_el1) | TCR_EPD0);
	write_sysreg(ttbr0_el1, aarch64_empty_table());
	isb();
}

bool arch_mm_holds_translations(unsigned asid, bool loaded)
{
	(void)loaded; /* tagged: entries outlive the switch away */
	return asid != 0;
}

bool arch_mm_switch_flushes(void)
{
	return false;
}

unsigned arch_asid_bits(void)
{
	return 8;
}

unsigned arch_tlb_range_max_pages(void)
{
	return 512; /* past this, one ASID invalidation beats 512 by-address ones */
}

void arch_tlb_flush_user_page(unsigned asid, virt_addr_t va)
{
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi vae1, %0\n\t"
			     "dsb nsh\n\t"
			     "isb" ::"r"(((uint64_t)asid << ASID_SHIFT) | TLBI_VA(va))
			     : "memory");
}

void arch_tlb_flush_user_all(unsigned asid)
{
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi aside1, %0\n\t"
			     "dsb nsh\n\t"
			     "isb" ::"r"((uint64_t)asid << ASID_SHIFT)
			     : "memory");
}

bool arch_tlb_broadcast_available(void)
{
	return true;
}

void arch_tlb_broadcast_user(unsigned asid, virt_addr_t start, virt_addr_t end,
			     unsigned stride_shift, bool all)
{
	uint64_t tag = (uint64_t)asid << ASID_SHIFT;
	__asm__ __volatile__("dsb ishst" ::: "memory");
	if (all) {
		__asm__ __volatile__("tlbi aside1is, %0" ::"r"(tag) : "memory");
	} else {
		for (virt_addr_t va = start; va < end; va += 1ull << stride_shift)
			__asm__ __volatile__("tlbi vae1is, %0" ::"r"(tag | TLBI_VA(va)) : "memory");
	}
	/* One wait for the whole batch, on every CPU of the inner-shareable domain. */
	__asm__ __volatile__("dsb ish\n\tisb" ::: "memory");
}
