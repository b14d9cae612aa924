// SPDX-License-Identifier: BSD-2-Clause
/*
 * kva(): the kernel's pointer to a physical address, through the direct
 * map. The arch's boot tables already provide the direct map for memory
 * below boot_mapped_limit, and the kernel's own tables provide it for all
 * RAM, so a pointer made at boot stays valid across the switch.
 */
#include "kernel/arch.h"
#include "kernel/mm/frame.h"

void *kva(phys_addr_t pa)
{
	return (void *)(arch_mm_layout.direct_map_base + pa);
}

phys_addr_t kva_to_pa(const void *va)
{
	virt_addr_t v = (virt_addr_t)va;
	if (v >= arch_mm_layout.direct_map_base &&
	    v - arch_mm_layout.direct_map_base < arch_mm_layout.direct_map_size)
		return v - arch_mm_layout.direct_map_base;
	return arch_virt_to_phys(va);
}
