// SPDX-License-Identifier: BSD-2-Clause
/*
 * The TLB flush engine for address spaces and kernel mappings (the rules
 * are in tlb.h; the timeline and the ordering rules are in docs/tlb.md):
 * generations (bump, complete, per-table pending), the ring of recent
 * ranges, and a flush request's path: which CPUs must take it, the flush
 * each of them runs locally, and the catch-up of a CPU more than one
 * generation behind. Around it, in their own files: the counters and the
 * trace (tlb_stats.c), the command line and the mode (tlb_config.c), and
 * what a CPU does with its TLB state when it switches address space
 * (switch.c, which calls tlb_catch_up()).
 *
 * Every comparison of generations here reads "a >= b: a has caught up to b".
 * A CPU's generation only moves forward, and only to a value of the mm's
 * generation that it read after the flush it did for it.
 */
#include "kernel/mm/tlb.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb_internal.h"
#include "kernel/mm/tlb_trace.h"
#include "kernel/percpu.h"
#include "kernel/xcall.h"

struct tlb_cpu_state tlb_cpu[CPU_MAX];

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

/*
 * A generation's entry is written right after its bump, inside ring_lock
 * (tlb_gen_bump): a reader that read `gen` from tlb_gen may find it still
 * being written by a gather on another CPU. The writer holds the lock
 * with interrupts off and only stores, so waiting for it is short; it is
 * bounded all the same, and giving up reads as an overrun (a full flush).
 */
#define RING_WAIT_SPINS 10000

/* Reads generation `gen`'s entry; false when it was overwritten (or never written). */
static bool ring_read(struct mm *mm, uint64_t gen, struct tlb_ring_entry *out)
{
	const struct tlb_ring_entry *e = &mm->ring[gen % TLB_RING_SIZE];
	uint64_t seq = atomic_load_acquire(&e->seq);
	for (unsigned i = 0; seq < 2 * gen + 2 && i < RING_WAIT_SPINS; i++) {
		arch_cpu_relax();
		seq = atomic_load_acquire(&e->seq);
	}
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
	if (tlb_mode != TLB_MODE_GEN) {
		uint64_t gen = atomic_add_return(&mm->tlb_gen, 1);
		tlb_ev(TLB_EV_GEN_BUMP, gen, start);
		return gen;
	}
	/*
	 * Gathers on several CPUs bump at once (mm->lock is held for read):
	 * the bump and its entry are one step under ring_lock, so two writers
	 * never interleave in one slot (gen and gen + TLB_RING_SIZE) and a
	 * reader that saw the bump waits only for these few stores.
	 */
	irqflags_t flags = spin_lock_irqsave(&mm->ring_lock);
	uint64_t gen = atomic_add_return(&mm->tlb_gen, 1);
	ring_write(mm, gen, start, end, stride_shift, freed_tables);
	spin_unlock_irqrestore(&mm->ring_lock, flags);
	tlb_ev(TLB_EV_GEN_BUMP, gen, start);
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
	bool full;
};

/* How many invalidations [start, end) takes one per 1 << stride_shift from start. */
static uint64_t range_pages(virt_addr_t start, virt_addr_t end, unsigned stride_shift)
{
	return (end - start + (1ull << stride_shift) - 1) >> stride_shift;
}

static void flush_local(struct mm *mm, const struct flush_range *r)
{
	struct tlb_counters *c = &tlb_cpu_counters[arch_cpu_id()];
	unsigned asid = asid_hw(mm);
	uint64_t pages = r->full ? 0 : range_pages(r->start, r->end, r->stride_shift);
	if (r->full || pages > tlb_range_max_pages(false)) {
		tlb_ev(TLB_EV_FLUSH_BEGIN, 0, 0);
		arch_tlb_flush_user_full(asid);
		c->local_full_flushes++;
		tlb_ev(TLB_EV_FLUSH_END, 0, 0);
		return;
	}
	tlb_ev(TLB_EV_FLUSH_BEGIN, r->start, pages);
	for (virt_addr_t va = r->start; va < r->end; va += 1ull << r->stride_shift) {
		arch_tlb_flush_user_page(asid, va);
		c->local_page_flushes++;
	}
	c->local_ranged++;
	tlb_ev(TLB_EV_FLUSH_END, r->start, pages);
}

