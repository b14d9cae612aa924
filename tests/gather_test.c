// SPDX-License-Identifier: BSD-2-Clause
/*
 * gather suite: the mmu_gather contract, counted exactly. One flush per
 * gather however many pages; none for a pure permission upgrade; frames
 * and tables freed only after the flush (checked on a recorded trace);
 * batches chained when the in-gather slots run out; a batch that cannot be
 * allocated makes the gather settle early instead of failing or leaking;
 * nested gathers on one mm escalate to a full flush with per-mm
 * generations (tlb=mmgen) and need not with per-table ones.
 */
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off) (arch_mm_layout.user_base + GiB(2) + (off))

static struct mm *mm_with_pages(struct ktest *t, uint64_t pages)
{
	struct mm *mm = mm_create();
	if (!mm)
		ktest_fail_msg(t, __FILE__, __LINE__, "mm_create failed");
	else if (vm_map_anon(mm, UVA(0), pages * PAGE_SIZE, PT_READ | PT_WRITE) ||
		 vm_populate(mm, UVA(0), pages * PAGE_SIZE))
		ktest_fail_msg(t, __FILE__, __LINE__, "cannot populate %lu pages",
			       (unsigned long)pages);
	return mm;
}

static void unmap_512_pages_flushes_once(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, 512);
	ASSERT_TRUE(t, mm != NULL);
	struct gather_stats before = gather_stats;
	struct tlb_counters tc = tlb_counters_total();
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), 512 * PAGE_SIZE), 0);
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 1u);
	EXPECT_EQ(t, tlb_counters_total().requests - tc.requests, 1u);
	EXPECT_EQ(t, gather_stats.pages_freed - before.pages_freed, 512u);
	EXPECT_EQ(t, gather_stats.order_violations, 0u);
	mm_destroy(mm);
}

static void permission_upgrade_flushes_nothing(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), 8 * PAGE_SIZE, PT_READ), 0);
	ASSERT_EQ(t, vm_populate(mm, UVA(0), 8 * PAGE_SIZE), 0);
	struct gather_stats before = gather_stats;
	ASSERT_EQ(t, vm_protect(mm, UVA(0), 8 * PAGE_SIZE, PT_READ | PT_WRITE), 0); /* RO -> RW */
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 0u);
	EXPECT_EQ(t, gather_stats.flushes_elided - before.flushes_elided, 1u);
	ASSERT_EQ(t, vm_protect(mm, UVA(0), 8 * PAGE_SIZE, PT_READ | PT_WRITE | PT_EXEC), 0);
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 0u); /* NX -> X */
	ASSERT_EQ(t, vm_protect(mm, UVA(0), 8 * PAGE_SIZE, PT_READ), 0); /* RWX -> R: a downgrade */
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 1u);
	/* And an upgrade right after a downgrade still flushes nothing. */
	ASSERT_EQ(t, vm_protect(mm, UVA(0), 8 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 1u);
	mm_destroy(mm);
}

static void frees_come_after_the_flush(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, 600);
	ASSERT_TRUE(t, mm != NULL);
	static struct tlb_trace_event ev[1024];
	tlb_trace_start(ev, ARRAY_SIZE(ev));
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), 600 * PAGE_SIZE), 0);
	unsigned n = tlb_trace_stop();
	ASSERT_GT(t, n, 2u);
	EXPECT_EQ(t, (int)ev[0].kind, (int)TLB_TRACE_FLUSH);
	unsigned frees = 0, tables = 0, flushes = 0;
	for (unsigned i = 0; i < n; i++) {
		flushes += ev[i].kind == TLB_TRACE_FLUSH;
		frees += ev[i].kind == TLB_TRACE_FREE;
		tables += ev[i].kind == TLB_TRACE_FREE_TABLE;
	}
	EXPECT_EQ(t, flushes, 1u);
	EXPECT_EQ(t, frees, 600u);
	EXPECT_GE(t, tables, 2u); /* 600 pages span two leaf tables, now empty */
	mm_destroy(mm);
}

static void batches_chain_when_slots_run_out(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, 2000);
	ASSERT_TRUE(t, mm != NULL);
	struct gather_stats before = gather_stats;
	uint64_t free_before = frame_free_count();
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), 2000 * PAGE_SIZE), 0);
	/* 8 slots in the gather, then 510 per page-sized batch: 2000 pages need 4 batches. */
	EXPECT_EQ(t, gather_stats.batches_allocated - before.batches_allocated, 4u);
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 1u);
	EXPECT_EQ(t, gather_stats.pages_freed - before.pages_freed, 2000u);
	uint64_t tables_freed = gather_stats.tables_freed - before.tables_freed;
	EXPECT_EQ(t, frame_free_count(), free_before + 2000 + tables_freed); /* batches returned */
	mm_destroy(mm);
}

