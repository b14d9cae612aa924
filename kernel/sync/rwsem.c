// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sleeping reader-writer lock (see rwsem.h).
 *
 * Every acquisition is a condition checked under the wait queue's lock
 * (wait_queue_wait): the condition itself takes the lock when it can, so
 * "can I have it" and "it is mine" are one step and no wake-up is lost.
 * Releases change the state under the same lock and wake every waiter;
 * each re-checks its condition. Waking all is O(waiters) per release, but
 * the waiters of one address space are at most one per CPU, and it keeps
 * the hand-over rules in one place (the conditions below) instead of a
 * queue discipline that must know readers from writers.
 *
 * A writer announces itself (writers_waiting) before it first checks, and
 * readers that are not inside yet defer to any announced writer: that is
 * the writer preference. Readers already inside are never asked to leave.
 */
#include "kernel/sync/rwsem.h"
#include "kernel/cmdline.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"

/* The words of `sync.break=`, in this order. */
enum rwsem_break { RWSEM_BREAK_NONE, RWSEM_BREAK_READERS_BARGE };
CMDLINE_PARAM(sync_break_param, .key = "sync.break", .kind = CMDLINE_ENUM,
	      .values = "none|readers_barge", .def = "none",
	      .help = "test-only: break the reader-writer lock (the rwsem suite must then fail)");

bool rwsem_readers_barge(void)
{
	static int broken = -1; /* read once: the command line does not change */
	int b = atomic_load_relaxed(&broken);
	if (b < 0) {
		b = (int)cmdline_enum("sync.break");
		if (b != RWSEM_BREAK_NONE)
			printk("rwsem: WARNING: sync.break is set: tests must fail");
		atomic_store_relaxed(&broken, b);
	}
	return b == RWSEM_BREAK_READERS_BARGE;
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

/* Queue lock held: takes a read hold if no writer holds it or (preference) waits. */
static bool read_take(void *arg)
{
	struct rwsem *s = arg;
	if (s->writer || (s->writers_waiting && !rwsem_readers_barge()))
		return false;
	s->readers++;
	return true;
}

/* Queue lock held: takes the write hold if nobody holds it; the caller was announced. */
static bool write_take(void *arg)
{
	struct rwsem *s = arg;
	if (s->writer || s->readers)
		return false;
	s->writer = thread_current();
	s->writers_waiting--;
	return true;
}

/* Runs `take` once under the queue lock: the uncontended path, and the trylocks. */
static bool take_now(struct rwsem *s, bool (*take)(void *arg))
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	bool taken = take(s);
	spin_unlock_irqrestore(&s->wq.lock, flags);
	return taken;
}

/* Both downs: `first` once (it may announce the caller), then sleep until `again` takes it. */
static void down_common(struct rwsem *s, bool (*first)(void *arg), bool (*again)(void *arg),
			const char *fn)
{
	rwsem_check_context(fn);
	if (take_now(s, first))
		return;
	atomic_fetch_add(&s->contended, 1);
	wait_queue_wait(&s->wq, again, s);
}

void down_read(struct rwsem *s)
{
	down_common(s, read_take, read_take, "down_read");
}

bool down_read_trylock(struct rwsem *s)
{
	return take_now(s, read_take);
}

void up_read(struct rwsem *s)
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	if (s->readers == 0 || s->writer)
		panic("up_read: %p is not held for read", (void *)s);
	bool last = --s->readers == 0;
	spin_unlock_irqrestore(&s->wq.lock, flags);
	/* Only a writer can be waiting for the last reader to leave. */
	if (last)
		wait_queue_wake_all(&s->wq);
}

/* Announces a writer; then write_take may succeed. */
static bool write_announce_and_take(void *arg)
{
	struct rwsem *s = arg;
	if (s->writer == thread_current())
		panic("down_write: %s already holds %p", s->writer->name, (void *)s);
	s->writers_waiting++;
	return write_take(s);
}

void down_write(struct rwsem *s)
{
	down_common(s, write_announce_and_take, write_take, "down_write");
}

/* Queue lock held: the write hold if nobody holds it or waits (a trylock jumps no queue). */
static bool write_try(void *arg)
{
	struct rwsem *s = arg;
	if (s->writer || s->readers)
		return false;
	s->writer = thread_current();
	return true;
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
	s->readers = readers;
}

void up_write(struct rwsem *s)
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	write_release(s, 0, "up_write");
	spin_unlock_irqrestore(&s->wq.lock, flags);
	wait_queue_wake_all(&s->wq);
}

void downgrade_write(struct rwsem *s)
{
	irqflags_t flags = spin_lock_irqsave(&s->wq.lock);
	write_release(s, 1, "downgrade_write");
	spin_unlock_irqrestore(&s->wq.lock, flags);
	/* Waiting readers may come in now; waiting writers find `readers` and sleep again. */
	wait_queue_wake_all(&s->wq);
}

bool rwsem_is_write_held_by_me(struct rwsem *s)
{
	return READ_ONCE(s->writer) == thread_current();
}
