// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb_batch suite: reclaim-style batching across address spaces
 * (kernel/mm/tlb_batch.h). One page each is taken from several address
 * spaces that residents keep loaded on every other CPU, and the batch is
 * flushed once:
 *  - one round: the initiator sends at most one IPI per remote CPU
 *    however many mms are batched (none with a hardware broadcast), and
 *    each CPU handles the round once;
 *  - frames held until the round is over: a test hook parks one remote
 *    CPU inside the round, before it invalidated anything (it still holds
 *    the old translations), and every CPU of the round checks there that
 *    no batched frame is free yet (tlb.break=batch_free_early frees them
 *    first, and this case must fail);
 *  - nothing stale afterwards: each resident reads its page again and
 *    must see a fresh zero page, not the marker it wrote through the old
 *    translation;
 *  - a batch that is full flushes itself before it takes another page;
 *  - an ordinary change over a batched page (or over the leaf table the
 *    batch emptied and unhooked) does not return before the page is
 *    flushed, even though the batch has not flushed yet: the handed-off
 *    gather still counts as open (tlb.break=batch_closes_at_hand_off).
 */
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb_batch.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"
#include "kernel/xcall.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define TB_VA	     (arch_mm_layout.user_base + GiB(7))
#define TB_PAGE	     TB_VA /* the page the batch takes */
#define TB_MMS_MAX   16
#define TB_MARKER(i) (0xba7c000000ull + (i) + 1)
#define TB_PARK_NS   5000000ull

struct tb_mm {
	struct mm *mm;
	phys_addr_t frame; /* behind TB_PAGE before the batch took it */
	uint64_t after;	   /* what the resident read once the batch was flushed */
	bool checked;
	struct thread *th;
	unsigned index;
};

struct tb_run {
	struct tb_mm m[TB_MMS_MAX];
	unsigned n;
	uint32_t spinning, checked;
	bool stop, flushed;
	unsigned initiator;
	uint32_t park_taken; /* the first remote CPU in the round parks */
	unsigned park_cpu;
	uint32_t round_calls[CPU_MAX];
	uint32_t freed_in_round; /* batched frames found free during the round: must stay 0 */
	uint64_t freed_before; /* gather_stats.pages_freed as the round began */
	struct tlb_batch b;
};
static struct tb_run run;

/* Keeps its mm loaded on its CPU and its page in the TLB; reads it once more after the flush. */
static void resident(void *arg)
{
	struct tb_mm *m = arg;
	volatile uint64_t *p = (volatile uint64_t *)TB_PAGE;
	*p = TB_MARKER(m->index);
	atomic_fetch_add(&run.spinning, 1);
	while (!atomic_load_acquire(&run.stop)) {
		if (!atomic_load_acquire(&run.flushed)) {
			(void)*p;
		} else if (!m->checked) {
			m->after = *p;
			m->checked = true;
			atomic_fetch_add(&run.checked, 1);
		}
		arch_cpu_relax();
	}
}

/* Inside the round, before this CPU invalidated anything. */
static void round_hook(const struct tlb_batch *b)
{
	unsigned me = arch_cpu_id();
	atomic_fetch_add(&run.round_calls[me], 1);
	/*
	 * Not a fixed CPU: one whose resident was preempted is lazy, rightly
	 * left out of the round, and would never park.
	 */
	if (me != run.initiator && atomic_exchange(&run.park_taken, 1u) == 0) {
		run.park_cpu = me;
		time_delay_ns(TB_PARK_NS); /* parked: the initiator must wait for us */
	}
	for (unsigned i = 0; i < b->nr; i++)
		if (b->entries[i].held.frame && frame_is_free(b->entries[i].held.frame))
			atomic_fetch_add(&run.freed_in_round, 1);
	/*
	 * A frame freed early may already be taken again (a resident that lost
	 * its TLB entry faults in a zero page, often that very frame): the count
	 * of frees says what frame_is_free cannot. Nothing else frees user pages
	 * while the case runs.
	 */
	if (atomic_load_acquire(&gather_stats.pages_freed) != run.freed_before)
		atomic_fetch_add(&run.freed_in_round, 1);
}

