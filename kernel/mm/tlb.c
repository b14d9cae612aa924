// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shootdown engine with TLB generations (the rules are in tlb.h; the
 * timeline is drawn in docs/tlb.md).
 *
 * Every comparison of generations here reads "a >= b: a has caught up to b".
 * A CPU's generation only moves forward, and only to a value of the mm's
 * generation that it read after the flush it did for it.
 */
#include "kernel/mm/tlb.h"
#include "kernel/cmdline.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/xcall.h"
#include "lib/fmt.h"

struct tlb_cpu_state tlb_cpu[CPU_MAX];
static struct tlb_counters counters[CPU_MAX];
enum tlb_mode tlb_mode = TLB_MODE_GEN;
bool tlb_broadcast;
enum tlb_break tlb_broken;

/* ---- The ring of recent generations --------------------------------------- */

static void ring_write(struct mm *mm, uint64_t gen, virt_addr_t start, virt_addr_t end,
		       unsigned stride_shift, bool freed_tables)
{
	struct tlb_ring_entry *e = &mm->ring[gen % TLB_RING_SIZE];
	atomic_store_relaxed(&e->seq, 2 * gen + 1);
	smp_wmb();
	e->start = start;
	e->end = end;
	e->stride_shift = stride_shift;
	e->freed_tables = freed_tables;
	atomic_store_release(&e->seq, 2 * gen + 2);
}

/* Reads generation `gen`'s entry; false when it was overwritten or is still being written. */
static bool ring_read(struct mm *mm, uint64_t gen, struct tlb_ring_entry *out)
{
	const struct tlb_ring_entry *e = &mm->ring[gen % TLB_RING_SIZE];
	uint64_t seq = atomic_load_acquire(&e->seq);
	if (seq != 2 * gen + 2)
		return false;
	out->start = READ_ONCE(e->start);
	out->end = READ_ONCE(e->end);
	out->stride_shift = READ_ONCE(e->stride_shift);
	out->freed_tables = READ_ONCE(e->freed_tables);
	smp_rmb();
	return atomic_load_relaxed(&e->seq) == seq;
}

uint64_t tlb_gen_bump(struct mm *mm, virt_addr_t start, virt_addr_t end, unsigned stride_shift,
		      bool freed_tables)
{
	/* The table changes before this point are what the new generation stands for. */
	smp_mb();
	uint64_t gen = atomic_add_return(&mm->tlb_gen, 1);
	if (tlb_mode == TLB_MODE_GEN)
		ring_write(mm, gen, start, end, stride_shift, freed_tables);
	return gen;
}

void tlb_gen_complete(struct mm *mm, uint64_t gen)
{
	uint64_t cur = atomic_load_relaxed(&mm->tlb_gen_completed);
	while (cur < gen && !atomic_cmpxchg(&mm->tlb_gen_completed, &cur, gen))
		;
}

bool pt_table_flush_pending(struct mm *mm, phys_addr_t table)
{
	struct page *p = frame_to_page(table);
	if (!p)
		return true; /* unknown: assume the worst */
	/* Pending while the table's deferred generation is newer than what completed. */
	return atomic_load_acquire(&p->pt_tlb_gen) > atomic_load_acquire(&mm->tlb_gen_completed);
}

/* ---- Flushing on one CPU --------------------------------------------------- */

struct flush_range {
	virt_addr_t start, end;
	unsigned stride_shift;
	bool all;
};

static void flush_local(struct mm *mm, const struct flush_range *r)
{
	struct tlb_counters *c = &counters[arch_cpu_id()];
	unsigned asid = asid_hw(mm);
	uint64_t pages = r->all ? 0 : (r->end - r->start) >> r->stride_shift;
	if (r->all || pages > arch_tlb_caps()->range_max_pages) {
		arch_tlb_flush_user_all(asid);
		c->local_full_flushes++;
		return;
	}
	for (virt_addr_t va = r->start; va < r->end; va += 1ull << r->stride_shift)
		arch_tlb_flush_user_page(asid, va);
	c->local_page_flushes += pages;
	c->local_ranged++;
}

