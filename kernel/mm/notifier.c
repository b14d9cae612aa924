// SPDX-License-Identifier: BSD-2-Clause
/*
 * Notifiers (notifier.h): subscription lists per address space, the epoch
 * that lets callbacks sleep while lists change, and interval sequences.
 *
 * The epoch is a small SRCU. A reader adds one to its CPU's `locks[i]`,
 * where i is the low bit of the global epoch, and, when done, one to
 * `unlocks[i]` of whatever CPU it then runs on. A writer unlinks first,
 * then waits for every reader that may still hold the old list: it flips
 * the epoch so that new readers count on the other side, and waits until
 * the old side's unlocks, summed over the CPUs, equal its locks (unlocks
 * summed first, so a reader that comes and goes during the sum is never
 * counted as gone before it came). Before the flip it also waits for the
 * other side to drain, so a reader that read the epoch long ago and is
 * only now counting cannot be missed. Both sides use sequentially
 * consistent read-modify-writes: a reader that the writer does not see
 * counted entered after the unlink and cannot find the unlinked entry.
 * Readers never wait for writers.
 *
 * Subscription state changes (linking, unlinking, claiming the release)
 * take one global spinlock, never the mm: an mm's teardown and a driver's
 * unregister may race, and after teardown the mm is gone while the
 * driver's subscription still points at it.
 */
/* The real hooks, even in the baseline build (notifier.h), where nothing calls them. */
#define PAGODA_NOTIFIER_IMPL
#include "kernel/mm/notifier.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "lib/string.h"

const char *const mn_event_names[MN_EVENT_COUNT] = {
	"unmap", "clear", "protection_vma", "protection_page", "soft_dirty", "release",
};

struct mn_stats mn_stats;
enum mn_break mn_broken;

enum { SUB_NEW, SUB_LINKED, SUB_UNLINKED, SUB_RELEASING, SUB_RELEASED };

/* An address space's notifier state, allocated on its first subscription. */
struct mn_mm {
	struct mn_subscription *subs; /* read under the epoch, changed under mn_lock */
	struct mn_interval *intervals; /* likewise */
	spinlock_t seq_lock; /* invalidate_seq and active */
	uint64_t invalidate_seq; /* odd while `active` > 0 */
	uint32_t active; /* invalidations covering intervals now running */
	struct wait_queue seq_wait; /* read_begin waiting for an even sequence */
	bool dead; /* torn down: no new subscription (under mn_lock) */
};

static spinlock_t mn_lock = SPINLOCK_INIT;
static struct mutex mn_get_lock = MUTEX_INIT;

/* ---- The epoch ---- */

struct epoch_cpu {
	uint64_t locks[2], unlocks[2];
} __attribute__((aligned(64)));

static struct epoch_cpu epoch_cpu[CPU_MAX];
static uint64_t epoch;
static struct mutex epoch_sync_lock = MUTEX_INIT;

static unsigned epoch_enter(void)
{
	unsigned side = atomic_load_relaxed(&epoch) & 1;
	atomic_fetch_add(&epoch_cpu[arch_cpu_id()].locks[side], 1);
	/* Our count before our reads of the lists: a store->load order, which needs a fence. */
	smp_mb();
	return side;
}

/* A writer waiting for readers sleeps here; the last reader out wakes it. */
static struct wait_queue epoch_wq = WAIT_QUEUE_INIT;
static uint32_t epoch_waiting;

static void epoch_exit(unsigned side)
{
	atomic_fetch_add(&epoch_cpu[arch_cpu_id()].unlocks[side], 1);
	/* Our count before their check, or their flag before our read: store->load needs a fence. */
	smp_mb();
	if (atomic_load_relaxed(&epoch_waiting))
		wait_queue_wake_all(&epoch_wq);
}

static bool epoch_side_idle(unsigned side)
{
	uint64_t unlocks = 0, locks = 0;
	for (unsigned c = 0; c < CPU_MAX; c++)
		unlocks += atomic_load_acquire(&epoch_cpu[c].unlocks[side]);
	smp_mb();
	for (unsigned c = 0; c < CPU_MAX; c++)
		locks += atomic_load_acquire(&epoch_cpu[c].locks[side]);
	return locks == unlocks;
}

static bool side_idle(void *arg)
{
	return epoch_side_idle((unsigned)(uintptr_t)arg);
}

