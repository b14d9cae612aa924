/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Reclaim-style TLB batching across address spaces (Linux's
 * arch_tlbbatch_add_pending / try_to_unmap_flush): a pass that takes one
 * page each from many address spaces clears each page's entry at once but
 * sends one IPI round (or, with a hardware broadcast, issues every
 * invalidation and waits once) for the whole batch, instead of one round
 * per address space. docs/tlb.md, "Batching across address spaces".
 *
 * Invariants:
 *  - A batched page's frame is freed only after the round that follows
 *    its unmap completed on every CPU that takes it (each batched mm's
 *    targets, chosen as for any request: tlb_request_targets), and after
 *    the mm's secondary TLBs were told (at the unmap, under mm->lock).
 *  - Until then the mm counts the unmap as an open gather: another change
 *    to the mm's tables whose range covers a batched page (an unmap, a
 *    protect, a discard) flushes that page before it returns, as a nested
 *    gather does (gather.h): with per-table generations its walk takes on
 *    the pending flush of the page's table, otherwise it flushes the whole
 *    mm. So no caller returns believing a range is gone while a CPU may
 *    still reach it.
 *  - A batch holds at most TLB_BATCH_MAX entries and flushes itself when a
 *    new entry would not fit. Entries are not ordered: one round serves
 *    all of them, and each CPU handles every batched mm it holds.
 *  - The caller keeps every batched mm alive (mm_destroy panics on an mm
 *    with a gather open) and runs in thread context, interrupts on, with
 *    no lock held that a CPU may spin on with interrupts off.
 */
#ifndef PAGODA_KERNEL_MM_TLB_BATCH_H
#define PAGODA_KERNEL_MM_TLB_BATCH_H

#include "kernel/mm/gather.h"

struct mm;

struct tlb_batch_entry {
	struct tlb_gather_held held; /* the request, and what to free after it */
	cpumask_t targets;	     /* filled by the flush: CPUs that take held.req */
};

#define TLB_BATCH_MAX (PAGE_SIZE / sizeof(struct tlb_batch_entry))

struct tlb_batch_stats {
	uint64_t pages;	 /* pages unmapped into the batch */
	uint64_t rounds; /* flushes that had something to do (one IPI round or one sync each) */
	uint64_t full_rounds; /* of those, started because the batch was full */
};

struct tlb_batch {
	struct tlb_batch_entry *entries; /* one page of them */
	unsigned nr;
	struct tlb_batch_stats stats;
};

/* Allocates the batch's page (failure injection site MM_ALLOC_RECLAIM): 0 or -ENOMEM. */
int tlb_batch_init(struct tlb_batch *b);
/*
 * Reclaims the page at `va` of `mm`: clears its entry under mm->lock,
 * tells notifier subscribers (an MN_EVENT_CLEAR range around it; secondary
 * TLBs invalidated before the lock is dropped) and adds the mm's request
 * (its generation published now) and the page's frame to the batch. The
 * mapping stays: the next touch fills a fresh zero page, as after
 * vm_discard (Pagoda has no swap, so the contents are dropped). Flushes
 * the batch first when it is full. Returns 0; -EINVAL when `va` is not a
 * page of an anonymous mapping (or lies in the reserved window); -ENOENT
 * when nothing is mapped there (nothing batched); -ENOMEM when a block
 * had to be split and no table could be had (nothing changed).
 */
int tlb_batch_unmap_page(struct tlb_batch *b, struct mm *mm, virt_addr_t va);
/*
 * Flushes every batched entry in one round: one cross-call to the union
 * of every entry's targets, where each CPU carries out each entry it is a
 * target of (skip by generation, the single-page fast path, a catch-up or
 * a full flush, per the mode), or, with a hardware broadcast, every
 * entry's invalidations and then one wait. Then frees every held frame
 * and table, and empties the batch (it stays usable).
 */
void tlb_batch_flush(struct tlb_batch *b);
/* Flushes what is left and frees the batch's page. */
void tlb_batch_fini(struct tlb_batch *b);

/*
 * Test hook: when set, called during the round with nothing invalidated
 * yet by the calling CPU: with IPIs on every CPU of the round inside the
 * cross-call (interrupts off), before its own invalidations; with a
 * broadcast on the initiator, after the invalidations are issued and
 * before the wait. Every frame of the batch must still be allocated then.
 */
extern void (*tlb_batch_test_round)(const struct tlb_batch *b);

#endif
