// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb suite, its churn cases (tlb_test.h): several CPUs at once over many
 * rounds. Gathers of one mm that overlap must leave no stale translation
 * and, with per-table generations, need fewer whole-mm flushes than
 * per-mm generations alone; ASIDs recycled by rollovers must keep
 * address spaces apart (docs/tlb.md, rules 7 and 11).
 */
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/tlb_test.h"

/*
 * The seed's scenario: two CPUs each gathering unmaps in one mm (their
 * gathers stay open a moment, so they overlap) while a third does
 * single-page discards, all in ONE leaf table (each worker has its own
 * pages in it): the table's generation is bumped by every gatherer, and a
 * gather whose deferral someone else's flush completed skips its own.
 * Each round, in lock step: every worker refills and marks its pages;
 * every worker reads every worker's pages (its CPU now caches them all);
 * every worker drops its own; every worker reads them all again and must
 * see fresh zero pages, never a mark (a stale translation into a freed
 * frame). The run is repeated in tlb=mmgen: per-table deferral and the
 * ring must need fewer whole-mm flushes than per-mm generations alone.
 * tlb.break=catch_up_skips_ring (a target more than one generation behind
 * flushes only the request in hand) leaves the other gatherer's pages
 * cached, and this case must fail.
 */
#define CONC_WORKERS 3
#define CONC_SPACING (16 * PAGE_SIZE) /* worker w's pages start at w * CONC_SPACING */

struct concurrent {
	struct mm *mm;
	unsigned rounds;
	uint32_t stale;
	uint32_t errors;
	uint32_t barrier_in, barrier_gen;
};

struct concurrent_worker {
	struct concurrent *c;
	unsigned index;
};

/*
 * Worker 0 does single-page discards, the others gather up to 8 pages: so
 * few that a catch-up merging all three workers' ranges stays within the
 * local range limit (x86-64's is 12), or it would flush the whole mm anyway.
 */
static uint64_t conc_pages(unsigned w)
{
	return w == 0 ? 1 : MAX(1u, MIN(8u, (tlb_range_max_pages(false) - 1) / 2));
}

static virt_addr_t conc_base(unsigned w)
{
	return UVA(GiB(1) + w * CONC_SPACING);
}

static uint32_t conc_mark(unsigned round, unsigned w)
{
	return 0xC0DE0000u | round << 4 | w;
}

/* All CONC_WORKERS meet here; spinning keeps the mm loaded (a flush target), not lazy. */
static void conc_barrier(struct concurrent *c)
{
	uint32_t gen = atomic_load_acquire(&c->barrier_gen);
	if (atomic_fetch_add(&c->barrier_in, 1) + 1 == CONC_WORKERS) {
		atomic_store_relaxed(&c->barrier_in, 0);
		atomic_store_release(&c->barrier_gen, gen + 1);
		return;
	}
	while (atomic_load_acquire(&c->barrier_gen) == gen)
		arch_cpu_relax();
}

/* Gathers `pages` pages at `base` and keeps the gather open a moment before finishing it. */
static int gathered_unmap(struct mm *mm, virt_addr_t base, uint64_t pages)
{
	struct mmu_gather g;
	tlb_gather_begin(&g, mm, false);
	down_read(&mm->lock);
	int err = pt_unmap_gather(&mm->pt, base, pages * PAGE_SIZE, &g, true);
	up_read(&mm->lock);
	thread_sleep_ns(1000000); /* others gather and flush meanwhile: the seed's overlap */
	tlb_gather_finish(&g);
	return err;
}

/* Reads every worker's pages; counts those without their mark of `round` (`marked`) or 0. */
static unsigned conc_read_all(unsigned round, bool marked)
{
	unsigned wrong = 0;
	for (unsigned w = 0; w < CONC_WORKERS; w++)
		for (uint64_t i = 0; i < conc_pages(w); i++) {
			uint32_t v = *(volatile uint32_t *)(conc_base(w) + i * PAGE_SIZE);
			wrong += v != (marked ? conc_mark(round, w) : 0);
		}
	return wrong;
}

