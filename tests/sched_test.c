// SPDX-License-Identifier: BSD-2-Clause
/*
 * sched suite: threads, preemption, sleeping and waking, the mutex.
 * Nothing here is timed for speed: counts and orderings only, with time
 * used just to bound how long a case may take.
 */
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/wait.h"
#include "kernel/time.h"
#include "lib/string.h"
#include "tests/ktest.h"

static unsigned other_cpu(void)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, on) if (c != arch_cpu_id()) return c;
	return arch_cpu_id();
}

struct spinner {
	uint64_t count;
	uint64_t until_ns;
};

static void spin(void *arg)
{
	struct spinner *s = arg;
	while (arch_time_ns() < s->until_ns)
		WRITE_ONCE(s->count, s->count + 1); /* never yields: only the tick can switch */
}

static void preemption_shares_a_cpu(struct ktest *t)
{
	unsigned cpu = other_cpu();
	static struct spinner a, b;
	uint64_t until = arch_time_ns() + 300000000ull;
	a = (struct spinner){0, until};
	b = (struct spinner){0, until};
	struct sched_stats before = sched_stats_cpu(cpu);
	struct thread *ta = thread_create("spin-a", cpu, spin, &a);
	struct thread *tb = thread_create("spin-b", cpu, spin, &b);
	ASSERT_TRUE(t, ta && tb);
	/* Halfway through, both must have run: neither can finish before `until`. */
	thread_sleep_ns(150000000ull);
	uint64_t mid_a = READ_ONCE(a.count), mid_b = READ_ONCE(b.count);
	thread_join(ta);
	thread_join(tb);
	EXPECT_GT(t, mid_a, 0u);
	EXPECT_GT(t, mid_b, 0u);
	if (cpu != arch_cpu_id())
		EXPECT_GE(t, sched_stats_cpu(cpu).preemptions - before.preemptions, 2u);
}

static void sleep_lasts_at_least_its_time(struct ktest *t)
{
	uint64_t start = arch_time_ns();
	thread_sleep_ns(50000000ull);
	uint64_t slept = arch_time_ns() - start;
	EXPECT_GE(t, slept, 50000000ull);
	ktest_log(t, "asked 50 ms, slept %lu us", (unsigned long)(slept / 1000));
}

static struct wait_queue wq = WAIT_QUEUE_INIT;
static uint32_t wq_flag;
static uint32_t wq_woken;

static bool flag_set(void *arg)
{
	(void)arg;
	return atomic_load_acquire(&wq_flag) != 0;
}

static void waiter(void *arg)
{
	(void)arg;
	wait_queue_wait(&wq, flag_set, NULL);
	atomic_fetch_add(&wq_woken, 1);
}

static void wait_queue_wakes_every_waiter(struct ktest *t)
{
	wq_flag = 0;
	wq_woken = 0;
	cpumask_t on = cpumask_read(&cpu_online_mask);
	struct thread *th[CPU_MAX] = {0};
	for_each_cpu(c, on) th[c] = thread_create("waiter", c, waiter, NULL);
	thread_sleep_ns(30000000ull);
	EXPECT_EQ(t, atomic_load_acquire(&wq_woken), 0u); /* nobody passes before the flag */
	atomic_store_release(&wq_flag, 1);
	wait_queue_wake_all(&wq);
	for_each_cpu(c, on) if (th[c]) thread_join(th[c]);
	EXPECT_EQ(t, wq_woken, cpumask_weight(on));
}

static struct mutex counter_lock = MUTEX_INIT;
static uint64_t shared_counter;
static uint32_t inside;
static uint32_t overlap;

static void increment(void *arg)
{
	unsigned rounds = (unsigned)(uintptr_t)arg;
	for (unsigned i = 0; i < rounds; i++) {
		mutex_lock(&counter_lock);
		if (atomic_add_return(&inside, 1) != 1)
			atomic_fetch_add(&overlap, 1);
		uint64_t v = shared_counter;
		if (i % 16 == 0)
			thread_yield(); /* hold it across a switch: others must wait */
		shared_counter = v + 1;
		atomic_fetch_sub(&inside, 1);
		mutex_unlock(&counter_lock);
	}
}

static void mutex_excludes_across_cpus(struct ktest *t)
{
	shared_counter = 0;
	overlap = 0;
	uint64_t contended = counter_lock.contended;
	cpumask_t on = cpumask_read(&cpu_online_mask);
	struct thread *th[2 * CPU_MAX] = {0};
	unsigned n = 0;
	/* Two threads per CPU: contention both across CPUs and on one CPU. */
	for_each_cpu(c, on) for (int k = 0; k < 2; k++) th[n++] =
		thread_create("inc", c, increment, (void *)(uintptr_t)200);
	for (unsigned i = 0; i < n; i++) {
		ASSERT_TRUE(t, th[i] != NULL);
		thread_join(th[i]);
	}
	EXPECT_EQ(t, shared_counter, 200u * n);
	EXPECT_EQ(t, overlap, 0u);
	EXPECT_GT(t, counter_lock.contended - contended, 0u);
	ktest_log(t, "%u threads, %lu contended acquisitions", n,
		  (unsigned long)(counter_lock.contended - contended));
}

