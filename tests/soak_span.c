// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's widened windows (`soak.widen=<us>`, docs/reliability.md):
 * what it takes for the soak to reach three races that a one-page change
 * and a switch every 100 ms never do.
 *
 * Spans: each soak thread owns SOAK_SPAN pages that straddle the boundary
 * of two leaf tables (half in each), changed together by one vm_* call
 * now and then, so one gather defers two tables. A pinned page at the far
 * end of each table keeps the tables from emptying (a freed table makes
 * the request a fresh whole-mm one, which would hide the race). No gather
 * batch page can be allocated while the soak runs widened
 * (mm_fail_site_always), so a span's unmap runs out of gather room after
 * half its pages and settles early.
 *
 * The windows (kernel/mm/tlb.h, tlb_window_hook): after a span's first
 * deferral its owner holds the page-table lock for `soak.widen`
 * microseconds before walking the second table. Meanwhile the soak thread
 * of an even CPU that saw the change begin has switched its CPU to the
 * other mm (interrupts off, as a scheduler switch would); it switches back
 * in, and on an untagged TLB right after its root load reads one page of
 * the span's second table, as the page walker may at any time, then waits
 * `soak.widen` too; its next access goes to that page. The soak thread of
 * an odd CPU reads the span's first table instead, whose frames an early
 * settle frees. On the correct kernel every such entry is flushed before
 * the span's change returns (the second deferral bumps past the generation
 * the CPU stands at; the CPU read the generation before its root load; an
 * early settle flushes before it frees).
 *
 * One-page unmaps and downgrades are widened too, in tlb=gen with IPIs
 * (where a completed generation lets a gather skip its flush): their owner
 * invites the other threads to the page before the change (soak_change.c),
 * and once the change is made and published, holds the gather's flush decision
 * (TLB_WINDOW_FLUSHING) open for `soak.widen`, while the readers still hold
 * the page's entry and the other threads ask for live mode switches
 * (soak_mode.c). On the correct kernel nothing may complete the gather's
 * generation before its flush: tlb.break=mode_switch_ignores_users does.
 *
 * Invariants: the hook acts only for the soak's mm, only on a CPU whose
 * soak thread is changing a span (the deferral) or is switching back in
 * (the fill) or is making a one-page change (the flush hold); it never
 * takes a lock and a fill that faults is fixed up in place. Nothing here
 * runs unless `soak.widen` is set.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/entry.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/soak.h"

CMDLINE_PARAM(soak_widen_param, .key = "soak.widen", .kind = CMDLINE_U64, .min = 0, .max = 5000,
	      .def = "0",
	      .help = "test-only: the soak's spans, switch-ins and widened TLB windows, each "
		      "held open this many microseconds (0: off)");

#define SOAK_AWAY_WAIT_NS 2000000ull /* at most, switched away, for a span's window */

static struct {
	uint64_t widen_ns; /* 0: off */
	struct mm *mm, *other;
	uint32_t spans_active; /* span changes in progress */
	uint32_t windows;      /* first deferrals of span changes, so far */
	uint32_t window_first; /* the first page of the last span changed */
	uint32_t flush_holds;  /* one-page changes' flush decisions held open */
	uint32_t holds_active; /* ... now */
	uint32_t away_holds;   /* tagged switches away held with the old root loaded */
	struct {
		bool spanning;	    /* this CPU's soak thread is changing its span */
		unsigned deferrals; /* in that change, so far */
		bool away;	    /* it is switching back in: fill `fill_slot` */
		bool holding;	    /* it is making a one-page change: hold its flush */
		unsigned fill_slot;
	} cpu[CPU_MAX];
	uint64_t aways, hits, fills, fill_faults; /* counts, for the last line */
	uint64_t batch_failures_before;
} span;

/* A page of the span's second table (the first SOAK_SPAN / 2 are in the first). */
static unsigned second_table_slot(unsigned first, uint64_t dice)
{
	return first + SOAK_SPAN / 2 + (unsigned)(dice % (SOAK_SPAN / 2));
}

