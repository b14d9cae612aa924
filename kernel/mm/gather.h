/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * mmu_gather: the one batching primitive through which every unmap,
 * protection change, discard and teardown of an address space goes.
 *
 * The contract, in order:
 *   1. unhook: page-table code clears descriptors and tells the gather what
 *      it cleared (the range, the page size, the level) and what must be
 *      freed afterwards (the frames the leaves mapped, emptied tables);
 *   2. invalidate: tlb_gather_finish() (or an early tlb_flush_mmu()) issues
 *      ONE flush covering everything gathered, on every CPU that may hold
 *      the translations, and tells every secondary TLB (notifier.h) of the
 *      same range in the same place;
 *   3. free: only after that flush are the gathered frames and tables
 *      returned to the allocator.
 * A page is never reused while any CPU can still reach it through a stale
 * translation, and a table is never freed while a CPU may still walk it.
 *
 * Nothing is flushed when nothing was cleared or only permissions were
 * added. `teardown` means the whole address space is being torn down (its
 * CPUs have left it); it never means "flush everything". A gather that
 * finishes while another is open on the mm (nested) must not return before
 * the entries the other one cleared in its range are flushed too: with
 * per-table generations it takes on the pending flush of every table
 * it walks; where it cannot tell what is pending (per-mm generations,
 * broadcast, or tables the other gather unhooked) it flushes the whole mm,
 * even when it cleared nothing itself.
 *
 * Pages are queued in a few slots inside the gather, then in page-sized
 * batches chained behind it. tlb_reserve_space() makes room for a run of
 * N pages before its leaves are cleared; if a batch cannot be allocated it
 * says so, and the walker stops before clearing them, drops its lock,
 * settles the gather (flush, then free: the room is then free) and
 * resumes. A gather is never settled from inside the walk: the flush may
 * wait for other CPUs, which must not happen with interrupts off and the
 * page-table lock held (a CPU spinning on that lock could never answer).
 *
 * A settle (early or final) may skip its flush only when every change it
 * covers was published by a deferral that a completed flush already
 * covers. Changes recorded after the last deferral always get a flush. (The walker
 * defers the table it stops in before it settles, so today only a direct
 * user of the gather API can reach that case: the rule is the safety net
 * that makes a settle correct wherever it is called from.)
 */
#ifndef PAGODA_KERNEL_MM_GATHER_H
#define PAGODA_KERNEL_MM_GATHER_H

#include "kernel/mm/tlb.h"
#include "kernel/types.h"

struct mm;

#define GATHER_LOCAL_SLOTS 8
#define GATHER_BATCH_SLOTS ((4096 - 16) / 8)

struct gather_batch {
	struct gather_batch *next;
	uint32_t nr;
	uint32_t reserved;
	phys_addr_t pages[GATHER_BATCH_SLOTS];
};

struct gather_stats {
	uint64_t flushes; /* flush rounds issued (each covers every target CPU) */
	uint64_t full_flushes; /* rounds that invalidated the whole mm */
	uint64_t flushes_elided; /* finishes with nothing to flush */
	uint64_t pages_freed;
	uint64_t tables_freed;
	uint64_t batches_allocated;
	uint64_t batch_alloc_failures; /* fell back to flush-and-free-now */
	uint64_t nested; /* finishes that found another gather active on the mm */
	uint64_t order_violations; /* frames freed with changes still unflushed: must stay 0 */
	uint64_t completed_skips; /* flushes skipped: another flush already covered them */
	uint64_t deferrals; /* per-table deferrals (generations bumped by gathers) */
};

struct mmu_gather {
	struct mm *mm;
	bool teardown; /* the address space is being destroyed (not: "flush everything") */
	/* What was unhooked since the last flush. */
	virt_addr_t start, end; /* [start, end), start > end when empty */
	unsigned stride_shift; /* smallest page size cleared: 12, 21 or 30 */
	unsigned cleared_levels; /* bit L: a leaf at level L was cleared */
	bool freed_tables;
	bool need_flush;
	/* Frames to free after the flush. */
	phys_addr_t local[GATHER_LOCAL_SLOTS];
	unsigned nr_local;
	struct gather_batch *batches, *last_batch;
	phys_addr_t tables; /* unhooked tables, chained through their first word */
	uint64_t flush_seq; /* bumped by every flush: freeing checks it */
	uint64_t defer_gen; /* the last generation this gather deferred (0: none) */
	bool undeferred; /* changes recorded since the last deferral: the flush cannot be skipped */
	bool secondary_late, secondary_full; /* mn.break=secondary_after_free only */
};

