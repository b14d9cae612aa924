// SPDX-License-Identifier: BSD-2-Clause
/*
 * The mmu_gather implementation (the contract is in gather.h).
 *
 * A gather accumulates "what was unhooked" (range, stride, levels, freed
 * tables) and "what to free" (frames and tables). tlb_flush_mmu() is the
 * only place that frees, and it flushes first: that single ordering is the
 * whole safety argument, so it is kept in one short function.
 */
#include "kernel/mm/gather.h"
#include "kernel/mm/notifier.h"
#include "kernel/atomic.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/mm/tlb_trace.h"
#include "kernel/printk.h"
#include "kernel/time.h"

struct gather_stats gather_stats;
bool tlb_test_skip_flush;

static void reset_range(struct mmu_gather *g)
{
	g->start = ~(virt_addr_t)0;
	g->end = 0;
	g->stride_shift = 30;
	g->cleared_levels = 0;
	g->freed_tables = false;
	g->need_flush = false;
	g->undeferred = false;
}

void tlb_gather_begin(struct mmu_gather *g, struct mm *mm, bool teardown)
{
	*g = (struct mmu_gather){.mm = mm, .teardown = teardown};
	reset_range(g);
	atomic_fetch_add(&mm->gathers_active, 1);
}

static void record_range(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level)
{
	unsigned shift = 12 + 9 * level;
	g->start = MIN(g->start, va);
	g->end = MAX(g->end, va + size);
	g->stride_shift = MIN(g->stride_shift, shift);
	g->need_flush = true;
	g->undeferred = true;
}

void tlb_record_cleared(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level)
{
	record_range(g, va, size, level);
	g->cleared_levels |= 1u << level;
}

void tlb_record_downgraded(struct mmu_gather *g, virt_addr_t va, uint64_t size, unsigned level)
{
	record_range(g, va, size, level);
}

void tlb_defer_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start, virt_addr_t end,
		     unsigned stride_shift)
{
	if (tlb_mode != TLB_MODE_GEN || g->teardown)
		return;
	struct mm *mm = g->mm;
	uint64_t gen;
	if (tlb_broken_is(TLB_BREAK_NO_DEFER_BUMP) && g->defer_gen)
		gen = atomic_load_acquire(&mm->tlb_gen); /* the review's bug, on purpose */
	else
		gen = tlb_gen_bump(mm, start, end, stride_shift, false);
	struct page *p = frame_to_page(table);
	if (p && atomic_load_relaxed(&p->pt_tlb_gen) < gen)
		atomic_store_release(&p->pt_tlb_gen, gen);
	g->defer_gen = gen;
	tlb_ev(TLB_EV_DEFER, gen, table);
	/*
	 * The walker defers each table it changed once it leaves that table,
	 * the root last, and only then can pt_run settle: by then every change
	 * recorded is published by one of this gather's deferrals, all of
	 * them at or before this one (generations only grow).
	 */
	g->undeferred = false;
	uint64_t d = atomic_load_relaxed(&mm->tlb_gen_deferred);
	while (d < gen && !atomic_cmpxchg(&mm->tlb_gen_deferred, &d, gen))
		;
	atomic_fetch_add(&gather_stats.deferrals, 1);
	tlb_window(TLB_WINDOW_DEFERRED, mm);
}

void tlb_adopt_pending_table(struct mmu_gather *g, phys_addr_t table, virt_addr_t start,
			     virt_addr_t end, unsigned stride_shift)
{
	/*
	 * A broadcast flush finishes on every CPU before it returns and nested
	 * gathers escalate, so there is no pending flush to adopt (and
	 * `completed` is not maintained in that mode).
	 */
	if (tlb_mode != TLB_MODE_GEN || tlb_broadcast || g->teardown ||
	    tlb_broken_is(TLB_BREAK_NESTED_BLIND) || !pt_table_flush_pending(g->mm, table))
		return;
	/*
	 * Pending at or below our own last deferral (ours, or older): our own
	 * request carries at least that generation and no target reaches it
	 * without flushing every one before it (nor does `completed`), so our
	 * flush covers it already. Spares a second bump when one gather walks
	 * a table it changed earlier (several VMAs under one upper table).
	 */
	struct page *p = frame_to_page(table);
	if (p && atomic_load_acquire(&p->pt_tlb_gen) <= g->defer_gen)
		return;
	/* Not our change, but our caller must not return before it is flushed. */
	tlb_record_downgraded(g, start, end - start, 0);
	tlb_defer_table(g, table, start, end, stride_shift);
}

