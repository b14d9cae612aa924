/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wait queues and the sleeping mutex: the sleeping synchronisation that
 * both the scheduler (thread_join) and the MMU layer (mm->lock) use. It
 * lives apart from both so that neither owns what the other needs; it
 * calls the scheduler only through thread.h's sleep and wake contract.
 *
 * wait_queue_wait(wq, cond, arg) sleeps until cond(arg) is true; a thread that makes
 * `cond` true calls wait_queue_wake_all(wq) afterwards. The condition is
 * re-checked after enqueuing and before sleeping, under the queue's lock,
 * so a wake-up between the check and the sleep is not lost.
 *
 * A mutex sleeps instead of spinning when contended; it must not be taken
 * from interrupt context or with interrupts disabled.
 */
#ifndef PAGODA_KERNEL_SYNC_WAIT_H
#define PAGODA_KERNEL_SYNC_WAIT_H

#include "kernel/spinlock.h"

struct thread;

struct wait_queue {
	spinlock_t lock;
	struct thread *head, *tail; /* FIFO: woken oldest first */
};
#define WAIT_QUEUE_INIT {SPINLOCK_INIT, NULL, NULL}

/*
 * Sleeps until cond(arg) is true. Thread context, never from an interrupt
 * handler (it panics: irq_in_handler()). cond runs under the queue lock
 * with interrupts off. Returns off the queue.
 */
void wait_queue_wait(struct wait_queue *wq, bool (*cond)(void *arg), void *arg);
/*
 * Sleeps until cond(arg) is true or `timeout_ns` have passed (checked at
 * the timer tick, so up to a tick late; a timeout too large to add to the
 * clock waits as long as the clock runs). Returns cond's last value, which
 * is checked once more at the deadline: false only on a timeout. Either
 * way the caller is off the queue and off the scheduler's sleep list.
 * Same context rules as wait_queue_wait.
 */
bool wait_queue_wait_timeout(struct wait_queue *wq, bool (*cond)(void *arg), void *arg,
			     uint64_t timeout_ns);
/* Wakes every waiter; returns how many. */
unsigned wait_queue_wake_all(struct wait_queue *wq);
/*
 * The same with wq->lock already held (interrupts off): for a waker whose
 * state lives under that lock and whose last touch of the queue must be
 * its unlock, so a waiter that then frees the object finds nobody in it.
 */
unsigned wait_queue_wake_all_locked(struct wait_queue *wq);

/*
 * The owner field and `contended` are protected by waiters.lock. Unlock
 * hands the mutex to the oldest waiter (FIFO) and wakes that one only.
 */
struct mutex {
	struct thread *owner;
	struct wait_queue waiters;
	uint64_t contended; /* acquisitions that had to sleep */
};
#define MUTEX_INIT {NULL, WAIT_QUEUE_INIT, 0}

/* Takes `m`, sleeping while another thread holds it. Thread context, interrupts on. */
void mutex_lock(struct mutex *m);
/* Takes `m` if nobody holds it; never sleeps. True when taken. */
bool mutex_trylock(struct mutex *m);
/* Releases `m` (held by the caller), handing it to the oldest waiter if any. */
void mutex_unlock(struct mutex *m);
bool mutex_is_held_by_me(struct mutex *m);

#endif
