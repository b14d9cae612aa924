/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Notifiers: how a secondary MMU (an IOMMU, a device with its own TLB, a
 * driver's shadow page table) learns about every change to an address
 * space, so that it never translates through a mapping the CPU side has
 * removed. docs/notifier.md tells the whole story; the rules are these.
 *
 *  1. Around every change. Unmap, downgrade of permissions, discard,
 *     soft-dirty write-protection and teardown are bracketed by
 *     invalidate_range_start(range) before the first entry changes and
 *     invalidate_range_end(range) after the change is flushed. Between the
 *     two, a subscriber must not establish new translations in the range.
 *     A promotion (permissions only added) notifies nobody: like the CPU
 *     TLB, a secondary TLB holding the stricter entry only faults.
 *  2. Secondary TLBs at the flush point. A subscriber whose device walks
 *     the mm's own tables (shared address space: SVA, SMMU stage 1, VT-d
 *     first stage) implements invalidate_secondary_tlbs. The mmu_gather
 *     calls it in the same place it flushes the CPUs' TLBs, after every
 *     entry it covers was unhooked and BEFORE any frame or table it holds
 *     is freed; range end does not call it again. Hence: no device reaches
 *     a frame after it is freed. It runs with no sleeping lock taken by
 *     the notifier layer but may be called with the mm's lock held: it must
 *     not take mm->lock, and it should not sleep for long.
 *  3. Blockable or not. A range says whether the callee may sleep. One
 *     that may not and cannot proceed returns -EAGAIN from
 *     invalidate_range_start; the caller then calls invalidate_range_end
 *     for the subscribers that had already accepted, and backs off having
 *     changed nothing (vm_discard_nowait returns -EAGAIN).
 *     A subscriber whose device walks the mm (invalidate_secondary_tlbs)
 *     must stop that device BEFORE mn_unregister/mn_put: from the unlink
 *     until its release runs, no gather tells it anything.
 *  4. Release once. `release` is called exactly once per subscription,
 *     when the mm is torn down or the subscription is removed, whichever
 *     comes first; after it returns no callback of that subscription runs
 *     again, and none runs concurrently with it.
 *  5. Readers never block writers. The subscription lists are read under
 *     the notifier epoch (notifier.c: an SRCU-like scheme of per-CPU
 *     counters); callbacks may sleep inside it. Removing a subscription
 *     unlinks it, then waits for every reader that might still see it.
 *  6. Interval subscriptions carry a sequence (odd while an invalidation
 *     covering them runs): a driver building its own translation reads it
 *     with mn_interval_read_begin(), builds, and under its own lock checks
 *     mn_interval_read_retry() before installing (the seqcount pattern
 *     with many writers).
 *
 * With no subscriber an mm's `mn` pointer is NULL, and every hook is a
 * call, one load and a branch; `make bench` compares that with a build
 * without the hooks (NOTIFIER=off, below).
 */
#ifndef PAGODA_KERNEL_MM_NOTIFIER_H
#define PAGODA_KERNEL_MM_NOTIFIER_H

#include "kernel/types.h"
#include "kernel/sync/wait.h"

struct mm;

/* Why a range is being invalidated (what a subscriber may need to redo). */
enum mn_event {
	MN_EVENT_UNMAP, /* the mapping is gone: addresses are free for reuse */
	MN_EVENT_CLEAR, /* pages dropped, mapping kept (discard): a touch refills */
	MN_EVENT_PROTECTION_VMA, /* the VMA's permissions changed: mirror them for the range */
	MN_EVENT_PROTECTION_PAGE, /* some pages' permissions changed: re-read the CPU tables */
	MN_EVENT_SOFT_DIRTY, /* pages write-protected to track the next write */
	MN_EVENT_RELEASE, /* the mm is being torn down (interval subscriptions) */
	MN_EVENT_COUNT,
};
extern const char *const mn_event_names[MN_EVENT_COUNT];

#define MN_RANGE_BLOCKABLE 1u

struct mn_range {
	struct mm *mm;
	virt_addr_t start, end; /* [start, end) */
	enum mn_event event;
	unsigned flags; /* MN_RANGE_BLOCKABLE */
};