/*
 * Brings this CPU from `local` to mm's current generation. Each generation
 * missed since `local` left its range in the ring; if every one of them is
 * still there and together they cover at most the caps' range_max_pages,
 * they are flushed one by one (merging the lagging requests; the request in
 * hand is among them, since every generation is published in the ring when
 * it is bumped). Otherwise (an overwritten entry, freed tables, too many
 * pages, or `extra` asking for everything) the whole mm is flushed.
 * Returns the generation reached.
 */
static uint64_t catch_up(struct mm *mm, uint64_t local, const struct flush_range *extra)
{
	struct tlb_counters *c = &counters[arch_cpu_id()];
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (tlb_broken_is(TLB_BREAK_CATCH_UP_SKIPS_RING) && tlb_mode == TLB_MODE_GEN) {
		/* Broken on purpose: the generations missed before the request are not replayed. */
		if (extra)
			flush_local(mm, extra);
		return now;
	}
	struct flush_range ranges[TLB_RING_SIZE + 1];
	unsigned n = 0;
	uint64_t pages = 0;
	bool merged = tlb_mode == TLB_MODE_GEN && local != 0 && now - local <= TLB_RING_SIZE &&
		      !(extra && extra->all);
	for (uint64_t g = local + 1; merged && g <= now; g++) {
		struct tlb_ring_entry e;
		if (!ring_read(mm, g, &e)) {
			c->ring_overruns++;
			merged = false;
			break;
		}
		if (e.freed_tables) {
			merged = false;
			break;
		}
		ranges[n++] = (struct flush_range){e.start, e.end, e.stride_shift, false};
		pages += (e.end - e.start) >> e.stride_shift;
	}
	if (!merged || pages > arch_tlb_caps()->range_max_pages) {
		struct flush_range all = {.all = true};
		flush_local(mm, &all);
		return now;
	}
	for (unsigned i = 0; i < n; i++)
		flush_local(mm, &ranges[i]);
	c->ring_merges++;
	return now;
}

static void flush_here(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &counters[me];
	struct tlb_cpu_state *s = &tlb_cpu[me];
	struct mm *mm = req->mm;
	bool loaded = s->loaded == mm;
	if (!arch_mm_holds_translations(asid_hw(mm), loaded)) {
		c->not_loaded++;
		return;
	}
	if (!loaded) {
		/* Tagged TLB, switched away: a plain flush of the request (catch-up happens at switch-in). */
		struct flush_range r = {req->start, req->end, req->stride_shift,
					req->full || req->freed_tables};
		flush_local(mm, &r);
		return;
	}
	uint64_t local = s->gen;
	if (local >= req->gen) {
		c->skipped_by_gen++;
		return;
	}
	struct flush_range r = {req->start, req->end, req->stride_shift,
				req->full || req->freed_tables};
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (req->gen == local + 1 && req->gen == now) {
		flush_local(mm, &r);
		s->gen = req->gen;
		return;
	}
	s->gen = catch_up(mm, local, &r);
}

static void flush_handler(void *arg)
{
	flush_here(arg);
}

void tlb_flush_mm_range(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &counters[me];
	struct mm *mm = req->mm;
	if (tlb_broadcast) {
		uint64_t pages = (req->end - req->start) >> req->stride_shift;
		bool all =
		    req->full || req->freed_tables || pages > arch_tlb_caps()->range_max_pages;
		arch_tlb_broadcast_user(asid_hw(mm), req->start, req->end, req->stride_shift, all);
		c->requests++;
		c->broadcasts++;
		return;
	}
	/* The request's generation was bumped before this point: now read who may need it. */
	smp_mb();
	cpumask_t targets = cpumask_read(&mm->cpus);
	cpumask_set(&targets, me);
	bool freed = req->freed_tables && !tlb_broken_is(TLB_BREAK_SKIP_LAZY_ALWAYS);
	for_each_cpu(cpu, targets)
	{
		if (cpu == me)
			continue;
		if (!arch_tlb_caps()->switch_flushes &&
		    atomic_load_acquire(&tlb_cpu[cpu].loaded) != mm) {
			/*
			 * Switched away (tagged TLB): it flushes this mm's id when it
			 * switches back in, before any use, so it is left stale
			 * instead of interrupted. Not on an untagged TLB: a CPU
			 * that has published its switch may not have loaded the new
			 * root yet, and tables may be freed after this request; it
			 * stays in the mask until the load, and waiting for its
			 * answer is what proves it has left our root. (It set `loaded` before that flush,
			 * and we changed the tables before reading `loaded`.)
			 */
			cpumask_clear(&targets, cpu);
			c->switched_away_skipped++;
			continue;
		}
		if (freed)
			continue;
		if (atomic_load_acquire(&tlb_cpu[cpu].lazy)) {
			/* It catches up by generation when it stops being lazy. */
			cpumask_clear(&targets, cpu);
			c->lazy_skipped++;
		}
	}
	c->requests++;
	c->remote_targets += cpumask_weight(targets) - 1;
	xcall(targets, flush_handler, (void *)req, XCALL_WAIT);
	/* Only worth the shared write when someone deferred and may be waiting on it. */
	if (atomic_load_relaxed(&mm->tlb_gen_deferred) > atomic_load_relaxed(&mm->tlb_gen_completed))
		tlb_gen_complete(mm, req->gen);
}

