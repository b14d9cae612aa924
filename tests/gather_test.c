// SPDX-License-Identifier: BSD-2-Clause
/*
 * gather suite: the mmu_gather contract, counted exactly. One flush per
 * gather however many pages; none for a pure permission upgrade; frames
 * and tables freed only after the flush (checked on a recorded trace, and
 * by the gather's own order_violations count, which tlb.break=
 * free_before_flush makes non-zero); batches chained when the in-gather
 * slots run out; a batch that cannot be allocated makes the gather settle
 * early instead of failing or leaking, and no settle frees a frame that
 * writers on other CPUs can still reach (tlb.break=settle_no_flush); a
 * gather nested in another one returns only when the other's pending
 * changes in its range are flushed too (tlb.break=nested_blind).
 */
#include "kernel/errno.h"
#include "kernel/entry.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"
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
	/* Non-zero under tlb.break=free_before_flush (make test-negative checks it). */
	EXPECT_EQ(t, gather_stats.order_violations - before.order_violations, 0u);
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

/*
 * Writers for batch_failure_settles_early, on other CPUs: each keeps
 * writing to every page of the range that has not faulted for it yet. They
 * run with preemption off, so a fault is not resolved (mm_handle_fault
 * resolves nothing with preemption off; the unmap took the VMA away) but comes straight back to
 * the fixture: the writer notes the page as gone and goes on with the
 * others. So every early settle meets writers that still hold live
 * translations of the pages it is about to free.
 */
#define SETTLE_PAGES   600
#define SETTLE_WRITERS 3

struct settle_writer {
	unsigned slot;	/* it writes the slot-th 64-byte word of each page */
	unsigned alive; /* pages that have not faulted yet */
	unsigned stray; /* faults outside the range (must stay 0) */
	uint64_t writes;
	uint64_t gone[(SETTLE_PAGES + 63) / 64];
};

static struct {
	virt_addr_t va;
	bool stop;
	struct settle_writer w[SETTLE_WRITERS];
} settle;

static void settle_write_pass(void *arg)
{
	struct settle_writer *w = arg;
	while (w->alive && !atomic_load_acquire(&settle.stop))
		for (unsigned i = 0; i < SETTLE_PAGES; i++) {
			if (w->gone[i / 64] >> (i % 64) & 1)
				continue;
			virt_addr_t va = settle.va + (uint64_t)i * PAGE_SIZE + 64 * w->slot;
			*(volatile uint32_t *)va = 0xBAD00000u | i;
			WRITE_ONCE(w->writes, w->writes + 1);
		}
}

static void settle_writer(void *arg)
{
	struct settle_writer *w = arg;
	struct fault_info f;
	preempt_disable(); /* a fault comes back here at once (see above) */
	while (ktest_expect_fault(settle_write_pass, w, &f)) {
		uint64_t page = (f.address - settle.va) / PAGE_SIZE;
		if (f.address < settle.va || page >= SETTLE_PAGES) {
			w->stray++;
			break;
		}
		w->gone[page / 64] |= 1ull << (page % 64);
		w->alive--;
	}
	preempt_enable();
}

/*
 * No batch can be allocated, so the gather settles (flush, then free)
 * every time its 8 slots fill: many flushes instead of one, nothing leaked,
 * and, with writers on the other CPUs and every frame poisoned the moment
 * it is freed, no frame written after its free. With tlb.break=
 * settle_no_flush an early settle frees without flushing, the writers'
 * stale translations reach the freed frames, and this case fails.
 */
