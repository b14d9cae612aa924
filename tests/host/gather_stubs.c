// SPDX-License-Identifier: BSD-2-Clause
/*
 * The mmu_gather entry points that kernel/mm/pt.c and pt_walk.c call on
 * their gathered paths (pt_unmap_gather, pt_protect_gather). The host
 * suite exercises the walker's own, ungathered paths; the gather is tested
 * in the kernel (the `gather` suite). Reaching one of these on the host is
 * a bug in the test.
 */
#include "host.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/gather.h"
#include "kernel/printk.h"

void tlb_record_cleared(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level)
{
	(void)g, (void)va, (void)size, (void)level;
	panic("host: tlb_record_cleared: gathers are not modelled on the host");
}

void tlb_record_downgraded(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level)
{
	(void)g, (void)va, (void)size, (void)level;
	panic("host: tlb_record_downgraded: gathers are not modelled on the host");
}

void tlb_remove_table(struct mmu_gather *g, phys_addr_t table)
{
	(void)g, (void)table;
	panic("host: tlb_remove_table: gathers are not modelled on the host");
}

unsigned tlb_reserve_space(struct mmu_gather *g, unsigned n)
{
	(void)g, (void)n;
	panic("host: tlb_reserve_space: gathers are not modelled on the host");
}

void tlb_flush_mmu(struct mmu_gather *g)
{
	(void)g;
	panic("host: tlb_flush_mmu: gathers are not modelled on the host");
}

void tlb_remove_pages(struct mmu_gather *g, phys_addr_t pa, unsigned n)
{
	(void)g, (void)pa, (void)n;
	panic("host: tlb_remove_pages: gathers are not modelled on the host");
}

void tlb_defer_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start, virt_addr_t end,
		     unsigned stride_shift)
{
	(void)g, (void)table, (void)start, (void)end, (void)stride_shift;
	panic("host: tlb_defer_table: gathers are not modelled on the host");
}

void tlb_adopt_pending_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start,
			     virt_addr_t end, unsigned stride_shift)
{
	(void)g, (void)table, (void)start, (void)end, (void)stride_shift;
	panic("host: tlb_adopt_pending_table: gathers are not modelled on the host");
}

/* pt.c asks the failure injector at every allocation; the host tests inject through frame_alloc. */
bool mm_alloc_fails(enum mm_alloc_site site)
{
	(void)site;
	return false;
}

bool mm_broken_is(enum mm_break which)
{
	(void)which;
	return false;
}