/*
 * Brings this CPU from `local` to mm's current generation. Each generation
 * missed since `local` left its range in the ring; if every one of them is
 * still there and together they cover at most tlb_range_max_pages(false),
 * they are flushed one by one (merging the lagging requests; the request in
 * hand is among them, since every generation is published in the ring when
 * it is bumped). Otherwise (an overwritten entry, freed tables, too many
 * pages, or `extra` asking for everything) the whole mm is flushed.
 * Returns the generation reached.
 */
static uint64_t catch_up(struct mm *mm, uint64_t local, const struct flush_range *extra)
{
	struct tlb_counters *c = &tlb_cpu_counters[arch_cpu_id()];
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	tlb_ev(TLB_EV_CATCH_UP, local, now);
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
		      !(extra && extra->full);
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
		pages += range_pages(e.start, e.end, e.stride_shift);
	}
	if (!merged || pages > tlb_range_max_pages(false)) {
		struct flush_range full = {.full = true};
		flush_local(mm, &full);
		return now;
	}
	for (unsigned i = 0; i < n; i++)
		flush_local(mm, &ranges[i]);
	c->ring_merges++;
	return now;
}

uint64_t tlb_catch_up(struct mm *mm, uint64_t from)
{
	return catch_up(mm, from, NULL);
}

uint64_t tlb_flush_here(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &tlb_cpu_counters[me];
	struct tlb_cpu_state *s = &tlb_cpu[me];
	struct mm *mm = req->mm;
	bool loaded = s->loaded == mm;
	c->requests_received++;
	if (!arch_mm_holds_translations(asid_hw(mm), loaded)) {
		c->not_loaded++;
		tlb_ev(TLB_EV_SKIP, TLB_SKIP_NOT_LOADED, req->gen);
		/* Holds nothing now: what it caches from here is newer than every bump so far. */
		return atomic_load_acquire(&mm->tlb_gen);
	}
	if (!loaded) {
		/* Tagged TLB, switched away: a plain flush of the request (catch-up happens at switch-in). */
		struct flush_range r = {req->start, req->end, req->stride_shift,
					req->full || req->freed_tables};
		flush_local(mm, &r);
		return req->gen;
	}
	uint64_t local = s->gen;
	if (local >= req->gen) {
		c->skipped_by_gen++;
		tlb_ev(TLB_EV_SKIP, TLB_SKIP_AT_GEN, req->gen);
		return local;
	}
	struct flush_range r = {req->start, req->end, req->stride_shift,
				req->full || req->freed_tables};
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (req->gen == local + 1 && req->gen == now) {
		flush_local(mm, &r);
		s->gen = req->gen;
		return req->gen;
	}
	s->gen = catch_up(mm, local, &r);
	return s->gen;
}

/*
 * What the cross-call carries: the request, who asked (for the trace), and
 * the lowest generation its targets are covered up to (flush_here).
 */
struct flush_call {
	const struct tlb_flush_request *req;
	unsigned initiator;
	uint64_t covered;
};

static void flush_handler(void *arg)
{
	struct flush_call *call = arg;
	if (tlb_trace_on() && call->initiator != arch_cpu_id())
		tlb_ev(TLB_EV_IPI_RECV, call->initiator, call->req->gen);
	uint64_t reached = tlb_flush_here(call->req);
	uint64_t cur = atomic_load_relaxed(&call->covered);
	while (reached < cur && !atomic_cmpxchg(&call->covered, &cur, reached))
		;
}