static void batch_failure_settles_early(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, 600);
	ASSERT_TRUE(t, mm != NULL);
	struct gather_stats before = gather_stats;
	uint64_t free_before = frame_free_count();
	frame_fail_after(0); /* no batch can be allocated */
	int err = vm_unmap(mm, UVA(0), 600 * PAGE_SIZE);
	frame_fail_clear();
	EXPECT_EQ(t, err, 0); /* never fails */
	EXPECT_GE(t, gather_stats.batch_alloc_failures - before.batch_alloc_failures, 1u);
	/* Without batches it flushes every time its 8 slots fill: many flushes, no leak. */
	EXPECT_GT(t, gather_stats.flushes - before.flushes, 1u);
	EXPECT_EQ(t, gather_stats.pages_freed - before.pages_freed, 600u);
	uint64_t tables_freed = gather_stats.tables_freed - before.tables_freed;
	EXPECT_EQ(t, frame_free_count(), free_before + 600 + tables_freed);
	EXPECT_EQ(t, gather_stats.order_violations, 0u);
	ktest_log(t, "%lu flushes instead of 1",
		  (unsigned long)(gather_stats.flushes - before.flushes));
	mm_destroy(mm);
}

static void contiguous_run_cleared_in_one_call(struct ktest *t)
{
	/* The arch contract: one call clears the run and reports its combined A/D state. */
	static pte_t slots[8];
	for (unsigned i = 0; i < 8; i++)
		slots[i] = arch_pte_make_leaf(MiB(64) + i * PAGE_SIZE, 0, PT_READ | PT_WRITE);
	slots[2] = arch_pte_make_leaf(MiB(64) + 2 * PAGE_SIZE, 0, PT_READ | PT_ACCESSED);
	slots[5] = arch_pte_make_leaf(MiB(64) + 5 * PAGE_SIZE, 0, PT_READ | PT_DIRTY);
	EXPECT_EQ(t, arch_pte_clear_run(slots, 8, 0), (unsigned)(PT_ACCESSED | PT_DIRTY));
	for (unsigned i = 0; i < 8; i++)
		EXPECT_EQ(t, (int)arch_pte_kind(slots[i], 0), (int)PTE_ABSENT);
	/* A clean leaf reports no dirt (arm64 sets the access flag on every leaf it makes). */
	slots[0] = arch_pte_make_leaf(MiB(64), 0, PT_READ);
	EXPECT_EQ(t, arch_pte_clear_run(slots, 1, 0) & PT_DIRTY, 0u);

	/* The walker: a physically contiguous mapping is cleared as one run. */
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(4, &pa), 0);
	ASSERT_EQ(t, vm_map_phys(mm, UVA(0), pa, 16 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	uint64_t runs = mm->pt.stats.runs_cleared, cleared = mm->pt.stats.leaves_cleared;
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), 16 * PAGE_SIZE), 0);
	EXPECT_EQ(t, mm->pt.stats.runs_cleared - runs, 1u);
	EXPECT_EQ(t, mm->pt.stats.leaves_cleared - cleared, 16u);
	mm_destroy(mm);
	frame_free(pa, 4); /* a physical mapping does not own its frames */
}

/* One unmap while another gather is open on the mm, in `mode`; returns the full flushes. */
static uint64_t unmap_inside_open_gather(struct ktest *t, enum tlb_mode mode, uint64_t *nested)
{
	enum tlb_mode saved = tlb_mode;
	tlb_mode = mode;
	struct mm *mm = mm_with_pages(t, 4);
	struct gather_stats before = gather_stats;
	struct mmu_gather outer;
	tlb_gather_begin(&outer, mm, false); /* someone else is mid-gather on this mm */
	EXPECT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);
	tlb_gather_finish(&outer);
	*nested = gather_stats.nested - before.nested;
	uint64_t full = gather_stats.full_flushes - before.full_flushes;
	mm_destroy(mm);
	tlb_mode = saved;
	return full;
}

static void nested_gathers_flush_everything(struct ktest *t)
{
	uint64_t nested;
	/* Per-mm generations cannot tell what the other gather left pending: flush all. */
	EXPECT_EQ(t, unmap_inside_open_gather(t, TLB_MODE_MMGEN, &nested), 1u);
	EXPECT_EQ(t, nested, 1u);
	/* Per-table generations can (the other gather's tables carry their own)... */
	uint64_t full = unmap_inside_open_gather(t, TLB_MODE_GEN, &nested);
	EXPECT_EQ(t, nested, 1u);
	/* ...when targets catch up through the ring; a broadcast flushes only its own range. */
	EXPECT_EQ(t, full, tlb_broadcast ? 1u : 0u);
}

/*
 * A settle may skip its flush only when every change it covers was
 * published by a deferral that a completed flush covers. Here the gather
 * deferred one table (as a finished table visit does), another gather's
 * flush completed past that generation, and then the gather cleared one
 * more leaf and settled before that table was deferred (as a walk stopped
 * mid-table does): the old bookkeeping saw defer_gen <= completed and
 * skipped the flush, freeing a frame some CPU could still reach.
 */