static inline bool mn_range_blockable(const struct mn_range *r)
{
	return r->flags & MN_RANGE_BLOCKABLE;
}

struct mn_subscription;

struct mn_ops {
	/*
	 * The mm is going away or the subscription is being removed: tear
	 * down every secondary translation and stop using the mm. Once.
	 * From mn_unregister, `mm` may already be freed (the subscription
	 * was unlinked before a racing teardown, which then did not wait):
	 * a subscriber that must stop the device first does so before
	 * mn_unregister, and its release must not dereference `mm`.
	 */
	void (*release)(struct mn_subscription *sub, struct mm *mm);
	/* See rule 3: 0, or -EAGAIN only when !mn_range_blockable(r). */
	int (*invalidate_range_start)(struct mn_subscription *sub, const struct mn_range *r);
	void (*invalidate_range_end)(struct mn_subscription *sub, const struct mn_range *r);
	/*
	 * Rule 2: entries in [start, end) were unhooked (and, with
	 * `freed_tables`, tables too: drop cached walks as well); `full`
	 * asks for the whole address space. Must be done, synchronously,
	 * when it returns.
	 */
	void (*invalidate_secondary_tlbs)(struct mn_subscription *sub, struct mm *mm,
					  virt_addr_t start, virt_addr_t end, bool freed_tables,
					  bool full);
	/* For mn_get/mn_put: allocate and free one subscription for `mm`. */
	struct mn_subscription *(*alloc)(struct mm *mm);
	void (*free)(struct mn_subscription *sub);
};

struct mn_subscription {
	const struct mn_ops *ops;
	struct mm *mm; /* set by mn_register; the mm is not pinned */
	struct mn_subscription *next; /* on the mm's list while linked */
	uint32_t refs; /* mn_get/mn_put */
	uint32_t state; /* notifier.c: linked, unlinked, releasing, released */
};

/*
 * Subscribes `sub` (ops set by the caller) to `mm`. 0, -ENOMEM, or -EINVAL once torn down.
 * Callbacks may start before it returns.
 */
int mn_register(struct mn_subscription *sub, struct mm *mm);
/*
 * Removes `sub`: afterwards no callback runs, and `release` has run once
 * (here, or earlier at teardown). Sleeps; the mm may already be torn down.
 */
void mn_unregister(struct mn_subscription *sub);
/* Whether `sub` is on its mm's list now: registered, and neither unregistered nor torn down. */
bool mn_linked(const struct mn_subscription *sub);
/*
 * The one subscription of `ops` on `mm`, created (ops->alloc) and
 * registered on first use, with a reference taken; NULL when out of memory.
 */
struct mn_subscription *mn_get(const struct mn_ops *ops, struct mm *mm);
/* Drops a reference from mn_get; the last one unregisters and calls ops->free. */
void mn_put(struct mn_subscription *sub);

/* Interval subscriptions (rule 6). */
struct mn_interval;
struct mn_interval_ops {
	/*
	 * [r->start, r->end) overlaps the interval: stop using translations
	 * there. Call mn_interval_set_seq(iv, seq) under the lock that also
	 * guards installing translations. Return false only when
	 * !mn_range_blockable(r) and the driver's lock cannot be taken now.
	 */
	bool (*invalidate)(struct mn_interval *iv, const struct mn_range *r, uint64_t seq);
};

struct mn_interval {
	const struct mn_interval_ops *ops;
	struct mm *mm;
	virt_addr_t start, end; /* [start, end) */
	uint64_t seq; /* odd; the last invalidation that covered the interval */
	struct mn_interval *next;
	bool linked;
	bool released; /* the mm was torn down: every read_retry is true from then on */
};

/* Subscribes `iv` to [start, start + len) of `mm`. 0, -EINVAL or -ENOMEM. */
int mn_interval_insert(struct mn_interval *iv, struct mm *mm, virt_addr_t start, uint64_t len,
		       const struct mn_interval_ops *ops);
