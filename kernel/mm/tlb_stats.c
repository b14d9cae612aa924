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
		t.requests_received += c->requests_received;
		t.remote_targets += c->remote_targets;
		t.local_page_flushes += c->local_page_flushes;
		t.local_ranged += c->local_ranged;
		t.local_full_flushes += c->local_full_flushes;
		t.broadcasts += c->broadcasts;
		t.broadcast_pages += c->broadcast_pages;
		t.broadcast_ranges += c->broadcast_ranges;
		t.broadcast_full += c->broadcast_full;
		t.broadcast_ns += c->broadcast_ns;
		t.ring_merges += c->ring_merges;
		t.ring_overruns += c->ring_overruns;
		t.switch_catch_ups += c->switch_catch_ups;
		t.switch_full_flushes += c->switch_full_flushes;
		t.unload_full_flushes += c->unload_full_flushes;
		t.skipped_by_gen += c->skipped_by_gen;
		t.not_loaded += c->not_loaded;
		t.lazy_skipped += c->lazy_skipped;
		t.switched_away_skipped += c->switched_away_skipped;
		t.completed_skips += c->completed_skips;
		t.kernel_requests += c->kernel_requests;
		t.kernel_broadcasts += c->kernel_broadcasts;
		t.kernel_flushes += c->kernel_flushes;
	}
	return t;
}

void tlb_count_completed_skip(void)
{
	/* Interrupts off: the thread stays on the CPU whose counter it writes. */
	irqflags_t flags = arch_irq_save();
	tlb_cpu_counters[arch_cpu_id()].completed_skips++;
	arch_irq_restore(flags);
}

#define U(field) ((unsigned long)c->field)

static void print_one(const char *who, const struct tlb_counters *c, const struct xcall_stats *x)
{
	printk("tlb %s: ipis sent %lu recv %lu, waits halted %lu (wakes sent %lu recv %lu), "
	       "requests %lu recv %lu (merged into queues %lu); "
	       "invalidations: page %lu, full %lu (ranged flushes %lu), switch-in full %lu, "
	       "unload full %lu; broadcast: %lu requests, page %lu, range %lu, full %lu",
	       who, (unsigned long)x->ipis_sent, (unsigned long)x->ipis_received,
	       (unsigned long)x->halts, (unsigned long)x->wakes_sent,
	       (unsigned long)x->wakes_received, U(requests), U(requests_received),
	       (unsigned long)x->requests_coalesced, U(local_page_flushes), U(local_full_flushes),
	       U(local_ranged), U(switch_full_flushes), U(unload_full_flushes), U(broadcasts),
	       U(broadcast_pages), U(broadcast_ranges), U(broadcast_full));
	printk("tlb %s: skipped: already done %lu, not loaded %lu, lazy %lu, switched away %lu, "
	       "covered by a completed generation %lu; catch-ups: ring merges %lu, overruns %lu, "
	       "at switch-in %lu",
	       who, U(skipped_by_gen), U(not_loaded), U(lazy_skipped), U(switched_away_skipped),
	       U(completed_skips), U(ring_merges), U(ring_overruns), U(switch_catch_ups));
}

#undef U

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