/*
 * The mutex hands over to one waiter. Waiters queue one at a time (each is
 * created only once the previous one is known to sleep on the mutex), so
 * the hand-over order must be exactly the queueing order, and each unlock
 * must wake exactly one thread: the regression for the 8-CPU timeout, where
 * every unlock woke every waiter and the wake-ups grew as CPUs squared.
 */
static struct mutex handoff_lock = MUTEX_INIT;
static uint32_t handoff_order[2 * CPU_MAX];
static uint32_t handoff_next;
static uint32_t handoff_release; /* the owner may unlock once this reaches its rank */

static void handoff_waiter(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	mutex_lock(&handoff_lock);
	uint32_t rank = atomic_fetch_add(&handoff_next, 1);
	handoff_order[rank] = id;
	while (atomic_load_acquire(&handoff_release) <= rank)
		arch_cpu_relax();
	mutex_unlock(&handoff_lock);
}

static uint64_t total_wakeups(void)
{
	uint64_t n = 0;
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, on) n += sched_stats_cpu(c).wakeups;
	return n;
}

static void mutex_unlock_wakes_one_waiter_in_order(struct ktest *t)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	unsigned n = 0;
	struct thread *th[2 * CPU_MAX] = {0};
	handoff_next = 0;
	handoff_release = 0;
	mutex_lock(&handoff_lock);
	for (int round = 0; round < 2; round++) {
		for_each_cpu(c, on)
		{
			th[n] = thread_create("handoff", c, handoff_waiter, (void *)(uintptr_t)n);
			ASSERT_TRUE(t, th[n] != NULL);
			/* Wait (bounded by the case timeout) until it sleeps on the mutex. */
			while (atomic_load_acquire(&th[n]->state) != THREAD_SLEEPING)
				thread_sleep_ns(1000000ull);
			n++;
		}
	}
	/* Nothing else sleeps now: every wake-up counted from here is the mutex's. */
	uint64_t woken = total_wakeups();
	mutex_unlock(&handoff_lock);
	while (atomic_load_acquire(&handoff_next) == 0)
		arch_cpu_relax();
	EXPECT_EQ(t, total_wakeups() - woken, 1u);
	atomic_store_release(&handoff_release, n);
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	EXPECT_EQ(t, handoff_next, n);
	for (unsigned i = 0; i < n; i++)
		EXPECT_EQ(t, handoff_order[i], i);
	ktest_log(t, "%u waiters handed the mutex in queue order", n);
}

/*
 * A thread in a timed sleep that is woken early must leave the sleep list:
 * if it stayed there too, sleeping again would link it into the list twice
 * (a cycle the tick would spin on with interrupts off) and a later expiry
 * would queue a thread that is already running.
 */
static uint32_t early_phase;

static void sleeper(void *arg)
{
	(void)arg;
	thread_sleep_ns(3000000000ull); /* 3 s: cut short by the waker */
	atomic_store_release(&early_phase, 1);
	thread_sleep_ns(20000000ull); /* a second, normal timed sleep */
	atomic_store_release(&early_phase, 2);
}

static void early_wake_leaves_the_sleep_list(struct ktest *t)
{
	early_phase = 0;
	struct thread *s = thread_create("sleeper", other_cpu(), sleeper, NULL);
	ASSERT_TRUE(t, s != NULL);
	while (atomic_load_acquire(&s->state) != THREAD_SLEEPING)
		thread_sleep_ns(1000000ull);
	uint64_t start = arch_time_ns();
	thread_wake(s);
	while (atomic_load_acquire(&early_phase) != 2)
		thread_sleep_ns(1000000ull);
	EXPECT_FALSE(t, READ_ONCE(s->on_sleep_list));
	thread_join(s);
	EXPECT_LT(t, arch_time_ns() - start, 2000000000ull);
}

static uint32_t ran_on_cpu[CPU_MAX];

static void record_cpu(void *arg)
{
	(void)arg;
	atomic_fetch_add(&ran_on_cpu[arch_cpu_id()], 1);
	thread_yield();
	atomic_fetch_add(&ran_on_cpu[arch_cpu_id()], 1); /* still there after a switch */
}

static void threads_stay_pinned(struct ktest *t)
{
	memset(ran_on_cpu, 0, sizeof(ran_on_cpu));
	cpumask_t on = cpumask_read(&cpu_online_mask);
	struct thread *th[CPU_MAX] = {0};
	for_each_cpu(c, on) th[c] = thread_create("pinned", c, record_cpu, NULL);
	for_each_cpu(c, on) if (th[c]) thread_join(th[c]);
	for_each_cpu(c, on) EXPECT_EQ(t, ran_on_cpu[c], 2u);
}

static const struct ktest_case sched_cases[] = {
    KTEST_CASE(preemption_shares_a_cpu),
    KTEST_CASE(sleep_lasts_at_least_its_time),
    KTEST_CASE(wait_queue_wakes_every_waiter),
    /* 2 threads x 200 rounds per CPU, each hand-over an IPI: linear in CPUs. */
    KTEST_CASE_TIMEOUT_CPUS(mutex_excludes_across_cpus, 5000, 2000),
    KTEST_CASE_TIMEOUT_CPUS(mutex_unlock_wakes_one_waiter_in_order, 2000, 500),
    KTEST_CASE_TIMEOUT(early_wake_leaves_the_sleep_list, 5000),
    KTEST_CASE(threads_stay_pinned),
    KTEST_END,
};
KTEST_SUITE(sched_suite, "sched", sched_cases);
