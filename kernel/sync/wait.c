// SPDX-License-Identifier: BSD-2-Clause
/*
 * Wait queues and the sleeping mutex (see wait.h).
 *
 * A waiter appends itself and sets SLEEPING while holding the queue lock,
 * after checking its condition under that same lock; a waker changes the
 * condition first and then takes the lock to wake. So either the waiter
 * sees the new condition, or it is already queued when the waker looks.
 * A waiter keeps interrupts off from its first check until it returns
 * (schedule() switches away with them off), so it is never interrupted while
 * linked, and it always returns unlinked. Nothing here may run in a device
 * interrupt handler: it would sleep with that interrupt active.
 *
 * The mutex hands ownership over: mutex_unlock() makes the oldest waiter
 * the owner and wakes only that one thread. Waking every waiter on each
 * unlock (so that they race for the lock) costs O(waiters) wake-ups and
 * IPIs per unlock, O(n^2) for n contending CPUs; under QEMU's TCG, with
 * more vCPUs than host cores, that herd once made a 16-thread test on 8
 * CPUs run past its timeout. Hand-over is also fair: FIFO, no starvation.
 */
#include "kernel/sync/wait.h"
#include "kernel/sched/thread.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

/* Appends `t` at the tail (FIFO). Queue lock held. */
static void wq_append(struct wait_queue *wq, struct thread *t)
{
	t->waiting_on = wq;
	t->wait_next = NULL;
	if (wq->tail)
		wq->tail->wait_next = t;
	else
		wq->head = t;
	wq->tail = t;
}

/* Removes and returns the oldest waiter, or NULL. Queue lock held. */
static struct thread *wq_pop(struct wait_queue *wq)
{
	struct thread *t = wq->head;
	if (t) {
		wq->head = t->wait_next;
		if (!wq->head)
			wq->tail = NULL;
		t->wait_next = NULL;
		t->waiting_on = NULL;
	}
	return t;
}

/* Unlinks `t` from `wq` if it is still there. Queue lock held. */
static void wq_remove(struct wait_queue *wq, struct thread *t)
{
	struct thread *prev = NULL;
	for (struct thread *p = wq->head; p; prev = p, p = p->wait_next) {
		if (p != t)
			continue;
		if (prev)
			prev->wait_next = t->wait_next;
		else
			wq->head = t->wait_next;
		if (wq->tail == t)
			wq->tail = prev;
		t->wait_next = NULL;
		t->waiting_on = NULL;
		return;
	}
}

/* Sleeping from a device interrupt handler would block that interrupt (and, on CPU 0, all). */
static void wait_check_context(const char *fn, struct thread *me)
{
	if (irq_in_handler())
		panic("%s: %s would sleep in an interrupt handler", fn, me->name);
}

/*
 * Both waits. Interrupts stay off from the first check to the return, so
 * the thread is linked on `wq` only while it cannot be interrupted (or is
 * switched out): nothing that leaves by longjmp from the tick (a ktest
 * timeout) can tear it away while still linked. On every return it is off
 * the queue, even when a stray thread_wake ran it while still linked and
 * the condition then held. `blocked_on` is set only when the caller left it
 * empty, and then cleared again. deadline UINT64_MAX: no timeout.
 */
static bool wait_until(struct wait_queue *wq, bool (*cond)(void *arg), void *arg, uint64_t deadline,
		       const char *label)
{
	struct thread *me = thread_current();
	wait_check_context(label, me);
	bool labelled = false;
	irqflags_t flags = spin_lock_irqsave(&wq->lock);
	bool done;
	while (!(done = cond(arg)) && arch_time_ns() < deadline) {
		if (me->waiting_on != wq)
			wq_append(wq, me);
		if (!me->blocked_on) {
			me->blocked_on = label;
			labelled = true;
		}
		/* A wake-up takes us off the sleep list; the tick takes us off it at the deadline. */
		if (deadline == UINT64_MAX)
			thread_prepare_sleep(me);
		else
			thread_prepare_sleep_until(me, deadline);
		spin_unlock(&wq->lock);
		schedule();
		spin_lock(&wq->lock);
	}
	if (me->waiting_on == wq)
		wq_remove(wq, me);
	if (labelled)
		me->blocked_on = NULL;
	spin_unlock_irqrestore(&wq->lock, flags);
	return done;
}

void wait_queue_wait(struct wait_queue *wq, bool (*cond)(void *arg), void *arg)
{
	wait_until(wq, cond, arg, UINT64_MAX, "wait_queue_wait");
}

bool wait_queue_wait_timeout(struct wait_queue *wq, bool (*cond)(void *arg), void *arg,
			     uint64_t timeout_ns)
{
	uint64_t now = arch_time_ns();
	/* Saturated: a huge timeout means "forever", not a wrapped deadline in the past. */
	uint64_t deadline = timeout_ns > UINT64_MAX - 1 - now ? UINT64_MAX - 1 : now + timeout_ns;
	return wait_until(wq, cond, arg, deadline, "wait_queue_wait_timeout");
}

unsigned wait_queue_wake_all(struct wait_queue *wq)
{
	irqflags_t flags = spin_lock_irqsave(&wq->lock);
	unsigned n = wait_queue_wake_all_locked(wq);
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

unsigned wait_queue_wake_all_locked(struct wait_queue *wq)
{
	struct thread *t = wq->head;
	wq->head = wq->tail = NULL;
	unsigned n = 0;
	while (t) {
		struct thread *next = t->wait_next;
		t->wait_next = NULL;
		t->waiting_on = NULL;
		thread_wake(t);
		n++;
		t = next;
	}
	return n;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();
	wait_check_context("mutex_lock", me);
	if (!arch_irq_enabled())
		panic("mutex_lock: %s would sleep with interrupts off", me->name);
	if (this_cpu()->preempt_count)
		panic("mutex_lock: %s would sleep holding a spinlock", me->name);
	irqflags_t flags = spin_lock_irqsave(&m->waiters.lock);
	if (m->owner == me)
		panic("mutex_lock: %s already holds %p", me->name, (void *)m);
	if (m->owner) {
		m->contended++;
		wq_append(&m->waiters, me);
		me->blocked_on = "mutex_lock";
		/* Woken only by the unlock that made us the owner (or spuriously: sleep again). */
		while (m->owner != me) {
			thread_prepare_sleep(me);
			spin_unlock(&m->waiters.lock);
			schedule();
			spin_lock(&m->waiters.lock);
		}
		me->blocked_on = NULL;
	} else {
		m->owner = me;
	}
	spin_unlock_irqrestore(&m->waiters.lock, flags);
}

bool mutex_trylock(struct mutex *m)
{
	struct thread *me = thread_current();
	irqflags_t flags = spin_lock_irqsave(&m->waiters.lock);
	bool taken = !m->owner;
	if (taken)
		m->owner = me;
	spin_unlock_irqrestore(&m->waiters.lock, flags);
	return taken;
}

void mutex_unlock(struct mutex *m)
{
	irqflags_t flags = spin_lock_irqsave(&m->waiters.lock);
	if (m->owner != thread_current())
		panic("mutex_unlock: %p is not held by %s", (void *)m, thread_current()->name);
	struct thread *next = wq_pop(&m->waiters);
	m->owner = next;
	if (next)
		thread_wake(
		    next); /* under the queue lock: `next` cannot return and free itself first */
	spin_unlock_irqrestore(&m->waiters.lock, flags);
}

bool mutex_is_held_by_me(struct mutex *m)
{
	return READ_ONCE(m->owner) == thread_current();
}
