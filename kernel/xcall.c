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
 */
#include "kernel/xcall.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

struct xcall_slot {
	xcall_fn fn;
	void *arg;
	uint32_t busy;
} __aligned(64);

struct xcall_queue {
	uint64_t pending; /* bit i: initiator i posted into slots[this][i] */
	struct xcall_stats stats;
} __aligned(64);

static struct xcall_slot slots[CPU_MAX][CPU_MAX]; /* [target][initiator] */
static struct xcall_queue queues[CPU_MAX];
/* Test-only (xcall.break=drain_early): xcall_drain() returns without waiting. */
static bool break_drain_early;

/* The words of `xcall.break=`, in this order. */
enum xcall_cmdline_break { XCALL_BREAK_NONE, XCALL_BREAK_DRAIN_EARLY };
CMDLINE_PARAM(xcall_break_param, .key = "xcall.break", .kind = CMDLINE_ENUM,
	      .values = "none|drain_early", .def = "none",
	      .help = "test-only: break the cross-call layer (tests must then fail)");

void xcall_setup(void)
{
	if (cmdline_enum("xcall.break") == XCALL_BREAK_DRAIN_EARLY) {
		break_drain_early = true;
		printk("xcall: WARNING: xcall_drain() does not wait (xcall.break=drain_early): "
		       "tests must fail");
	}
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
		}
	}
}

void xcall_handle_ipi(void)
{
	unsigned me = arch_cpu_id();
	queues[me].stats.ipis_received++;
	xcall_run_pending(me);
}

/* Waits for one slot to be free, serving our own queue meanwhile. */
static void xcall_wait_slot(unsigned me, struct xcall_slot *s)
{
	while (atomic_load_acquire(&s->busy)) {
		xcall_run_pending(me);
		arch_cpu_relax();
	}
}

void xcall(cpumask_t targets, xcall_fn fn, void *arg, enum xcall_flags flags)
{
	irqflags_t irq = arch_irq_save();
	unsigned me = arch_cpu_id();
	struct xcall_queue *q = &queues[me];
	cpumask_t remote = cpumask_and(targets, cpumask_read(&cpu_online_mask));
	cpumask_clear(&remote, me);
	cpumask_t kick = CPUMASK_NONE;

	for_each_cpu(t, remote) {
		struct xcall_slot *s = &slots[t][me];
		xcall_wait_slot(me, s);
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
		for_each_cpu(t, remote) xcall_wait_slot(me, &slots[t][me]);
		q->stats.wait_ns += arch_time_ns() - start;
	}
	arch_irq_restore(irq);
}

void xcall_drain(void)
{
	if (break_drain_early)
		return; /* broken on purpose: requests posted may still be running */
	irqflags_t irq = arch_irq_save();
	unsigned me = arch_cpu_id();
	for (unsigned t = 0; t < CPU_MAX; t++)
		xcall_wait_slot(me, &slots[t][me]);
	arch_irq_restore(irq);
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
	}
	return total;
}