void tlb_gather_begin(struct mmu_gather *g, struct mm *mm, bool teardown);
/* Flushes once if anything needs it, then frees everything gathered. */
void tlb_gather_finish(struct mmu_gather *g);
/* Flushes now and frees what is gathered; the gather stays usable. */
void tlb_flush_mmu(struct mmu_gather *g);

/* Records that leaves mapping [va, va + size) at `level` were cleared. */
void tlb_record_cleared(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level);
/*
 * Records that [va, va + size) at `level` was downgraded: it may still be
 * mapped, but entries cached from before must go (a permission removed, a
 * block split, a memory type changed). It needs a flush and frees nothing.
 */
void tlb_record_downgraded(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level);
/*
 * Entries of page table `table` itself were cleared, downgraded or
 * unhooked (covering [start, end), cached at 1 << stride_shift or larger),
 * their flush deferred to this gather: publish that as a new generation
 * (tlb.h) and record it on the table. Once per changed table and walk; a
 * table the walk only passed through is not deferred (its parent's entry
 * did not change), so a 1-page unmap publishes one generation.
 */
void tlb_defer_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start, virt_addr_t end,
		     unsigned stride_shift);
/*
 * The walk went through `table` (at any level; [start, end) of it) without
 * changing it: if another gather's flush of that table's own entries is
 * still pending, this gather adopts it (a new generation past it, over
 * [start, end) page by page), because its caller must not return before
 * entries in its range are gone from every TLB.
 */
void tlb_adopt_pending_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start,
			     virt_addr_t end, unsigned stride_shift);
/* Queues an unhooked page table for freeing after the flush. */
void tlb_remove_table(struct mmu_gather *g, phys_addr_t table);
/*
 * Makes room for `n` more pages, allocating batches. Never flushes, so it
 * is safe under the page-table lock. Returns how many pages have room
 * (`n`, or fewer when no batch can be allocated). The caller clears only
 * leaves whose frames fit; when none fit it drops its locks, calls
 * tlb_flush_mmu() (which empties the slots) and tries again. Room for
 * GATHER_LOCAL_SLOTS pages always exists after that.
 */
unsigned tlb_reserve_space(struct mmu_gather *g, unsigned n);
/* Queues `n` contiguous frames starting at `pa`, room for them reserved. */
void tlb_remove_pages(struct mmu_gather *g, phys_addr_t pa, unsigned n);

/*
 * Handing a gather's flush to a batch that flushes many address spaces in
 * one round (tlb_batch.h). tlb_gather_hand_off(), instead of
 * tlb_gather_finish() and under the same lock, turns what the gather holds
 * into one request (its generation published now, as the gather's own
 * flush would: the last deferral's, or a fresh bump), tells the secondary
 * TLBs (notifier.h rule 2: before any frame is freed), and moves the frame
 * (at most one: a one-page unmap, else it panics) and the unhooked tables
 * into *h. The gather object is then done with, but the mm still counts
 * it open (gathers_active, tables_unflushed): until it is released, every
 * other gather on the mm treats its flush as pending, exactly as for a
 * nested gather, so none returns while a CPU may still hold the entry.
 * Returns false, with nothing moved, when nothing needs a flush: then
 * finish the gather as usual. tlb_gather_release_held() frees what *h
 * holds and closes it; call it only after h->req was carried out on every
 * CPU that takes it (tlb_request_targets) or broadcast and synced.
 */
struct tlb_gather_held {
	struct tlb_flush_request req;
	phys_addr_t frame;  /* 0: none */
	phys_addr_t tables; /* unhooked tables, chained through their first word */
	bool secondary_late, secondary_full; /* mn.break=secondary_after_free only */
	bool closed; /* tlb.break=batch_closes_at_hand_off only: no longer counted open */
};
bool tlb_gather_hand_off(struct mmu_gather *g, struct tlb_gather_held *h);
void tlb_gather_release_held(struct tlb_gather_held *h);

/* Counters summed over every gather since boot (tests read deltas). */
extern struct gather_stats gather_stats;

/* Test-only: when set, the flush is skipped (proves the stale-TLB test can fail). */
extern bool tlb_test_skip_flush;

#endif