static void epoch_wait_side(unsigned side)
{
	if (epoch_side_idle(side))
		return;
	atomic_fetch_add(&mn_stats.readers_waited, 1);
	/* Announced before the condition is checked again under the queue's lock: no lost wake-up. */
	atomic_fetch_add(&epoch_waiting, 1);
	smp_mb();
	wait_queue_wait(&epoch_wq, side_idle, (void *)(uintptr_t)side);
	atomic_fetch_sub(&epoch_waiting, 1);
}

/* Returns once every reader that entered before the call has left. Sleeps. */
static void epoch_synchronize(void)
{
	if (mn_broken == MN_BREAK_NO_READER_WAIT)
		return;
	mutex_lock(&epoch_sync_lock);
	smp_mb();
	unsigned side = atomic_load_relaxed(&epoch) & 1;
	epoch_wait_side(side ^ 1);
	atomic_fetch_add(&epoch, 1);
	epoch_wait_side(side);
	mutex_unlock(&epoch_sync_lock);
}

/* ---- Subscriptions ---- */

/*
 * The mm's notifier state, created on first use under mm->lock held for
 * write: every change holds that lock for read from its
 * mn_invalidate_start to its end, so the state never appears in the
 * middle of one (an interval inserted then would miss it).
 */
static struct mn_mm *mn_mm_get(struct mm *mm)
{
	struct mn_mm *m = atomic_load_acquire(&mm->mn);
	if (m)
		return m;
	phys_addr_t pa;
	if (mm_alloc_fails(MM_ALLOC_MN_MM) || frame_alloc_zeroed(&pa))
		return NULL;
	struct mn_mm *fresh = kva(pa);
	fresh->seq_lock = (spinlock_t)SPINLOCK_INIT;
	fresh->seq_wait = (struct wait_queue)WAIT_QUEUE_INIT;
	fresh->invalidate_seq = 2; /* even: idle; intervals start at seq - 1 */
	down_write(&mm->lock);
	struct mn_mm *expected = NULL;
	bool won = atomic_cmpxchg(&mm->mn, &expected, fresh);
	up_write(&mm->lock);
	if (!won) {
		frame_free(pa, 0);
		return expected;
	}
	return fresh;
}

int mn_register(struct mn_subscription *sub, struct mm *mm)
{
	struct mn_mm *m = mn_mm_get(mm);
	if (!m)
		return -ENOMEM;
	sub->mm = mm;
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	if (m->dead) {
		spin_unlock_irqrestore(&mn_lock, flags);
		return -EINVAL;
	}
	sub->next = m->subs;
	atomic_store_release(&sub->state, SUB_LINKED);
	atomic_store_release(&m->subs, sub);
	spin_unlock_irqrestore(&mn_lock, flags);
	return 0;
}

/* mn_lock held: takes `sub` off its mm's list if it is still on it. */
static void unlink_sub(struct mn_subscription *sub)
{
	if (sub->state != SUB_LINKED)
		return;
	struct mn_subscription **link = &sub->mm->mn->subs;
	while (*link != sub)
		link = &(*link)->next;
	atomic_store_release(link, sub->next);
	atomic_store_release(&sub->state, SUB_UNLINKED);
}

bool mn_linked(const struct mn_subscription *sub)
{
	return atomic_load_acquire(&sub->state) == SUB_LINKED;
}

/* Teardown's releases end here; an unregister that found one claimed waits for it. */
static struct wait_queue release_wq = WAIT_QUEUE_INIT;

static bool is_released(void *arg)
{
	struct mn_subscription *sub = arg;
	return atomic_load_acquire(&sub->state) == SUB_RELEASED;
}

/* Runs `release` unless someone else has claimed it; returns once it has run. */
static void release_once(struct mn_subscription *sub, struct mm *mm)
{
	uint32_t expected = SUB_UNLINKED;
	if (atomic_cmpxchg(&sub->state, &expected, (uint32_t)SUB_RELEASING)) {
		if (sub->ops->release)
			sub->ops->release(sub, mm);
		atomic_fetch_add(&mn_stats.releases, 1);
		atomic_store_release(&sub->state, SUB_RELEASED);
		return;
	}
	if (mn_broken == MN_BREAK_RELEASE_TWICE && sub->ops->release) {
		sub->ops->release(sub, mm);
		atomic_fetch_add(&mn_stats.releases, 1);
	}
	/* Teardown claimed it: its release must be over before we say "removed". */
	wait_queue_wait(&release_wq, is_released, sub);
}

