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

/* One unmap, and every CPU's counters around it. */
struct one_unmap {
	struct mm *mm;
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

/* Runs in the mm on the test's CPU: caches the page, then unmaps it. */
static void unmap_one_page(void *arg)
{
	struct one_unmap *u = arg;
	*(volatile uint64_t *)UVA(0) = 1;
	u->gen0 = atomic_load_acquire(&u->mm->tlb_gen);
	u->g0 = gather_stats;
	snapshot(u->c0, u->x0);
	u->err = vm_unmap(u->mm, UVA(0), PAGE_SIZE);
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
static void one_page_unmap_bumps_once(struct ktest *t)
{
	static struct one_unmap u;
	memset(&u, 0, sizeof(u));
	u.mm = mm_create();
	ASSERT_TRUE(t, u.mm != NULL);
	ASSERT_EQ(t, vm_map_anon(u.mm, UVA(0), 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(u.mm, UVA(0), 2 * PAGE_SIZE), 0);
	ASSERT_EQ(t, vm_map_anon(u.mm, SPIN_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(u.mm, SPIN_VA, PAGE_SIZE), 0);
	unsigned me = arch_cpu_id();
	cpumask_t holders = cpumask_read(&cpu_online_mask);
	unsigned n = 0;
	for_each_cpu(cpu, holders)
	{
		if (cpu == me)
			continue;
		u.resident[cpu] = thread_create_mm("resident", cpu, u.mm, spin_in_mm, &u);
		ASSERT_TRUE(t, u.resident[cpu] != NULL);
		n++;
	}
	while (atomic_load_acquire(&u.spinning) < n)
		thread_sleep_ns(1000000);
	struct thread *th = thread_create_mm("unmap", me, u.mm, unmap_one_page, &u);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	atomic_store_release(&u.stop, true);
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		if (u.resident[cpu])
			thread_join(u.resident[cpu]);

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

static const struct ktest_case tlb_count_cases[] = {
	KTEST_CASE(one_page_unmap_bumps_once),
	KTEST_END,
};
KTEST_SUITE(tlb_count_suite, "tlb_count", tlb_count_cases);
