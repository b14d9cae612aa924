// SPDX-License-Identifier: BSD-2-Clause
/*
 * wait suite: wait_queue_wait_timeout's timeout path (kernel/sync/wait.c).
 * Whatever ends the wait (the deadline, a wake-up racing it, a condition
 * that came true with nobody waking), the caller returns off the queue and
 * off the scheduler's sleep list, with cond's value at the end; a label
 * the caller put in blocked_on survives; and a timeout too large to add to
 * the clock waits instead of having already expired.
 */
#include "kernel/arch.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/wait.h"
#include "tests/ktest.h"

#define MS 1000000ull

static struct wait_queue wq = WAIT_QUEUE_INIT;
static uint32_t flag;

static bool flag_set(void *arg)
{
	(void)arg;
	return atomic_load_acquire(&flag) != 0;
}

static unsigned another_cpu(void)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, on) if (c != arch_cpu_id()) return c;
	return arch_cpu_id();
}

/* The caller is linked nowhere: not on the queue, not on the sleep list. */
static void expect_unlinked(struct ktest *t)
{
	struct thread *me = thread_current();
	EXPECT_TRUE(t, READ_ONCE(me->waiting_on) == NULL);
	EXPECT_FALSE(t, READ_ONCE(me->on_sleep_list));
	irqflags_t flags = spin_lock_irqsave(&wq.lock);
	bool empty = !wq.head && !wq.tail;
	spin_unlock_irqrestore(&wq.lock, flags);
	EXPECT_TRUE(t, empty);
}

static void timeout_returns_false_off_the_queue(struct ktest *t)
{
	flag = 0;
	uint64_t start = arch_time_ns();
	EXPECT_FALSE(t, wait_queue_wait_timeout(&wq, flag_set, NULL, 50 * MS));
	EXPECT_GE(t, arch_time_ns() - start, 50 * MS);
	expect_unlinked(t);
	EXPECT_TRUE(t, thread_current()->blocked_on == NULL);
	EXPECT_EQ(t, wait_queue_wake_all(&wq), 0u);

	/* A caller's own label is the caller's to clear. */
	static const char label[] = "wait_test";
	thread_current()->blocked_on = label;
	EXPECT_FALSE(t, wait_queue_wait_timeout(&wq, flag_set, NULL, 10 * MS));
	EXPECT_TRUE(t, thread_current()->blocked_on == label);
	thread_current()->blocked_on = NULL;
}

struct waker {
	uint64_t delay_ns;
	bool wake; /* call wake_all after setting the flag */
	unsigned woken;
};

static void waker_fn(void *arg)
{
	struct waker *w = arg;
	thread_sleep_ns(w->delay_ns);
	atomic_store_release(&flag, 1);
	if (w->wake)
		w->woken = wait_queue_wake_all(&wq);
}

/* Runs one waker on another CPU against a wait of `timeout_ns`; returns the wait's result. */
static bool race_one(struct ktest *t, struct waker *w, uint64_t timeout_ns)
{
	flag = 0;
	struct thread *th = thread_create("waker", another_cpu(), waker_fn, w);
	if (!th) {
		ktest_fail_msg(t, __FILE__, __LINE__, "thread_create failed");
		ktest_abort(t);
	}
	bool got = wait_queue_wait_timeout(&wq, flag_set, NULL, timeout_ns);
	expect_unlinked(t);
	thread_join(th);
	expect_unlinked(t);
	return got;
}

/* The waker sleeps about as long as the waiter's timeout: either result, never left linked. */
static void wake_racing_the_deadline(struct ktest *t)
{
	unsigned woke = 0, timed_out = 0;
	for (uint64_t d = 40; d <= 60; d += 2) {
		struct waker w = {d * MS, true, 0};
		if (race_one(t, &w, 50 * MS))
			woke++;
		else
			timed_out++;
		EXPECT_LE(t, w.woken, 1u);
	}
	ktest_log(t, "%u woken, %u timed out", woke, timed_out);
	EXPECT_EQ(t, woke + timed_out, 11u);
}

/* Nobody wakes the waiter: the tick does at the deadline, and cond is checked once more. */
static void condition_true_at_the_deadline_is_reported(struct ktest *t)
{
	struct waker w = {20 * MS, false, 0};
	uint64_t start = arch_time_ns();
	EXPECT_TRUE(t, race_one(t, &w, 50 * MS));
	EXPECT_GE(t, arch_time_ns() - start, 50 * MS);
}

/* A "forever" timeout must not wrap the deadline into the past. */
static void huge_timeout_waits(struct ktest *t)
{
	struct waker w = {20 * MS, true, 0};
	uint64_t start = arch_time_ns();
	EXPECT_TRUE(t, race_one(t, &w, UINT64_MAX));
	EXPECT_GE(t, arch_time_ns() - start, 20 * MS);
	EXPECT_EQ(t, w.woken, 1u);
}

static const struct ktest_case wait_cases[] = {
    KTEST_CASE(timeout_returns_false_off_the_queue),
    KTEST_CASE(wake_racing_the_deadline),
    KTEST_CASE(condition_true_at_the_deadline_is_reported),
    KTEST_CASE(huge_timeout_waits),
    KTEST_END,
};
KTEST_SUITE(wait_suite, "wait", wait_cases);
