// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sleeping reader-writer lock (see rwsem.h).
 *
 * Every acquisition but a reader's fast one (below) is a condition checked
 * under the wait queue's lock (wait_queue_wait): the condition itself
 * takes the lock when it can, so "can I have it" and "it is mine" are one
 * step and no wake-up is lost. A release that may have to wake someone
 * changes the state and wakes every waiter in one section under that lock,
 * so the unlock is that release's last touch of the rwsem: a thread that
 * takes it next may free it at once, as with mutex_unlock.
 * Each waiter re-checks its condition. Waking all is O(waiters) per
 * release, but the waiters of one address space are at most one per CPU,
 * and it keeps the hand-over rules in one place (the conditions below)
 * instead of a queue discipline that must know readers from writers.
 *
 * A writer announces itself (writers_waiting) in its first check, inside
 * the wait's interrupts-off section: from the announcement to the take it
 * is never interrupted except asleep on the queue, so nothing that leaves
 * by longjmp from the tick (a ktest timeout) can leak the announcement.
 * Readers that are not inside yet defer to any announced writer: that is
 * the writer preference. Readers already inside are never asked to leave.
 *
 * The fast paths: a reader takes a read hold by one compare-and-swap on
 * `state` when no writer holds or waits (the writer's bits are set under
 * the queue lock, so a reader that lost the race to them finds them and
 * goes the slow way), and a reader leaves by one when it is not the last
 * one out with a writer waiting. That one leaves under the queue lock and
 * wakes the writers there, as every release did before: its unlock is its
 * last touch, so a writer that comes in may free the rwsem at once. A fast
 * leave's last touch is its compare-and-swap: a writer announced after the
 * reader looked changes `state`, the swap fails, and the reader looks again.
 */
#include "kernel/sync/rwsem.h"
#include "kernel/cmdline.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"

/* The words of `sync.break=`, in this order. */
enum rwsem_break { RWSEM_BREAK_NONE, RWSEM_BREAK_READERS_BARGE, RWSEM_BREAK_LAST_READER_FAST };
CMDLINE_PARAM(sync_break_param, .key = "sync.break", .kind = CMDLINE_ENUM,
	      .values = "none|readers_barge|last_reader_fast", .def = "none",
	      .help = "test-only: break the reader-writer lock (the rwsem suite must then fail)");

static bool rwsem_broken(enum rwsem_break which)
{
	static int broken = -1; /* read once: the command line does not change */
	int b = atomic_load_relaxed(&broken);
	if (b < 0) {
		b = (int)cmdline_enum("sync.break");
		if (b != RWSEM_BREAK_NONE)
			printk("rwsem: WARNING: sync.break is set: tests must fail");
		atomic_store_relaxed(&broken, b);
	}
	return b == (int)which;
}

bool rwsem_readers_barge(void)
{
	return rwsem_broken(RWSEM_BREAK_READERS_BARGE);
}

/* May sleep: the same checks as mutex_lock, named for the caller. */
static void rwsem_check_context(const char *fn)
{
	struct thread *me = thread_current();
	if (irq_in_handler())
		panic("%s: %s would sleep in an interrupt handler", fn, me->name);
	if (!arch_irq_enabled())
		panic("%s: %s would sleep with interrupts off", fn, me->name);
	if (this_cpu()->preempt_count)
		panic("%s: %s would sleep holding a spinlock", fn, me->name);
}

#define RWSEM_WRITER  (1u << 31) /* held for write */
#define RWSEM_WAITING (1u << 30) /* writers_waiting > 0 */
#define RWSEM_READERS (RWSEM_WAITING - 1) /* the read holds' count */

/* Without the queue lock: a read hold if no writer holds or awaits it. */
static bool read_fast(struct rwsem *s)
{
	uint32_t w = atomic_load_relaxed(&s->state);
	while (!(w & (RWSEM_WRITER | RWSEM_WAITING)))
		if (atomic_cmpxchg(&s->state, &w, w + 1))
			return true;
	return false;
}

/* Queue lock held: takes a read hold if no writer holds it or (preference) waits. */
static bool read_take(void *arg)
{
	struct rwsem *s = arg;
	uint32_t w = atomic_load_relaxed(&s->state);
	for (;;) {
		if ((w & RWSEM_WRITER) || ((w & RWSEM_WAITING) && !rwsem_readers_barge()))
			return false;
		if (atomic_cmpxchg(&s->state, &w, w + 1))
			return true;
	}
}

/*
 * Queue lock held: sets the writer bit if nobody holds `s` (fast readers
 * may be leaving meanwhile: compare-and-swap), clearing the waiting bit
 * when `announced` and it was the last writer waiting.
 */