static void concurrent_worker(void *arg)
{
	const struct concurrent_worker *cw = arg;
	struct concurrent *c = cw->c;
	unsigned w = cw->index;
	uint64_t pages = conc_pages(w);
	virt_addr_t base = conc_base(w);
	for (unsigned round = 0; round < c->rounds; round++) {
		/* The VMA stays; its pages are refilled, then dropped again (discard-like). */
		if (vm_populate(c->mm, base, pages * PAGE_SIZE))
			atomic_fetch_add(&c->errors, 1);
		for (uint64_t i = 0; i < pages; i++)
			*(volatile uint32_t *)(base + i * PAGE_SIZE) = conc_mark(round, w);
		conc_barrier(c);
		atomic_fetch_add(&c->stale, conc_read_all(round, true));
		conc_barrier(c);
		int err = w == 0 ? vm_discard(c->mm, base, PAGE_SIZE)
				 : gathered_unmap(c->mm, base, pages);
		if (err)
			atomic_fetch_add(&c->errors, 1);
		conc_barrier(c);
		/* Dropped and flushed everywhere: fresh zero pages (filled on fault), not marks. */
		atomic_fetch_add(&c->stale, conc_read_all(round, false));
		conc_barrier(c);
	}
}

/* Runs the scenario once in `mode`; returns the whole-mm flushes it caused. */
struct concurrent_result {
	uint64_t full, merges, completed_skips;
	unsigned stale;
};

