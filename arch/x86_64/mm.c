// SPDX-License-Identifier: BSD-2-Clause
/*
 * x86-64 side of the kernel address space: the virtual layout, the image's
 * sections and their W^X attributes (from linker symbols), and switching a
 * CPU from the boot tables to the kernel's own.
 *
 * After the boot CPU switches, nothing translates through the boot tables
 * (application processors start directly on the kernel's tables, see
 * smp.c), so their pages go back to the frame allocator.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

const struct arch_mm_layout arch_mm_layout = {
	.direct_map_base = DIRECT_MAP_BASE,
	.direct_map_size = DIRECT_MAP_SIZE,
	.mmio_base = MMIO_BASE,
	.mmio_size = MMIO_SIZE,
	.test_base = TEST_WINDOW_BASE,
	.test_size = TEST_WINDOW_SIZE,
	.boot_mapped_limit = (phys_addr_t)BOOT_IDENTITY_GIB << 30,
	.user_base = USER_BASE,
	.user_top = USER_TOP,
};

extern char boot_tables_start[], boot_tables_end[];

static void load_cr3(phys_addr_t root)
{
	__asm__ __volatile__("mov %0, %%cr3" ::"r"(root) : "memory");
	/* Without PCID a CR3 load drops every non-global entry, walk caches included. */
	tlb_shadow_drop(false, TLB_SHADOW_ANY_ASID, 0, 0, true);
	if (root == kernel_pt.root)
		tlb_shadow_unload(false);
	else
		tlb_shadow_load(root, 0);
}

void arch_mm_switch_kernel(phys_addr_t root)
{
	/* Global pages: kernel translations survive CR3 loads (and need PGE toggles to flush). */
	uint64_t cr4;
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	__asm__ __volatile__("mov %0, %%cr4" ::"r"(cr4 | (1u << 7)) : "memory");
	load_cr3(root);
	arch_tlb_flush_local_full();
	if (arch_cpu_id() == 0) {
		/* COM1 is port I/O and the APIC is mapped later: no device pointers to move. */
		frame_release_reserved(arch_virt_to_phys(boot_tables_start),
				       arch_virt_to_phys(boot_tables_end));
	}
}

phys_addr_t arch_mm_root_for(virt_addr_t va)
{
	(void)va; /* one CR3 translates both halves */
	return read_cr3() & 0x000FFFFFFFFFF000ull;
}

/*
 * Address spaces on x86-64, without PCID: one CR3 per mm, whose upper half
 * repeats the kernel's top-level entries (mm_init made them all exist and
 * they never change afterwards). Loading CR3 drops every non-global
 * translation, so a CPU holds user translations only of the mm it has
 * loaded.
 */
#define KERNEL_HALF_FIRST_SLOT 256

void arch_mm_root_init(phys_addr_t root)
{
	const pte_t *k = kva(kernel_pt.root);
	pte_t *r = kva(root);
	for (unsigned i = KERNEL_HALF_FIRST_SLOT; i < PT_ENTRIES; i++)
		r[i] = k[i];
}

void arch_mm_activate(phys_addr_t root, unsigned asid)
{
	(void)asid;
	load_cr3(root);
}

void arch_mm_deactivate(void)
{
	load_cr3(kernel_pt.root);
}

#define CR4_PCIDE     (1ull << 17)
#define CR3_PCID_MASK 0xFFFull

unsigned arch_mm_active_asid(void)
{
	/* Without CR4.PCIDE (never set today) CR3's low bits are PWT/PCD, not a tag. */
	uint64_t cr4;
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	return cr4 & CR4_PCIDE ? (unsigned)(read_cr3() & CR3_PCID_MASK) : 0;
}

bool arch_mm_holds_translations(unsigned asid, bool loaded)
{
	(void)asid;
	return loaded;
}

struct tlb_invals arch_tlb_broadcast_user(unsigned asid, virt_addr_t start, virt_addr_t end,
					  unsigned stride_shift, bool full)
{
	(void)asid, (void)start, (void)end, (void)stride_shift, (void)full;
	panic("arch_tlb_broadcast_user: x86-64 has no broadcast invalidation");
}

struct tlb_invals arch_tlb_broadcast_user_pages(unsigned asid, virt_addr_t start, uint64_t pages,
						bool range)
{
	(void)asid, (void)start, (void)pages, (void)range;
	panic("arch_tlb_broadcast_user_pages: x86-64 has no broadcast invalidation");
}

struct tlb_invals arch_tlb_broadcast_user_nosync(unsigned asid, virt_addr_t start, virt_addr_t end,
						 unsigned stride_shift, bool full)
{
	return arch_tlb_broadcast_user(asid, start, end, stride_shift, full);
}

void arch_tlb_broadcast_sync(void)
{
	panic("arch_tlb_broadcast_sync: x86-64 has no broadcast invalidation");
}

void arch_tlb_broadcast_kernel(virt_addr_t start, uint64_t pages, bool full)
{
	(void)start, (void)pages, (void)full;
	panic("arch_tlb_broadcast_kernel: x86-64 has no broadcast invalidation");
}

void arch_tlb_flush_user_page(unsigned asid, virt_addr_t va)
{
	(void)asid;
	arch_tlb_flush_local_page(va);
}

void arch_tlb_flush_user_full(unsigned asid)
{
	(void)asid;
	load_cr3(read_cr3()); /* drops non-global entries: all user ones */
}

bool arch_mm_iommu_stage1(struct arch_iommu_stage1 *s)
{
	(void)s; /* no Arm-format stage 1 here: VT-d reads CR3-format tables itself */
	return false;
}