static bool write_claim(struct rwsem *s, bool announced)
{
	uint32_t w = atomic_load_relaxed(&s->state);
	for (;;) {
		if (w & (RWSEM_WRITER | RWSEM_READERS))
			return false;
		uint32_t next = w | RWSEM_WRITER;
		if (announced && s->writers_waiting == 1)
			next &= ~RWSEM_WAITING;
		if (atomic_cmpxchg(&s->state, &w, next))
			break;
	}
	s->writer = thread_current();
	if (announced)
		s->writers_waiting--;
	return true;
}

/* Queue lock held: takes the write hold if nobody holds it; the caller was announced. */
static bool write_take(void *arg)
{
	return write_claim(arg, true);
}

/* Runs `take` once under the queue lock: the trylocks. */
static bool take_now(struct rwsem *s, bool (*take)(void *arg))
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	bool taken = take(s);
	spin_unlock_irqrestore(&s->wq.lock, flags);
	return taken;
}

/* A down in progress: the wait condition's state. */
struct down {
	struct rwsem *s;
	bool (*take)(void *arg);
	bool writer;
	bool first; /* the next check is the first */
};

/*
 * The wait condition of both downs, queue lock held, interrupts off: the
 * first check announces a writer and counts a failure as contention.
 */
static bool down_check(void *arg)
{
	struct down *d = arg;
	bool first = d->first;
	d->first = false;
	if (first && d->writer) {
		if (d->s->writer == thread_current())
			panic("down_write: %s already holds %p", d->s->writer->name, (void *)d->s);
		/* From now on no reader comes in by the fast path. */
		if (d->s->writers_waiting++ == 0)
			atomic_fetch_or(&d->s->state, RWSEM_WAITING);
	}
	bool taken = d->take(d->s);
	if (!taken && first)
		atomic_fetch_add(&d->s->contended, 1);
	return taken;
}

/* Both downs' slow path (the caller checked the context): one wait, whose first check may
 * announce the caller. */
static void down_common(struct rwsem *s, bool (*take)(void *arg), bool writer)
{
	struct down d = {s, take, writer, true};
	wait_queue_wait(&s->wq, down_check, &d);
}

void down_read(struct rwsem *s)
{
	rwsem_check_context("down_read");
	if (!read_fast(s))
		down_common(s, read_take, false);
}

bool down_read_trylock(struct rwsem *s)
{
	return read_fast(s) || take_now(s, read_take);
}

static void up_read_check(struct rwsem *s, uint32_t w)
{
	if (!(w & RWSEM_READERS) || (w & RWSEM_WRITER))
		panic("up_read: %p is not held for read", (void *)s);
}

void up_read(struct rwsem *s)
{
	uint32_t w = atomic_load_relaxed(&s->state);
	for (;;) {
		up_read_check(s, w);
		/*
		 * Only a writer can be waiting for the last reader to leave: that
		 * one wakes it (sync.break=last_reader_fast leaves it asleep).
		 */
		if ((w & RWSEM_READERS) == 1 && (w & RWSEM_WAITING) &&
		    !rwsem_broken(RWSEM_BREAK_LAST_READER_FAST))
			break;
		if (atomic_cmpxchg(&s->state, &w, w - 1))
			return;
	}
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	w = atomic_fetch_sub(&s->state, 1);
	up_read_check(s, w);
	if ((w & RWSEM_READERS) == 1)
		wait_queue_wake_all_locked(&s->wq);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

void down_write(struct rwsem *s)
{
	rwsem_check_context("down_write");
	down_common(s, write_take, true);
}

/*
 * Queue lock held: the write hold if nobody holds it. It does not look at
 * writers_waiting: a trylock may take it ahead of a writer asleep in
 * down_write (the audit's trylock does; it holds it briefly and wakes all).
 */
static bool write_try(void *arg)
{
	return write_claim(arg, false);
}

bool down_write_trylock(struct rwsem *s)
{
	return take_now(s, write_try);
}

/* Queue lock held: gives up the caller's write hold, keeping `readers` read holds. */
static void write_release(struct rwsem *s, uint32_t readers, const char *fn)
{
	if (s->writer != thread_current())
		panic("%s: %p is not held for write by %s", fn, (void *)s, thread_current()->name);
	s->writer = NULL;
	/* Nobody can take or drop a read hold while the writer bit is set: one add clears it. */
	atomic_fetch_add(&s->state, readers - RWSEM_WRITER);
}

void up_write(struct rwsem *s)
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	write_release(s, 0, "up_write");
	wait_queue_wake_all_locked(&s->wq);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

void downgrade_write(struct rwsem *s)
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	write_release(s, 1, "downgrade_write");
	/* Waiting readers may come in now; waiting writers find a reader and sleep again. */
	wait_queue_wake_all_locked(&s->wq);
	spin_unlock_irqrestore(&s->wq.lock, flags);
}

bool rwsem_is_write_held_by_me(struct rwsem *s)
{
	return READ_ONCE(s->writer) == thread_current();
}