/* Unsubscribes; after it returns no invalidate callback runs. Sleeps. */
void mn_interval_remove(struct mn_interval *iv);
/* Waits until no invalidation covering `iv` is running; returns the sequence to check. */
uint64_t mn_interval_read_begin(struct mn_interval *iv);
/*
 * True when an invalidation began since read_begin returned `seq`: rebuild
 * (or, once iv->released, stop: the mm is being torn down).
 */
bool mn_interval_read_retry(struct mn_interval *iv, uint64_t seq);
/* From the invalidate callback, under the driver's lock. */
void mn_interval_set_seq(struct mn_interval *iv, uint64_t seq);

/*
 * The MMU layer's side (vma.c, mm.c, gather.c). `start` returns 0 or
 * -EAGAIN (non-blockable range refused: nothing may be changed, and
 * mn_invalidate_end must not be called).
 */
#if !defined(PAGODA_NO_NOTIFIER) || defined(PAGODA_NOTIFIER_IMPL)
int mn_invalidate_start(const struct mn_range *r);
void mn_invalidate_end(const struct mn_range *r);
void mn_invalidate_secondary_tlbs(struct mm *mm, virt_addr_t start, virt_addr_t end,
				  bool freed_tables, bool full);
/* Teardown: release every subscription, RELEASE every interval. Before the tables go. */
void mn_mm_release(struct mm *mm);
/* Frees the mm's notifier state (after mn_mm_release, when the mm is freed). */
void mn_mm_free(struct mm *mm);
#else
/*
 * `make bench`'s baseline build (NOTIFIER=off, docs/benchmarks.md): for
 * the MMU layer the hooks are empty and its test switches below constant
 * false, so it compiles as if there were no notifier layer (notifier.c
 * still defines the hooks; nothing calls them). Subscriptions can be made
 * but hear nothing: run no test on this build.
 */
static inline int mn_invalidate_start(const struct mn_range *r)
{
	(void)r;
	return 0;
}
static inline void mn_invalidate_end(const struct mn_range *r)
{
	(void)r;
}
static inline void mn_invalidate_secondary_tlbs(struct mm *mm, virt_addr_t start, virt_addr_t end,
						bool freed_tables, bool full)
{
	(void)mm, (void)start, (void)end, (void)freed_tables, (void)full;
}
static inline void mn_mm_release(struct mm *mm)
{
	(void)mm;
}
static inline void mn_mm_free(struct mm *mm)
{
	(void)mm;
}
#endif
/* Reads mn.break= (boot, once). */
void mn_setup(void);

/* Counters for tests and benchmarks (cumulative). */
struct mn_stats {
	uint64_t starts, ends, secondary_calls, refusals, releases, readers_waited;
};
extern struct mn_stats mn_stats;

/*
 * Test-only switches (command line mn.break=<name>), each breaking one
 * rule so the test that guards it must fail (docs/notifier.md lists them).
 */
enum mn_break {
	MN_BREAK_NONE,
	MN_BREAK_SKIP_SECONDARY, /* the gather does not call invalidate_secondary_tlbs */
	MN_BREAK_SECONDARY_AFTER_FREE, /* ... calls it only after freeing the frames */
	MN_BREAK_IGNORE_EAGAIN, /* a refused non-blockable range goes ahead anyway */
	MN_BREAK_RELEASE_TWICE, /* unregister after teardown calls release again */
	MN_BREAK_NO_READER_WAIT, /* unregister returns without waiting for readers */
	MN_BREAK_NO_INTERVAL_SEQ, /* interval invalidations leave the sequence alone */
	MN_BREAK_NO_PROMOTION_SKIP, /* promotions notify as if they were downgrades */
	MN_BREAK_SOFT_DIRTY_KEEP_WRITE, /* clearing soft-dirty leaves pages writable */
};
extern enum mn_break mn_broken;
/* Is `rule` broken? The MMU layer asks this way (never in the baseline build). */
static inline bool mn_broken_is(enum mn_break rule)
{
#ifndef PAGODA_NO_NOTIFIER
	return mn_broken == rule;
#else
	(void)rule;
	return false;
#endif
}

#endif
