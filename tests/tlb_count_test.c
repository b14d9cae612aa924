// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb_count suite: what one small unmap asks of the hardware, counted
 * exactly on every CPU that holds the mm (issue 14: one generation bump per
 * page table whose own entries changed, the single-table fast path, and
 * counters that say what each TLB was asked to do).
 *
 * Every online CPU holds the mm while the counters are read: the test's
 * own CPU runs the unmapping thread in it, every other CPU a resident that
 * spins in it (not lazy, so each is a real target). Counts are deltas of
 * each CPU's counters around the one operation; nothing else runs in the
 * mm meanwhile, and the residents touch no page of the unmapped table.
 */
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/xcall.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off) (arch_mm_layout.user_base + GiB(6) + (off))
#define SPIN_VA	 UVA(MiB(8)) /* the residents' page: a leaf table of its own */

/* One unmap of `pages` pages from `va`, and every CPU's counters around it. */
struct one_unmap {
	struct mm *mm;
	virt_addr_t va;
	uint64_t pages;
	bool stop;
	uint32_t spinning;
	struct thread *resident[CPU_MAX];
	int err;
	uint64_t gen0, gen1;
	struct gather_stats g0, g1;
	struct tlb_counters c0[CPU_MAX], c1[CPU_MAX];
	struct xcall_stats x0[CPU_MAX], x1[CPU_MAX];
};

static void spin_in_mm(void *arg)
{
	struct one_unmap *u = arg;
	*(volatile uint64_t *)(SPIN_VA + 64 * arch_cpu_id()) = 1; /* loads the mm here */
	atomic_fetch_add(&u->spinning, 1);
	while (!atomic_load_acquire(&u->stop))
		arch_cpu_relax();
}

static void snapshot(struct tlb_counters *c, struct xcall_stats *x)
{
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		c[cpu] = tlb_counters_cpu(cpu);
		x[cpu] = xcall_stats_cpu(cpu);
	}
}

/* Runs in the mm on the test's CPU: caches the pages, then unmaps them. */
static void unmap_one_page(void *arg)
{
	struct one_unmap *u = arg;
	for (uint64_t i = 0; i < u->pages; i++)
		*(volatile uint64_t *)(u->va + i * PAGE_SIZE) = 1;
	u->gen0 = atomic_load_acquire(&u->mm->tlb_gen);
	u->g0 = gather_stats;
	snapshot(u->c0, u->x0);
	u->err = vm_unmap(u->mm, u->va, u->pages * PAGE_SIZE);
	snapshot(u->c1, u->x1);
	u->g1 = gather_stats;
	u->gen1 = atomic_load_acquire(&u->mm->tlb_gen);
}

#define DELTA(u, cpu, field) ((u)->c1[cpu].field - (u)->c0[cpu].field)

/*
 * A 1-page unmap in an mm every online CPU holds, in a leaf table that
 * keeps another page (no table is freed): exactly one generation bump (in
 * tlb=gen the leaf table's deferral, which the request then carries; the
 * three tables above it were only passed through), and on each CPU exactly
 * one single-page invalidation, no full flush and no ring merge: each
 * target is exactly one generation behind and takes the request's range as
 * it is (the single-table fast path). With a hardware broadcast the
 * initiator issues that one invalidation for every CPU and no IPI is sent.
 * tlb.break=defer_every_level (every table on the walk defers, as the walk
 * did before) makes this case fail: four bumps, and targets four behind
 * replay four ranges.
 */
/*
 * Runs unmap_one_page on this CPU in u->mm while a spinning resident holds
 * the mm on every other online CPU; returns the residents' number. The mm
 * has u->va's pages mapped and populated, and SPIN_VA's.
 */
static unsigned unmap_while_held(struct ktest *t, struct one_unmap *u)
{
	unsigned me = arch_cpu_id(), n = 0;
	for_each_cpu(cpu, cpumask_read(&cpu_online_mask))
	{
		if (cpu == me)
			continue;
		u->resident[cpu] = thread_create_mm("resident", cpu, u->mm, spin_in_mm, u);
		ASSERT_TRUE(t, u->resident[cpu] != NULL);
		n++;
	}
	while (atomic_load_acquire(&u->spinning) < n)
		thread_sleep_ns(1000000);
	struct thread *th = thread_create_mm("unmap", me, u->mm, unmap_one_page, u);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	atomic_store_release(&u->stop, true);
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		if (u->resident[cpu])
			thread_join(u->resident[cpu]);
	return n;
}

