// SPDX-License-Identifier: BSD-2-Clause
/*
 * Ticket spinlock. Acquire takes a ticket with one atomic increment and
 * waits until `owner` reaches it; release hands the lock to the next
 * ticket. The acquire load on `owner` orders the critical section after
 * the previous holder's release store.
 */
#include "kernel/spinlock.h"
#include "kernel/atomic.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"

/*
 * spin_lock and spin_unlock read the CPU id once per call: a thread never
 * leaves the CPU it was made on (kernel/sched), and an interrupt handler
 * runs where it interrupted, so the id cannot change under us. They count
 * preemption in this CPU's preempt_count directly (what preempt_disable()
 * and preempt_enable() do) for the same reason: every lock and unlock is on
 * the hot path of every MMU operation. spin_trylock, rarer, keeps the calls.
 */
/* Out of line, so the uncontended path saves no registers for the loop's calls. */
static __attribute__((noinline)) void spin_lock_wait(spinlock_t *lock, uint16_t ticket)
{
	while (atomic_load_acquire(&lock->owner) != ticket)
		arch_cpu_relax();
}

void spin_lock(spinlock_t *lock)
{
	struct cpu *me = this_cpu();
	/* Read once: the atomics below are compiler barriers, and would reload it. */
	int32_t tag = (int32_t)me->id + 1;
	if (unlikely(atomic_load_relaxed(&lock->holder) == tag))
		panic("spin_lock: recursive acquisition of %p on cpu%u", (void *)lock, me->id);
	me->preempt_count++; /* a preempted holder would leave its CPU's other threads spinning */
	barrier(); /* counted before the lock is ours: the tick must not preempt a holder */
	uint16_t ticket = atomic_fetch_add(&lock->next, 1);
	if (unlikely(atomic_load_acquire(&lock->owner) != ticket))
		spin_lock_wait(lock, ticket);
	atomic_store_relaxed(&lock->holder, tag);
}

bool spin_trylock(spinlock_t *lock)
{
	uint16_t owner = atomic_load_acquire(&lock->owner);
	uint16_t expected = owner;
	/* Only take a ticket if it would be served immediately. */
	if (atomic_load_relaxed(&lock->next) != owner)
		return false;
	preempt_disable();
	if (!atomic_cmpxchg(&lock->next, &expected, (uint16_t)(owner + 1))) {
		preempt_enable();
		return false;
	}
	atomic_store_relaxed(&lock->holder, (int32_t)arch_cpu_id() + 1);
	return true;
}

void spin_unlock(spinlock_t *lock)
{
	struct cpu *me = this_cpu();
	atomic_store_relaxed(&lock->holder, 0);
	atomic_store_release(&lock->owner, (uint16_t)(lock->owner + 1));
	barrier(); /* uncounted only once the lock is given up (the compiler may not hoist it) */
	me->preempt_count--; /* preempt_enable() */
}

bool spin_is_locked(spinlock_t *lock)
{
	return atomic_load_relaxed(&lock->next) != atomic_load_relaxed(&lock->owner);
}