void mn_unregister(struct mn_subscription *sub)
{
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	unlink_sub(sub);
	spin_unlock_irqrestore(&mn_lock, flags);
	/* No reader may still be inside one of sub's callbacks... */
	epoch_synchronize();
	/* ...before release runs: nothing of sub runs with it or after it. */
	release_once(sub, sub->mm);
}

struct mn_subscription *mn_get(const struct mn_ops *ops, struct mm *mm)
{
	mutex_lock(&mn_get_lock);
	struct mn_mm *m = atomic_load_acquire(&mm->mn);
	struct mn_subscription *found = NULL;
	/* Under mn_lock: a plain subscription on the list may be unregistered and freed meanwhile. */
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	for (struct mn_subscription *s = m ? m->subs : NULL; s && !found; s = s->next)
		if (s->ops == ops && s->state == SUB_LINKED)
			found = s;
	if (found)
		found->refs++;
	spin_unlock_irqrestore(&mn_lock, flags);
	if (found) {
		mutex_unlock(&mn_get_lock);
		return found;
	}
	struct mn_subscription *sub = ops->alloc(mm);
	if (sub) {
		sub->ops = ops;
		sub->refs = 1;
		if (mn_register(sub, mm)) {
			ops->free(sub);
			sub = NULL;
		}
	}
	mutex_unlock(&mn_get_lock);
	return sub;
}

void mn_put(struct mn_subscription *sub)
{
	mutex_lock(&mn_get_lock);
	bool last = --sub->refs == 0;
	if (last) {
		/* Off the list before the lock drops, so no mn_get can find it again. */
		irqflags_t flags = spin_lock_irqsave(&mn_lock);
		unlink_sub(sub);
		spin_unlock_irqrestore(&mn_lock, flags);
	}
	mutex_unlock(&mn_get_lock);
	if (last) {
		mn_unregister(sub);
		sub->ops->free(sub);
	}
}

/* ---- Intervals ---- */

int mn_interval_insert(struct mn_interval *iv, struct mm *mm, virt_addr_t start, uint64_t len,
		       const struct mn_interval_ops *ops)
{
	if (!len || start + len < start)
		return -EINVAL;
	struct mn_mm *m = mn_mm_get(mm);
	if (!m)
		return -ENOMEM;
	iv->ops = ops;
	iv->mm = mm;
	iv->start = start;
	iv->end = start + len;
	iv->released = false;
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	if (m->dead) {
		spin_unlock_irqrestore(&mn_lock, flags);
		return -EINVAL;
	}
	spin_lock(&m->seq_lock);
	/*
	 * Inserted while an invalidation runs: it may have missed us, so make
	 * read_begin wait for its end. Otherwise any odd value before the
	 * current one: nothing to wait for, and the next invalidation changes
	 * it. Linked before seq_lock drops, so an invalidation that begins
	 * after this point finds it on the list.
	 */
	iv->seq = m->active ? m->invalidate_seq : m->invalidate_seq - 1;
	iv->next = m->intervals;
	iv->linked = true;
	atomic_store_release(&m->intervals, iv);
	spin_unlock(&m->seq_lock);
	spin_unlock_irqrestore(&mn_lock, flags);
	return 0;
}

/* mn_lock held. */
static void unlink_interval(struct mn_interval *iv)
{
	if (!iv->linked)
		return;
	struct mn_interval **link = &iv->mm->mn->intervals;
	while (*link != iv)
		link = &(*link)->next;
	atomic_store_release(link, iv->next);
	iv->linked = false;
}

void mn_interval_remove(struct mn_interval *iv)
{
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	unlink_interval(iv);
	spin_unlock_irqrestore(&mn_lock, flags);
	epoch_synchronize();
}

struct seq_wait_arg {
	struct mn_mm *m;
	uint64_t seq;
};

static bool seq_moved_on(void *arg)
{
	struct seq_wait_arg *a = arg;
	return atomic_load_acquire(&a->m->invalidate_seq) != a->seq;
}

