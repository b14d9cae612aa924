/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Kernel threads and the scheduler.
 *
 * Every thread is pinned to one CPU for its whole life and sits on that
 * CPU's run queue, so a thread only ever runs on its own CPU; other CPUs
 * touch it only to wake it (under its run queue's lock). Each CPU runs its
 * threads round-robin, preempting on the timer tick, and runs its idle
 * thread (hlt/wfi) when none is runnable.
 *
 * States: RUNNING (on its CPU or on the run queue, i.e. runnable),
 * SLEEPING (on a wait queue or the sleep list, not runnable), EXITING
 * (switched away for the last time, its stack still in use until the next
 * thread has started), DEAD (finished, waiting to be joined). Every state
 * change happens under the thread's run-queue lock. A thread sets itself
 * SLEEPING (thread_prepare_sleep) and then calls schedule(); a waker
 * changes SLEEPING back to RUNNING, so a wake-up that arrives before the
 * sleeper has switched away is never lost. A thread is on at most one of
 * the run queue and the sleep list, and a wake-up takes it off the sleep
 * list before queueing it.
 */
#ifndef PAGODA_KERNEL_SCHED_THREAD_H
#define PAGODA_KERNEL_SCHED_THREAD_H

#include "kernel/arch.h"
#include "kernel/spinlock.h"

struct mm;
struct wait_queue;

enum thread_state { THREAD_RUNNING, THREAD_SLEEPING, THREAD_EXITING, THREAD_DEAD };

struct thread {
	struct arch_context ctx;
	const char *name;
	enum thread_state state;
	unsigned cpu; /* the CPU it is pinned to */
	struct thread *rq_next; /* run queue or sleep list link */
	struct thread *wait_next; /* wait queue link */
	struct wait_queue *waiting_on; /* the queue it is linked on, under that queue's lock */
	uint64_t wake_at_ns; /* when on the sleep list */
	bool on_sleep_list;
	const char *blocked_on; /* what it waits for while SLEEPING (for timeout reports) */
	struct thread *joining; /* the thread it waits for in thread_join */
	void (*fn)(void *arg);
	void *arg;
	phys_addr_t block; /* the frames holding this struct and the stack */
	struct mm *mm; /* the address space it uses; NULL for a pure kernel thread */
	uint64_t switches; /* times switched in */
	bool joined;
	/* Armed by ktest_expect_fault: where a fault in this thread resumes. */
	struct arch_jmpbuf *fault_fixup;
	struct fault_info *fault_record;
};

#define THREAD_BLOCK_ORDER 2 /* 16 KiB: struct thread at the bottom, the stack above */

/* The thread running on this CPU. */
struct thread *thread_current(void);
/*
 * The stack the running thread runs on: [*lo, *hi), all mapped (a created
 * thread's block above its struct, or a CPU's boot stack). Interrupts off,
 * so that the thread cannot change under the caller.
 */
void thread_stack_bounds(virt_addr_t *lo, virt_addr_t *hi);
/*
 * Creates a runnable thread pinned to `cpu` that runs fn(arg). Returns
 * NULL when out of memory or `cpu` is offline.
 */
struct thread *thread_create(const char *name, unsigned cpu, void (*fn)(void *arg), void *arg);
/* The same, running in address space `mm` (which it keeps a use of until joined). */
struct thread *thread_create_mm(const char *name, unsigned cpu, struct mm *mm,
				void (*fn)(void *arg), void *arg);
/* Waits until `t` has finished, then frees it. Each thread is joined once. */
void thread_join(struct thread *t);
/* Ends the calling thread. */
__noreturn void thread_exit(void);
/* Gives the CPU to another runnable thread of this CPU, if any. */
void thread_yield(void);
/* Sleeps for at least `ns` (tick granularity: 1/TIMER_HZ). */
void thread_sleep_ns(uint64_t ns);
/*
 * Makes a SLEEPING thread runnable; no effect otherwise. Any CPU, any
 * context; the caller keeps `t` alive across the call (it holds the lock
 * of the queue `t` waits on, or `t` is not joined before it returns).
 */
void thread_wake(struct thread *t);
/*
 * Marks the calling thread SLEEPING before it calls schedule() to block.
 * Interrupts off; the caller has published where it waits (a wait queue)
 * under a lock its waker takes, so the wake-up cannot be lost.
 */
void thread_prepare_sleep(struct thread *me);
/*
 * The same, and also puts the caller on its CPU's sleep list so that the
 * tick wakes it at `deadline_ns` (arch_time_ns) if nothing else does
 * first: the sleeping half of a wait with a timeout.
 */
void thread_prepare_sleep_until(struct thread *me, uint64_t deadline_ns);

/*
 * Switches to the next runnable thread of this CPU (or keeps running the
 * caller if it is the only one). The caller sets its own state first:
 * RUNNING to yield, SLEEPING to block.
 */
void schedule(void);

/* Preemption control: a thread with a non-zero count is not preempted. */
void preempt_disable(void);
void preempt_enable(void);
/*
 * preempt_enable(), then, if the count is back to zero with interrupts on,
 * the switch an interrupt asked for while it was held (sched_irq_exit
 * declined it): for sections that take interrupts, such as a halted
 * cross-call wait, so the switch is not left to the next tick.
 */
void preempt_enable_resched(void);

/* Marks this CPU as needing a reschedule at the next interrupt exit (IPI_RESCHEDULE). */
void sched_request_resched(void);

/* Boot: turns the calling context into CPU `cpu`'s first thread ("main" or idle). */
void sched_init_cpu(unsigned cpu);
/* The idle loop of an application processor; never returns. */
__noreturn void sched_idle_loop(void);

struct sched_stats {
	uint64_t switches;
	uint64_t preemptions;
	uint64_t wakeups;
};
struct sched_stats sched_stats_cpu(unsigned cpu);
/* The name of the thread CPU `cpu` runs now (a snapshot: it may change at once). */
const char *sched_cpu_running(unsigned cpu);

#endif
