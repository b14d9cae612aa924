/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Allocation-failure injection for kernel/mm, and the subsystem's
 * test-only breaking switches (`mm.break=`).
 *
 * Every place in kernel/mm that allocates (a frame for an mm, a page-table
 * root or table, an anonymous page, a gather batch, a VMA, an mm's notifier
 * state) asks mm_alloc_fails() first, naming its site. Nothing is counted
 * unless a window is armed: mm_fail_arm() opens one, and inside it the
 * allocations are numbered 1, 2, ...; the one numbered `nth` fails as if
 * memory had run out (once), every other one goes ahead. A window counts
 * only the allocations made on one CPU (or on every CPU, MM_FAIL_ANY_CPU),
 * so a test's scenario is not disturbed by other CPUs' work.
 *
 * Invariants: an injected failure is indistinguishable for the caller from
 * a real one (the same -ENOMEM or NULL path, nothing allocated); outside a
 * window, and with no site failing always, mm_alloc_fails() costs two
 * loads and never fails.
 */
#ifndef PAGODA_KERNEL_MM_FAILINJECT_H
#define PAGODA_KERNEL_MM_FAILINJECT_H

#include "kernel/types.h"

enum mm_alloc_site {
	MM_ALLOC_MM,	   /* mm.c: the page holding a struct mm */
	MM_ALLOC_PT_ROOT,  /* pt.c: pt_init's root table */
	MM_ALLOC_PT_TABLE, /* pt.c: pt_run's reserve of tables for a map or a split */
	MM_ALLOC_PT_TOP,   /* pt.c: pt_ensure_top_table (kernel halves) */
	MM_ALLOC_FILL,	   /* fault.c: the zero page of an anonymous fault or populate */
	MM_ALLOC_BATCH,	   /* gather.c: a batch page for the frames a gather frees */
	MM_ALLOC_VMA,	   /* vma.c: a VMA (a new mapping, or a spare for a split) */
	MM_ALLOC_MN_MM,	   /* notifier.c: an mm's notifier state, on its first subscription */
	MM_ALLOC_RECLAIM,  /* tlb_batch.c: the page of a TLB batch's entries */
	MM_ALLOC_NR_SITES,
};

#define MM_FAIL_ANY_CPU (~0u)

/*
 * Called by each allocation site before it allocates: true means "fail
 * now" (behave exactly as if the allocator had returned -ENOMEM).
 */
bool mm_alloc_fails(enum mm_alloc_site site);
/*
 * Opens a window on `cpu` (or MM_FAIL_ANY_CPU): allocations from now on are
 * counted, and the `nth` (1-based; 0: none) fails. Replaces any open window.
 */
void mm_fail_arm(unsigned cpu, uint64_t nth);
/* Closes the window: the allocations it counted, and per site in `per_site` (may be NULL). */
uint64_t mm_fail_disarm(uint64_t per_site[MM_ALLOC_NR_SITES]);
/* Did the window's `nth` allocation come (and fail)? Which site was it? */
bool mm_fail_fired(enum mm_alloc_site *site);
const char *mm_alloc_site_name(enum mm_alloc_site site);
/*
 * Every allocation at `site`, on every CPU, fails while `on` (apart from
 * any window, and not counted in it): for a soak that must keep one
 * fallback path busy, e.g. a gather with no batch page settling early.
 */
void mm_fail_site_always(enum mm_alloc_site site, bool on);
/*
 * `fail.nth=N` on the command line: opens a window on every CPU before the
 * tests run, so the Nth allocation in kernel/mm after that fails (and says
 * so on the console). Returns whether it did.
 */
bool mm_fail_boot_arm(void);

/* `mm.break=`: test-only switches that break one invariant each (tests must then fail). */
enum mm_break {
	MM_BREAK_NONE,
	MM_BREAK_LEAK_PTE,  /* an unmap leaves its last leaf in place but frees its frame */
	MM_BREAK_FILL_LEAK, /* a fault fill whose mapping fails keeps its zero page */
	/* an unmap keeps its VMAs on the list through its table work: a fault may fill there */
	MM_BREAK_UNMAP_NO_EXCLUSION,
	/* a fault takes a changing VMA's permissions: one is dropped with no flush */
	MM_BREAK_FAULT_REMOVES_PERM,
	/* a change marks every VMA in its range, also one mapped into a hole after its claim */
	MM_BREAK_MARK_UNOWNED,
};
bool mm_broken_is(enum mm_break which);

#endif