uint64_t mn_interval_read_begin(struct mn_interval *iv)
{
	struct mn_mm *m = iv->mm->mn;
	uint64_t seq = atomic_load_acquire(&iv->seq);
	irqflags_t flags = spin_lock_irqsave(&m->seq_lock);
	bool colliding = seq == m->invalidate_seq;
	spin_unlock_irqrestore(&m->seq_lock, flags);
	if (colliding) {
		struct seq_wait_arg a = {m, seq};
		wait_queue_wait(&m->seq_wait, seq_moved_on, &a);
	}
	/* The driver's reads of the CPU tables come after this point. */
	smp_mb();
	return seq;
}

bool mn_interval_read_retry(struct mn_interval *iv, uint64_t seq)
{
	return atomic_load_acquire(&iv->released) || atomic_load_acquire(&iv->seq) != seq;
}

void mn_interval_set_seq(struct mn_interval *iv, uint64_t seq)
{
	atomic_store_release(&iv->seq, seq);
}

/* Opens an invalidation window over the intervals; returns the (odd) sequence. */
static uint64_t intervals_begin(struct mn_mm *m)
{
	irqflags_t flags = spin_lock_irqsave(&m->seq_lock);
	if (m->active++ == 0 && mn_broken != MN_BREAK_NO_INTERVAL_SEQ)
		atomic_store_release(&m->invalidate_seq, m->invalidate_seq + 1);
	uint64_t seq = m->invalidate_seq;
	spin_unlock_irqrestore(&m->seq_lock, flags);
	return seq;
}

static void intervals_end(struct mn_mm *m)
{
	irqflags_t flags = spin_lock_irqsave(&m->seq_lock);
	if (m->active == 0) {
		/* Only mn.break=ignore_eagain gets here: an end whose start backed off. */
		spin_unlock_irqrestore(&m->seq_lock, flags);
		return;
	}
	bool wake = --m->active == 0 && (m->invalidate_seq & 1);
	if (wake)
		atomic_store_release(&m->invalidate_seq, m->invalidate_seq + 1);
	spin_unlock_irqrestore(&m->seq_lock, flags);
	if (wake)
		wait_queue_wake_all(&m->seq_wait);
}

/* ---- The MMU layer's hooks ---- */

static bool overlaps(const struct mn_interval *iv, const struct mn_range *r)
{
	return iv->start < r->end && r->start < iv->end;
}

int mn_invalidate_start(const struct mn_range *r)
{
	struct mn_mm *m = atomic_load_acquire(&r->mm->mn);
	if (!m)
		return 0;
	atomic_fetch_add(&mn_stats.starts, 1);
	int err = 0;
	unsigned side = epoch_enter();
	uint64_t seq = intervals_begin(m);
	for (struct mn_interval *iv = atomic_load_acquire(&m->intervals); iv && !err;
	     iv = atomic_load_acquire(&iv->next)) {
		if (!overlaps(iv, r))
			continue;
		/* The broken switch hands out the sequence the driver already has. */
		uint64_t give = mn_broken == MN_BREAK_NO_INTERVAL_SEQ ? iv->seq : seq;
		if (!iv->ops->invalidate(iv, r, give))
			err = -EAGAIN;
	}
	bool intervals_refused = err != 0;
	struct mn_subscription *refuser = NULL, *first = atomic_load_acquire(&m->subs);
	for (struct mn_subscription *s = first; s && !err;
	     s = atomic_load_acquire(&s->next)) {
		if (s->ops->invalidate_range_start && (err = s->ops->invalidate_range_start(s, r)))
			refuser = s;
	}
	if (err) {
		if (mn_range_blockable(r))
			panic("mn_invalidate_start: a subscriber refused a blockable range (%d)", err);
		/* Those that accepted before the refusal see their end; the refuser does not. */
		for (struct mn_subscription *t = first; !intervals_refused && t != refuser;
		     t = atomic_load_acquire(&t->next))
			if (t->ops->invalidate_range_end)
				t->ops->invalidate_range_end(t, r);
		intervals_end(m);
		atomic_fetch_add(&mn_stats.refusals, 1);
	}
	epoch_exit(side);
	if (err && mn_broken == MN_BREAK_IGNORE_EAGAIN)
		return 0; /* broken on purpose: the caller goes ahead; end is unbalanced */
	return err;
}

