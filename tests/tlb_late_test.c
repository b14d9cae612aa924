// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb suite, its late-writer cases (tlb_test.h): a CPU switches into an
 * mm while gathers of it are open and keeps writing a page one of them
 * clears; the gathers' flushes must still reach it before the frame is
 * freed. Per-table deferral (each deferral bumps the generation) and
 * completion by coverage (a flush completes only as far as its targets
 * are covered) are the rules under test (docs/tlb.md).
 */
#include "kernel/entry.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/sched/thread.h"
#include "tests/ktest.h"
#include "tests/tlb_test.h"

/* The late writer's page, in table 2. */
#define LATE_VA UVA(MiB(2))

struct late_writer {
	bool stop;
	uint32_t ready;
	bool faulted;
	uint64_t writes;
};

static void late_write_loop(void *arg)
{
	struct late_writer *w = arg;
	volatile uint32_t *p = (volatile uint32_t *)LATE_VA;
	*p = 7; /* this CPU switches in now: it reads the mm's generation and caches P2 */
	atomic_store_release(&w->ready, 1);
	while (!atomic_load_acquire(&w->stop)) {
		*p = 0xBAD;
		w->writes++;
	}
}

static void late_writer(void *arg)
{
	struct late_writer *w = arg;
	struct fault_info f;
	w->faulted = ktest_expect_fault(late_write_loop, w, &f);
}

/*
 * An mm for a late writer: tlb_test_mm_with(8)'s pages (table 1) and, at
 * LATE_VA (table 2), two frames we own mapped physically (a fault there
 * is refused, never refilled), so unmapping one frees no table (that would
 * force a flush) and the frame is ours to poison afterwards. NULL if out
 * of memory.
 */
static struct mm *late_mm(phys_addr_t *frames)
{
	struct mm *mm = tlb_test_mm_with(8);
	if (!mm)
		return NULL;
	if (frame_alloc(1, frames) == 0) {
		if (vm_map_phys(mm, LATE_VA, *frames, 2 * PAGE_SIZE, PT_READ | PT_WRITE) == 0)
			return mm;
		frame_free(*frames, 1);
	}
	mm_destroy(mm);
	return NULL;
}

/*
 * The start of a late-writer case (it needs another CPU, whose number goes
 * to *cpu): late_mm's mm, and gather `g` open with page 0 (table 1)
 * cleared and deferred. Skips or aborts the case if it cannot set up.
 */
static struct mm *late_case_begin(struct ktest *t, unsigned *cpu, phys_addr_t *frames,
				  struct mmu_gather *g)
{
	cpumask_t o = tlb_test_others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	*cpu = (unsigned)__builtin_ctzll(o.bits);
	struct mm *mm = late_mm(frames);
	ASSERT_TRUE(t, mm != NULL);
	down_read(&mm->lock);
	tlb_gather_begin(g, mm, false);
	ASSERT_EQ(t, pt_unmap_gather(&mm->pt, UVA(0), PAGE_SIZE, g, true), 0);
	up_read(&mm->lock);
	return mm;
}

/* Starts a late writer of `mm` on `cpu`; returns once it stands in the mm. */
static struct thread *late_writer_start(struct late_writer *w, unsigned cpu, struct mm *mm)
{
	*w = (struct late_writer){0};
	struct thread *th = thread_create_mm("late", cpu, mm, late_writer, w);
	if (th)
		while (!atomic_load_acquire(&w->ready))
			thread_sleep_ns(1000000);
	return th;
}

/*
 * The late writer's page (LATE_VA, the first of `frames`) is unmapped
 * and must be flushed everywhere by now: reuses (poisons) the frame, lets
 * the writer run a moment, stops it, and requires the poison intact and
 * the writer's next write after the flush to have faulted. Then frees the
 * mm and the frames.
 */
static void late_writer_check(struct ktest *t, struct late_writer *w, struct thread *th,
			      struct mm *mm, phys_addr_t frames)
{
	volatile uint32_t *f = kva(frames);
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		f[i] = 0x5A5A5A5Au;
	thread_sleep_ns(30000000);
	atomic_store_release(&w->stop, true);
	thread_join(th);

	unsigned changed = 0;
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		changed += f[i] != 0x5A5A5A5Au;
	EXPECT_EQ(t, changed, 0u);
	EXPECT_TRUE(t, w->faulted);
	mm_destroy(mm);
	frame_free(frames, 1);
}

