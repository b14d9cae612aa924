// SPDX-License-Identifier: BSD-2-Clause
/*
 * Wait queues and the sleeping mutex (see wait.h).
 *
 * A waiter enqueues itself and sets SLEEPING while holding the queue lock,
 * after checking its condition under that same lock; a waker changes the
 * condition first and then takes the lock to wake. So either the waiter
 * sees the new condition, or it is already queued when the waker looks.
 */
#include "kernel/sched/wait.h"
#include "kernel/printk.h"

void wait_queue_wait(struct wait_queue *wq, bool (*cond)(void *arg), void *arg)
{
	for (;;) {
		irqflags_t flags = spin_lock_irqsave(&wq->lock);
		if (cond(arg)) {
			spin_unlock_irqrestore(&wq->lock, flags);
			return;
		}
		struct thread *me = thread_current();
		me->wait_next = wq->head;
		wq->head = me;
		me->state = THREAD_SLEEPING;
		spin_unlock(&wq->lock);
		schedule();
		arch_irq_restore(flags);
	}
}

unsigned wait_queue_wake_all(struct wait_queue *wq)
{
	irqflags_t flags = spin_lock_irqsave(&wq->lock);
	struct thread *t = wq->head;
	wq->head = NULL;
	unsigned n = 0;
	while (t) {
		struct thread *next = t->wait_next;
		t->wait_next = NULL;
		thread_wake(t);
		n++;
		t = next;
	}
	spin_unlock_irqrestore(&wq->lock, flags);
	return n;
}

struct mutex_try {
	struct mutex *m;
	struct thread *me;
	bool slept;
};

/* The wait condition: take the mutex if it is free. Runs under the queue lock. */
static bool mutex_try_take(void *arg)
{
	struct mutex_try *try = arg;
	struct mutex *m = try->m;
	if (m->owner == NULL) {
		m->owner = try->me;
		return true;
	}
	try->slept = true;
	return false;
}

void mutex_lock(struct mutex *m)
{
	struct thread *me = thread_current();
	if (m->owner == me)
		panic("mutex_lock: %s already holds %p", me->name, (void *)m);
	struct mutex_try try = {m, me, false};
	wait_queue_wait(&m->waiters, mutex_try_take, &try);
	if (try.slept)
		atomic_fetch_add(&m->contended, 1);
}

void mutex_unlock(struct mutex *m)
{
	irqflags_t flags = spin_lock_irqsave(&m->waiters.lock);
	if (m->owner != thread_current())
		panic("mutex_unlock: %p is not held by %s", (void *)m, thread_current()->name);
	m->owner = NULL;
	spin_unlock_irqrestore(&m->waiters.lock, flags);
	wait_queue_wake_all(&m->waiters);
}

bool mutex_is_held_by_me(struct mutex *m)
{
	return READ_ONCE(m->owner) == thread_current();
}
