/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the two files of the generic page-table code: pt_walk.c (the
 * recursive walk and its visitors, which read and change descriptors) and
 * pt.c (pt_run, which runs a walk's passes under pt->lock and settles
 * every commit, a stopped one before it resumes, and the rest of pt.h).
 * Not for other files: they go through pt.h. pt_walk_range and a struct
 * pt_op in use need pt->lock held; the inline helpers are pure arithmetic.
 */
#ifndef PAGODA_KERNEL_MM_PT_INTERNAL_H
#define PAGODA_KERNEL_MM_PT_INTERNAL_H

#include "kernel/mm/frame.h"
#include "kernel/mm/pt.h"

enum pt_op_kind { PT_OP_MAP, PT_OP_UNMAP, PT_OP_PROTECT };
/* Why a commit walk stopped before resume_va. */
enum pt_stop {
	STOP_NONE,
	STOP_NO_ROOM,	  /* the gather has no room for a leaf's frames: settle it */
	STOP_REPLACED,	  /* a live entry was replaced: invalidate it everywhere first */
	STOP_NEEDS_COUNT, /* a direct one-page map met a missing table, unchanged: count (pt_run) */
};

struct pt_op {
	struct pt *pt;
	enum pt_op_kind kind;
	bool commit;
	virt_addr_t va; /* start of the whole operation */
	phys_addr_t pa; /* map: physical address of va */
	unsigned attrs;
	int error;		/* counting pass: first conflict found */
	uint64_t tables_needed; /* counting pass result */
	phys_addr_t reserve;	/* commit: zeroed tables chained through their first word */
	uint64_t reserve_left;
	phys_addr_t freed_list; /* commit: tables unhooked, freed after the flush */
	bool flush, flush_full;
	virt_addr_t flush_first, flush_last;
	uint64_t flush_pages;	   /* set when the commit ends: 0 with flush_full */
	struct mmu_gather *gather; /* when set: it flushes and frees, not us */
	bool free_frames;	   /* unmap: queue the frames cleared leaves mapped */
	bool direct;		   /* a one-page map committing without a count (pt_run) */
	/*
	 * The entries of the table being walked that this walk changed (leaves
	 * cleared or downgraded, a block split, a child table unhooked), and
	 * the smallest page size a TLB may hold for them: that table's deferral.
	 */
	virt_addr_t chg_first, chg_last;
	unsigned chg_stride;
	/* Commit: the walk stopped before resume_va (settle, then resume there). */
	enum pt_stop stop;
	virt_addr_t resume_va;
	/* STOP_REPLACED under break-before-make: what to write once the break is invalidated. */
	pte_t *make_slot;
	pte_t make_value;
};

/* The bytes one slot of a table at `level` maps. */
static inline uint64_t pt_slot_bytes(unsigned level)
{
	return 1ull << pt_level_shift(level);
}

/* The slot of a table at `level` that holds `va`. */
static inline unsigned pt_slot_index(virt_addr_t va, unsigned level)
{
	return (unsigned)(va >> pt_level_shift(level)) & (PT_ENTRIES - 1);
}

/* The table at physical address `pa`, through the direct map. */
static inline pte_t *pt_table_ptr(phys_addr_t pa)
{
	return kva(pa);
}

/*
 * May the prepare pass refuse a break-before-make (pt_walk.c:
 * break_refused)? Only on a live, ungathered tree whose arch breaks; then
 * pt_run must walk the prepare pass even in a tree of pages alone, and the
 * walk looks at the last level in it for protect.
 */
static inline bool pt_may_refuse_break(const struct pt_op *op)
{
	return op->pt->live && !op->gather && arch_pt_needs_bbm();
}

/*
 * Visits every slot of `table` (a table at `level`) that [first, last]
 * touches. In the counting pass `table` may be NULL (not created yet: all
 * slots absent) and `synth` may be a block being split (slots are its
 * children).
 *
 * The pass is op->commit's. The counting pass changes nothing and leaves
 * op->error and op->tables_needed; the commit pass draws tables from
 * op->reserve and records what must be flushed in `op`, and may stop with
 * op->stop and op->resume_va set (the caller settles, then walks again
 * from resume_va with a fresh op). pt_run calls it on the root, with
 * table = the root, synth = 0, level = PT_LEVELS - 1; it recurses below.
 */
void pt_walk_range(struct pt_op *op, pte_t *table, pte_t synth, unsigned level, virt_addr_t first,
		   virt_addr_t last);

#endif
