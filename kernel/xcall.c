// SPDX-License-Identifier: BSD-2-Clause
/*
 * Cross-CPU calls over per-(target, initiator) request slots.
 *
 * Ordering: the initiator fills fn/arg, marks the slot busy (release), then
 * sets its bit in the target's pending mask with a sequentially consistent
 * RMW. The target takes the whole mask with an atomic exchange before
 * reading any slot, so it sees fn/arg of every bit it took. It clears
 * `busy` with a release store after fn returns, which is what a waiting
 * initiator acquires: everything fn did is visible to the initiator once
 * it sees busy == 0.
 *
 * Halting waits: a waiter whose caller had interrupts enabled spins for
 * `xcall.spin_us`, then halts until an interrupt. Its `halted` flag (the
 * target it waits for) and the slot's `busy` are a store-buffering pair:
 * the waiter stores halted = target + 1, fences, then reads busy; the
 * target stores busy = 0, fences, then reads halted. One of them sees the other's store, so either the waiter does not
 * halt or the target sends it IPI_WAKE: a halted waiter is never left to the
 * next tick. The halt itself (arch_cpu_idle) takes any interrupt already
 * pending, so a wake sent between the check and the halt is not lost.
 */
#include "kernel/xcall.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"

struct xcall_slot {
	xcall_fn fn;
	void *arg;
	uint32_t busy;
} __aligned(64);

struct xcall_queue {
	uint64_t pending; /* bit i: initiator i posted into slots[this][i] */
	uint32_t halted;  /* t + 1: halted waiting for target t, which wakes it; 0: not halted */
	struct xcall_stats stats;
} __aligned(64);

static struct xcall_slot slots[CPU_MAX][CPU_MAX]; /* [target][initiator] */
static struct xcall_queue queues[CPU_MAX];
/* Test-only (xcall.break=drain_early): xcall_drain() returns without waiting. */
static bool break_drain_early;
/* Test-only (xcall.break=no_wake): a target never wakes a halted waiter. */
static bool break_no_wake;
/* How long a waiter spins before it halts; UINT64_MAX (until xcall_setup): never. */
static uint64_t spin_ns = UINT64_MAX;

/* The words of `xcall.break=`, in this order. */
enum xcall_cmdline_break { XCALL_BREAK_NONE, XCALL_BREAK_DRAIN_EARLY, XCALL_BREAK_NO_WAKE };
CMDLINE_PARAM(xcall_break_param, .key = "xcall.break", .kind = CMDLINE_ENUM,
	      .values = "none|drain_early|no_wake", .def = "none",
	      .help = "test-only: break the cross-call layer (tests must then fail)");
/*
 * 1000 us: ten times a round trip to a target that is running (5-90 us
 * under TCG, a whole-mm flush on a halted resident the slowest), so that a
 * short host hiccup costs no wake IPI, and shorter than the waits of 16
 * vCPUs on 2 host cores, several host time slices, where halting pays.
 * docs/xcall.md and docs/benchmarks.md have the measurements.
 */
CMDLINE_PARAM(xcall_spin_param, .key = "xcall.spin_us", .kind = CMDLINE_U64, .min = 0,
	      .max = 1000000000, .def = "1000",
	      .help = "microseconds a cross-call waiter spins before it halts until an "
		      "interrupt (1000000000: never halts)");

void xcall_setup(void)
{
	enum xcall_cmdline_break b = cmdline_enum("xcall.break");
	if (b == XCALL_BREAK_DRAIN_EARLY) {
		break_drain_early = true;
		printk("xcall: WARNING: xcall_drain() does not wait (xcall.break=drain_early): "
		       "tests must fail");
	} else if (b == XCALL_BREAK_NO_WAKE) {
		break_no_wake = true;
		printk("xcall: WARNING: halted waiters are not woken (xcall.break=no_wake): "
		       "tests must fail");
	}
	uint64_t us = cmdline_u64("xcall.spin_us");
	spin_ns = us >= 1000000000 ? UINT64_MAX : us * 1000;
}

uint64_t xcall_spin_ns(void)
{
	return spin_ns;
}

/* After freeing slots[me][from]: if `from` halted waiting for that slot, wake it. */
static void xcall_wake_waiter(unsigned me, unsigned from)
{
	if (spin_ns == UINT64_MAX)
		return; /* nobody halts */
	smp_mb();	/* busy = 0 before reading halted: see the file comment */
	if (atomic_load_relaxed(&queues[from].halted) != me + 1 || break_no_wake)
		return;
	queues[me].stats.wakes_sent++;
	arch_ipi_send(cpumask_of(from), IPI_WAKE);
}

/* Runs every request queued for this CPU; loops until the mask stays empty. */
static void xcall_run_pending(unsigned me)
{
	struct xcall_queue *q = &queues[me];
	uint64_t mask;
	while ((mask = atomic_exchange(&q->pending, 0)) != 0) {
		while (mask) {
			unsigned from = (unsigned)__builtin_ctzll(mask);
			mask &= mask - 1;
			struct xcall_slot *s = &slots[me][from];
			xcall_fn fn = s->fn;
			void *arg = s->arg;
			fn(arg);
			q->stats.requests_run++;
			atomic_store_release(&s->busy, 0);
			xcall_wake_waiter(me, from);
		}
	}
}

void xcall_handle_ipi(void)
{
	unsigned me = arch_cpu_id();
	queues[me].stats.ipis_received++;
	xcall_run_pending(me);
}

void xcall_handle_wake(void)
{
	queues[arch_cpu_id()].stats.wakes_received++;
}