/* ---- Kernel mappings -------------------------------------------------------- */

struct kernel_flush {
	virt_addr_t start;
	uint64_t pages;
	bool all;
};

/* Runs with interrupts off (xcall, or the caller below): the counter is this CPU's alone. */
static void kernel_flush_here(void *arg)
{
	const struct kernel_flush *r = arg;
	counters[arch_cpu_id()].kernel_flushes++;
	if (r->all) {
		arch_tlb_flush_local_all();
		return;
	}
	for (uint64_t i = 0; i < r->pages; i++)
		arch_tlb_flush_local_page(r->start + (i << PAGE_SHIFT));
}

void tlb_flush_kernel_range(virt_addr_t start, uint64_t pages, bool all)
{
	struct kernel_flush r = {start, pages, all};
	irqflags_t flags = arch_irq_save();
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &counters[me];
	c->kernel_requests++;
	/* The tables changed before this point: read who is online only now (see tlb.h). */
	smp_mb();
	cpumask_t online = cpumask_read(&cpu_online_mask);
	cpumask_set(&online, me);
	if (cpumask_weight(online) == 1 || tlb_broken_is(TLB_BREAK_KERNEL_LOCAL_ONLY)) {
		kernel_flush_here(&r);
	} else if (tlb_broadcast) {
		arch_tlb_broadcast_kernel(start, pages, all);
		c->kernel_broadcasts++;
	} else {
		/* xcall serves requests to this CPU while it waits: interrupts off is fine. */
		xcall(online, kernel_flush_here, &r, XCALL_WAIT);
	}
	arch_irq_restore(flags);
}

/* ---- Switching ------------------------------------------------------------- */

void tlb_gen_loaded(unsigned cpu, uint64_t gen)
{
	tlb_cpu[cpu].gen = gen;
}

struct tlb_switch_test tlb_switch_test;

void tlb_switch_test_hook(struct mm *mm)
{
	struct tlb_switch_test *h = &tlb_switch_test;
	if (likely(READ_ONCE(h->mm) != mm) || h->cpu != arch_cpu_id())
		return;
	WRITE_ONCE(h->mm, NULL); /* one shot */
	h->fn(h->arg);
}

static struct tlb_slot *find_slot(struct tlb_cpu_state *s, struct mm *mm)
{
	for (unsigned i = 0; i < TLB_SLOTS; i++)
		if (s->slots[i].mm == mm && s->slots[i].asid == mm->asid)
			return &s->slots[i];
	return NULL;
}

void tlb_switch_tagged(unsigned cpu, struct mm *old, struct mm *mm)
{
	struct tlb_cpu_state *s = &tlb_cpu[cpu];
	struct tlb_counters *c = &counters[cpu];
	if (old) {
		struct tlb_slot *slot = find_slot(s, old);
		if (!slot) {
			slot = &s->slots[s->next_slot];
			s->next_slot = (s->next_slot + 1) % TLB_SLOTS;
		}
		*slot = (struct tlb_slot){old, old->asid, s->gen};
	}
	struct tlb_slot *slot = find_slot(s, mm);
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (slot && tlb_broken_is(TLB_BREAK_SWITCH_NO_CATCH_UP)) {
		s->gen = now; /* broken on purpose: the entries it kept are trusted as they are */
		return;
	}
	if (slot) {
		/* Its entries survived; replay what it missed while away. */
		s->gen = slot->gen < now ? catch_up(mm, slot->gen, NULL) : slot->gen;
		c->switch_catch_ups += slot->gen < now;
		return;
	}
	arch_tlb_flush_user_all(asid_hw(mm));
	c->switch_full_flushes++;
	s->gen = now;
}