void tlb_remove_table(struct mmu_gather *g, phys_addr_t table)
{
	*(uint64_t *)kva(table) = g->tables;
	g->tables = table;
	tlb_ev(TLB_EV_GATHER_TABLE, table, 0);
	/* Once per flush round: a nested gather cannot tell which range such a table served. */
	if (!g->freed_tables)
		atomic_fetch_add(&g->mm->tables_unflushed, 1);
	g->freed_tables = true;
	g->need_flush = true;
}

static unsigned free_slots(const struct mmu_gather *g)
{
	unsigned n = GATHER_LOCAL_SLOTS - g->nr_local;
	for (const struct gather_batch *b = g->batches; b; b = b->next)
		n += GATHER_BATCH_SLOTS - b->nr;
	return n;
}

unsigned tlb_reserve_space(struct mmu_gather *g, unsigned n)
{
	while (free_slots(g) < n) {
		phys_addr_t pa;
		if (mm_alloc_fails(MM_ALLOC_BATCH) || frame_alloc(0, &pa) != 0) {
			/* No memory for bookkeeping: the caller settles what we hold, outside its lock. */
			atomic_fetch_add(&gather_stats.batch_alloc_failures, 1);
			return free_slots(g);
		}
		struct gather_batch *b = kva(pa);
		b->next = NULL;
		b->nr = 0;
		if (g->last_batch)
			g->last_batch->next = b;
		else
			g->batches = b;
		g->last_batch = b;
		atomic_fetch_add(&gather_stats.batches_allocated, 1);
	}
	return n;
}

static bool queue_page(struct mmu_gather *g, phys_addr_t pa)
{
	if (g->nr_local < GATHER_LOCAL_SLOTS) {
		g->local[g->nr_local++] = pa;
		return true;
	}
	for (struct gather_batch *b = g->batches; b; b = b->next)
		if (b->nr < GATHER_BATCH_SLOTS) {
			b->pages[b->nr++] = pa;
			return true;
		}
	return false;
}

void tlb_remove_pages(struct mmu_gather *g, phys_addr_t pa, unsigned n)
{
	tlb_ev(TLB_EV_GATHER_PAGES, pa, n);
	for (unsigned i = 0; i < n; i++)
		if (!queue_page(g, pa + ((uint64_t)i << PAGE_SHIFT)))
			panic("tlb_remove_pages: no room: tlb_reserve_space was not called");
}

static void free_frame_after_flush(struct mmu_gather *g, phys_addr_t pa)
{
	/* Changes recorded and not flushed yet: the frame may still be reachable somewhere. */
	if (g->need_flush)
		atomic_fetch_add(&gather_stats.order_violations, 1);
	tlb_trace_event(TLB_TRACE_FREE, pa);
	tlb_ev(TLB_EV_FREE_PAGE, pa, 0);
	frame_free(pa, 0);
}

/*
 * Another gather is open on the mm and may have cleared entries in our
 * range whose flush it has not issued yet; can we not tell which? With
 * per-mm generations only, or a broadcast (nothing is deferred per table),
 * nobody can. With per-table generations, every table we walked that
 * had such a pending flush made us bump past it, so our request makes
 * each target catch up through the other gather's published ranges; but a
 * table the other gather unhooked is no longer on our walk, and the
 * entries cached through it are not in any range: then we cannot either.
 * A blind gather flushes the whole mm, even if it cleared nothing itself.
 */
static bool nested_blind(const struct mmu_gather *g)
{
	struct mm *mm = g->mm;
	if (tlb_broken_is(TLB_BREAK_NESTED_BLIND) || atomic_load_relaxed(&mm->gathers_active) <= 1)
		return false;
	if (tlb_mode == TLB_MODE_MMGEN || tlb_broadcast)
		return true;
	/* Our own unhooked tables make our flush a full one anyway. */
	return atomic_load_acquire(&mm->tables_unflushed) > (g->freed_tables ? 1u : 0u);
}

/*
 * Secondary TLBs (notifier.h rule 2): told at the same point as the CPUs,
 * before anything gathered is freed, even when the CPU flush itself was
 * found done already (a completed generation says nothing about a
 * device's TLB).
 */
static void flush_secondary(struct mmu_gather *g, bool full)
{
	if (mn_broken_is(MN_BREAK_SKIP_SECONDARY))
		return;
	if (mn_broken_is(MN_BREAK_SECONDARY_AFTER_FREE)) {
		g->secondary_late = true;
		g->secondary_full |= full;
		return;
	}
	mn_invalidate_secondary_tlbs(g->mm, g->start, g->end, g->freed_tables, full);
}

/*
 * The one request that covers what is gathered, in *req; false when there
 * is nothing left to do (`may_skip`: a completed flush covered it).
 */