static void fill_read(void *arg)
{
	(void)*(volatile uint64_t *)arg;
}

static void window_hook(enum tlb_window where, struct mm *mm)
{
	if (mm != span.mm)
		return;
	unsigned me = arch_cpu_id();
	if (where == TLB_WINDOW_DEFERRED) {
		if (!span.cpu[me].spanning || span.cpu[me].deferrals++)
			return;
		/* The first table is published, the second not yet walked: hold it open. */
		atomic_fetch_add(&span.windows, 1);
		time_delay_ns(span.widen_ns);
		return;
	}
	if (where == TLB_WINDOW_SWITCHING_AWAY) {
		/*
		 * Left the mm: on arm64 its root is off since the switch began
		 * (mm_switch), but a walk begun before may still finish through
		 * it until the new root is loaded. Hold the window until a table
		 * of it is freed (at most SOAK_AWAY_WAIT_NS). Only the shadow
		 * TLB can see such a walk (QEMU caches no table).
		 */
		if (!tlb_shadow_on || soak_shadow_churning())
			return; /* churning: a rollover in the hold may move the mm's id */
		uint64_t freed = atomic_load_relaxed(&gather_stats.tables_freed);
		uint64_t until = arch_time_ns() + SOAK_AWAY_WAIT_NS;
		/* Walks under way when the root went off, ahead of any access. */
		for (unsigned i = 0; i < soak_nr_slots(); i++)
			tlb_shadow_fill(soak_va(i));
		atomic_fetch_add(&span.away_holds, 1);
		while (atomic_load_relaxed(&gather_stats.tables_freed) == freed &&
		       arch_time_ns() < until)
			arch_cpu_relax();
		return;
	}
	if (where == TLB_WINDOW_FLUSHING) {
		if (!span.cpu[me].holding || soak_stage_hold())
			return;
		/* Published under its deferral, flush not yet decided: hold it open. */
		atomic_fetch_add(&span.flush_holds, 1);
		atomic_fetch_add(&span.holds_active, 1);
		time_delay_ns(span.widen_ns);
		atomic_fetch_sub(&span.holds_active, 1);
		return;
	}
	if (!span.cpu[me].away)
		return;
	/* Right after the root load: the walker fills an entry, then the window stays open. */
	struct fault_info f;
	bool faulted = ktest_expect_fault(fill_read, (void *)soak_va(span.cpu[me].fill_slot), &f);
	atomic_fetch_add(&span.fills, 1);
	atomic_fetch_add(&span.fill_faults, faulted);
	time_delay_ns(span.widen_ns);
}

bool soak_span_start(struct mm *other)
{
	memset(&span, 0, sizeof(span));
	span.widen_ns = cmdline_u64("soak.widen") * 1000;
	if (!span.widen_ns)
		return false;
	span.other = other;
	span.batch_failures_before = gather_stats.batch_alloc_failures;
	mm_fail_site_always(MM_ALLOC_BATCH, true);
	WRITE_ONCE(tlb_window_hook, window_hook);
	printk("soak: widened: spans of %u pages, no gather batch pages, windows held %lu us",
	       SOAK_SPAN, (unsigned long)(span.widen_ns / 1000));
	return true;
}

void soak_span_stop(struct soak_span_counts *c)
{
	*c = (struct soak_span_counts){0};
	if (!span.widen_ns)
		return;
	WRITE_ONCE(tlb_window_hook, NULL);
	mm_fail_site_always(MM_ALLOC_BATCH, false);
	*c = (struct soak_span_counts){.windows = span.windows,
				       .aways = span.aways,
				       .hits = span.hits,
				       .fills = span.fills,
				       .flush_holds = span.flush_holds,
				       .early_settles = gather_stats.batch_alloc_failures -
							span.batch_failures_before};
	printk("soak: widened: %lu span windows, %lu early settles; %lu switches away for a "
	       "window, %lu came back in one, %lu fills (%lu faulted); %lu flushes held; %lu "
	       "tagged switches away held",
	       (unsigned long)c->windows, (unsigned long)c->early_settles, (unsigned long)c->aways,
	       (unsigned long)c->hits, (unsigned long)c->fills, (unsigned long)span.fill_faults,
	       (unsigned long)c->flush_holds, (unsigned long)span.away_holds);
	span.widen_ns = 0; /* stopped: the suite's exit hook calls this again */
}