/*
 * The review's bug: a gather defers a first table (generation d), a CPU
 * switches in and stands at d, the gather then clears a second table. If
 * that deferral did not bump the generation, the gather's flush would carry
 * d, the CPU would skip it as done, and keep writing to a freed frame.
 */
void deferral_reaches_cpu_that_switched_in(struct ktest *t)
{
	if (tlb_mode != TLB_MODE_GEN)
		KTEST_SKIP(t, "per-table deferral is tlb=gen only");
	unsigned cpu;
	phys_addr_t frames;
	struct mmu_gather g;
	struct mm *mm = late_case_begin(t, &cpu, &frames, &g); /* g: table 1 deferred */

	static struct late_writer w;
	struct thread *th = late_writer_start(&w, cpu, mm);
	ASSERT_TRUE(t, th != NULL);

	down_read(&mm->lock);
	ASSERT_EQ(t, pt_unmap_gather(&mm->pt, LATE_VA, PAGE_SIZE, &g, false), 0); /* table 2 */
	up_read(&mm->lock);
	tlb_gather_finish(&g);
	late_writer_check(t, &w, th, mm, frames);
}

/*
 * Completion by coverage (docs/tlb.md): a flush completes only up to the
 * lowest generation its targets report having reached, bounded by `before`
 * (the generation it read just before the CPU set). Gather A defers page 0
 * (generation a); a CPU switches in, stands at a and caches P (a frame of
 * ours in table 2); gather C clears P and defers it (c > a), unflushed;
 * then A flushes: it reads before = c, and the CPU skips the request as
 * done, reporting a. Completion must stay below c, so that C's finish still
 * flushes P. tlb.break=complete_to_before (complete to `before`) lets C skip
 * its flush: the completed generation passes the CPU's (checked where it is
 * decided, so the case fails on every run), and the CPU may go on writing
 * the frame we then poison (only while QEMU keeps the stale entry: a run of
 * this case alone usually sees it dropped, then the CPU's next write faults).
 */
void completion_stops_at_a_lagging_target(struct ktest *t)
{
	if (tlb_mode != TLB_MODE_GEN || tlb_broadcast)
		KTEST_SKIP(t, "completion by coverage is tlb=gen with IPIs only");
	unsigned cpu;
	phys_addr_t frames;
	struct mmu_gather a, c;
	struct mm *mm = late_case_begin(t, &cpu, &frames, &a); /* a: page 0 deferred */

	static struct late_writer w;
	struct thread *th = late_writer_start(&w, cpu, mm);
	ASSERT_TRUE(t, th != NULL);
	/* The premise: the writer's CPU stays in the mm, not lazy, until A's flush. */
	uint64_t switches = sched_stats_cpu(cpu).switches;
	uint64_t reached = READ_ONCE(tlb_cpu[cpu].gen);
	EXPECT_GE(t, reached, a.defer_gen); /* ahead of A's request */

	down_read(&mm->lock);
	tlb_gather_begin(&c, mm, false);
	int err = pt_unmap_gather(&mm->pt, LATE_VA, PAGE_SIZE, &c, false); /* P, table 2 */
	up_read(&mm->lock);
	EXPECT_EQ(t, err, 0);
	EXPECT_GT(t, c.defer_gen, reached); /* behind C's deferral */
	tlb_gather_finish(&a);
	uint64_t completed = atomic_load_acquire(&mm->tlb_gen_completed);
	uint64_t now_at = READ_ONCE(tlb_cpu[cpu].gen);
	/*
	 * Had another thread run there, the CPU would have gone lazy and been
	 * skipped (or caught up on its return): completion past `reached` is
	 * then right, and only the stale-write check below can judge.
	 */
	bool undisturbed = sched_stats_cpu(cpu).switches == switches;
	if (undisturbed) {
		/* Covered up to `reached` only: completion must not claim C's deferral. */
		EXPECT_LE(t, completed, reached);
		EXPECT_EQ(t, now_at, reached);
	}
	tlb_gather_finish(&c);
	late_writer_check(t, &w, th, mm, frames);
	if (!undisturbed && !t->failures)
		KTEST_SKIP(t, "the writer's CPU switched threads: only the stale write was judged");
}
