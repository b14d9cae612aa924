// SPDX-License-Identifier: BSD-2-Clause
/*
 * VT-d second-stage tables for shadow domains (iommu_iopt_ops, used by
 * shadow.c): 4 levels of 512 eight-byte entries over a 48-bit input
 * address, each entry Read (bit 0), Write (bit 1) and the next table's
 * or the page's address (bits 51:12). An entry is present when R or W is
 * set. Only 4 KiB leaves are written; non-leaf entries allow both R and
 * W (the leaf alone decides), and nothing else is set (bit 7 would be a
 * large page, bit 11 is reserved at the leaf).
 *
 * Invariants: a leaf is written only where none is (shadow.c unmaps and
 * invalidates before it replaces one); tables stay until free, emptied or
 * not, since the unit walks them with no flush protocol of its own;
 * every store is one aligned 8-byte write, the new table's contents
 * before the entry that links it; on a unit whose walks through a PASID
 * entry do not snoop (no ECAP.SMPWC) each is cleaned to memory in that
 * order (vtd_clean), before the caller's invalidation.
 */
#include "kernel/errno.h"
#include "kernel/iommu/vtd_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"

#define SS_LEVELS  4
#define SS_PRESENT (VTD_SS_R | VTD_SS_W)

/* One entry, then (no SMPWC) cleaned to memory. */
static void ss_store(struct vtd_unit *u, uint64_t *slot, uint64_t v)
{
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
	vtd_clean(u, slot, sizeof(*slot), true);
}

static unsigned ss_index(virt_addr_t va, unsigned level)
{
	return (unsigned)(va >> pt_level_shift(level)) & (PT_ENTRIES - 1);
}

/*
 * The leaf slot of `va`, making missing tables when `create`; NULL when a
 * table on the way is absent (then *skip is the bytes that absent entry
 * covers) or out of memory.
 */
static uint64_t *ss_walk(struct vtd_unit *u, phys_addr_t root, virt_addr_t va, bool create,
			 uint64_t *skip)
{
	uint64_t *table = kva(root);
	for (unsigned level = SS_LEVELS - 1; level > 0; level--) {
		uint64_t *e = &table[ss_index(va, level)];
		if (!(*e & SS_PRESENT)) {
			phys_addr_t next;
			if (!create || frame_alloc_zeroed(&next)) {
				if (skip)
					*skip = 1ull << pt_level_shift(level);
				return NULL;
			}
			vtd_clean(u, kva(next), PAGE_SIZE, true);
			ss_store(u, e, next | SS_PRESENT);
		}
		table = kva(VTD_ADDR(*e));
	}
	return &table[ss_index(va, 0)];
}

static int ss_alloc(struct iommu *io, phys_addr_t *root)
{
	int err = frame_alloc_zeroed(root);
	if (!err)
		vtd_clean(vtd_to_unit(io), kva(*root), PAGE_SIZE, true);
	return err;
}

static int ss_map(struct iommu *io, phys_addr_t root, virt_addr_t va, phys_addr_t pa,
		  unsigned attrs)
{
	uint64_t *slot = ss_walk(vtd_to_unit(io), root, va, true, NULL);
	if (!slot)
		return -ENOMEM;
	if (*slot & SS_PRESENT)
		return -EEXIST;
	uint64_t e = VTD_ADDR(pa) | VTD_SS_R | ((attrs & PT_WRITE) ? VTD_SS_W : 0);
	ss_store(vtd_to_unit(io), slot, e);
	return 0;
}

static void ss_unmap(struct iommu *io, phys_addr_t root, virt_addr_t start, virt_addr_t end)
{
	for (virt_addr_t va = start; va < end;) {
		uint64_t skip = PAGE_SIZE;
		uint64_t *slot = ss_walk(vtd_to_unit(io), root, va, false, &skip);
		if (slot)
			ss_store(vtd_to_unit(io), slot, 0);
		virt_addr_t next = ALIGN_DOWN(va, skip) + skip;
		if (next < va)
			break; /* wrapped at the top of the address space */
		va = next;
	}
}

static bool ss_query(struct iommu *io, phys_addr_t root, virt_addr_t va, phys_addr_t *pa,
		     unsigned *attrs)
{
	uint64_t *slot = ss_walk(vtd_to_unit(io), root, va, false, NULL);
	if (!slot || !(*slot & SS_PRESENT))
		return false;
	*pa = VTD_ADDR(*slot);
	*attrs = PT_READ | ((*slot & VTD_SS_W) ? PT_WRITE : 0);
	return true;
}

static void ss_free_table(phys_addr_t table, unsigned level)
{
	uint64_t *e = kva(table);
	for (unsigned i = 0; level > 0 && i < PT_ENTRIES; i++)
		if (e[i] & SS_PRESENT)
			ss_free_table(VTD_ADDR(e[i]), level - 1);
	frame_free(table, 0); /* leaves point at the mm's frames: never ours to free */
}

static void ss_free(struct iommu *io, phys_addr_t root)
{
	(void)io;
	ss_free_table(root, SS_LEVELS - 1);
}

const struct iommu_iopt_ops vtd_iopt_ops = {
    .alloc = ss_alloc,
    .map = ss_map,
    .unmap = ss_unmap,
    .query = ss_query,
    .free = ss_free,
    .attach = vtd_attach_second_stage,
};