static void one_page_unmap_bumps_once(struct ktest *t)
{
	static struct one_unmap u;
	memset(&u, 0, sizeof(u));
	u.mm = mm_create();
	u.va = UVA(0);
	u.pages = 1;
	ASSERT_TRUE(t, u.mm != NULL);
	ASSERT_EQ(t, vm_map_anon(u.mm, UVA(0), 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(u.mm, UVA(0), 2 * PAGE_SIZE), 0);
	ASSERT_EQ(t, vm_map_anon(u.mm, SPIN_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(u.mm, SPIN_VA, PAGE_SIZE), 0);
	unsigned me = arch_cpu_id();
	cpumask_t holders = cpumask_read(&cpu_online_mask);
	unsigned n = unmap_while_held(t, &u);

	EXPECT_EQ(t, u.err, 0);
	EXPECT_EQ(t, u.gen1 - u.gen0, 1u);
	EXPECT_EQ(t, u.g1.deferrals - u.g0.deferrals, tlb_mode == TLB_MODE_GEN ? 1u : 0u);
	EXPECT_EQ(t, u.g1.flushes - u.g0.flushes, 1u);
	EXPECT_EQ(t, u.g1.full_flushes - u.g0.full_flushes, 0u);
	for_each_cpu(cpu, holders)
	{
		ktest_log(t,
			  "cpu%u: page %lu, full %lu, ring merges %lu, requests %lu, "
			  "broadcast page %lu range %lu full %lu",
			  cpu, (unsigned long)DELTA(&u, cpu, local_page_flushes),
			  (unsigned long)DELTA(&u, cpu, local_full_flushes),
			  (unsigned long)DELTA(&u, cpu, ring_merges),
			  (unsigned long)DELTA(&u, cpu, requests_received),
			  (unsigned long)DELTA(&u, cpu, broadcast_pages),
			  (unsigned long)DELTA(&u, cpu, broadcast_ranges),
			  (unsigned long)DELTA(&u, cpu, broadcast_full));
		EXPECT_EQ(t, DELTA(&u, cpu, local_full_flushes), 0u);
		EXPECT_EQ(t, DELTA(&u, cpu, ring_merges), 0u);
		EXPECT_EQ(t, DELTA(&u, cpu, switch_full_flushes), 0u);
		if (tlb_broadcast) {
			EXPECT_EQ(t, DELTA(&u, cpu, local_page_flushes), 0u);
			EXPECT_EQ(t, DELTA(&u, cpu, broadcast_pages), cpu == me ? 1u : 0u);
			EXPECT_EQ(t, DELTA(&u, cpu, broadcast_ranges), 0u);
			EXPECT_EQ(t, DELTA(&u, cpu, broadcast_full), 0u);
			EXPECT_EQ(t, u.x1[cpu].ipis_sent - u.x0[cpu].ipis_sent, 0u);
			continue;
		}
		EXPECT_EQ(t, DELTA(&u, cpu, local_page_flushes), 1u);
		EXPECT_EQ(t, DELTA(&u, cpu, requests_received), 1u);
		EXPECT_EQ(t, DELTA(&u, cpu, skipped_by_gen), 0u);
		EXPECT_EQ(t, u.x1[cpu].ipis_sent - u.x0[cpu].ipis_sent, cpu == me ? n : 0u);
		EXPECT_EQ(t, u.x1[cpu].ipis_received - u.x0[cpu].ipis_received,
			  cpu == me ? 0u : 1u);
	}
	mm_destroy(u.mm);
}

/* Runs in `arg`'s mm (on the other CPU) until told to stop: that CPU has switched away. */
static void sit_in_other_mm(void *arg)
{
	struct one_unmap *u = arg;
	*(volatile uint64_t *)SPIN_VA = 1;
	atomic_fetch_add(&u->spinning, 1);
	while (!atomic_load_acquire(&u->stop))
		arch_cpu_relax();
}

static void touch_first_page(void *arg)
{
	(void)arg;
	*(volatile uint64_t *)UVA(0) = 1;
}

/*
 * A tagged TLB (arm64, tlb=ipi) leaves a CPU that switched away from the
 * mm stale instead of interrupting it, since it flushes the mm's ASID
 * when it comes back. Not when the unmap frees a page table: a CPU seen
 * as switched away may still be finishing a walk begun before it turned
 * the old root off, reading and caching pointers into the table about to
 * be freed; only its answer to the request (the flush of the mm's id and
 * its DSB) ends that walk. QEMU caches no walks, so the hazard itself cannot be observed
 * (the spin model finds it, docs/reliability.md); this counts that the
 * request reaches the switched-away CPU. tlb.break=spare_switched_away
 * (the old rule) makes it fail.
 */
static void freed_tables_reach_switched_away_cpus(struct ktest *t)
{
	if (arch_tlb_caps()->switch_flushes || tlb_broadcast)
		KTEST_SKIP(t, "only a tagged TLB flushed by IPIs spares switched-away CPUs");
	unsigned me = arch_cpu_id(), other = me;
	for_each_cpu(cpu, cpumask_read(&cpu_online_mask)) if (cpu != me) other = cpu;
	if (other == me)
		KTEST_SKIP(t, "needs a second CPU");
	static struct one_unmap u;
	memset(&u, 0, sizeof(u));
	u.mm = mm_create();
	struct mm *elsewhere = mm_create();
	ASSERT_TRUE(t, u.mm != NULL && elsewhere != NULL);
	/* The page is alone in its leaf table: unmapping it frees the table. */
	ASSERT_EQ(t, vm_map_anon(u.mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(u.mm, UVA(0), PAGE_SIZE), 0);
	ASSERT_EQ(t, vm_map_anon(elsewhere, SPIN_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(elsewhere, SPIN_VA, PAGE_SIZE), 0);
	/* `other` runs the mm, then switches to another one and stays there. */
	struct thread *th = thread_create_mm("visit", other, u.mm, touch_first_page, NULL);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	struct thread *sitter = thread_create_mm("elsewhere", other, elsewhere, sit_in_other_mm, &u);
	ASSERT_TRUE(t, sitter != NULL);
	while (!atomic_load_acquire(&u.spinning))
		thread_sleep_ns(1000000);
	bool still_listed = cpumask_test(cpumask_read(&u.mm->cpus), other);
	u.va = UVA(0);
	u.pages = 1;
	th = thread_create_mm("unmap", me, u.mm, unmap_one_page, &u);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	atomic_store_release(&u.stop, true);
	thread_join(sitter);
	EXPECT_EQ(t, u.err, 0);
	/* Tagged: the CPU keeps the mm's ASID entries, so it stays in the mm's mask. */
	EXPECT_TRUE(t, still_listed);
	ktest_log(t, "cpu%u (switched away): requests %lu; initiator skipped %lu as switched away",
		  other, (unsigned long)DELTA(&u, other, requests_received),
		  (unsigned long)DELTA(&u, me, switched_away_skipped));
	EXPECT_EQ(t, DELTA(&u, other, requests_received), 1u);
	EXPECT_EQ(t, DELTA(&u, me, switched_away_skipped), 0u);
	mm_destroy(u.mm);
	mm_destroy(elsewhere);
}

/*
 * The limit in force for this transport (struct tlb_caps: range_max_pages
 * for local invalidations, broadcast_max_pages for broadcast, chosen by
 * `make bench-threshold`) decides how a range is flushed: a range of
 * exactly `limit` pages page by page on every CPU that holds the mm (or by
 * page and range broadcasts), one page more as the whole mm. Guard pages
 * keep every leaf table in use, so no table is freed (which would force a
 * whole-mm flush anyway). tlb.break=range_limit_off_by_one (the limit taken
 * one lower) makes it fail. The limit is read from the caps, not from
 * tlb_range_max_pages(), which applies the break and would hide it; so a
 * boot with `tlb.range_max=` (another limit in force) skips the case.
 */
static void range_limit_decides_page_or_full(struct ktest *t)
{
	if (tlb_range_max_overridden())
		KTEST_SKIP(t, "tlb.range_max= overrides the arch's limits this case checks");
	const struct tlb_caps *c = arch_tlb_caps();
	unsigned limit = tlb_broadcast ? c->broadcast_max_pages : c->range_max_pages;
	unsigned me = arch_cpu_id();
	ktest_log(t, "limit %u pages (%s)", limit, tlb_broadcast ? "broadcast" : "local");
	for (unsigned over = 0; over < 2; over++) {
		static struct one_unmap u;
		memset(&u, 0, sizeof(u));
		u.mm = mm_create();
		ASSERT_TRUE(t, u.mm != NULL);
		u.va = UVA(PAGE_SIZE);
		u.pages = limit + over;
		uint64_t mapped = (u.pages + 2) * PAGE_SIZE; /* a guard page on each side */
		ASSERT_EQ(t, vm_map_anon(u.mm, UVA(0), mapped, PT_READ | PT_WRITE), 0);
		ASSERT_EQ(t, vm_populate(u.mm, UVA(0), mapped), 0);
		ASSERT_EQ(t, vm_map_anon(u.mm, SPIN_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
		ASSERT_EQ(t, vm_populate(u.mm, SPIN_VA, PAGE_SIZE), 0);
		unmap_while_held(t, &u);
		EXPECT_EQ(t, u.err, 0);
		for_each_cpu(cpu, cpumask_read(&cpu_online_mask))
		{
			uint64_t page = DELTA(&u, cpu, local_page_flushes);
			uint64_t full = DELTA(&u, cpu, local_full_flushes);
			uint64_t bpage =
			    DELTA(&u, cpu, broadcast_pages) + DELTA(&u, cpu, broadcast_ranges);
			uint64_t bfull = DELTA(&u, cpu, broadcast_full);
			ktest_log(t,
				  "%u pages, cpu%u: page %lu, full %lu; broadcast page+range %lu, "
				  "full %lu",
				  (unsigned)u.pages, cpu, (unsigned long)page, (unsigned long)full,
				  (unsigned long)bpage, (unsigned long)bfull);
			if (tlb_broadcast) {
				EXPECT_EQ(t, page + full, 0u);
				EXPECT_EQ(t, bfull, cpu == me ? over : 0u);
				EXPECT_EQ(t, bpage > 0, cpu == me && !over);
			} else {
				EXPECT_EQ(t, full, over);
				EXPECT_EQ(t, page, over ? 0u : limit);
			}
		}
		mm_destroy(u.mm);
	}
}

static const struct ktest_case tlb_count_cases[] = {
	KTEST_CASE(one_page_unmap_bumps_once),
	KTEST_CASE(range_limit_decides_page_or_full),
	KTEST_CASE(freed_tables_reach_switched_away_cpus),
	KTEST_END,
};
KTEST_SUITE(tlb_count_suite, "tlb_count", tlb_count_cases);