void tlb_forget_mm(unsigned cpu, struct mm *mm)
{
	struct tlb_cpu_state *s = &tlb_cpu[cpu];
	for (unsigned i = 0; i < TLB_SLOTS; i++)
		if (s->slots[i].mm == mm)
			s->slots[i] = (struct tlb_slot){0};
}

void tlb_leave_lazy(unsigned cpu, struct mm *mm)
{
	atomic_store_relaxed(&tlb_cpu[cpu].lazy, false);
	/* Broken on purpose: what was skipped while lazy stays cached. */
	if (tlb_broken_is(TLB_BREAK_LAZY_NO_CATCH_UP))
		return;
	smp_mb(); /* clear lazy, then read the generation: see tlb.h */
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (tlb_cpu[cpu].gen < now)
		tlb_cpu[cpu].gen = catch_up(mm, tlb_cpu[cpu].gen, NULL);
}

/* ---- Counters -------------------------------------------------------------- */

struct tlb_counters tlb_counters_cpu(unsigned cpu)
{
	return counters[cpu];
}

struct tlb_counters tlb_counters_total(void)
{
	struct tlb_counters t = {0};
	for (unsigned i = 0; i < CPU_MAX; i++) {
		const struct tlb_counters *c = &counters[i];
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
		print_one(who, &counters[cpu], &x);
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

/* ---- Command line ----------------------------------------------------------- */

/* The words of `tlb=`, in enum tlb_cmdline_mode order. */
enum tlb_cmdline_mode { TLB_CMD_GEN, TLB_CMD_IPI, TLB_CMD_MMGEN, TLB_CMD_BROADCAST };
CMDLINE_PARAM(tlb_mode_param, .key = "tlb", .kind = CMDLINE_ENUM,
	      .values = "gen|ipi|mmgen|broadcast", .def = "broadcast",
	      .help = "shootdown: gen and ipi (generations, IPIs), mmgen (per-mm generations "
		      "only), broadcast (hardware broadcast where there is one, else gen)");
/* The words of `tlb.break=`, in enum tlb_break order (tlb.h). */
CMDLINE_PARAM(tlb_break_param, .key = "tlb.break", .kind = CMDLINE_ENUM,
	      .values = "none|free_before_flush|no_defer_bump|skip_lazy_always|asid_no_carry|"
			"switch_order|kernel_local_only|settle_no_flush|nested_blind|"
			"lazy_no_catch_up|switch_no_catch_up|catch_up_skips_ring|"
			"asid_forget_reserved|replace_no_flush",
	      .def = "none",
	      .help = "test-only: break one invariant of the TLB layer (tests must then fail)");
CMDLINE_PARAM(tlb_skip_flush_param, .key = "tlb.skip_flush", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: skip every gather's flush (the stale-TLB test must then fail)");

void tlb_setup(void)
{
	unsigned mode = cmdline_enum("tlb");
	tlb_broadcast = mode == TLB_CMD_BROADCAST && arch_tlb_caps()->broadcast;
	tlb_mode = mode == TLB_CMD_MMGEN ? TLB_MODE_MMGEN : TLB_MODE_GEN;
	unsigned broken = cmdline_enum("tlb.break");
	if (broken != TLB_BREAK_NONE) {
		tlb_broken = (enum tlb_break)broken;
		char name[32];
		cmdline_get("tlb.break", name, sizeof(name));
		printk("tlb: WARNING: invariant '%s' broken on purpose: tests must fail", name);
	}
	printk("tlb: mode %s, %s",
	       tlb_mode == TLB_MODE_MMGEN ? "mmgen (per-mm generations only)"
					  : "gen (per-table deferral, ring)",
	       tlb_broadcast ? "broadcast invalidation" : "IPIs");
	if (cmdline_has("tlb.skip_flush")) {
		/* Test-only: proves the stale-TLB test can see a missing flush. */
		tlb_test_skip_flush = true;
		printk("tlb: WARNING: flushes are skipped (tlb.skip_flush): tests must fail");
	}
}
