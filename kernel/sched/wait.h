/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Wait queues and the sleeping mutex.
 *
 * wait_event(wq, cond) sleeps until `cond` is true; a thread that makes
 * `cond` true calls wait_queue_wake_all(wq) afterwards. The condition is
 * re-checked after enqueuing and before sleeping, under the queue's lock,
 * so a wake-up between the check and the sleep is not lost.
 *
 * A mutex sleeps instead of spinning when contended; it must not be taken
 * from interrupt context or with interrupts disabled.
 */
#ifndef PAGODA_KERNEL_SCHED_WAIT_H
#define PAGODA_KERNEL_SCHED_WAIT_H

#include "kernel/sched/thread.h"

struct wait_queue {
	spinlock_t lock;
	struct thread *head;
};
#define WAIT_QUEUE_INIT {SPINLOCK_INIT, NULL}

/* Sleeps until cond(arg) is true. */
void wait_queue_wait(struct wait_queue *wq, bool (*cond)(void *arg), void *arg);
/* Wakes every waiter; returns how many. */
unsigned wait_queue_wake_all(struct wait_queue *wq);

/* The owner field is protected by waiters.lock. */
struct mutex {
	struct thread *owner;
	struct wait_queue waiters;
	uint64_t contended; /* acquisitions that had to sleep */
};
#define MUTEX_INIT {NULL, WAIT_QUEUE_INIT, 0}

void mutex_lock(struct mutex *m);
void mutex_unlock(struct mutex *m);
bool mutex_is_held_by_me(struct mutex *m);

#endif