void mn_invalidate_end(const struct mn_range *r)
{
	struct mn_mm *m = atomic_load_acquire(&r->mm->mn);
	if (!m)
		return;
	atomic_fetch_add(&mn_stats.ends, 1);
	unsigned side = epoch_enter();
	intervals_end(m);
	for (struct mn_subscription *s = atomic_load_acquire(&m->subs); s;
	     s = atomic_load_acquire(&s->next))
		if (s->ops->invalidate_range_end)
			s->ops->invalidate_range_end(s, r);
	epoch_exit(side);
}

void mn_invalidate_secondary_tlbs(struct mm *mm, virt_addr_t start, virt_addr_t end,
				  bool freed_tables, bool full)
{
	struct mn_mm *m = atomic_load_acquire(&mm->mn);
	if (!m)
		return;
	unsigned side = epoch_enter();
	for (struct mn_subscription *s = atomic_load_acquire(&m->subs); s;
	     s = atomic_load_acquire(&s->next)) {
		if (!s->ops->invalidate_secondary_tlbs)
			continue;
		atomic_fetch_add(&mn_stats.secondary_calls, 1);
		s->ops->invalidate_secondary_tlbs(s, mm, start, end, freed_tables, full);
	}
	epoch_exit(side);
}

void mn_mm_release(struct mm *mm)
{
	struct mn_mm *m = atomic_load_acquire(&mm->mn);
	if (!m)
		return;
	/* Intervals first: they hear the teardown as a RELEASE invalidation of everything. */
	struct mn_range all = {.mm = mm, .start = 0, .end = UINT64_MAX,
			       .event = MN_EVENT_RELEASE, .flags = MN_RANGE_BLOCKABLE};
	unsigned side = epoch_enter();
	uint64_t seq = intervals_begin(m);
	for (struct mn_interval *iv = atomic_load_acquire(&m->intervals); iv;
	     iv = atomic_load_acquire(&iv->next))
		iv->ops->invalidate(iv, &all, seq);
	epoch_exit(side);
	/*
	 * Then everything comes off the lists, each release claimed here, so
	 * that a racing mn_unregister waits for it instead of running its own
	 * (and cannot free a subscription this loop still has to visit).
	 */
	irqflags_t flags = spin_lock_irqsave(&mn_lock);
	m->dead = true;
	struct mn_subscription *subs = m->subs;
	for (struct mn_subscription *s = subs; s; s = s->next)
		atomic_store_release(&s->state, SUB_RELEASING);
	atomic_store_release(&m->subs, NULL);
	for (struct mn_interval *iv = m->intervals; iv; iv = iv->next) {
		iv->linked = false;
		atomic_store_release(&iv->released, true); /* every later read_retry says retry */
	}
	atomic_store_release(&m->intervals, NULL);
	spin_unlock_irqrestore(&mn_lock, flags);
	epoch_synchronize();
	intervals_end(m);
	/* Once a subscription reads RELEASED its owner may free it: read `next` first. */
	for (struct mn_subscription *s = subs, *next; s; s = next) {
		next = s->next;
		if (s->ops->release)
			s->ops->release(s, mm);
		atomic_fetch_add(&mn_stats.releases, 1);
		atomic_store_release(&s->state, SUB_RELEASED);
	}
	wait_queue_wake_all(&release_wq);
}

void mn_mm_free(struct mm *mm)
{
	struct mn_mm *m = mm->mn;
	if (!m)
		return;
	if (m->subs || m->intervals)
		panic("mn_mm_free: subscriptions left on an mm being freed (no mn_mm_release?)");
	mm->mn = NULL;
	frame_free(kva_to_pa(m), 0);
}

/* ---- Command line ---- */

/* The words of `mn.break=`, in enum mn_break order (notifier.h). */
CMDLINE_PARAM(mn_break_param, .key = "mn.break", .kind = CMDLINE_ENUM,
	      .values = "none|skip_secondary|secondary_after_free|ignore_eagain|release_twice|"
			"no_reader_wait|no_interval_seq|no_promotion_skip|soft_dirty_keep_write",
	      .def = "none",
	      .help = "test-only: break one rule of the notifier layer (tests must then fail)");

void mn_setup(void)
{
	unsigned broken = cmdline_enum("mn.break");
	if (broken == MN_BREAK_NONE)
		return;
	mn_broken = (enum mn_break)broken;
	char name[32];
	cmdline_get("mn.break", name, sizeof(name));
	printk("mn: WARNING: rule '%s' broken on purpose: tests must fail", name);
}
