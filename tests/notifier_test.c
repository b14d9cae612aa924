// SPDX-License-Identifier: BSD-2-Clause
/*
 * notifier suite: the rules of kernel/mm/notifier.h, one case each, with
 * recording subscribers. Every case fails under the mn.break= switch that
 * removes its rule (docs/notifier.md has the table; CI runs each pair).
 */
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/notifier.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off) (arch_mm_layout.user_base + MiB(96) + (off))
#define MAX_EVENTS 16

/* A subscriber that writes down what it hears. */
struct recorder {
	struct mn_subscription sub;
	unsigned starts, ends, releases, secondary;
	unsigned after_release; /* callbacks that came after release: must stay 0 */
	bool released;
	bool refuse_nonblocking;
	uint64_t sleep_in_start_ns;
	uint32_t in_start; /* inside invalidate_range_start now */
	enum mn_event events[MAX_EVENTS];
	bool blockable[MAX_EVENTS];
	bool mapped_at_start[MAX_EVENTS], mapped_at_end[MAX_EVENTS];
	virt_addr_t probe; /* an address whose mapping the callbacks look at */
	/* invalidate_secondary_tlbs: was the probed frame still allocated? */
	phys_addr_t frame;
	unsigned secondary_after_free;
	virt_addr_t sec_start, sec_end;
};

static bool probe_mapped(struct recorder *r, struct mm *mm)
{
	struct pt_query_result q;
	return r->probe && pt_query(&mm->pt, r->probe, &q);
}

static int rec_start(struct mn_subscription *sub, const struct mn_range *range)
{
	struct recorder *r = (struct recorder *)sub;
	r->after_release += r->released;
	atomic_store_release(&r->in_start, 1);
	if (r->sleep_in_start_ns)
		thread_sleep_ns(r->sleep_in_start_ns);
	atomic_store_release(&r->in_start, 0);
	if (r->refuse_nonblocking && !mn_range_blockable(range))
		return -EAGAIN;
	if (r->starts < MAX_EVENTS) {
		r->events[r->starts] = range->event;
		r->blockable[r->starts] = mn_range_blockable(range);
		r->mapped_at_start[r->starts] = probe_mapped(r, range->mm);
	}
	r->starts++;
	return 0;
}

static void rec_end(struct mn_subscription *sub, const struct mn_range *range)
{
	struct recorder *r = (struct recorder *)sub;
	r->after_release += r->released;
	if (r->ends < MAX_EVENTS)
		r->mapped_at_end[r->ends] = probe_mapped(r, range->mm);
	r->ends++;
}

static void rec_secondary(struct mn_subscription *sub, struct mm *mm, virt_addr_t start,
			  virt_addr_t end, bool freed_tables, bool full)
{
	(void)mm, (void)freed_tables, (void)full;
	struct recorder *r = (struct recorder *)sub;
	r->after_release += r->released;
	r->secondary++;
	r->sec_start = start;
	r->sec_end = end;
	struct page *p = r->frame ? frame_to_page(r->frame) : NULL;
	if (p && p->refcount == 0) /* freed (merging may move PAGE_FREE to a buddy) */
		r->secondary_after_free++;
}

static void rec_release(struct mn_subscription *sub, struct mm *mm)
{
	(void)mm;
	struct recorder *r = (struct recorder *)sub;
	r->releases++;
	r->released = true;
}

static const struct mn_ops rec_ops = {
	.release = rec_release,
	.invalidate_range_start = rec_start,
	.invalidate_range_end = rec_end,
	.invalidate_secondary_tlbs = rec_secondary,
};

static void recorder_reset(struct recorder *r)
{
	memset(r, 0, sizeof(*r));
	r->sub.ops = &rec_ops;
}

static struct mm *mm_with_page(struct ktest *t, virt_addr_t va, uint64_t size)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	EXPECT_EQ(t, vm_map_anon(mm, va, size, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, vm_populate(mm, va, size), 0);
	return mm;
}

static uint32_t *user_word(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q) ? kva(q.pa) : NULL;
}