void tlb_broadcast_request(const struct tlb_flush_request *req, bool sync)
{
	struct tlb_counters *c = &tlb_cpu_counters[arch_cpu_id()];
	uint64_t pages = range_pages(req->start, req->end, req->stride_shift);
	bool full = req->full || req->freed_tables || pages > tlb_range_max_pages(true);
	unsigned asid = asid_hw(req->mm);
	tlb_ev(TLB_EV_BCAST_BEGIN, full ? 0 : req->start, full ? 0 : pages);
	uint64_t start = arch_time_ns();
	struct tlb_invals done =
	    sync ? arch_tlb_broadcast_user(asid, req->start, req->end, req->stride_shift, full)
		 : arch_tlb_broadcast_user_nosync(asid, req->start, req->end, req->stride_shift,
						  full);
	uint64_t ns = arch_time_ns() - start;
	tlb_ev(TLB_EV_BCAST_END, full ? 0 : req->start, full ? 0 : pages);
	/*
	 * Interrupts off around the counter updates: the caller runs with
	 * them on, and a tick could switch to another thread of this CPU
	 * that flushes too (a lost read-modify-write).
	 */
	irqflags_t irq = arch_irq_save();
	c->requests++;
	c->broadcasts++;
	c->broadcast_pages += done.pages;
	c->broadcast_ranges += done.ranges;
	c->broadcast_full += done.full;
	c->broadcast_ns += ns;
	arch_irq_restore(irq);
}

cpumask_t tlb_request_targets(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &tlb_cpu_counters[me];
	struct mm *mm = req->mm;
	cpumask_t targets = cpumask_read(&mm->cpus);
	cpumask_set(&targets, me);
	bool freed = req->freed_tables && !tlb_broken_is(TLB_BREAK_SKIP_LAZY_ALWAYS);
	uint64_t switched_away = 0, lazy = 0;
	for_each_cpu(cpu, targets)
	{
		if (cpu == me)
			continue;
		bool spare_anyway = tlb_broken_is(TLB_BREAK_SPARE_SWITCHED_AWAY); /* the old bug */
		if (!arch_tlb_caps()->switch_flushes && (!req->freed_tables || spare_anyway) &&
		    atomic_load_acquire(&tlb_cpu[cpu].loaded) != mm) {
			/*
			 * Switched away (tagged TLB): it flushes this mm's id when it
			 * switches back in, before any use, so it is left stale
			 * instead of interrupted. Not when tables are freed, and not
			 * on an untagged TLB: on x86-64 a CPU that has published its
			 * switch may not have loaded the new root yet; on arm64 it
			 * turned the old root off first, but a walk begun before
			 * that may still be reading our tables (the ISB orders only
			 * later walks). It stays in the mask, and its answer, the
			 * flush of the mm's id and the DSB after it, is what ends
			 * such a walk before a table is freed. (Found by the spin
			 * model, docs/reliability.md: QEMU caches no walks, so only
			 * the soak's shadow TLB can see it.)
			 */
			cpumask_clear(&targets, cpu);
			switched_away++;
			continue;
		}
		if (freed)
			continue;
		if (atomic_load_acquire(&tlb_cpu[cpu].lazy)) {
			/* It catches up by generation when it stops being lazy. */
			cpumask_clear(&targets, cpu);
			lazy++;
		}
	}
	irqflags_t irq = arch_irq_save(); /* as above: this CPU's counters, not preempted */
	c->switched_away_skipped += switched_away;
	c->lazy_skipped += lazy;
	c->requests++;
	c->remote_targets += cpumask_weight(targets) - 1;
	arch_irq_restore(irq);
	if (lazy)
		tlb_ev(TLB_EV_SKIP, TLB_SKIP_LAZY, lazy);
	if (switched_away)
		tlb_ev(TLB_EV_SKIP, TLB_SKIP_SWITCHED_AWAY, switched_away);
	return targets;
}

void tlb_request_completed(const struct tlb_flush_request *req, uint64_t done)
{
	struct mm *mm = req->mm;
	/* Only worth the shared write when someone deferred and may be waiting on it. */
	if (atomic_load_relaxed(&mm->tlb_gen_deferred) >
	    atomic_load_relaxed(&mm->tlb_gen_completed))
		tlb_gen_complete(mm, done);
}

