// SPDX-License-Identifier: BSD-2-Clause
/*
 * TLB batching across address spaces (the contract is in tlb_batch.h).
 *
 * Each unmap runs an ordinary mmu_gather over one page under mm->lock and
 * hands its flush off (tlb_gather_hand_off): the request's generation is
 * published there, so a CPU that switches into the mm afterwards catches
 * up by itself (rule 2 of docs/tlb.md), and the gather stays counted open
 * on the mm until the batch releases it. The flush then reads, per entry,
 * which CPUs must take it (after the bump, as any request does), sends one
 * cross-call to their union and frees only after it returned: the order
 * unhook, invalidate everywhere, free is the same as the gather's, for
 * many address spaces at once.
 */
#include "kernel/mm/tlb_batch.h"
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/notifier.h"
#include "kernel/mm/tlb_internal.h"
#include "kernel/mm/tlb_trace.h"
#include "kernel/time.h"
#include "kernel/xcall.h"

void (*tlb_batch_test_round)(const struct tlb_batch *b);

/*
 * The one place the batch takes an mm's lock, the way a change does
 * (vma.c): mm->lock for read, and the page's VMA owned (by the batch's
 * entry, `e`) under vma_lock. Read is enough: the batch edits no VMA, its
 * table edit is a walk under pt->lock like any change's, and a fault that
 * fills the page beside it is a DONTNEED race (the fault's page stays,
 * the batch frees only the frame it cleared). Owning the VMA keeps every
 * other change of it (an unmap that would unlink it, a protect) out until
 * the entry is cleared and handed off, as the mutex did, and it is let go
 * before the round, as the mutex was: the held
 * gather, counted on the mm, is what makes a later change of the page
 * flush it (tlb_batch.h). Nothing a change waits for is held meanwhile,
 * so waiting for an owned VMA cannot deadlock with the held gathers of
 * earlier entries.
 */
static int batch_lock_mm(struct mm *mm, virt_addr_t va, const void *me, struct vma *copy)
{
	return vma_own_page(mm, va, me, copy);
}

static void batch_unlock_mm(struct mm *mm, const void *me)
{
	vma_disown(mm, me);
}

int tlb_batch_init(struct tlb_batch *b)
{
	phys_addr_t pa;
	*b = (struct tlb_batch){0};
	if (mm_alloc_fails(MM_ALLOC_RECLAIM) || frame_alloc(0, &pa) != 0)
		return -ENOMEM;
	b->entries = kva(pa);
	return 0;
}

/*
 * Clears the page's entry and hands the gather's flush to `e` (*held: it
 * took it). mm->lock held for read, `v` (a copy of the page's VMA) owned.
 */
static int unmap_into(struct mm *mm, virt_addr_t va, const struct vma *v, struct tlb_batch_entry *e,
		      bool *held)
{
	struct pt_query_result q;
	if (v->kind != VMA_ANON)
		return -EINVAL;
	if (!pt_query(&mm->pt, va, &q))
		return -ENOENT;
	struct mn_range range = {.mm = mm,
				 .start = va,
				 .end = va + PAGE_SIZE,
				 .event = MN_EVENT_CLEAR,
				 .flags = MN_RANGE_BLOCKABLE};
	int err = mn_invalidate_start(&range); /* blockable: never refused */
	if (err)
		return err;
	struct mmu_gather g;
	tlb_gather_begin(&g, mm, false);
	err = pt_unmap_gather(&mm->pt, va, PAGE_SIZE, &g, true);
	*held = tlb_gather_hand_off(&g, &e->held);
	if (!*held)
		tlb_gather_finish(&g);
	/* The secondary TLBs were told by the hand-off: the range can close under the lock. */
	mn_invalidate_end(&range);
	return err;
}