static bool gathered_request(struct mmu_gather *g, struct tlb_flush_request *req, bool may_skip)
{
	struct mm *mm = g->mm;
	if (atomic_load_relaxed(&mm->gathers_active) > 1)
		atomic_fetch_add(&gather_stats.nested, 1);
	bool nested = nested_blind(g);
	/*
	 * Every entry this gather changed was published by a deferral at or
	 * before defer_gen (unless `undeferred`): the request carries that
	 * generation instead of bumping another one, so a 1-page unmap is one
	 * bump in all. Not when a table was unhooked (its walk caches need a
	 * whole-mm flush that no target may skip as done: a fresh generation
	 * marked freed_tables), nor when nested and blind (the same, for the
	 * other gather's). If a flush that completed covered that generation
	 * there is nothing left to do; a broadcast does not maintain
	 * `completed`, so it always flushes.
	 */
	bool published = tlb_mode == TLB_MODE_GEN && g->defer_gen && !g->undeferred &&
			 !g->freed_tables && !nested;
	bool deferred = published && !tlb_broadcast;
	if (may_skip && deferred && atomic_load_acquire(&mm->tlb_gen_completed) >= g->defer_gen) {
		atomic_fetch_add(&gather_stats.completed_skips, 1);
		tlb_count_completed_skip();
		tlb_ev(TLB_EV_SKIP, TLB_SKIP_COMPLETED, g->defer_gen);
		return false;
	}
	*req = (struct tlb_flush_request){
	    .mm = mm,
	    .start = g->start,
	    .end = g->end,
	    .stride_shift = g->stride_shift,
	    .freed_tables = g->freed_tables,
	    .full = nested,
	};
	req->gen = published ? g->defer_gen
			     : tlb_gen_bump(mm, g->start, g->end, g->stride_shift, g->freed_tables);
	return true;
}

/* Issues the one flush for what is gathered, or learns that it is already done. */
static void flush_gathered(struct mmu_gather *g)
{
	struct tlb_flush_request req;
	tlb_window(TLB_WINDOW_FLUSHING, g->mm);
	if (!gathered_request(g, &req, true)) {
		flush_secondary(g, false);
		return;
	}
	if (!tlb_test_skip_flush)
		tlb_flush_mm_range(&req);
	flush_secondary(g, req.full);
	tlb_trace_event(TLB_TRACE_FLUSH, g->start);
	atomic_fetch_add(&gather_stats.flushes, 1);
	if (req.full)
		atomic_fetch_add(&gather_stats.full_flushes, 1);
}

static void free_gathered(struct mmu_gather *g);

/* Flush, then free. `final`: the gather's finish, not an early settle of a walk out of room. */
static void settle(struct mmu_gather *g, bool final)
{
	if (tlb_broken_is(TLB_BREAK_SETTLE_NO_FLUSH) && !final && g->need_flush) {
		/*
		 * Broken on purpose: an early settle only makes room, and leaves
		 * the flush to the finish. The window is held open a millisecond
		 * per settle so that writers on other CPUs are seen to land.
		 */
		free_gathered(g);
		time_delay_ns(1000000);
		return;
	}
	if (tlb_broken_is(TLB_BREAK_FREE_BEFORE_FLUSH) && g->need_flush) {
		/*
		 * The invariant broken on purpose: free first, and hold the window
		 * open a few milliseconds (a broadcast flush would otherwise close
		 * it within microseconds) so the tests can see writes land.
		 */
		free_gathered(g);
		time_delay_ns(5000000);
	}
	virt_addr_t start = g->start, end = g->end;
	bool held_tables = g->freed_tables;
	if (g->need_flush) {
		flush_gathered(g);
		g->flush_seq++;
		reset_range(g);
		if (held_tables)
			atomic_fetch_sub(&g->mm->tables_unflushed, 1);
	}
	free_gathered(g);
	if (g->secondary_late) {
		/* mn.break=secondary_after_free: the device is told only now, the window held open. */
		time_delay_ns(300000);
		mn_invalidate_secondary_tlbs(g->mm, start, end, held_tables, g->secondary_full);
		g->secondary_late = g->secondary_full = false;
	}
}

void tlb_flush_mmu(struct mmu_gather *g)
{
	settle(g, false);
}

