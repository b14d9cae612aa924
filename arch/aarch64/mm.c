// SPDX-License-Identifier: BSD-2-Clause
/*
 * aarch64 side of the kernel address space: the virtual layout (layout.h),
 * the image's sections and their W^X attributes (from linker symbols), and
 * moving a CPU from its start-up tables to the kernel's own.
 *
 * After the switch a CPU translates the upper half through kernel_pt
 * (TTBR1) and nothing through the lower half: TTBR0 points at an all-zero
 * table and TCR_EL1.EPD0 = 1, so a low address faults without a walk.
 *
 * On the boot CPU the switch also moves the console to an MMIO-window
 * mapping (the direct-map alias of the UART that the boot tables gave is
 * not in the kernel's tables: the direct map covers RAM only) and then
 * returns the boot tables' frames to the allocator. That is safe because
 * no CPU ever uses them again: secondaries start directly on kernel_pt
 * with a private one-page identity map (smp.c). The GIC is mapped later,
 * by its own init in arch_init().
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
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

_Static_assert(((DIRECT_MAP_BASE >> 39) & 511) == DIRECT_MAP_L0_INDEX, "DIRECT_MAP_L0_INDEX");
_Static_assert((DIRECT_MAP_BASE & ((1ul << 39) - 1)) == 0, "direct map: whole L0 entries");

extern char boot_tables_start[], boot_tables_end[];

/* TTBR0 of every CPU once it runs on the kernel's tables: never written. */
static const pte_t empty_table[PT_ENTRIES] __aligned(PAGE_SIZE);

phys_addr_t aarch64_empty_table(void)
{
	return arch_virt_to_phys(empty_table);
}

void aarch64_dcache_clean_inval(const void *va, size_t size)
{
	uint64_t line = 4ull << ((read_sysreg(ctr_el0) >> 16) & 0xF); /* DminLine, in words */
	uintptr_t p = ALIGN_DOWN((uintptr_t)va, line);
	for (; p < (uintptr_t)va + size; p += line)
		__asm__ __volatile__("dc civac, %0" ::"r"(p) : "memory");
	dsb(sy);
}

void arch_dcache_clean_range(const void *p, size_t n)
{
	uint64_t line = 4ull << ((read_sysreg(ctr_el0) >> 16) & 0xF); /* DminLine, in words */
	dsb(sy); /* the stores to clean come first */
	for (uintptr_t q = ALIGN_DOWN((uintptr_t)p, line); q < (uintptr_t)p + n; q += line)
		__asm__ __volatile__("dc cvac, %0" ::"r"(q) : "memory");
	dsb(sy);
}

bool arch_cpu_hypervisor(void)
{
	return false; /* nothing architectural says so at EL1 */
}

/* This CPU: nothing through TTBR0 from now on, and no stale entry of any kind. */
static void drop_lower_half(void)
{
	write_sysreg(ttbr0_el1, aarch64_empty_table());
	write_sysreg(tcr_el1, read_sysreg(tcr_el1) | TCR_EPD0);
	isb();
	arch_tlb_flush_local_full();
}

/* aarch64_idmap_replace_ttbr1, called at its physical address. */
typedef void replace_fn(phys_addr_t root, phys_addr_t empty);

void arch_mm_switch_kernel(phys_addr_t root)
{
	if (arch_cpu_id() != 0) {
		/* A secondary already runs on `root` (head.S); only its stub mapping goes. */
		if ((read_sysreg(ttbr1_el1) & 0x0000FFFFFFFFF000ull) != root)
			panic("arch_mm_switch_kernel: cpu%u started on root %#lx, not %#lx",
			      arch_cpu_id(), (unsigned long)read_sysreg(ttbr1_el1),
			      (unsigned long)root);
		drop_lower_half();
		return;
	}

	/*
	 * Boot CPU. Map the console in the kernel's tables first (pt_map on a
	 * tree nobody walks yet); from the TTBR1 swap until aarch64_uart_use,
	 * nothing may print, because the old console address is gone.
	 */
	void *console = aarch64_uart_map();
	replace_fn *replace =
	    (replace_fn *)(uintptr_t)arch_virt_to_phys(aarch64_idmap_replace_ttbr1);
	irqflags_t flags = arch_irq_save();
	replace(root, aarch64_empty_table());
	aarch64_uart_use(console);
	drop_lower_half();
	arch_irq_restore(flags);

	frame_release_reserved(arch_virt_to_phys(boot_tables_start),
			       arch_virt_to_phys(boot_tables_end));
	printk("mm: cpu0 on the kernel's tables (root %#lx); boot tables (%lu KiB) released",
	       (unsigned long)root, (unsigned long)((boot_tables_end - boot_tables_start) >> 10));
}

phys_addr_t arch_mm_root_for(virt_addr_t va)
{
	/* Bit 55 selects the translation regime half; tables are 4 KiB aligned. */
	uint64_t ttbr = (va >> 55) & 1 ? read_sysreg(ttbr1_el1) : read_sysreg(ttbr0_el1);
	return ttbr & 0x0000FFFFFFFFF000ull;
}