static struct concurrent_result run_concurrent(struct ktest *t, enum tlb_mode mode)
{
	struct concurrent_result res = {0};
	static struct concurrent c;
	static struct concurrent_worker cw[CONC_WORKERS];
	c = (struct concurrent){.mm = tlb_test_mm_with(1), .rounds = 40};
	ASSERT_TRUE(t, c.mm != NULL);
	/* A page that stays keeps the shared leaf table alive: no round frees tables. */
	ASSERT_EQ(t, vm_map_anon(c.mm, UVA(GiB(1) + MiB(1)), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(c.mm, UVA(GiB(1) + MiB(1)), PAGE_SIZE), 0);
	for (unsigned w = 0; w < CONC_WORKERS; w++)
		ASSERT_EQ(
		    t,
		    vm_map_anon(c.mm, conc_base(w), conc_pages(w) * PAGE_SIZE, PT_READ | PT_WRITE),
		    0);
	enum tlb_mode saved = tlb_mode;
	tlb_mode = mode;
	struct tlb_counters t0 = tlb_counters_total();
	uint64_t skips0 = gather_stats.completed_skips;
	struct thread *th[CONC_WORKERS] = {0};
	cpumask_t o = tlb_test_others();
	unsigned n = 0;
	for_each_cpu(cpu, o) if (n < CONC_WORKERS)
	{
		cw[n] = (struct concurrent_worker){&c, n};
		th[n] = thread_create_mm("worker", cpu, c.mm, concurrent_worker, &cw[n]);
		ASSERT_TRUE(t, th[n] != NULL);
		n++;
	}
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	struct tlb_counters t1 = tlb_counters_total();
	EXPECT_EQ(t, c.errors, 0u);
	EXPECT_EQ(t, c.stale, 0u);
	mm_destroy(c.mm);
	tlb_mode = saved;
	res.full = t1.local_full_flushes - t0.local_full_flushes;
	res.merges = t1.ring_merges - t0.ring_merges;
	res.completed_skips = gather_stats.completed_skips - skips0;
	res.stale = c.stale;
	return res;
}

void concurrent_gathers_fewer_full_flushes(struct ktest *t)
{
	if (tlb_broadcast)
		KTEST_SKIP(t, "compares IPI catch-up strategies (tlb=ipi runs it)");
	if (cpumask_weight(tlb_test_others()) < CONC_WORKERS)
		KTEST_SKIP(t, "needs 4 CPUs");
	struct concurrent_result gen = run_concurrent(t, TLB_MODE_GEN);
	struct concurrent_result mmgen = run_concurrent(t, TLB_MODE_MMGEN);
	ktest_log(t,
		  "whole-mm flushes: gen %lu (ring merges %lu, completed skips %lu), mmgen %lu; "
		  "stale reads %u, %u",
		  (unsigned long)gen.full, (unsigned long)gen.merges,
		  (unsigned long)gen.completed_skips, (unsigned long)mmgen.full, gen.stale,
		  mmgen.stale);
	EXPECT_EQ(t, mmgen.merges, 0u);
	EXPECT_LT(t, gen.full, mmgen.full);
}

/*
 * ASIDs recycled by rollovers must keep address spaces apart. Three
 * threads per CPU, on every CPU, each in one of more address spaces than
 * there are ids (most mms run on two CPUs), yield to each other, so each
 * yield switches mm; the id space is cut to one id more than there are
 * CPUs (the least that works), so rollovers follow one another. Each
 * thread, while it runs (preemption off, a tenth of a millisecond per
 * turn), checks over and over:
 *   - the id its CPU's hardware runs with (arch_mm_active_asid, read from
 *     TTBR0_EL1) is its mm's (asid_hw), the id the mm's flushes target;
 *   - no other CPU runs a different mm with the same hardware id at the
 *     same moment (each running thread publishes its mm and the id it read
 *     from its register, seqlock-style);
 *   - its mm's page reads its mm's value.
 * QEMU's TLB is not ASID-tagged (it drops every entry when the ASID
 * changes), so the last check alone could not see two mms share an id; the
 * first two can. tlb.break=asid_forget_reserved (a rollover keeps no id
 * for the mms CPUs are running) makes them fail.
 */
#define ASID_THREADS_PER_CPU 3
/*
 * CPUs that churn: all of them. This used to stop at 4: every switch took
 * the allocator's lock (a ticket lock), and with more busy vCPUs than host
 * cores a ticket handed to a descheduled vCPU stalled every CPU behind it
 * for seconds. A switch to a current id now takes no lock (asid.c, the fast
 * path), and the threads read their id from the hardware instead of asking
 * the allocator under its lock; only new ids and rollovers still queue.
 */
#define ASID_CPUS_MAX CPU_MAX
#define ASID_TURN_NS  100000ull
/*
 * The threads run until this many rollovers (and at least ASID_MIN_NS), or
 * ASID_MAX_NS: with many CPUs on few host cores a round is slow, and the
 * count of rollovers, not of rounds, is what the case needs.
 */
#define ASID_ROLLOVERS 20u
#define ASID_MIN_NS    20000000ull
#define ASID_MAX_NS    3000000000ull

struct asid_churn {
	struct mm *mms[ASID_CPUS_MAX + 3];
	unsigned nmms;
	/* The mm a thread runs on that CPU and the id read from its register, while seq is odd. */
	struct mm *running[CPU_MAX];
	unsigned hw[CPU_MAX];
	uint32_t seq[CPU_MAX];
	uint32_t checks, mismatched, shared, wrong_marker;
	bool stop;
};

struct asid_churner {
	struct asid_churn *c;
	unsigned index; /* which of c->mms */
};

/* One check (see above) by the thread running `mm` on CPU `me` with hardware id `hw`. */
static void asid_check(struct asid_churn *c, unsigned me, struct mm *mm, unsigned hw,
		       unsigned index)
{
	if (hw == 0 || hw != asid_hw(mm) || arch_mm_active_asid() != hw)
		atomic_fetch_add(&c->mismatched, 1);
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(other, on)
	{
		if (other == me)
			continue;
		uint32_t s1 = atomic_load_acquire(&c->seq[other]);
		if (!(s1 & 1))
			continue;
		struct mm *them = atomic_load_relaxed(&c->running[other]);
		unsigned their_hw = atomic_load_relaxed(&c->hw[other]);
		smp_rmb();
		bool still = atomic_load_relaxed(&c->seq[other]) == s1;
		if (still && them && them != mm && their_hw == hw)
			atomic_fetch_add(&c->shared, 1);
	}
	if (*(volatile uint32_t *)UVA(MiB(32)) != 1000 + index)
		atomic_fetch_add(&c->wrong_marker, 1);
	atomic_fetch_add(&c->checks, 1);
}

static void asid_churn_thread(void *arg)
{
	const struct asid_churner *ch = arg;
	struct asid_churn *c = ch->c;
	struct mm *mm = c->mms[ch->index];
	while (!atomic_load_acquire(&c->stop)) {
		preempt_disable(); /* this CPU runs `mm` until preempt_enable() */
		unsigned me = arch_cpu_id(), hw = arch_mm_active_asid();
		atomic_store_relaxed(&c->running[me], mm);
		atomic_store_relaxed(&c->hw[me], hw);
		atomic_fetch_add(&c->seq[me], 1); /* odd: published */
		uint64_t until = arch_time_ns() + ASID_TURN_NS;
		do
			asid_check(c, me, mm, hw, ch->index);
		while (arch_time_ns() < until);
		atomic_fetch_add(&c->seq[me], 1);
		atomic_store_relaxed(&c->running[me], NULL);
		preempt_enable();
		thread_yield(); /* the next thread here runs another mm */
	}
}

void asid_rollover_keeps_mms_apart(struct ktest *t)
{
	if (arch_tlb_caps()->asid_bits == 0)
		KTEST_SKIP(t, "no ASIDs on this arch (loading a root flushes)");
	cpumask_t on = cpumask_read(&cpu_online_mask);
	unsigned ncpus = cpumask_weight(on);
	static struct asid_churn c;
	static struct asid_churner ch[ASID_CPUS_MAX * ASID_THREADS_PER_CPU];
	static phys_addr_t frames[ASID_CPUS_MAX + 3];
	memset(&c, 0, sizeof(c));
	/*
	 * One id more than churning CPUs, two mms more than ids. The other
	 * CPUs hold no id: every mm earlier cases ran is destroyed, and
	 * asid_release() cleared what they held.
	 */
	unsigned churning = MIN(ncpus, ASID_CPUS_MAX);
	c.nmms = churning + 3;
	for (unsigned i = 0; i < c.nmms; i++) {
		c.mms[i] = mm_create();
		ASSERT_TRUE(t, c.mms[i] != NULL);
		ASSERT_EQ(t, frame_alloc_zeroed(&frames[i]), 0);
		*(volatile uint32_t *)kva(frames[i]) = 1000 + i;
		ASSERT_EQ(t, vm_map_phys(c.mms[i], UVA(MiB(32)), frames[i], PAGE_SIZE, PT_READ), 0);
	}
	uint64_t rollovers = asid_stats.rollovers, start = arch_time_ns();
	asid_test_limit(churning + 2); /* ids 1 .. churning + 1 */
	struct thread *th[ASID_CPUS_MAX * ASID_THREADS_PER_CPU] = {0};
	unsigned n = 0, k = 0;
	for_each_cpu(cpu, on)
	{
		if (k == ASID_CPUS_MAX)
			break;
		for (unsigned j = 0; j < ASID_THREADS_PER_CPU; j++, n++) {
			ch[n] = (struct asid_churner){&c, (k * ASID_THREADS_PER_CPU + j) % c.nmms};
			struct mm *mm = c.mms[ch[n].index];
			th[n] = thread_create_mm("asid-churn", cpu, mm, asid_churn_thread, &ch[n]);
			ASSERT_TRUE(t, th[n] != NULL);
		}
		k++;
	}
	for (;;) {
		uint64_t ran = arch_time_ns() - start;
		if (ran >= ASID_MAX_NS ||
		    (ran >= ASID_MIN_NS &&
		     READ_ONCE(asid_stats.rollovers) - rollovers >= ASID_ROLLOVERS))
			break;
		thread_sleep_ns(1000000);
	}
	atomic_store_release(&c.stop, true);
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);
	asid_test_limit(0);
	uint64_t rolled = asid_stats.rollovers - rollovers;
	ktest_log(t,
		  "%u CPUs churning, %u mms, %u ids: %lu rollovers in %lu ms, %u checks, "
		  "%u mismatched, %u shared",
		  k, c.nmms, churning + 1, (unsigned long)rolled,
		  (unsigned long)((arch_time_ns() - start) / 1000000), c.checks, c.mismatched,
		  c.shared);
	EXPECT_EQ(t, c.mismatched, 0u); /* a CPU's TTBR0 held an id its mm's flushes miss */
	EXPECT_EQ(t, c.shared, 0u);	/* two CPUs' TTBR0 held one id for different mms */
	EXPECT_EQ(t, c.wrong_marker, 0u);
	EXPECT_GE(t, rolled, 2u);
	for (unsigned i = 0; i < c.nmms; i++) {
		mm_destroy(c.mms[i]);
		frame_free(frames[i], 0);
	}
}