/* Frees a chain of unhooked tables (linked through their first word), flushed already. */
static void free_tables(phys_addr_t *chain)
{
	while (*chain) {
		phys_addr_t t = *chain;
		*chain = *(uint64_t *)kva(t);
		*(uint64_t *)kva(t) = 0;
		struct page *page = frame_to_page(t);
		if (page)
			page->flags &= (uint16_t)~PAGE_TABLE;
		tlb_trace_event(TLB_TRACE_FREE_TABLE, t);
		tlb_ev(TLB_EV_FREE_TABLE, t, 0);
		tlb_shadow_table_freed(t);
		frame_free(t, 0);
		atomic_fetch_add(&gather_stats.tables_freed, 1);
	}
}

/* Everything queued was unhooked before the flush above (or needed none). */
static void free_gathered(struct mmu_gather *g)
{
	for (unsigned i = 0; i < g->nr_local; i++)
		free_frame_after_flush(g, g->local[i]);
	atomic_fetch_add(&gather_stats.pages_freed, g->nr_local);
	g->nr_local = 0;
	for (struct gather_batch *b = g->batches; b; b = b->next) {
		for (unsigned i = 0; i < b->nr; i++)
			free_frame_after_flush(g, b->pages[i]);
		atomic_fetch_add(&gather_stats.pages_freed, b->nr);
		b->nr = 0;
	}
	free_tables(&g->tables);
}

void tlb_gather_finish(struct mmu_gather *g)
{
	/*
	 * A nested gather that cannot tell what the other one left pending
	 * must not let its caller return before that is flushed, even when it
	 * found nothing to clear itself (the other gather got there first).
	 */
	if (!g->need_flush && nested_blind(g))
		record_range(g, arch_mm_layout.user_base,
			     arch_mm_layout.user_top - arch_mm_layout.user_base, 0);
	if (!g->need_flush && g->nr_local == 0 && !g->tables)
		atomic_fetch_add(&gather_stats.flushes_elided, 1);
	settle(g, true);
	while (g->batches) {
		struct gather_batch *b = g->batches;
		g->batches = b->next;
		frame_free(kva_to_pa(b), 0);
	}
	g->last_batch = NULL;
	atomic_fetch_sub(&g->mm->gathers_active, 1);
}

bool tlb_gather_hand_off(struct mmu_gather *g, struct tlb_gather_held *h)
{
	if (g->teardown || g->batches || g->nr_local > 1)
		panic("tlb_gather_hand_off: only a small unmap's gather can be handed off");
	if (!g->need_flush)
		return false;
	if (!gathered_request(g, &h->req, false))
		panic("tlb_gather_hand_off: a request was skipped");
	h->frame = g->nr_local ? g->local[0] : 0;
	h->tables = g->tables;
	g->nr_local = 0;
	g->tables = 0;
	/*
	 * Secondary TLBs now, under the caller's lock, as Linux's reclaim does
	 * when it adds an mm to its batch: a device walking the mm's tables
	 * cannot reach the frame (its entry is gone, its TLB told) long before
	 * the frame is freed, and the caller can close its notifier range.
	 */
	flush_secondary(g, h->req.full);
	h->secondary_late = g->secondary_late;
	h->secondary_full = g->secondary_full;
	g->secondary_late = g->secondary_full = false;
	/*
	 * Still counted in gathers_active (and tables_unflushed) until
	 * released: a later change over the batched page must see an open
	 * gather (nested_blind) and flush before it returns, since the batch's
	 * round may come much later. The breaking switch closes it here.
	 */
	h->closed = tlb_broken_is(TLB_BREAK_BATCH_CLOSES_AT_HAND_OFF);
	if (h->closed) {
		if (h->req.freed_tables)
			atomic_fetch_sub(&g->mm->tables_unflushed, 1);
		atomic_fetch_sub(&g->mm->gathers_active, 1);
	}
	return true;
}

void tlb_gather_release_held(struct tlb_gather_held *h)
{
	struct mm *mm = h->req.mm;
	if (h->frame) {
		tlb_trace_event(TLB_TRACE_FREE, h->frame);
		tlb_ev(TLB_EV_FREE_PAGE, h->frame, 0);
		frame_free(h->frame, 0);
		atomic_fetch_add(&gather_stats.pages_freed, 1);
		h->frame = 0;
	}
	free_tables(&h->tables);
	if (h->secondary_late) {
		/* mn.break=secondary_after_free: the device is told only now, after the frees. */
		time_delay_ns(300000);
		mn_invalidate_secondary_tlbs(mm, h->req.start, h->req.end, h->req.freed_tables,
					     h->secondary_full);
		h->secondary_late = h->secondary_full = false;
	}
	if (h->closed)
		return;
	if (h->req.freed_tables)
		atomic_fetch_sub(&mm->tables_unflushed, 1);
	atomic_fetch_sub(&mm->gathers_active, 1);
}