static void batch_failure_settles_early(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, SETTLE_PAGES);
	ASSERT_TRUE(t, mm != NULL);
	static phys_addr_t frames[SETTLE_PAGES];
	for (unsigned i = 0; i < SETTLE_PAGES; i++) {
		struct pt_query_result q;
		ASSERT_TRUE(t, pt_query(&mm->pt, UVA((uint64_t)i * PAGE_SIZE), &q));
		frames[i] = q.pa;
	}
	memset(&settle, 0, sizeof(settle));
	settle.va = UVA(0);
	struct thread *th[SETTLE_WRITERS] = {0};
	unsigned n = 0;
	cpumask_t on = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, on) if (c != arch_cpu_id() && n < SETTLE_WRITERS)
	{
		settle.w[n] = (struct settle_writer){.slot = n, .alive = SETTLE_PAGES};
		th[n] = thread_create_mm("settle-writer", c, mm, settle_writer, &settle.w[n]);
		ASSERT_TRUE(t, th[n] != NULL);
		n++;
	}
	/* Each writer has written every page once: its TLB holds the range. */
	for (unsigned i = 0; i < n; i++)
		while (READ_ONCE(settle.w[i].writes) < SETTLE_PAGES)
			thread_sleep_ns(1000000);

	struct gather_stats before = gather_stats;
	uint64_t free_before = frame_free_count();
	frame_poison_on_free(true);
	frame_fail_after(0); /* no batch can be allocated */
	int err = vm_unmap(mm, UVA(0), SETTLE_PAGES * PAGE_SIZE);
	frame_fail_clear();
	frame_poison_on_free(false);
	uint64_t free_after = frame_free_count();
	/* Each writer ends once every page has faulted for it; `stop` only bounds the wait. */
	uint64_t deadline = arch_time_ns() + 2000000000ull;
	for (unsigned i = 0; i < n; i++)
		while (READ_ONCE(settle.w[i].alive) && arch_time_ns() < deadline)
			thread_sleep_ns(1000000);
	atomic_store_release(&settle.stop, true);
	for (unsigned i = 0; i < n; i++)
		thread_join(th[i]);

	EXPECT_EQ(t, err, 0); /* never fails */
	EXPECT_GE(t, gather_stats.batch_alloc_failures - before.batch_alloc_failures, 1u);
	/* Without batches it flushes every time its 8 slots fill: many flushes, no leak. */
	uint64_t settles = gather_stats.flushes - before.flushes;
	EXPECT_GT(t, settles, 1u);
	EXPECT_EQ(t, gather_stats.pages_freed - before.pages_freed, (uint64_t)SETTLE_PAGES);
	uint64_t tables_freed = gather_stats.tables_freed - before.tables_freed;
	EXPECT_EQ(t, free_after, free_before + SETTLE_PAGES + tables_freed);
	EXPECT_EQ(t, gather_stats.order_violations - before.order_violations, 0u);
	/* Nothing has been allocated since: every freed frame still holds its poison. */
	unsigned written = 0;
	for (unsigned i = 0; i < SETTLE_PAGES; i++) {
		const volatile uint32_t *f = kva(frames[i]);
		for (unsigned k = 0; k < PAGE_SIZE / 4; k++)
			if (f[k] != 0x5A5A5A5Au) {
				written++;
				break;
			}
	}
	EXPECT_EQ(t, written, 0u);
	uint64_t writes = 0;
	for (unsigned i = 0; i < n; i++) {
		EXPECT_EQ(t, settle.w[i].alive, 0u); /* every page faulted for every writer */
		EXPECT_EQ(t, settle.w[i].stray, 0u);
		writes += settle.w[i].writes;
	}
	ktest_log(t, "%lu settles instead of 1; %u writers, %lu writes, %u freed frames written",
		  (unsigned long)settles, n, (unsigned long)writes, written);
	mm_destroy(mm);
}