static void settle_after_undeferred_change_flushes(struct ktest *t)
{
	if (tlb_mode != TLB_MODE_GEN || tlb_broadcast)
		KTEST_SKIP(t, "per-table deferral is tlb=gen with IPIs (x86-64 default, arm64 tlb=ipi)");
	struct mm *mm = mm_with_pages(t, 2);
	ASSERT_TRUE(t, mm != NULL);
	phys_addr_t table;
	ASSERT_EQ(t, frame_alloc_zeroed(&table), 0); /* stands in for a walked leaf table */
	struct mmu_gather g, other;
	tlb_gather_begin(&g, mm, false);
	tlb_note_cleared(&g, UVA(0), PAGE_SIZE, 0);
	tlb_defer_table(&g, table, UVA(0), UVA(PAGE_SIZE), 12);
	/* Another flush of the mm completes past g's deferral. */
	tlb_gather_begin(&other, mm, false);
	tlb_note_changed(&other, UVA(0), PAGE_SIZE, 0);
	tlb_gather_finish(&other);
	EXPECT_GE(t, atomic_load_acquire(&mm->tlb_gen_completed), g.defer_gen);
	/* A change not yet deferred, then an early settle: */
	tlb_note_cleared(&g, UVA(PAGE_SIZE), PAGE_SIZE, 0);
	struct gather_stats before = gather_stats;
	tlb_flush_mmu(&g);
	EXPECT_EQ(t, gather_stats.flushes - before.flushes, 1u);
	EXPECT_EQ(t, gather_stats.completed_skips - before.completed_skips, 0u);
	tlb_gather_finish(&g);
	frame_free(table, 0);
	mm_destroy(mm);
}

struct table_reader {
	struct mm *mm;
	uint32_t stop;
	uint64_t queries;
};

/* Takes the mm's page-table lock over and over (with interrupts off, as pt_query does). */
static void query_in_a_loop(void *arg)
{
	struct table_reader *r = arg;
	struct pt_query_result q;
	while (!atomic_load_acquire(&r->stop)) {
		pt_query(&r->mm->pt, UVA(0), &q);
		r->queries++;
	}
}

/*
 * A gather that runs out of room settles outside the page-table lock. When
 * it settled inside the walk, it sent the flush IPI and waited with the
 * lock held and interrupts off, while the reader on the other CPU (in the
 * mm, so a flush target) spun on that lock with interrupts off: neither
 * could go on.
 */
static void settle_never_waits_under_the_table_lock(struct ktest *t)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	if (cpumask_weight(on) < 2)
		KTEST_SKIP(t, "needs a second CPU");
	unsigned other = arch_cpu_id();
	for_each_cpu(c, on) if (c != arch_cpu_id()) other = c;
	struct mm *mm = mm_with_pages(t, 300);
	ASSERT_TRUE(t, mm != NULL);
	static struct table_reader r;
	r = (struct table_reader){.mm = mm};
	struct thread *th = thread_create_mm("pt-reader", other, mm, query_in_a_loop, &r);
	ASSERT_TRUE(t, th != NULL);
	while (READ_ONCE(r.queries) == 0)
		thread_sleep_ns(1000000ull);
	struct gather_stats before = gather_stats;
	frame_fail_after(0); /* no batch: the gather settles every 8 pages */
	int err = vm_unmap(mm, UVA(0), 300 * PAGE_SIZE);
	frame_fail_clear();
	atomic_store_release(&r.stop, 1);
	thread_join(th);
	EXPECT_EQ(t, err, 0);
	EXPECT_GT(t, gather_stats.flushes - before.flushes, 30u);
	EXPECT_EQ(t, gather_stats.pages_freed - before.pages_freed, 300u);
	ktest_log(t, "%lu settles while cpu%u read the tables %lu times",
		  (unsigned long)(gather_stats.flushes - before.flushes), other,
		  (unsigned long)r.queries);
	mm_destroy(mm);
}

static const struct ktest_case gather_cases[] = {
	KTEST_CASE(unmap_512_pages_flushes_once),
	KTEST_CASE(permission_upgrade_flushes_nothing),
	KTEST_CASE(frees_come_after_the_flush),
	KTEST_CASE(batches_chain_when_slots_run_out),
	KTEST_CASE(batch_failure_settles_early),
	KTEST_CASE(contiguous_run_cleared_in_one_call),
	KTEST_CASE(nested_gathers_flush_everything),
	KTEST_CASE(settle_after_undeferred_change_flushes),
	KTEST_CASE(settle_never_waits_under_the_table_lock),
	KTEST_END,
};
KTEST_SUITE(gather_suite, "gather", gather_cases);
