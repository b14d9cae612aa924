/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Generic page tables: map, unmap, change protection and query a range of
 * one table tree, whatever the architecture's descriptor format (see
 * kernel/mm/pt_arch.h for the contract, docs/mm.md for the walk).
 *
 * Invariants every operation keeps:
 *  - Prepare, then commit. An operation first walks the range without
 *    changing anything and counts the tables it will need (new tables for a
 *    map, split tables for a partial block); it allocates them all; only
 *    then does it change descriptors. An allocation failure returns -ENOMEM
 *    with the tables exactly as they were. The commit walk takes tables from
 *    that reserve and must use every one of them (a count that disagrees is
 *    a bug and panics).
 *  - Unhook, flush, free. A table emptied by an unmap is unhooked, the TLB
 *    is flushed, and only then is the table freed. A live tree is the
 *    kernel's, which every CPU translates through: its changes (unmap,
 *    protect, a split, a table unhooked) are invalidated on every online
 *    CPU before the operation returns and before any table is freed, with
 *    the lock dropped (the flush waits for the other CPUs). Added
 *    permissions too: a kernel fault on a stale, stricter entry is not
 *    retried. Mapping into a hole needs no flush (no TLB holds an invalid
 *    entry).
 *  - A live valid entry replaced by one that translates differently (a
 *    block split into a table, a new memory type) is invalidated on every
 *    CPU before anything else in its range changes; where the arch needs
 *    break-before-make (arch_pt_needs_bbm) it is made invalid first and
 *    the new entry written only after that invalidation. Meanwhile the
 *    slot's range is unmapped: nothing may use it, the caller included
 *    (its stack, its code, the table holding the slot). Other operations
 *    on the tree wait for the make. A break inside a range the tree's
 *    owner marks in use (pt.in_use) is refused with -EBUSY before anything
 *    changes.
 *  - Leaves are chosen by alignment: the largest level the arch allows
 *    whose block fits the remaining range and whose virtual and physical
 *    addresses are both aligned to it.
 */
#ifndef PAGODA_KERNEL_MM_PT_H
#define PAGODA_KERNEL_MM_PT_H

#include "kernel/mm/pt_arch.h"
#include "kernel/spinlock.h"

struct pt_stats {
	uint64_t tables_allocated;
	uint64_t tables_freed;
	uint64_t blocks_split;
	uint64_t leaves_set; /* leaves written by map or protect */
	uint64_t leaves_cleared;
	uint64_t page_flushes; /* live tree: pages invalidated by address, on every CPU */
	uint64_t full_flushes; /* live tree: whole-TLB invalidations, on every CPU */
	uint64_t breaks; /* live entries made invalid before their replacement (break-before-make) */
	uint64_t runs_cleared; /* contiguous runs cleared with one arch call */
	uint64_t direct_maps; /* one-page maps committed without the counting pass */
};

/* A range of a tree's virtual addresses, [first, last], named for messages. */
struct pt_range {
	virt_addr_t first, last;
	const char *name;
};

struct pt {
	phys_addr_t root;
	/*
	 * true for the kernel's tables once CPUs translate through them: every
	 * ungathered change is then invalidated on every online CPU
	 * (tlb_flush_kernel_range) before the tables it unhooked are freed
	 */
	bool live;
	/* never free tables directly below the root (their entries are copied elsewhere) */
	bool keep_top_tables;
	/*
	 * never free an emptied table before pt_destroy: for a tree a device
	 * walks with no flush protocol of its own (an IOMMU shadow domain)
	 */
	bool keep_tables;
	/*
	 * A leaf above the last level (a block) was ever written (pt_walk.c; never
	 * cleared): without one, an unmap or protect has no table to count
	 * before its commit. A tree gets its own blocks only through pt_map.
	 * An x86-64 user root also points at the kernel half's tables, blocks
	 * included, with this false: safe because operations on a user tree
	 * stay below the user top (vm_user_range_ok); a split found anyway
	 * panics, naming this flag.
	 */
	bool has_blocks;
	/*
	 * Live tree: ranges the running kernel uses (its code, stacks, page
	 * tables, devices), set by the tree's owner. Where the arch needs
	 * break-before-make, an operation that would break a valid entry
	 * overlapping one is refused (-EBUSY, nothing changed, a message
	 * naming both ranges): until the make, every CPU touching it, the
	 * caller included, would fault.
	 */
	const struct pt_range *in_use;
	unsigned nr_in_use;
	spinlock_t lock;
	/*
	 * An operation on a tree others walk that stopped mid-change (a break
	 * waiting for its make, or a split waiting for its invalidation), lock
	 * dropped: until it resumes, every other operation waits (see pt.c).
	 */
	const void *stopped_by;
	struct pt_stats stats;
};