void tlb_xcall_traced(cpumask_t targets, xcall_fn fn, void *arg)
{
	cpumask_t remote = targets;
	cpumask_clear(&remote, arch_cpu_id());
	unsigned nremote = cpumask_weight(remote);
	if (nremote)
		tlb_ev(TLB_EV_IPI_SEND, remote.bits, nremote);
	xcall(targets, fn, arg, XCALL_WAIT);
	if (nremote)
		tlb_ev(TLB_EV_IPI_ACKED, remote.bits, nremote);
}

void tlb_flush_mm_range(const struct tlb_flush_request *req)
{
	/*
	 * The request's generation was bumped before this point (by the
	 * gather's flush, or by its last deferral, earlier in the walk): only
	 * now read who may need it, or (broadcast) the ASID to flush (rule 4).
	 */
	smp_mb();
	if (tlb_broadcast) {
		tlb_broadcast_request(req, true);
		return;
	}
	/*
	 * Read before the CPU set: a CPU this read of mm->cpus misses set
	 * itself in the mask after it, so it reads tlb_gen after this read
	 * (rule 2) and is covered up to `before` by its own switch-in. So once
	 * every target is covered up to `before` too, so is every CPU.
	 */
	uint64_t before = atomic_load_acquire(&req->mm->tlb_gen);
	struct flush_call call = {req, arch_cpu_id(), before};
	tlb_xcall_traced(tlb_request_targets(req), flush_handler, &call);
	/*
	 * With per-table generations each target reports how far it is
	 * covered (what it caught up to, or its own generation if it had
	 * nothing to do; a switched-away tagged CPU the request's), so this
	 * flush completes more than its own: up to the lowest generation its
	 * targets (and, through `before`, the CPUs it did not ask) are
	 * covered up to. A gather on another CPU
	 * whose deferral that covers then skips its own flush (gather.c).
	 * Lazy and switched-away CPUs left out catch up before they use the
	 * mm again.
	 */
	uint64_t done = tlb_mode == TLB_MODE_GEN && !tlb_broken_is(TLB_BREAK_CATCH_UP_SKIPS_RING)
			    ? atomic_load_relaxed(&call.covered)
			    : req->gen;
	if (tlb_mode == TLB_MODE_GEN && tlb_broken_is(TLB_BREAK_COMPLETE_TO_BEFORE))
		done = before; /* broken on purpose: ignores what the targets reached */
	tlb_request_completed(req, done);
}

/* ---- Kernel mappings -------------------------------------------------------- */

struct kernel_flush {
	virt_addr_t start;
	uint64_t pages;
	bool full;
};

/* Runs with interrupts off (xcall, or the caller below): the counter is this CPU's alone. */
static void kernel_flush_here(void *arg)
{
	const struct kernel_flush *r = arg;
	tlb_cpu_counters[arch_cpu_id()].kernel_flushes++;
	if (r->full) {
		arch_tlb_flush_local_full();
		return;
	}
	for (uint64_t i = 0; i < r->pages; i++)
		arch_tlb_flush_local_page(r->start + (i << PAGE_SHIFT));
}

void tlb_flush_kernel_range(virt_addr_t start, uint64_t pages, bool full)
{
	struct kernel_flush r = {start, pages, full};
	irqflags_t flags = arch_irq_save();
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &tlb_cpu_counters[me];
	c->kernel_requests++;
	/* The tables changed before this point: read who is online only now (see tlb.h). */
	smp_mb();
	cpumask_t online = cpumask_read(&cpu_online_mask);
	cpumask_set(&online, me);
	if (cpumask_weight(online) == 1 || tlb_broken_is(TLB_BREAK_KERNEL_LOCAL_ONLY)) {
		kernel_flush_here(&r);
	} else if (tlb_broadcast) {
		arch_tlb_broadcast_kernel(start, pages, full);
		c->kernel_broadcasts++;
	} else {
		/* xcall serves requests to this CPU while it waits: interrupts off is fine. */
		xcall(online, kernel_flush_here, &r, XCALL_WAIT);
	}
	arch_irq_restore(flags);
}