static void wait_for(struct ktest *t, const uint32_t *counter, uint32_t n)
{
	uint64_t deadline = arch_time_ns() + 5000000000ull;
	while (atomic_load_acquire(counter) < n) {
		ASSERT_LT(t, arch_time_ns(), deadline);
		thread_sleep_ns(1000000);
	}
}

static void one_round_for_many_mms(struct ktest *t)
{
	unsigned me = arch_cpu_id();
	cpumask_t remote = cpumask_read(&cpu_online_mask);
	cpumask_clear(&remote, me);
	unsigned nremote = cpumask_weight(remote);
	if (nremote == 0)
		KTEST_SKIP(t, "needs a second CPU");
	unsigned cpu_of[CPU_MAX], k = 0;
	for_each_cpu(cpu, remote) cpu_of[k++] = cpu;
	memset(&run, 0, sizeof(run));
	run.n = MIN(2 * nremote, (unsigned)TB_MMS_MAX);
	run.initiator = me;
	for (unsigned i = 0; i < run.n; i++) {
		struct tb_mm *m = &run.m[i];
		m->index = i;
		m->mm = mm_create();
		ASSERT_TRUE(t, m->mm != NULL);
		/* Two pages: the leaf table stays, so no table is freed. */
		ASSERT_EQ(t, vm_map_anon(m->mm, TB_VA, 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
		ASSERT_EQ(t, vm_populate(m->mm, TB_VA, 2 * PAGE_SIZE), 0);
		struct pt_query_result q;
		ASSERT_TRUE(t, pt_query(&m->mm->pt, TB_PAGE, &q));
		m->frame = q.pa;
		m->th = thread_create_mm("tb-resident", cpu_of[i % nremote], m->mm, resident, m);
		ASSERT_TRUE(t, m->th != NULL);
	}
	wait_for(t, &run.spinning, run.n);

	ASSERT_EQ(t, tlb_batch_init(&run.b), 0);
	for (unsigned i = 0; i < run.n; i++)
		EXPECT_EQ(t, tlb_batch_unmap_page(&run.b, run.m[i].mm, TB_PAGE), 0);
	EXPECT_EQ(t, run.b.nr, run.n);
	for (unsigned i = 0; i < run.n; i++)
		EXPECT_FALSE(t, frame_is_free(run.m[i].frame));

	struct xcall_stats x0 = xcall_stats_cpu(me);
	uint64_t freed0 = gather_stats.pages_freed;
	run.freed_before = freed0;
	tlb_batch_test_round = round_hook;
	tlb_batch_flush(&run.b);
	tlb_batch_test_round = NULL;
	struct xcall_stats x1 = xcall_stats_cpu(me);
	uint64_t freed = gather_stats.pages_freed - freed0;
	atomic_store_release(&run.flushed, true);

	uint64_t ipis = x1.ipis_sent - x0.ipis_sent;
	ktest_log(t, "%u mms on %u remote CPUs: %lu IPIs, %lu requests posted, %lu frames freed",
		  run.n, nremote, (unsigned long)ipis,
		  (unsigned long)(x1.requests_posted - x0.requests_posted), (unsigned long)freed);
	EXPECT_EQ(t, run.b.stats.rounds, 1u);
	EXPECT_EQ(t, run.freed_in_round, 0u);
	EXPECT_EQ(t, freed, (uint64_t)run.n);
	if (tlb_broadcast) {
		EXPECT_EQ(t, ipis, 0u);
		EXPECT_EQ(t, run.round_calls[me], 1u);
	} else {
		EXPECT_LE(t, ipis, (uint64_t)nremote);
		EXPECT_LE(t, x1.requests_posted - x0.requests_posted, (uint64_t)nremote);
		/* Some remote CPU took the round and parked in it: the initiator waited. */
		EXPECT_EQ(t, atomic_load_acquire(&run.park_taken), 1u);
		for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
			EXPECT_LE(t, run.round_calls[cpu], 1u);
	}

	wait_for(t, &run.checked, run.n);
	atomic_store_release(&run.stop, true);
	for (unsigned i = 0; i < run.n; i++) {
		thread_join(run.m[i].th);
		if (run.m[i].after != 0)
			ktest_log(t, "mm %u read %#lx after the flush", i,
				  (unsigned long)run.m[i].after);
		EXPECT_EQ(t, run.m[i].after, 0u); /* a fresh zero page, not the old marker */
	}
	tlb_batch_fini(&run.b);
	for (unsigned i = 0; i < run.n; i++)
		mm_destroy(run.m[i].mm);
}

/*
 * A full batch flushes itself before it takes another page; the calls
 * refuse what is not an anonymous page; every frame is back afterwards,
 * and the leaf table the last page emptied (an entry that frees a table).
 */
static void full_batch_flushes_itself(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	unsigned pages = TLB_BATCH_MAX + 1;
	ASSERT_EQ(t, vm_map_anon(mm, TB_VA, (pages + 1) * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, TB_VA, pages * PAGE_SIZE), 0);
	phys_addr_t phys;
	ASSERT_EQ(t, frame_alloc(0, &phys), 0);
	ASSERT_EQ(t, vm_map_phys(mm, TB_VA + MiB(2), phys, PAGE_SIZE, PT_READ), 0);
	uint64_t free0 = frame_free_count();
	struct tlb_batch b;
	ASSERT_EQ(t, tlb_batch_init(&b), 0);
	for (unsigned i = 0; i < pages; i++)
		EXPECT_EQ(t, tlb_batch_unmap_page(&b, mm, TB_VA + i * PAGE_SIZE), 0);
	EXPECT_EQ(t, b.stats.full_rounds, 1u);
	EXPECT_EQ(t, b.stats.rounds, 1u);
	EXPECT_EQ(t, b.nr, 1u);
	EXPECT_EQ(t, tlb_batch_unmap_page(&b, mm, TB_VA + pages * PAGE_SIZE), -ENOENT);
	EXPECT_EQ(t, tlb_batch_unmap_page(&b, mm, TB_VA + MiB(2)), -EINVAL);
	EXPECT_EQ(t, tlb_batch_unmap_page(&b, mm, TB_VA + MiB(4)), -EINVAL);
	EXPECT_EQ(t, b.nr, 1u);
	tlb_batch_fini(&b);
	/* The last page emptied its leaf table: the batch freed the table after its round too. */
	EXPECT_EQ(t, frame_free_count(), free0 + pages + 1);
	struct pt_query_result q;
	for (unsigned i = 0; i < pages; i++)
		EXPECT_FALSE(t, pt_query(&mm->pt, TB_VA + i * PAGE_SIZE, &q));
	mm_destroy(mm);
	frame_free(phys, 0);
}

/* One resident on another CPU, reading the batched page until told to look once more. */
struct tb_pending {
	uint32_t spinning, checked;
	bool look, stop;
	uint64_t after;
};

static void pending_resident(void *arg)
{
	struct tb_pending *p = arg;
	volatile uint64_t *page = (volatile uint64_t *)TB_PAGE;
	*page = TB_MARKER(0);
	atomic_fetch_add(&p->spinning, 1);
	while (!atomic_load_acquire(&p->look))
		(void)*page;
	p->after = *page;
	atomic_fetch_add(&p->checked, 1);
	while (!atomic_load_acquire(&p->stop))
		arch_cpu_relax();
}

/* The later change, on a CPU of its own. */
struct tb_discard {
	struct mm *mm;
	int err;
};

static void discard_run(void *arg)
{
	struct tb_discard *d = arg;
	d->err = vm_discard(d->mm, TB_PAGE, PAGE_SIZE);
}

/*
 * A page taken by a batch that has not flushed yet, then discarded by an
 * ordinary vm_discard over it: vm_discard finds nothing left to clear, but
 * must not return while a CPU may still reach the old frame (the batch's
 * open gather makes it a nested gather: it takes on the page table's
 * pending flush, or flushes the whole mm). The resident, which cached the
 * page, must then read a fresh zero page, before the batch ever flushes.
 * With `pages` == 1 the batched page is alone in its leaf table, so the
 * batch unhooked the table too and vm_discard finds no leaf table to take
 * a pending flush from. Only the open count can then make it flush in
 * tlb=mmgen and with a hardware broadcast (tlb.break=batch_closes_at_hand_off
 * fails both shapes there); tlb=gen still takes on the pending flush of the
 * table whose entry the batch cleared, one level up. With `elsewhere` the
 * vm_discard runs on a third CPU while this one holds the batch: the
 * changes of one mm run at once (docs/mm.md, "Locking"), and the open
 * count is the mm's, not the thread's.
 */
static void batched_then_discarded(struct ktest *t, uint64_t pages, bool elsewhere)
{
	unsigned me = arch_cpu_id(), other = me, third = me;
	for_each_cpu(cpu, cpumask_read(&cpu_online_mask)) if (cpu != me) other = cpu;
	for_each_cpu(cpu, cpumask_read(&cpu_online_mask))
	{
		if (cpu != me && cpu != other)
			third = cpu;
	}
	if (other == me)
		KTEST_SKIP(t, "needs a second CPU");
	if (elsewhere && third == me)
		KTEST_SKIP(t, "needs a third CPU");
	static struct tb_pending p;
	memset(&p, 0, sizeof(p));
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, TB_VA, pages * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, TB_VA, pages * PAGE_SIZE), 0);
	struct thread *th = thread_create_mm("tb-pending", other, mm, pending_resident, &p);
	ASSERT_TRUE(t, th != NULL);
	wait_for(t, &p.spinning, 1);
	struct tlb_batch b;
	ASSERT_EQ(t, tlb_batch_init(&b), 0);
	EXPECT_EQ(t, tlb_batch_unmap_page(&b, mm, TB_PAGE), 0);
	EXPECT_EQ(t, b.nr, 1u);
	/* The shape under test: the batch holds the emptied leaf table, or none. */
	EXPECT_EQ(t, b.nr ? b.entries[0].held.req.freed_tables : false, pages == 1);
	if (elsewhere) {
		static struct tb_discard d;
		d = (struct tb_discard){.mm = mm, .err = -1};
		struct thread *dt = thread_create_mm("tb-discard", third, mm, discard_run, &d);
		EXPECT_TRUE(t, dt != NULL);
		if (dt)
			thread_join(dt);
		EXPECT_EQ(t, d.err, 0);
	} else {
		EXPECT_EQ(t, vm_discard(mm, TB_PAGE, PAGE_SIZE), 0);
	}
	atomic_store_release(&p.look, true);
	wait_for(t, &p.checked, 1);
	EXPECT_EQ(t, b.stats.rounds, 0u);
	if (p.after != 0)
		ktest_log(t, "read %#lx after vm_discard returned", (unsigned long)p.after);
	EXPECT_EQ(t, p.after, 0u);
	tlb_batch_fini(&b);
	atomic_store_release(&p.stop, true);
	thread_join(th);
	mm_destroy(mm);
}

static void later_change_flushes_batched_page(struct ktest *t)
{
	batched_then_discarded(t, 2, false);
}

static void later_change_flushes_batched_table(struct ktest *t)
{
	batched_then_discarded(t, 1, false);
}

static void change_elsewhere_flushes_batched_page(struct ktest *t)
{
	batched_then_discarded(t, 2, true);
}

static void change_elsewhere_flushes_batched_table(struct ktest *t)
{
	batched_then_discarded(t, 1, true);
}

static const struct ktest_case tlb_batch_cases[] = {
    KTEST_CASE_TIMEOUT(one_round_for_many_mms, 20000),
    KTEST_CASE(full_batch_flushes_itself),
    KTEST_CASE(later_change_flushes_batched_page),
    KTEST_CASE(later_change_flushes_batched_table),
    KTEST_CASE(change_elsewhere_flushes_batched_page),
    KTEST_CASE(change_elsewhere_flushes_batched_table),
    KTEST_END,
};
KTEST_SUITE(tlb_batch_suite, "tlb_batch", tlb_batch_cases);