int tlb_batch_unmap_page(struct tlb_batch *b, struct mm *mm, virt_addr_t va)
{
	if (!vm_user_range_ok(va, PAGE_SIZE) || vm_in_reserved_window(va, PAGE_SIZE))
		return -EINVAL;
	if (b->nr == TLB_BATCH_MAX) {
		b->stats.full_rounds++;
		tlb_batch_flush(b);
	}
	bool held = false;
	struct tlb_batch_entry *e = &b->entries[b->nr];
	struct vma v;
	int err = batch_lock_mm(mm, va, e, &v);
	if (!err)
		err = unmap_into(mm, va, &v, e, &held);
	batch_unlock_mm(mm, e);
	if (held) {
		b->nr++;
		b->stats.pages++;
	}
	return err;
}

/* What the cross-call carries. */
struct batch_call {
	const struct tlb_batch *b;
	unsigned initiator;
};

/* On every CPU of the round, interrupts off: each entry this CPU is a target of. */
static void batch_handler(void *arg)
{
	const struct batch_call *call = arg;
	const struct tlb_batch *b = call->b;
	unsigned me = arch_cpu_id();
	if (tlb_trace_on() && call->initiator != me)
		tlb_ev(TLB_EV_IPI_RECV, call->initiator, b->nr);
	if (tlb_batch_test_round)
		tlb_batch_test_round(b);
	for (unsigned i = 0; i < b->nr; i++)
		if (cpumask_test(b->entries[i].targets, me))
			tlb_flush_here(&b->entries[i].held.req);
}

/* One cross-call for every entry (IPI transport). */
static void round_by_ipis(struct tlb_batch *b)
{
	unsigned me = arch_cpu_id();
	cpumask_t all = cpumask_of(me);
	for (unsigned i = 0; i < b->nr; i++) {
		b->entries[i].targets = tlb_request_targets(&b->entries[i].held.req);
		all.bits |= b->entries[i].targets.bits;
	}
	struct batch_call call = {b, me};
	tlb_xcall_traced(all, batch_handler, &call);
	for (unsigned i = 0; i < b->nr; i++)
		tlb_request_completed(&b->entries[i].held.req, b->entries[i].held.req.gen);
}

/* Every entry's invalidations issued, then one wait (hardware broadcast). */
static void round_by_broadcast(struct tlb_batch *b)
{
	for (unsigned i = 0; i < b->nr; i++)
		tlb_broadcast_request(&b->entries[i].held.req, false);
	if (tlb_batch_test_round)
		tlb_batch_test_round(b);
	arch_tlb_broadcast_sync();
	/* Only now are the entries' broadcasts complete (their bcast_end meant issued). */
	tlb_ev(TLB_EV_BCAST_SYNC, 0, b->nr);
}

static void release_all(struct tlb_batch *b)
{
	for (unsigned i = 0; i < b->nr; i++)
		tlb_gather_release_held(&b->entries[i].held);
}

void tlb_batch_flush(struct tlb_batch *b)
{
	if (b->nr == 0)
		return;
	b->stats.rounds++;
	bool early = tlb_broken_is(TLB_BREAK_BATCH_FREE_EARLY);
	if (early) {
		/* Broken on purpose: free first (counted as freed), and hold the window open. */
		for (unsigned i = 0; i < b->nr; i++)
			if (b->entries[i].held.frame)
				frame_free(b->entries[i].held.frame, 0);
		atomic_fetch_add(&gather_stats.pages_freed, b->nr);
		time_delay_ns(2000000);
	}
	/* Every request's generation was bumped before this point: read targets (rule 2). */
	smp_mb();
	if (tlb_broadcast && !tlb_test_skip_flush)
		round_by_broadcast(b);
	else if (!tlb_test_skip_flush)
		round_by_ipis(b);
	for (unsigned i = 0; early && i < b->nr; i++)
		b->entries[i].held.frame = 0; /* freed above */
	release_all(b);
	b->nr = 0;
}

void tlb_batch_fini(struct tlb_batch *b)
{
	tlb_batch_flush(b);
	if (b->entries)
		frame_free(kva_to_pa(b->entries), 0);
	b->entries = NULL;
}
