// SPDX-License-Identifier: BSD-2-Clause
/*
 * Wait queues and the sleeping mutex (see wait.h).
 *
 * A waiter appends itself and sets SLEEPING while holding the queue lock,
 * after checking its condition under that same lock; a waker changes the
 * condition first and then takes the lock to wake. So either the waiter
 * sees the new condition, or it is already queued when the waker looks.
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

void wait_queue_wait(struct wait_queue *wq, bool (*cond)(void *arg), void *arg)
{
	for (;;) {
		irqflags_t flags = spin_lock_irqsave(&wq->lock);
		if (cond(arg)) {
			spin_unlock_irqrestore(&wq->lock, flags);
			return;
		}
		struct thread *me = thread_current();
		/* A stray thread_wake may have run us while still queued: never link twice. */
		if (me->waiting_on != wq)
			wq_append(wq, me);
		if (!me->blocked_on)
			me->blocked_on = "wait_queue_wait";
		thread_prepare_sleep(me);
		spin_unlock(&wq->lock);
		schedule();
		arch_irq_restore(flags);
	}
}

/* Unlinks `t` from `wq` if it is still there (a timed-out waiter). Queue lock held. */
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

bool wait_queue_wait_timeout(struct wait_queue *wq, bool (*cond)(void *arg), void *arg,
			     uint64_t timeout_ns)
{
	uint64_t deadline = arch_time_ns() + timeout_ns;
	struct thread *me = thread_current();
	for (;;) {
		irqflags_t flags = spin_lock_irqsave(&wq->lock);
		bool done = cond(arg);
		if (done || arch_time_ns() >= deadline) {
			if (me->waiting_on == wq)
				wq_remove(wq, me);
			me->blocked_on = NULL;
			spin_unlock_irqrestore(&wq->lock, flags);
			return done;
		}
		if (me->waiting_on != wq)
			wq_append(wq, me);
		if (!me->blocked_on)
			me->blocked_on = "wait_queue_wait_timeout";
		/* A wake-up takes us off the sleep list; the tick takes us off it at the deadline. */
		thread_prepare_sleep_until(me, deadline);
		spin_unlock(&wq->lock);
		schedule();
		arch_irq_restore(flags);
	}
}

unsigned wait_queue_wake_all(struct wait_queue *wq)
{
	irqflags_t flags = spin_lock_irqsave(&wq->lock);
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
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();
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