static void protect_run_in_one_call(struct ktest *t)
{
	/*
	 * The arch contract: one call rewrites the leaves' permissions, passes
	 * over absent slots and leaves already so, keeps accessed/dirty, and
	 * names which rewrites a TLB must lose (a permission taken away).
	 */
	static pte_t slots[8];
	phys_addr_t pa = MiB(64);
	slots[0] = arch_pte_make_leaf(pa, 0, PT_READ | PT_WRITE | PT_USER | PT_ACCESSED | PT_DIRTY);
	slots[1] = 0;
	slots[2] = arch_pte_make_leaf(pa + 2 * PAGE_SIZE, 0, PT_READ | PT_USER);
	slots[3] = arch_pte_make_leaf(pa + 3 * PAGE_SIZE, 0, PT_READ | PT_WRITE | PT_USER);
	slots[4] =
	    arch_pte_make_leaf(pa + 4 * PAGE_SIZE, 0, PT_READ | PT_WRITE | PT_USER | PT_DIRTY);
	slots[5] = arch_pte_make_leaf(pa + 5 * PAGE_SIZE, 0, PT_READ | PT_EXEC | PT_USER);
	slots[6] = 0;
	slots[7] = arch_pte_make_leaf(pa + 7 * PAGE_SIZE, 0, PT_READ | PT_USER);
	struct pte_run_change r;
	EXPECT_EQ(t,
		  arch_pte_protect_run(slots, 8, 0, PT_READ | PT_USER, PT_ACCESSED | PT_DIRTY, &r),
		  8u);
	EXPECT_EQ(t, r.changed, 4u); /* 0, 3, 4, 5; 2 and 7 are read-only already */
	EXPECT_EQ(t, r.first, 0u);
	EXPECT_EQ(t, r.last, 5u);
	EXPECT_EQ(t, r.flushes, 4u); /* write or execute taken away from each */
	EXPECT_EQ(t, r.first_flush, 0u);
	EXPECT_EQ(t, r.last_flush, 5u);
	for (unsigned i = 0; i < 8; i++) {
		if (i == 1 || i == 6) {
			EXPECT_EQ(t, slots[i], (pte_t)0);
			continue;
		}
		unsigned a = arch_pte_attrs(slots[i], 0);
		EXPECT_EQ(t, arch_pte_address(slots[i], 0), pa + i * PAGE_SIZE);
		EXPECT_EQ(t, a & (PT_WRITE | PT_EXEC | PT_USER), (unsigned)PT_USER);
		EXPECT_EQ(t, a & PT_DIRTY, i == 0 || i == 4 ? (unsigned)PT_DIRTY : 0u);
	}
	/* Adding a permission rewrites the leaf but needs no flush. */
	EXPECT_EQ(t, arch_pte_protect_run(&slots[7], 1, 0, PT_READ | PT_WRITE | PT_USER, 0, &r),
		  1u);
	EXPECT_EQ(t, r.changed, 1u);
	EXPECT_EQ(t, r.flushes, 0u);
	EXPECT_EQ(t, arch_pte_attrs(slots[7], 0) & PT_WRITE, (unsigned)PT_WRITE);
	/* `keep` without dirty: the dirty state goes with the rewrite. */
	EXPECT_EQ(t, arch_pte_protect_run(&slots[4], 1, 0, PT_READ | PT_WRITE | PT_USER, 0, &r),
		  1u);
	EXPECT_EQ(t, arch_pte_attrs(slots[4], 0) & PT_DIRTY, 0u);
	/*
	 * A memory-type change: where the arch needs break-before-make the run
	 * stops before the first such leaf, untouched, and the walker breaks
	 * it; elsewhere it is rewritten in place and must be flushed.
	 */
	pte_t before = slots[3];
	unsigned done = arch_pte_protect_run(&slots[2], 2, 0, PT_READ | PT_USER | PT_DEVICE, 0, &r);
	if (arch_pt_needs_bbm()) {
		EXPECT_EQ(t, done, 0u);
		EXPECT_EQ(t, r.changed, 0u);
		EXPECT_EQ(t, slots[3], before);
	} else {
		EXPECT_EQ(t, done, 2u);
		EXPECT_EQ(t, r.flushes, 2u);
		EXPECT_EQ(t, arch_pte_attrs(slots[3], 0) & PT_DEVICE, (unsigned)PT_DEVICE);
	}
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

/*
 * Nested gathers. G1 is held open (as a concurrent thread's gather would
 * be) after clearing entries it has not flushed yet; G2, a whole vm_unmap
 * over the same leaf table, runs meanwhile. When G2 returns, no CPU may
 * still translate a page of G2's range, the ones G1 cleared included.
 * Three shapes:
 *   overlap:  G1 cleared pages 0-3, G2 unmaps 0-7 (clears 4-7 itself);
 *   inside:   G1 cleared pages 0-3, G2 unmaps 0-3 and finds nothing to clear;
 *   unhooked: G1 emptied the table and unhooked it (not freed yet), G2
 *             unmaps 0-7 and finds no table at all.
 * An actor in the mm on this CPU and a reader on another one (when there
 * is one) cache every page first and probe G2's range after it returns:
 * every probe must fault. (The pages map frames the test owns: a fault
 * there is refused, never filled.) QEMU keeps a translation until it is
 * invalidated, so a flush that missed G1's pages shows as a page still
 * readable. With per-table generations and IPIs, G2 takes on G1's pending
 * leaf table (no whole-mm flush) and escalates only for the unhooked
 * table; with per-mm generations or a broadcast it cannot tell what G1
 * left pending and flushes the whole mm. tlb.break=nested_blind turns
 * both off, and this case must fail (make test-negative runs it with
 * tlb=ipi and tlb=mmgen, and with the arm64 broadcast).
 */
#define NEST_PAGES 8

enum nest_shape { NEST_OVERLAP, NEST_INSIDE, NEST_UNHOOKED };

struct nest_run {
	struct mm *mm;
	enum nest_shape shape;
	bool remote;
	int err;
	uint32_t remote_cached, probe, remote_done;
	unsigned local_readable, remote_readable;
	uint64_t full, nested;
};

static unsigned nest_g1_pages(enum nest_shape shape)
{
	return shape == NEST_UNHOOKED ? NEST_PAGES : NEST_PAGES / 2;
}

static unsigned nest_g2_pages(enum nest_shape shape)
{
	return shape == NEST_INSIDE ? NEST_PAGES / 2 : NEST_PAGES;
}

static void nest_read(void *arg)
{
	(void)*(volatile uint32_t *)arg;
}

static void nest_cache(void)
{
	for (unsigned i = 0; i < NEST_PAGES; i++)
		(void)*(volatile uint32_t *)UVA((uint64_t)i * PAGE_SIZE);
}

/* How many pages of G2's range can still be read here. */
static unsigned nest_probe(const struct nest_run *r)
{
	unsigned readable = 0;
	struct fault_info f;
	for (unsigned i = 0; i < nest_g2_pages(r->shape); i++)
		if (!ktest_expect_fault(nest_read, (void *)UVA((uint64_t)i * PAGE_SIZE), &f))
			readable++;
	return readable;
}

static void nest_reader(void *arg)
{
	struct nest_run *r = arg;
	nest_cache();
	atomic_store_release(&r->remote_cached, 1);
	/* Spin, not sleep: the mm stays loaded here (not lazy), a target of every flush. */
	while (!atomic_load_acquire(&r->probe))
		arch_cpu_relax();
	r->remote_readable = nest_probe(r);
	atomic_store_release(&r->remote_done, 1);
}

static void nest_actor(void *arg)
{
	struct nest_run *r = arg;
	struct mm *mm = r->mm;
	nest_cache();
	while (r->remote && !atomic_load_acquire(&r->remote_cached))
		arch_cpu_relax();
	struct mmu_gather g1;
	down_read(&mm->lock);
	tlb_gather_begin(&g1, mm, false);
	r->err |= pt_unmap_gather(&mm->pt, UVA(0), nest_g1_pages(r->shape) * PAGE_SIZE, &g1, false);
	up_read(&mm->lock);
	struct gather_stats before = gather_stats;
	r->err |= vm_unmap(mm, UVA(0), nest_g2_pages(r->shape) * PAGE_SIZE);
	r->full = gather_stats.full_flushes - before.full_flushes;
	r->nested = gather_stats.nested - before.nested;
	r->local_readable = nest_probe(r);
	atomic_store_release(&r->probe, 1);
	while (r->remote && !atomic_load_acquire(&r->remote_done))
		arch_cpu_relax();
	tlb_gather_finish(&g1);
}

static void nest_once(struct ktest *t, enum nest_shape shape, unsigned reader_cpu)
{
	static const char *const names[] = {"overlap", "inside", "unhooked"};
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	phys_addr_t frames;
	ASSERT_EQ(t, frame_alloc(4, &frames), 0);
	uint64_t bytes = NEST_PAGES * PAGE_SIZE;
	ASSERT_EQ(t, vm_map_phys(mm, UVA(0), frames, bytes, PT_READ | PT_WRITE), 0);
	/* A page that stays keeps the leaf table (and only the unhooked shape loses it). */
	if (shape != NEST_UNHOOKED)
		ASSERT_EQ(t, vm_map_phys(mm, UVA(bytes), frames + bytes, PAGE_SIZE, PT_READ), 0);
	static struct nest_run r;
	r = (struct nest_run){.mm = mm, .shape = shape, .remote = reader_cpu != arch_cpu_id()};
	struct thread *reader = NULL;
	if (r.remote) {
		reader = thread_create_mm("nest-reader", reader_cpu, mm, nest_reader, &r);
		ASSERT_TRUE(t, reader != NULL);
	}
	struct thread *actor = thread_create_mm("nest-actor", arch_cpu_id(), mm, nest_actor, &r);
	ASSERT_TRUE(t, actor != NULL);
	thread_join(actor);
	if (reader)
		thread_join(reader);
	EXPECT_EQ(t, r.err, 0);
	if (r.local_readable || r.remote_readable)
		ktest_fail_msg(t, __FILE__, __LINE__,
			       "%s: %u (here) and %u (cpu%u) pages of %u still readable after the "
			       "nested unmap returned",
			       names[shape], r.local_readable, r.remote_readable, reader_cpu,
			       nest_g2_pages(shape));
	EXPECT_EQ(t, r.nested, 1u);
	/* Whole-mm flushes G2 needed: only where it cannot tell what G1 left pending. */
	bool blind = tlb_mode == TLB_MODE_MMGEN || tlb_broadcast || shape == NEST_UNHOOKED;
	EXPECT_EQ(t, r.full, blind ? 1u : 0u);
	ktest_log(t, "%s: %lu whole-mm flush(es)", names[shape], (unsigned long)r.full);
	mm_destroy(mm);
	frame_free(frames, 4);
}

static void nested_gathers_flush_everything(struct ktest *t)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	unsigned reader = arch_cpu_id();
	for_each_cpu(c, on) if (c != arch_cpu_id() && reader == arch_cpu_id()) reader = c;
	nest_once(t, NEST_OVERLAP, reader);
	nest_once(t, NEST_INSIDE, reader);
	nest_once(t, NEST_UNHOOKED, reader);
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
	tlb_record_cleared(&g, UVA(0), PAGE_SIZE, 0);
	tlb_defer_table(&g, table, UVA(0), UVA(PAGE_SIZE), 12);
	/* Another flush of the mm completes past g's deferral. */
	tlb_gather_begin(&other, mm, false);
	tlb_record_downgraded(&other, UVA(0), PAGE_SIZE, 0);
	tlb_gather_finish(&other);
	EXPECT_GE(t, atomic_load_acquire(&mm->tlb_gen_completed), g.defer_gen);
	/* A change not yet deferred, then an early settle: */
	tlb_record_cleared(&g, UVA(PAGE_SIZE), PAGE_SIZE, 0);
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
    KTEST_CASE(protect_run_in_one_call),
    KTEST_CASE(contiguous_run_cleared_in_one_call),
    KTEST_CASE(nested_gathers_flush_everything),
    KTEST_CASE(settle_after_undeferred_change_flushes),
    KTEST_CASE(settle_never_waits_under_the_table_lock),
    KTEST_END,
};
KTEST_SUITE(gather_suite, "gather", gather_cases);