struct pt_query_result {
	phys_addr_t pa; /* physical address `va` translates to */
	unsigned level; /* the leaf's level: 0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB */
	unsigned attrs; /* enum pt_attr */
	pte_t pte; /* the raw descriptor, for diagnostics */
};

/* Allocates an empty root. Returns 0 or -ENOMEM. */
int pt_init(struct pt *pt);
/* Frees every table of the tree (not the frames its leaves map). */
void pt_destroy(struct pt *pt);

/*
 * Maps [va, va + size) to [pa, pa + size) with `attrs` (enum pt_attr).
 * va, pa and size must be page aligned and size > 0. Returns 0, -EINVAL,
 * -EEXIST when any part of the range is already mapped (nothing changed),
 * or -ENOMEM (nothing changed).
 */
int pt_map(struct pt *pt, virt_addr_t va, phys_addr_t pa, uint64_t size, unsigned attrs);
/*
 * Unmaps [va, va + size); holes are fine. Splits blocks it partly covers. 0, -EINVAL, -ENOMEM
 * or -EBUSY (a break-before-make inside pt.in_use; nothing changed).
 * On a live tree, pt_unmap and pt_protect wait for every online CPU (the flush), and any
 * operation may wait for another's break-before-make: call them with interrupts enabled,
 * never from an interrupt handler.
 */
int pt_unmap(struct pt *pt, virt_addr_t va, uint64_t size);
/*
 * Gives every leaf in [va, va + size) the permissions and memory type in
 * `attrs` (accessed/dirty are kept). Holes are skipped; partly covered
 * blocks are split. 0, -EINVAL, -ENOMEM or -EBUSY (nothing changed).
 */
int pt_protect(struct pt *pt, virt_addr_t va, uint64_t size, unsigned attrs);
/* Looks up `va`; false when it is not mapped. */
bool pt_query(struct pt *pt, virt_addr_t va, struct pt_query_result *out);
/* Counts the tables in the tree, the root included. */
uint64_t pt_count_tables(struct pt *pt);

struct mmu_gather;
/*
 * The same operations for an address space's tables, batched by a gather
 * (kernel/mm/gather.h): cleared ranges and unhooked tables are handed to
 * `g`, which flushes once and frees afterwards; nothing is flushed or freed
 * here. With `free_frames`, the frames the cleared leaves mapped are
 * queued for freeing too (anonymous memory).
 */
int pt_unmap_gather(struct pt *pt, virt_addr_t va, uint64_t size, struct mmu_gather *g,
		    bool free_frames);
int pt_protect_gather(struct pt *pt, virt_addr_t va, uint64_t size, unsigned attrs,
		      struct mmu_gather *g);
/* Ensures the root has a table for `va`'s top-level slot (shared kernel halves). */
int pt_ensure_top_table(struct pt *pt, virt_addr_t va);

/*
 * Test hook: when set, called after a live entry that a walk replaced (a
 * split, a memory-type change) was invalidated on every CPU, with the lock
 * dropped, before the walk goes on; under break-before-make, before the
 * make (the slot at `va` is still invalid).
 */
extern void (*pt_test_after_replace)(struct pt *pt, virt_addr_t va);

#endif
