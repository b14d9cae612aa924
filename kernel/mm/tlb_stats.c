// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the TLB layer counts and traces, for reports, tests and benchmarks:
 * every CPU's struct tlb_counters (tlb.h says what each field counts), their
 * sum, the per-CPU report tlb_counters_print() prints, and a tiny event
 * trace of flushes and frees that the gather tests read to check the
 * unhook -> flush -> free order. Nothing here decides what is flushed.
 *
 * Invariants: each CPU writes only its own counters (tlb_cpu_counters[cpu]),
 * so they need no lock; a total read while CPUs flush is a snapshot of
 * each counter, not of them all at once. The trace records at most its
 * buffer's capacity, in the order the events claimed their slots.
 */
#include "kernel/mm/tlb_internal.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/xcall.h"
#include "lib/fmt.h"

struct tlb_counters tlb_cpu_counters[CPU_MAX];

/* ---- Counters -------------------------------------------------------------- */

struct tlb_counters tlb_counters_cpu(unsigned cpu)
{
	return tlb_cpu_counters[cpu];
}

struct tlb_counters tlb_counters_total(void)
{
	struct tlb_counters t = {0};
	for (unsigned i = 0; i < CPU_MAX; i++) {
		const struct tlb_counters *c = &tlb_cpu_counters[i];
		t.requests += c->requests;
		t.remote_targets += c->remote_targets;
		t.lazy_skipped += c->lazy_skipped;
		t.local_page_flushes += c->local_page_flushes;
		t.local_ranged += c->local_ranged;
		t.local_full_flushes += c->local_full_flushes;
		t.not_loaded += c->not_loaded;
		t.skipped_by_gen += c->skipped_by_gen;
		t.ring_merges += c->ring_merges;
		t.ring_overruns += c->ring_overruns;
		t.completed_skips += c->completed_skips;
		t.broadcasts += c->broadcasts;
		t.switched_away_skipped += c->switched_away_skipped;
		t.switch_catch_ups += c->switch_catch_ups;
		t.switch_full_flushes += c->switch_full_flushes;
		t.kernel_requests += c->kernel_requests;
		t.kernel_broadcasts += c->kernel_broadcasts;
		t.kernel_flushes += c->kernel_flushes;
	}
	return t;
}

static void print_one(const char *who, const struct tlb_counters *c, const struct xcall_stats *x)
{
	printk("tlb %s: ipis sent %lu recv %lu, requests %lu (merged into queues %lu), ranged %lu, "
	       "full %lu, skipped by gen %lu, ring merges %lu, overruns %lu, lazy skipped %lu, "
	       "completed skips %lu, broadcasts %lu",
	       who, (unsigned long)x->ipis_sent, (unsigned long)x->ipis_received,
	       (unsigned long)c->requests, (unsigned long)x->requests_coalesced,
	       (unsigned long)c->local_ranged, (unsigned long)c->local_full_flushes,
	       (unsigned long)c->skipped_by_gen, (unsigned long)c->ring_merges,
	       (unsigned long)c->ring_overruns, (unsigned long)c->lazy_skipped,
	       (unsigned long)c->completed_skips, (unsigned long)c->broadcasts);
}

void tlb_counters_print(void)
{
	char who[8];
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(cpu, on)
	{
		struct xcall_stats x = xcall_stats_cpu(cpu);
		snprintf(who, sizeof(who), "cpu%u", cpu); /* two digits from cpu10 on */
		print_one(who, &tlb_cpu_counters[cpu], &x);
	}
	struct tlb_counters t = tlb_counters_total();
	struct xcall_stats x = xcall_stats_total();
	print_one("total", &t, &x);
}

/* ---- Trace (tests) --------------------------------------------------------- */

static struct tlb_trace_event *trace_buf;
static unsigned trace_cap, trace_len;

void tlb_trace_start(struct tlb_trace_event *buf, unsigned capacity)
{
	trace_len = 0;
	trace_cap = capacity;
	atomic_store_release(&trace_buf, buf);
}

unsigned tlb_trace_stop(void)
{
	atomic_store_release(&trace_buf, NULL);
	return MIN(trace_len, trace_cap);
}

void tlb_trace_event(enum tlb_trace_kind kind, uint64_t arg)
{
	struct tlb_trace_event *buf = atomic_load_acquire(&trace_buf);
	if (!buf)
		return;
	unsigned i = atomic_fetch_add(&trace_len, 1);
	if (i < trace_cap)
		buf[i] = (struct tlb_trace_event){kind, arg};
}
