// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting a secondary CPU through its spin table (enable-method
 * "spin-table", the Raspberry Pi firmware's and QEMU raspi's wait loop):
 * the CPU waits in wfe, at EL2 with its MMU off, until the 64-bit word at
 * its cpu-release-addr is non-zero, then branches there with x0 = 0.
 *
 * Invariants: the boot block's address reaches the CPU through
 * aarch64_spin_boot[MPIDR.Aff0] (head.S's spin_table_entry reads it with
 * the MMU off), so both it and the release word are cleaned to the point
 * of coherency before the sev; a CPU whose MPIDR does not fit that table,
 * or whose release address is not RAM the kernel maps, is not started
 * (one line says why), never released to a wrong address.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"

/* Whether [pa, pa + 8) lies in a RAM range of boot_info (the direct map has it). */
static bool release_in_ram(uint64_t pa)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (pa >= r->base && pa + 8 <= r->base + r->size)
			return true;
	}
	return false;
}

bool spin_table_cpu_start(unsigned cpu, uint64_t mpidr, phys_addr_t boot)
{
	uint64_t release = cpu < CPU_MAX ? fdt_platform.cpu_release_addr[cpu] : 0;
	uint64_t aff0 = mpidr & 0xFF;

	if (mpidr & ~0xFFull || aff0 >= AARCH64_CPU_MAX) {
		printk("smp: cpu%u: MPIDR %#lx is beyond the spin-table entry's table (Aff0 < %u)",
		       cpu, (unsigned long)mpidr, AARCH64_CPU_MAX);
		return false;
	}
	if (!release || release % 8 || !release_in_ram(release)) {
		printk("smp: cpu%u (MPIDR %#lx): cpu-release-addr %#lx is not an aligned RAM word",
		       cpu, (unsigned long)mpidr, (unsigned long)release);
		return false;
	}
	aarch64_spin_boot[aff0] = boot;
	aarch64_dcache_clean_inval(&aarch64_spin_boot[aff0], sizeof(uint64_t));

	volatile uint64_t *slot = arch_phys_to_virt(release);
	*slot = arch_virt_to_phys(spin_table_entry);
	aarch64_dcache_clean_inval((const void *)slot, sizeof(uint64_t));
	__asm__ __volatile__("dsb sy\n\tsev" ::: "memory");
	return true;
}