int soak_span_epoch_begin(struct mm *mm, unsigned threads)
{
	span.mm = mm;
	for (unsigned t = 0; t < threads; t++) {
		virt_addr_t pins[2] = {SOAK_SPAN_TABLES(t),
				       SOAK_SPAN_TABLES(t) + MiB(4) - PAGE_SIZE};
		for (unsigned i = 0; i < 2; i++) {
			int err = vm_map_anon(mm, pins[i], PAGE_SIZE, PT_READ | PT_WRITE);
			if (!err)
				err = vm_populate(mm, pins[i], PAGE_SIZE);
			if (err)
				return err;
		}
	}
	return 0;
}

void soak_span_change_begin(unsigned first)
{
	unsigned me = arch_cpu_id();
	span.cpu[me].deferrals = 0;
	WRITE_ONCE(span.window_first, first);
	span.cpu[me].spanning = true;
	atomic_fetch_add(&span.spans_active, 1);
}

void soak_span_change_end(void)
{
	atomic_fetch_sub(&span.spans_active, 1);
	span.cpu[arch_cpu_id()].spanning = false;
}

bool soak_span_single_begin(void)
{
	/* Only where a completed generation can let a gather skip its flush (gather.c). */
	bool hold = span.widen_ns && tlb_mode == TLB_MODE_GEN && !tlb_broadcast;
	span.cpu[arch_cpu_id()].holding = hold;
	return hold;
}

void soak_span_single_end(void)
{
	span.cpu[arch_cpu_id()].holding = false;
}

bool soak_span_flush_held(void)
{
	return atomic_load_relaxed(&span.holds_active) != 0;
}

/* Even CPUs: switch away, wait for the window, switch back in (filling a page of the second table).
 */
static unsigned away_and_back(unsigned me, uint64_t *rng)
{
	uint32_t before = atomic_load_acquire(&span.windows);
	irqflags_t flags = arch_irq_save();
	mm_switch(span.other);
	uint64_t deadline = arch_time_ns() + SOAK_AWAY_WAIT_NS;
	while (atomic_load_acquire(&span.windows) == before && arch_time_ns() < deadline)
		arch_cpu_relax();
	bool hit = atomic_load_acquire(&span.windows) != before;
	unsigned fill = second_table_slot(READ_ONCE(span.window_first), soak_rng_next(rng));
	span.cpu[me].fill_slot = fill;
	span.cpu[me].away = true;
	mm_switch(span.mm);
	span.cpu[me].away = false;
	arch_irq_restore(flags);
	atomic_fetch_add(&span.aways, 1);
	atomic_fetch_add(&span.hits, hit);
	return fill;
}

bool soak_span_pick(uint64_t *rng, unsigned *slot)
{
	unsigned me = arch_cpu_id();
	if (!span.widen_ns || span.cpu[me].spanning || !atomic_load_relaxed(&span.spans_active))
		return false;
	/*
	 * tlb=mmgen defers nothing: no window. Away at every access while a
	 * span change is in flight: going away once per change made the
	 * switch_order catch rare (31 switches back in a window in 3,000
	 * cycles, against 181), and the span changes counted here (unmaps
	 * and downgrades) all open a window, so the wait is short.
	 */
	if (me % 2 == 0 && tlb_mode == TLB_MODE_GEN) {
		*slot = away_and_back(me, rng);
		return true;
	}
	/* Odd CPUs stay and read the first table, whose frames an early settle frees. */
	*slot = READ_ONCE(span.window_first) + (unsigned)(soak_rng_next(rng) % (SOAK_SPAN / 2));
	return true;
}