/* Each operation is announced with its event, around the change, once. */
static void events_bracket_every_change(struct ktest *t)
{
	static struct recorder r;
	recorder_reset(&r);
	struct mm *mm = mm_with_page(t, UVA(0), 4 * PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, mn_register(&r.sub, mm), 0);
	r.probe = UVA(0);

	EXPECT_EQ(t, vm_protect(mm, UVA(0), PAGE_SIZE, PT_READ), 0); /* downgrade */
	EXPECT_EQ(t, vm_protect(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0); /* promotion */
	EXPECT_EQ(t, vm_soft_dirty_clear(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_discard(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_populate(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);

	/* The promotion told nobody. */
	ASSERT_EQ(t, r.starts, 4u);
	EXPECT_EQ(t, r.ends, 4u);
	EXPECT_EQ(t, (unsigned)r.events[0], (unsigned)MN_EVENT_PROTECTION_VMA);
	EXPECT_EQ(t, (unsigned)r.events[1], (unsigned)MN_EVENT_SOFT_DIRTY);
	EXPECT_EQ(t, (unsigned)r.events[2], (unsigned)MN_EVENT_CLEAR);
	EXPECT_EQ(t, (unsigned)r.events[3], (unsigned)MN_EVENT_UNMAP);
	for (unsigned i = 0; i < 4; i++) {
		EXPECT_TRUE(t, r.blockable[i]);
		EXPECT_TRUE(t, r.mapped_at_start[i]); /* start comes before the change */
	}
	EXPECT_FALSE(t, r.mapped_at_end[2]); /* end comes after it (discard) */
	EXPECT_FALSE(t, r.mapped_at_end[3]); /* ...and unmap */
	mm_destroy(mm);
	EXPECT_EQ(t, r.releases, 1u);
	EXPECT_EQ(t, r.after_release, 0u);
	mn_unregister(&r.sub); /* after teardown: no second release */
	EXPECT_EQ(t, r.releases, 1u);
}

/*
 * A subscriber that may not block refuses: the caller backs off with
 * nothing changed, and only those that had accepted hear the end.
 */
static void eagain_backs_off_with_nothing_changed(struct ktest *t)
{
	static struct recorder accept, refuse;
	recorder_reset(&accept);
	recorder_reset(&refuse);
	refuse.refuse_nonblocking = true;
	struct mm *mm = mm_with_page(t, UVA(0), PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	uint32_t *word = user_word(mm, UVA(0));
	ASSERT_TRUE(t, word != NULL);
	*word = 0x5EED;
	/* Registered second, `accept` is called first. */
	ASSERT_EQ(t, mn_register(&refuse.sub, mm), 0);
	ASSERT_EQ(t, mn_register(&accept.sub, mm), 0);

	EXPECT_EQ(t, vm_discard_nowait(mm, UVA(0), PAGE_SIZE), -EAGAIN);
	EXPECT_TRUE(t, user_word(mm, UVA(0)) == word);
	EXPECT_EQ(t, *word, 0x5EEDu);
	EXPECT_EQ(t, accept.starts, 1u);
	EXPECT_EQ(t, accept.ends, 1u);
	EXPECT_FALSE(t, accept.blockable[0]);
	EXPECT_EQ(t, refuse.starts, 0u);
	EXPECT_EQ(t, refuse.ends, 0u);

	/* Blockable, the same change goes through and everyone hears both ends. */
	EXPECT_EQ(t, vm_discard(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_TRUE(t, user_word(mm, UVA(0)) == NULL);
	EXPECT_EQ(t, refuse.starts, 1u);
	EXPECT_EQ(t, refuse.ends, 1u);
	EXPECT_TRUE(t, refuse.blockable[0]);
	mn_unregister(&accept.sub);
	mn_unregister(&refuse.sub);
	EXPECT_EQ(t, accept.releases + refuse.releases, 2u);
	mm_destroy(mm);
	EXPECT_EQ(t, accept.releases + refuse.releases, 2u);
}

/* Secondary TLBs are told once per flush, before the frames are freed. */
static void secondary_tlbs_told_before_free(struct ktest *t)
{
	static struct recorder r;
	recorder_reset(&r);
	struct mm *mm = mm_with_page(t, UVA(0), 16 * PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&mm->pt, UVA(5 * PAGE_SIZE), &q));
	r.frame = q.pa;
	ASSERT_EQ(t, mn_register(&r.sub, mm), 0);
	uint64_t calls = mn_stats.secondary_calls;
	EXPECT_EQ(t, vm_unmap(mm, UVA(0), 16 * PAGE_SIZE), 0);
	EXPECT_EQ(t, r.secondary, 1u); /* once for 16 pages; not again at range end */
	EXPECT_EQ(t, mn_stats.secondary_calls - calls, 1u);
	EXPECT_EQ(t, r.secondary_after_free, 0u);
	EXPECT_LE(t, r.sec_start, UVA(0));
	EXPECT_GE(t, r.sec_end, UVA(16 * PAGE_SIZE));
	EXPECT_EQ(t, frame_to_page(r.frame)->refcount, 0u); /* and freed after */
	/* Nothing mapped, nothing flushed: nobody is told. */
	EXPECT_EQ(t, vm_map_anon(mm, UVA(0), PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, r.secondary, 1u);
	mn_unregister(&r.sub);
	mm_destroy(mm);
}

static void release_once_either_order(struct ktest *t)
{
	static struct recorder a, b;
	recorder_reset(&a);
	recorder_reset(&b);
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, mn_register(&a.sub, mm), 0);
	ASSERT_EQ(t, mn_register(&b.sub, mm), 0);
	mn_unregister(&a.sub); /* removed first: released here */
	EXPECT_EQ(t, a.releases, 1u);
	EXPECT_EQ(t, b.releases, 0u);
	mm_destroy(mm); /* b released by the teardown, a not again */
	EXPECT_EQ(t, a.releases, 1u);
	EXPECT_EQ(t, b.releases, 1u);
	mn_unregister(&b.sub); /* ...and not again by its removal */
	EXPECT_EQ(t, b.releases, 1u);
	EXPECT_EQ(t, a.after_release + b.after_release, 0u);
}

struct unmapper {
	struct mm *mm;
	virt_addr_t va;
	int err;
};

static void unmap_thread(void *arg)
{
	struct unmapper *u = arg;
	u->err = vm_unmap(u->mm, u->va, PAGE_SIZE);
}

static unsigned other_cpu(void)
{
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) if (c != arch_cpu_id()) return c;
	return arch_cpu_id();
}

/*
 * Unregister while a callback of the subscription runs on another
 * thread: it returns only after the callback is over, and release runs
 * after it, never alongside. Registering meanwhile does not wait.
 */
static void unregister_waits_for_running_callback(struct ktest *t)
{
	static struct recorder r, late;
	recorder_reset(&r);
	recorder_reset(&late);
	r.sleep_in_start_ns = 30000000;
	struct mm *mm = mm_with_page(t, UVA(0), PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, mn_register(&r.sub, mm), 0);
	static struct unmapper u;
	u = (struct unmapper){mm, UVA(0), -1};
	struct thread *th = thread_create("unmapper", other_cpu(), unmap_thread, &u);
	ASSERT_TRUE(t, th != NULL);
	while (!atomic_load_acquire(&r.in_start))
		thread_sleep_ns(100000);
	/* Readers never block writers: this returns while the callback sleeps. */
	ASSERT_EQ(t, mn_register(&late.sub, mm), 0);
	EXPECT_EQ(t, atomic_load_acquire(&r.in_start), 1u);
	mn_unregister(&r.sub);
	EXPECT_EQ(t, atomic_load_acquire(&r.in_start), 0u); /* waited for it */
	EXPECT_EQ(t, r.releases, 1u);
	thread_join(th);
	EXPECT_EQ(t, u.err, 0);
	EXPECT_EQ(t, r.after_release, 0u);
	mn_unregister(&late.sub);
	mm_destroy(mm);
}

/* mn_get/mn_put: one subscription per (mm, ops), freed with the last put. */
static unsigned get_allocs, get_frees;
static struct recorder get_rec;
static struct mn_subscription *get_alloc(struct mm *mm)
{
	(void)mm;
	get_allocs++;
	memset(&get_rec, 0, sizeof(get_rec));
	return &get_rec.sub;
}
static void get_free(struct mn_subscription *sub)
{
	(void)sub;
	get_frees++;
}
static const struct mn_ops get_ops = {
	.release = rec_release,
	.invalidate_range_start = rec_start,
	.invalidate_range_end = rec_end,
	.alloc = get_alloc,
	.free = get_free,
};

static void get_put_share_one_subscription(struct ktest *t)
{
	get_allocs = get_frees = 0;
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	struct mn_subscription *a = mn_get(&get_ops, mm), *b = mn_get(&get_ops, mm);
	ASSERT_TRUE(t, a != NULL);
	EXPECT_TRUE(t, a == b);
	EXPECT_EQ(t, get_allocs, 1u);
	mn_put(b);
	EXPECT_EQ(t, get_frees, 0u);
	EXPECT_EQ(t, get_rec.releases, 0u);
	mn_put(a);
	EXPECT_EQ(t, get_frees, 1u);
	EXPECT_EQ(t, get_rec.releases, 1u);
	/* A new get after the last put makes a new one. */
	a = mn_get(&get_ops, mm);
	EXPECT_EQ(t, get_allocs, 2u);
	mm_destroy(mm);
	EXPECT_EQ(t, get_rec.releases, 1u);
	mn_put(a);
	EXPECT_EQ(t, get_frees, 2u);
	EXPECT_EQ(t, get_rec.releases, 1u);
}

/* An interval subscriber with its own lock, as a driver would have. */
struct mirror {
	struct mn_interval iv;
	spinlock_t lock;
	unsigned invalidations;
	enum mn_event last_event;
	uint32_t seen; /* set once the invalidate callback ran */
};

static bool mirror_invalidate(struct mn_interval *iv, const struct mn_range *r, uint64_t seq)
{
	struct mirror *m = (struct mirror *)iv;
	irqflags_t flags = spin_lock_irqsave(&m->lock);
	mn_interval_set_seq(iv, seq);
	m->invalidations++;
	m->last_event = r->event;
	spin_unlock_irqrestore(&m->lock, flags);
	atomic_store_release(&m->seen, 1);
	return true;
}

static const struct mn_interval_ops mirror_ops = {.invalidate = mirror_invalidate};

/*
 * The sequence protocol: a build that an invalidation overlapped must be
 * retried; one that none did need not; read_begin waits out a running
 * invalidation.
 */
static void interval_sequence_forces_retry(struct ktest *t)
{
	static struct mirror m, far;
	memset(&m, 0, sizeof(m));
	memset(&far, 0, sizeof(far));
	m.lock = far.lock = (spinlock_t)SPINLOCK_INIT;
	struct mm *mm = mm_with_page(t, UVA(0), 4 * PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, mn_interval_insert(&m.iv, mm, UVA(0), 2 * PAGE_SIZE, &mirror_ops), 0);
	ASSERT_EQ(t, mn_interval_insert(&far.iv, mm, UVA(3 * PAGE_SIZE), PAGE_SIZE, &mirror_ops), 0);

	uint64_t seq = mn_interval_read_begin(&m.iv);
	EXPECT_FALSE(t, mn_interval_read_retry(&m.iv, seq));
	EXPECT_EQ(t, vm_unmap(mm, UVA(3 * PAGE_SIZE), PAGE_SIZE), 0); /* only `far` */
	EXPECT_FALSE(t, mn_interval_read_retry(&m.iv, seq));
	EXPECT_EQ(t, m.invalidations, 0u);
	EXPECT_EQ(t, far.invalidations, 1u);
	EXPECT_EQ(t, vm_unmap(mm, UVA(PAGE_SIZE), PAGE_SIZE), 0);
	EXPECT_EQ(t, m.invalidations, 1u);
	EXPECT_EQ(t, (unsigned)m.last_event, (unsigned)MN_EVENT_UNMAP);
	EXPECT_TRUE(t, mn_interval_read_retry(&m.iv, seq));

	/* A read_begin during an invalidation returns after its end: the change is done. */
	static struct recorder slow;
	recorder_reset(&slow);
	slow.sleep_in_start_ns = 30000000;
	ASSERT_EQ(t, mn_register(&slow.sub, mm), 0);
	atomic_store_release(&m.seen, 0);
	static struct unmapper u;
	u = (struct unmapper){mm, UVA(0), -1};
	struct thread *th = thread_create("unmapper", other_cpu(), unmap_thread, &u);
	ASSERT_TRUE(t, th != NULL);
	while (!atomic_load_acquire(&m.seen))
		thread_sleep_ns(100000);
	seq = mn_interval_read_begin(&m.iv);
	EXPECT_TRUE(t, user_word(mm, UVA(0)) == NULL);
	EXPECT_FALSE(t, mn_interval_read_retry(&m.iv, seq));
	thread_join(th);
	EXPECT_EQ(t, u.err, 0);
	mn_unregister(&slow.sub);

	/* Teardown reaches intervals as a RELEASE invalidation. */
	mm_destroy(mm);
	EXPECT_EQ(t, (unsigned)m.last_event, (unsigned)MN_EVENT_RELEASE);
	mn_interval_remove(&m.iv);
	mn_interval_remove(&far.iv);
}

struct writer {
	virt_addr_t va;
	uint32_t value;
};

static void write_word(void *arg)
{
	struct writer *w = arg;
	*(volatile uint32_t *)w->va = w->value;
}

static void write_from(struct ktest *t, struct mm *mm, unsigned cpu, virt_addr_t va, uint32_t v)
{
	static struct writer w;
	w = (struct writer){va, v};
	struct thread *th = thread_create_mm("writer", cpu, mm, write_word, &w);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
}

/*
 * Soft-dirty: clearing write-protects (with a flush and a SOFT_DIRTY
 * notification); the next write faults and marks the page again, on a
 * CPU whose TLB held the page writable before the clear.
 */
static void soft_dirty_tracks_the_next_write(struct ktest *t)
{
	static struct recorder r;
	recorder_reset(&r);
	struct mm *mm = mm_with_page(t, UVA(0), 2 * PAGE_SIZE);
	ASSERT_TRUE(t, mm != NULL);
	unsigned cpu = other_cpu();
	write_from(t, mm, cpu, UVA(0), 1); /* caches a writable translation there */
	EXPECT_TRUE(t, vm_soft_dirty(mm, UVA(0)));
	ASSERT_EQ(t, mn_register(&r.sub, mm), 0);
	EXPECT_EQ(t, vm_soft_dirty_clear(mm, UVA(0), 2 * PAGE_SIZE), 0);
	EXPECT_EQ(t, r.starts, 1u);
	EXPECT_EQ(t, (unsigned)r.events[0], (unsigned)MN_EVENT_SOFT_DIRTY);
	EXPECT_FALSE(t, vm_soft_dirty(mm, UVA(0)));
	EXPECT_FALSE(t, vm_soft_dirty(mm, UVA(PAGE_SIZE)));
	uint64_t tracked = mm->stats.faults_soft_dirty;
	write_from(t, mm, cpu, UVA(0), 2);
	EXPECT_TRUE(t, vm_soft_dirty(mm, UVA(0)));
	EXPECT_FALSE(t, vm_soft_dirty(mm, UVA(PAGE_SIZE)));
	EXPECT_EQ(t, mm->stats.faults_soft_dirty - tracked, 1u);
	uint32_t *word = user_word(mm, UVA(0));
	ASSERT_TRUE(t, word != NULL);
	EXPECT_EQ(t, *word, 2u);
	mn_unregister(&r.sub);
	mm_destroy(mm);
}

static const struct ktest_case notifier_cases[] = {
	KTEST_CASE(events_bracket_every_change),
	KTEST_CASE(eagain_backs_off_with_nothing_changed),
	KTEST_CASE(secondary_tlbs_told_before_free),
	KTEST_CASE(release_once_either_order),
	KTEST_CASE(unregister_waits_for_running_callback),
	KTEST_CASE(get_put_share_one_subscription),
	KTEST_CASE(interval_sequence_forces_retry),
	KTEST_CASE(soft_dirty_tracks_the_next_write),
	KTEST_END,
};
KTEST_SUITE(notifier_suite, "notifier", notifier_cases);