/*
 * Halts until an interrupt, unless the slot was freed meanwhile. Called
 * with interrupts off; returns with them off, having taken whatever
 * interrupt ended the halt (a wake, a request, the tick).
 */
static void xcall_halt(unsigned me, unsigned target, struct xcall_slot *s)
{
	struct xcall_queue *q = &queues[me];
	/* Naming the target: the others finishing meanwhile need not wake us. */
	atomic_store_relaxed(&q->halted, target + 1);
	smp_mb(); /* halted before reading busy: see the file comment */
	if (atomic_load_relaxed(&s->busy)) {
		q->stats.halts++;
		arch_cpu_idle();
		arch_irq_disable();
	}
	atomic_store_relaxed(&q->halted, 0);
}

/*
 * Waits for one slot to be free, serving our own queue meanwhile. With
 * `may_halt` (the caller had interrupts enabled and preemption is off) it
 * halts after spinning for spin_ns: with more virtual CPUs than host cores,
 * a spinning waiter keeps the host core the target needs.
 */
static void xcall_wait_slot(unsigned me, unsigned target, bool may_halt)
{
	struct xcall_slot *s = &slots[target][me];
	uint64_t halt_at = 0;
	while (atomic_load_acquire(&s->busy)) {
		xcall_run_pending(me);
		if (may_halt) {
			uint64_t now = arch_time_ns();
			if (!halt_at)
				halt_at = spin_ns == UINT64_MAX ? UINT64_MAX : now + spin_ns;
			else if (now >= halt_at)
				xcall_halt(me, target, s);
		}
		arch_cpu_relax();
	}
}

void xcall(cpumask_t targets, xcall_fn fn, void *arg, enum xcall_flags flags)
{
	/*
	 * Interrupts may be taken while halted only if the caller allowed them;
	 * preemption stays off so the thread cannot move while `me` is in use.
	 */
	bool may_halt = arch_irq_enabled();
	preempt_disable();
	irqflags_t irq = arch_irq_save();
	unsigned me = arch_cpu_id();
	struct xcall_queue *q = &queues[me];
	cpumask_t remote = cpumask_and(targets, cpumask_read(&cpu_online_mask));
	cpumask_clear(&remote, me);
	cpumask_t kick = CPUMASK_NONE;

	for_each_cpu(t, remote) {
		struct xcall_slot *s = &slots[t][me];
		xcall_wait_slot(me, t, may_halt);
		s->fn = fn;
		s->arg = arg;
		atomic_store_release(&s->busy, 1);
		q->stats.requests_posted++;
		if (atomic_fetch_or(&queues[t].pending, 1ull << me) == 0)
			cpumask_set(&kick, t);
		else
			q->stats.requests_coalesced++;
	}
	if (!cpumask_empty(kick)) {
		q->stats.ipis_sent += cpumask_weight(kick);
		uint64_t start = arch_time_ns();
		arch_ipi_send(kick, IPI_CALL);
		q->stats.send_ns += arch_time_ns() - start;
	}
	/* Our own share runs while the remote CPUs run theirs. */
	if (cpumask_test(targets, me))
		fn(arg);
	if ((flags & XCALL_WAIT) && !cpumask_empty(remote)) {
		uint64_t start = arch_time_ns();
		for_each_cpu(t, remote) xcall_wait_slot(me, t, may_halt);
		q->stats.wait_ns += arch_time_ns() - start;
	}
	arch_irq_restore(irq);
	preempt_enable_resched(); /* a reschedule a halted wait's interrupt asked for */
}

void xcall_drain(void)
{
	if (break_drain_early)
		return; /* broken on purpose: requests posted may still be running */
	bool may_halt = arch_irq_enabled();
	preempt_disable();
	irqflags_t irq = arch_irq_save();
	unsigned me = arch_cpu_id();
	for (unsigned t = 0; t < CPU_MAX; t++)
		xcall_wait_slot(me, t, may_halt);
	arch_irq_restore(irq);
	preempt_enable_resched(); /* a reschedule a halted wait's interrupt asked for */
}

struct xcall_stats xcall_stats_cpu(unsigned cpu)
{
	struct xcall_stats s;
	const struct xcall_stats *src = &queues[cpu].stats;
	s.ipis_sent = atomic_load_relaxed(&src->ipis_sent);
	s.ipis_received = atomic_load_relaxed(&src->ipis_received);
	s.requests_posted = atomic_load_relaxed(&src->requests_posted);
	s.requests_run = atomic_load_relaxed(&src->requests_run);
	s.requests_coalesced = atomic_load_relaxed(&src->requests_coalesced);
	s.wait_ns = atomic_load_relaxed(&src->wait_ns);
	s.send_ns = atomic_load_relaxed(&src->send_ns);
	s.halts = atomic_load_relaxed(&src->halts);
	s.wakes_sent = atomic_load_relaxed(&src->wakes_sent);
	s.wakes_received = atomic_load_relaxed(&src->wakes_received);
	return s;
}

struct xcall_stats xcall_stats_total(void)
{
	struct xcall_stats total = {0};
	for (unsigned c = 0; c < CPU_MAX; c++) {
		struct xcall_stats s = xcall_stats_cpu(c);
		total.ipis_sent += s.ipis_sent;
		total.ipis_received += s.ipis_received;
		total.requests_posted += s.requests_posted;
		total.requests_run += s.requests_run;
		total.requests_coalesced += s.requests_coalesced;
		total.wait_ns += s.wait_ns;
		total.send_ns += s.send_ns;
		total.halts += s.halts;
		total.wakes_sent += s.wakes_sent;
		total.wakes_received += s.wakes_received;
	}
	return total;
}
