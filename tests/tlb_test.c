// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb suite: the shootdown engine's rules, counted exactly (docs/tlb.md).
 *
 * "Resident" threads keep an mm loaded (and not lazy) on other CPUs by
 * spinning inside it, so a flush has real targets; counts are taken as
 * deltas around one operation, from the initiating CPU's counters.
 */
#include "kernel/entry.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "kernel/xcall.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off) (arch_mm_layout.user_base + GiB(4) + (off))

struct residents {
	struct mm *mm;
	bool stop;
	uint32_t running;
	struct thread *th[CPU_MAX];
};

static void resident(void *arg)
{
	struct residents *r = arg;
	volatile uint32_t *p = (volatile uint32_t *)(UVA(MiB(16)) + 64 * arch_cpu_id());
	*p = 1; /* loads the mm here (first touch) */
	atomic_fetch_add(&r->running, 1);
	while (!atomic_load_acquire(&r->stop))
		arch_cpu_relax();
}

/* Starts a resident of r->mm on every online CPU in `cpus`; waits until they run. */
static bool residents_start(struct residents *r, cpumask_t cpus)
{
	unsigned n = 0;
	for_each_cpu(c, cpus)
	{
		r->th[c] = thread_create_mm("resident", c, r->mm, resident, r);
		if (!r->th[c])
			return false;
		n++;
	}
	while (atomic_load_acquire(&r->running) < n)
		thread_sleep_ns(1000000);
	return true;
}

static void residents_stop(struct residents *r)
{
	atomic_store_release(&r->stop, true);
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (r->th[c])
			thread_join(r->th[c]);
}

static cpumask_t others(void)
{
	cpumask_t m = cpumask_read(&cpu_online_mask);
	cpumask_clear(&m, arch_cpu_id());
	return m;
}

static struct mm *mm_with(uint64_t pages)
{
	struct mm *mm = mm_create();
	if (mm && (vm_map_anon(mm, UVA(0), pages * PAGE_SIZE, PT_READ | PT_WRITE) ||
		   vm_populate(mm, UVA(0), pages * PAGE_SIZE) ||
		   vm_map_anon(mm, UVA(MiB(16)), PAGE_SIZE, PT_READ | PT_WRITE))) {
		mm_destroy(mm);
		return NULL;
	}
	return mm;
}

static void unmap_512_one_ipi_per_other_cpu(struct ktest *t)
{
	cpumask_t o = others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct residents r;
	memset(&r, 0, sizeof(r));
	r.mm = mm_with(512);
	ASSERT_TRUE(t, r.mm != NULL);
	ASSERT_TRUE(t, residents_start(&r, o));
	unsigned me = arch_cpu_id();
	struct xcall_stats x0 = xcall_stats_cpu(me);
	struct tlb_counters c0 = tlb_counters_cpu(me);
	ASSERT_EQ(t, vm_unmap(r.mm, UVA(0), 512 * PAGE_SIZE), 0);
	struct xcall_stats x1 = xcall_stats_cpu(me);
	struct tlb_counters c1 = tlb_counters_cpu(me);
	EXPECT_EQ(t, c1.requests - c0.requests, 1u);
	if (tlb_broadcast) {
		/* One hardware broadcast reaches every CPU: no IPI at all. */
		EXPECT_EQ(t, c1.broadcasts - c0.broadcasts, 1u);
		EXPECT_EQ(t, x1.ipis_sent - x0.ipis_sent, 0u);
	} else {
		EXPECT_EQ(t, x1.requests_posted - x0.requests_posted,
			  (uint64_t)cpumask_weight(o));
		EXPECT_EQ(t, x1.ipis_sent - x0.ipis_sent, (uint64_t)cpumask_weight(o));
	}
	residents_stop(&r);
	mm_destroy(r.mm);
}

struct local_unmap {
	struct mm *mm;
	uint64_t ipis, requests;
	int err;
};

static void unmap_in_own_mm(void *arg)
{
	struct local_unmap *u = arg;
	*(volatile uint32_t *)UVA(0) = 1; /* this CPU, and only it, has the mm loaded */
	unsigned me = arch_cpu_id();
	struct xcall_stats x0 = xcall_stats_cpu(me);
	struct tlb_counters c0 = tlb_counters_cpu(me);
	u->err = vm_unmap(u->mm, UVA(0), 8 * PAGE_SIZE);
	u->ipis = xcall_stats_cpu(me).ipis_sent - x0.ipis_sent;
	u->requests = tlb_counters_cpu(me).requests - c0.requests;
}

static void mm_active_only_here_sends_no_ipi(struct ktest *t)
{
	cpumask_t o = others();
	unsigned cpu = cpumask_empty(o) ? arch_cpu_id() : (unsigned)__builtin_ctzll(o.bits);
	static struct local_unmap u;
	u = (struct local_unmap){.mm = mm_with(8)};
	ASSERT_TRUE(t, u.mm != NULL);
	struct thread *th = thread_create_mm("local", cpu, u.mm, unmap_in_own_mm, &u);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	EXPECT_EQ(t, u.err, 0);
	EXPECT_EQ(t, u.requests, 1u);
	EXPECT_EQ(t, u.ipis, 0u);
	mm_destroy(u.mm);
}

struct lazy_setup {
	struct mm *mm;
	bool stop;
	uint32_t lazy_now;
};

/*
 * QEMU's software TLB is indexed by the low bits of the page number, and
 * a stale entry survives only while nothing else lands in its slot (and
 * its victim cache). A page-number ending in zeros shares its slot with
 * the kernel's most aligned pages (text, stacks), which the CPU keeps
 * touching while it waits; an odd page number keeps the entry alive.
 */
#define LAZY_VA UVA(MiB(32) + 0x7B000)

/*
 * Loads the mm on this CPU and caches LAZY_VA's translation, for writing
 * (a write: x86 QEMU caches a translation whose dirty bit is clear for
 * reads only, and would walk the tables again on the first write).
 */
static void touch_once(void *arg)
{
	(void)arg;
	*(volatile uint32_t *)UVA(MiB(16)) = 2;
	*(volatile uint32_t *)LAZY_VA = 1;
}

static void kernel_spinner(void *arg)
{
	struct lazy_setup *l = arg;
	atomic_store_release(&l->lazy_now, 1);
	while (!atomic_load_acquire(&l->stop))
		arch_cpu_relax();
}

/* Runs a kernel thread on `cpu` until lazy_stop(): the CPU keeps the mm loaded, lazily. */
static struct thread *lazy_start(struct lazy_setup *l, unsigned cpu)
{
	l->stop = false;
	l->lazy_now = 0;
	struct thread *k = thread_create("kthread", cpu, kernel_spinner, l);
	if (k)
		while (!atomic_load_acquire(&l->lazy_now))
			thread_sleep_ns(1000000);
	return k;
}

static void lazy_stop(struct lazy_setup *l, struct thread *k)
{
	atomic_store_release(&l->stop, true);
	thread_join(k);
}

static void write_lazy_va(void *arg)
{
	(void)arg;
	*(volatile uint32_t *)LAZY_VA = 0xBAD;
}

/* What the user thread that follows a lazy spell sees on its CPU. */
struct lazy_return {
	uint64_t gen_on_entry; /* tlb_cpu[].gen before it touches a user address */
	bool faulted;	       /* its write to LAZY_VA faulted */
};

static void lazy_writer(void *arg)
{
	struct lazy_return *r = arg;
	struct fault_info f;
	r->gen_on_entry = tlb_cpu[arch_cpu_id()].gen;
	r->faulted = ktest_expect_fault(write_lazy_va, NULL, &f);
}

/*
 * A lazy CPU (a kernel thread borrowed the mm) is not interrupted for a
 * flush that frees no table: it catches up by generation when it stops
 * being lazy. Checked both ways. First, LAZY_VA (a frame the test owns, in
 * a table that stays) is unmapped while the CPU is lazy with it cached: no
 * request is posted to it; then the frame is reused (poisoned) and a user
 * thread of the mm writes LAZY_VA on that CPU: it must fault, and the
 * poison must survive. QEMU keeps the stale translation until it is
 * invalidated, so tlb.break=lazy_no_catch_up (leaving lazy does not catch
 * up) makes it write the reused frame, and this case fail. QEMU may also
 * drop the stale entry by itself (another CPU's kernel invalidation can
 * flush its whole TLB), so the catch-up is also checked where it cannot
 * be missed: the CPU's generation when the user thread starts.
 * Second, when tables are freed the lazy CPU must be interrupted too: its
 * page walker could otherwise wander through a freed table. QEMU does not
 * walk speculatively and caches no paging structures, so that cannot be
 * seen as a stale access there; it is checked by counting the request
 * (tlb.break=skip_lazy_always makes this case fail on the count).
 */
static void lazy_cpu_spared_unless_tables_freed(struct ktest *t)
{
	if (tlb_broadcast)
		KTEST_SKIP(t, "a broadcast reaches every CPU: nobody is spared (tlb=ipi tests this)");
	cpumask_t o = others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	static struct lazy_setup l;
	l = (struct lazy_setup){.mm = mm_with(600)};
	ASSERT_TRUE(t, l.mm != NULL);
	/* Two frames at LAZY_VA: unmapping one leaves the table (no table freed). */
	phys_addr_t frames;
	ASSERT_EQ(t, frame_alloc(1, &frames), 0);
	ASSERT_EQ(t, vm_map_phys(l.mm, LAZY_VA, frames, 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	/* The mm runs on `cpu` (caching LAZY_VA), then a kernel thread borrows it there: lazy. */
	struct thread *a = thread_create_mm("user", cpu, l.mm, touch_once, NULL);
	ASSERT_TRUE(t, a != NULL);
	thread_join(a);
	struct thread *k = lazy_start(&l, cpu);
	ASSERT_TRUE(t, k != NULL);
	ASSERT_TRUE(t, atomic_load_acquire(&tlb_cpu[cpu].lazy));
	unsigned me = arch_cpu_id();

	/* One page: no table emptied, so the lazy CPU is left alone... */
	struct tlb_counters c0 = tlb_counters_cpu(me);
	struct xcall_stats x0 = xcall_stats_cpu(me);
	ASSERT_EQ(t, vm_unmap(l.mm, LAZY_VA, PAGE_SIZE), 0);
	uint64_t unmap_gen = atomic_load_acquire(&l.mm->tlb_gen);
	EXPECT_EQ(t, tlb_counters_cpu(me).lazy_skipped - c0.lazy_skipped, 1u);
	EXPECT_EQ(t, xcall_stats_cpu(me).requests_posted - x0.requests_posted, 0u);
	/* ...and catches up before it uses the mm again. */
	volatile uint32_t *reused = kva(frames);
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		reused[i] = 0x5A5A5A5Au;
	lazy_stop(&l, k);
	static struct lazy_return back;
	back = (struct lazy_return){0};
	a = thread_create_mm("back", cpu, l.mm, lazy_writer, &back);
	ASSERT_TRUE(t, a != NULL);
	thread_join(a);
	unsigned changed = 0;
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		changed += reused[i] != 0x5A5A5A5Au;
	EXPECT_GE(t, back.gen_on_entry, unmap_gen); /* it caught up on leaving lazy, */
	EXPECT_TRUE(t, back.faulted); /* so its write faulted... */
	EXPECT_EQ(t, changed, 0u);    /* ...instead of landing in the reused frame */

	/* Everything else: tables are freed, and then even a lazy CPU must flush. */
	k = lazy_start(&l, cpu);
	ASSERT_TRUE(t, k != NULL);
	ASSERT_TRUE(t, atomic_load_acquire(&tlb_cpu[cpu].lazy));
	c0 = tlb_counters_cpu(me);
	x0 = xcall_stats_cpu(me);
	ASSERT_EQ(t, vm_unmap(l.mm, UVA(0), 600 * PAGE_SIZE), 0);
	EXPECT_EQ(t, tlb_counters_cpu(me).lazy_skipped - c0.lazy_skipped, 0u);
	EXPECT_EQ(t, xcall_stats_cpu(me).requests_posted - x0.requests_posted, 1u);

	lazy_stop(&l, k);
	mm_destroy(l.mm);
	frame_free(frames, 1);
}

static void completed_flush_is_skipped(struct ktest *t)
{
	if (tlb_mode != TLB_MODE_GEN || tlb_broadcast)
		KTEST_SKIP(t, "only tlb=gen with IPIs skips by completed generation");
	struct mm *mm = mm_with(8);
	ASSERT_TRUE(t, mm != NULL);
	struct gather_stats s0 = gather_stats;

	/* A gathers page 0 and defers its flush... */
	struct mmu_gather a;
	down_read(&mm->lock);
	tlb_gather_begin(&a, mm, false);
	ASSERT_EQ(t, pt_unmap_gather(&mm->pt, UVA(0), PAGE_SIZE, &a, true), 0);
	up_read(&mm->lock);
	uint64_t deferred = a.defer_gen;
	EXPECT_NE(t, deferred, 0u);
	EXPECT_GE(t, mm->tlb_gen, deferred);
	EXPECT_LT(t, mm->tlb_gen_completed, deferred); /* pending */

	/* ...then someone else's flush covers it (its generation is newer)... */
	ASSERT_EQ(t, vm_unmap(mm, UVA(PAGE_SIZE), PAGE_SIZE), 0);
	EXPECT_GE(t, mm->tlb_gen_completed, deferred);

	/* ...so A's own flush is skipped. */
	tlb_gather_finish(&a);
	EXPECT_EQ(t, gather_stats.completed_skips - s0.completed_skips, 1u);
	mm_destroy(mm);
}

/* The level-0 table that maps `va` (0 if there is none). */
static phys_addr_t leaf_table_of(struct pt *pt, virt_addr_t va)
{
	phys_addr_t table = pt->root;
	for (unsigned level = PT_LEVELS - 1; level > 0; level--) {
		pte_t pte = ((const pte_t *)kva(table))[(va >> pt_level_shift(level)) & 511];
		if (arch_pte_kind(pte, level) != PTE_TABLE)
			return 0;
		table = arch_pte_address(pte, level);
	}
	return table;
}

static void completed_comparison_direction(struct ktest *t)
{
	if (tlb_mode != TLB_MODE_GEN || tlb_broadcast)
		KTEST_SKIP(t, "only tlb=gen with IPIs skips by completed generation");
	struct mm *mm = mm_with(8);
	ASSERT_TRUE(t, mm != NULL);
	for (int exact = 0; exact < 2; exact++) {
		struct mmu_gather g;
		down_read(&mm->lock);
		tlb_gather_begin(&g, mm, false);
		ASSERT_EQ(t, pt_unmap_gather(&mm->pt, UVA((2 + exact) * PAGE_SIZE), PAGE_SIZE, &g,
					     true),
			  0);
		up_read(&mm->lock);
		/* completed == deferred: done, skip; completed == deferred - 1: must flush. */
		mm->tlb_gen_completed = exact ? g.defer_gen : g.defer_gen - 1;
		struct gather_stats s0 = gather_stats;
		tlb_gather_finish(&g);
		EXPECT_EQ(t, gather_stats.completed_skips - s0.completed_skips, exact ? 1u : 0u);
		EXPECT_EQ(t, gather_stats.flushes - s0.flushes, exact ? 0u : 1u);
	}
	/* The same comparison answers the per-table question. */
	struct mmu_gather g;
	down_read(&mm->lock);
	tlb_gather_begin(&g, mm, false);
	ASSERT_EQ(t, pt_unmap_gather(&mm->pt, UVA(5 * PAGE_SIZE), PAGE_SIZE, &g, true), 0);
	up_read(&mm->lock);
	phys_addr_t table = leaf_table_of(&mm->pt, UVA(5 * PAGE_SIZE));
	ASSERT_NE(t, table, 0u);
	EXPECT_TRUE(t, pt_table_flush_pending(mm, table));
	tlb_gather_finish(&g);
	EXPECT_FALSE(t, pt_table_flush_pending(mm, table));
	mm_destroy(mm);
}

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
 * An mm for a late writer: mm_with(8)'s pages (table 1) and, at
 * LATE_VA (table 2), two frames we own mapped physically (a fault there
 * is refused, never refilled), so unmapping one frees no table (that would
 * force a flush) and the frame is ours to poison afterwards. NULL if out
 * of memory.
 */
static struct mm *late_mm(phys_addr_t *frames)
{
	struct mm *mm = mm_with(8);
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
	cpumask_t o = others();
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
static void deferral_reaches_cpu_that_switched_in(struct ktest *t)
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
static void completion_stops_at_a_lagging_target(struct ktest *t)
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
	c = (struct concurrent){.mm = mm_with(1), .rounds = 40};
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
	cpumask_t o = others();
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

static void concurrent_gathers_fewer_full_flushes(struct ktest *t)
{
	if (tlb_broadcast)
		KTEST_SKIP(t, "compares IPI catch-up strategies (tlb=ipi runs it)");
	if (cpumask_weight(others()) < CONC_WORKERS)
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

struct away {
	bool stop;
	uint32_t running;
};

static void read_first_page(void *arg)
{
	(void)arg;
	(void)*(volatile uint32_t *)UVA(0);
}

static void faulting_reader(void *arg)
{
	struct fault_info f;
	*(bool *)arg = ktest_expect_fault(read_first_page, NULL, &f);
}

static void spin_elsewhere(void *arg)
{
	struct away *a = arg;
	*(volatile uint32_t *)UVA(MiB(16)) = 1; /* loads this other mm here */
	atomic_store_release(&a->running, 1);
	while (!atomic_load_acquire(&a->stop))
		arch_cpu_relax();
}

/*
 * A CPU ran the mm, switched to another one, and the mm changed meanwhile:
 * the CPU is not interrupted (it does not run the mm), and when it switches
 * back it catches up before using the mm (tagged TLB: replaying the
 * generations it missed from its slot; untagged: the root load flushed).
 * QEMU cannot show a stale translation here on either arch: x86-64's root
 * load (CR3) and arm64's ASID change (TTBR0) both make QEMU drop every
 * entry of the CPU, so the switch back would fault even without the
 * replay. The probe below is kept as a check of the outcome, and the rule
 * is checked by counting (arm64, IPIs): the switch back replayed the
 * missed generation and invalidated something on that CPU.
 * tlb.break=switch_no_catch_up (the slot's entries are trusted as they
 * are) makes this case fail on the count (make test-negative, aarch64).
 */
static void switched_out_and_back_catches_up(struct ktest *t)
{
	cpumask_t o = others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	struct mm *mm = mm_with(8), *elsewhere = mm_with(1);
	ASSERT_TRUE(t, mm && elsewhere);
	struct thread *th = thread_create_mm("reader", cpu, mm, read_first_page, NULL);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th); /* `cpu` has now cached UVA(0) of mm */
	static struct away a;
	a = (struct away){0};
	th = thread_create_mm("away", cpu, elsewhere, spin_elsewhere, &a);
	ASSERT_TRUE(t, th != NULL);
	while (!atomic_load_acquire(&a.running))
		thread_sleep_ns(1000000);

	unsigned me = arch_cpu_id();
	struct xcall_stats x0 = xcall_stats_cpu(me);
	struct tlb_counters c0 = tlb_counters_cpu(me);
	struct tlb_counters k0 = tlb_counters_cpu(cpu);
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);
	/* `cpu` runs another mm: not interrupted for this one. */
	EXPECT_EQ(t, xcall_stats_cpu(me).requests_posted - x0.requests_posted, 0u);
	if (arch_tlb_caps()->asid_bits)
		EXPECT_GE(t, tlb_counters_cpu(me).switched_away_skipped - c0.switched_away_skipped,
			  (uint64_t)(tlb_broadcast ? 0 : 1));
	atomic_store_release(&a.stop, true);
	thread_join(th);

	static bool faulted;
	faulted = false;
	th = thread_create_mm("back", cpu, mm, faulting_reader, &faulted);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	EXPECT_TRUE(t, faulted); /* no stale translation survived the switch back */
	if (arch_tlb_caps()->asid_bits && !tlb_broadcast) {
		/* The fault above would come anyway under QEMU (see above): count the replay. */
		struct tlb_counters k1 = tlb_counters_cpu(cpu);
		EXPECT_EQ(t, k1.switch_catch_ups - k0.switch_catch_ups, 1u);
		EXPECT_GE(t, (k1.local_page_flushes + k1.local_full_flushes) -
				     (k0.local_page_flushes + k0.local_full_flushes),
			  1u);
	}
	mm_destroy(mm);
	mm_destroy(elsewhere);
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

static void asid_rollover_keeps_mms_apart(struct ktest *t)
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

/*
 * The arch's one TLB description agrees with itself and with the mode the
 * kernel chose: a tag width the allocator can use, untagged exactly when a
 * root switch flushes, range instructions only with broadcast (arm64), and
 * every mm that ran has an id inside the width.
 */
static void tlb_caps_consistent(struct ktest *t)
{
	const struct tlb_caps *c = arch_tlb_caps();
	ktest_log(t,
		  "asid_bits %u, switch_flushes %d, broadcast %d, range %d, range_max_pages %u, "
		  "broadcast_max_pages %u",
		  c->asid_bits, c->switch_flushes, c->broadcast, c->range, c->range_max_pages,
		  c->broadcast_max_pages);
	EXPECT_TRUE(t, c->asid_bits == 0 || c->asid_bits == 8 || c->asid_bits == 16);
	EXPECT_EQ(t, c->switch_flushes, c->asid_bits == 0);
	EXPECT_TRUE(t, !c->range || c->broadcast);
	EXPECT_GE(t, c->range_max_pages, 1u);
	EXPECT_EQ(t, c->broadcast_max_pages >= 1, c->broadcast);
	EXPECT_TRUE(t, !tlb_broadcast || c->broadcast);
	struct mm *mm = mm_with(1);
	ASSERT_TRUE(t, mm != NULL);
	struct thread *th = thread_create_mm("asid", arch_cpu_id(), mm, read_first_page, NULL);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	if (c->asid_bits) {
		EXPECT_NE(t, asid_hw(mm), 0u);
		EXPECT_LT(t, (uint64_t)asid_hw(mm), 1ull << c->asid_bits);
	} else {
		EXPECT_EQ(t, asid_hw(mm), 0u);
	}
	mm_destroy(mm);
}

/*
 * A reader on another CPU caches every page of a range, then the range is
 * unmapped: each page must fault afterwards. Sizes and offsets are chosen
 * for the encodings a flush may use: one page, an odd count, ranges that
 * need two scales of a range TLBI (arm64 FEAT_TLBIRANGE: 2..64 pages per
 * step at scale 0, 64..2048 at scale 1), and a count past range_max_pages.
 */
struct range_reader {
	virt_addr_t va;
	unsigned pages;
	uint32_t cached;
	bool unmapped;
	unsigned still_readable;
};

static void read_one(void *arg)
{
	(void)*(volatile uint32_t *)arg;
}

static void range_reader(void *arg)
{
	struct range_reader *r = arg;
	for (unsigned i = 0; i < r->pages; i++)
		(void)*(volatile uint32_t *)(r->va + i * PAGE_SIZE);
	atomic_store_release(&r->cached, 1);
	/* Spin, not sleep: the mm stays loaded and its translations cached here. */
	while (!atomic_load_acquire(&r->unmapped))
		arch_cpu_relax();
	struct fault_info f;
	for (unsigned i = 0; i < r->pages; i++)
		if (!ktest_expect_fault(read_one, (void *)(r->va + i * PAGE_SIZE), &f))
			r->still_readable++;
}

static void range_flush_reaches_every_page(struct ktest *t)
{
	cpumask_t o = others();
	if (cpumask_empty(o))
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	static const struct {
		unsigned first, pages;
	} cases[] = {{5, 1}, {3, 3}, {1, 64}, {7, 99}, {2, 511}, {0, 600}};
	for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
		struct mm *mm = mm_with(cases[k].first + cases[k].pages + 1);
		ASSERT_TRUE(t, mm != NULL);
		static struct range_reader r;
		r = (struct range_reader){.va = UVA(cases[k].first * PAGE_SIZE),
					  .pages = cases[k].pages};
		struct thread *th = thread_create_mm("range", cpu, mm, range_reader, &r);
		ASSERT_TRUE(t, th != NULL);
		while (!atomic_load_acquire(&r.cached))
			thread_sleep_ns(1000000);
		ASSERT_EQ(t, vm_unmap(mm, r.va, (uint64_t)r.pages * PAGE_SIZE), 0);
		atomic_store_release(&r.unmapped, true);
		thread_join(th);
		if (r.still_readable)
			ktest_fail_msg(t, __FILE__, __LINE__,
				       "%u of %u pages from page %u still readable after the unmap",
				       r.still_readable, r.pages, cases[k].first);
		mm_destroy(mm);
	}
}

/*
 * Switch-in ordering on an untagged TLB (x86-64): the generation must be
 * read before the root is loaded. The hook fills this CPU's TLB right
 * after the load (as the page walker may at any time) and holds the
 * window open until a flusher on another CPU has cleared and bumped. A
 * CPU that read the generation only now would count that bump as flushed
 * by the root load, skip the flush IPI, and read the freed frame.
 */
struct switch_race {
	struct mm *mm;
	unsigned flusher;
	uint64_t posted_before;
	uint32_t filled;
	uint32_t remapped;
	uint32_t seen;
};

static void switch_hook_fill_and_wait(void *arg)
{
	struct switch_race *r = arg;
	(void)*(volatile uint32_t *)UVA(MiB(48)); /* the TLB now holds the old translation */
	atomic_store_release(&r->filled, 1);
	/* Hold the window until the flusher has bumped and posted its flush to us. */
	uint64_t deadline = arch_time_ns() + 2000000000ull;
	while (xcall_stats_cpu(r->flusher).requests_posted == r->posted_before &&
	       arch_time_ns() < deadline)
		arch_cpu_relax();
}

static void read_after_switch(void *arg)
{
	struct switch_race *r = arg;
	while (!atomic_load_acquire(&r->remapped))
		arch_cpu_relax();
	r->seen = *(volatile uint32_t *)UVA(MiB(48));
}

static void switch_in_reads_gen_before_loading_root(struct ktest *t)
{
	if (!arch_tlb_caps()->switch_flushes)
		KTEST_SKIP(t, "tagged TLB: switch-in catches up after loading (see docs/tlb.md)");
	cpumask_t o = others();
	if (cpumask_empty(o))
		KTEST_SKIP(t, "needs a second CPU");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	phys_addr_t old_frame, new_frame;
	ASSERT_EQ(t, frame_alloc_zeroed(&old_frame), 0);
	ASSERT_EQ(t, frame_alloc_zeroed(&new_frame), 0);
	*(volatile uint32_t *)kva(old_frame) = 1;
	*(volatile uint32_t *)kva(new_frame) = 2;
	ASSERT_EQ(t, vm_map_phys(mm, UVA(MiB(48)), old_frame, PAGE_SIZE, PT_READ), 0);
	static struct switch_race r;
	r = (struct switch_race){.mm = mm,
				 .flusher = arch_cpu_id(),
				 .posted_before = xcall_stats_cpu(arch_cpu_id()).requests_posted};
	tlb_switch_test = (struct tlb_switch_test){.cpu = cpu, .fn = switch_hook_fill_and_wait,
						   .arg = &r};
	atomic_store_release(&tlb_switch_test.mm, mm);
	struct thread *th = thread_create_mm("switch-race", cpu, mm, read_after_switch, &r);
	ASSERT_TRUE(t, th != NULL);
	while (!atomic_load_acquire(&r.filled))
		arch_cpu_relax();
	/* In the window: move the page to another frame (clear, bump, flush), as an unmap would. */
	EXPECT_EQ(t, vm_unmap(mm, UVA(MiB(48)), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_map_phys(mm, UVA(MiB(48)), new_frame, PAGE_SIZE, PT_READ), 0);
	atomic_store_release(&r.remapped, 1);
	thread_join(th);
	EXPECT_EQ(t, r.seen, 2u); /* 1: the stale translation survived the switch */
	mm_destroy(mm);
	frame_free(old_frame, 0);
	frame_free(new_frame, 0);
}

static const struct ktest_case tlb_cases[] = {
	KTEST_CASE(tlb_caps_consistent),
	KTEST_CASE(unmap_512_one_ipi_per_other_cpu),
	KTEST_CASE(range_flush_reaches_every_page),
	KTEST_CASE(mm_active_only_here_sends_no_ipi),
	KTEST_CASE(lazy_cpu_spared_unless_tables_freed),
	KTEST_CASE(completed_flush_is_skipped),
	KTEST_CASE(completed_comparison_direction),
	KTEST_CASE_TIMEOUT(deferral_reaches_cpu_that_switched_in, 20000),
	KTEST_CASE_TIMEOUT(completion_stops_at_a_lagging_target, 20000),
	KTEST_CASE_TIMEOUT(concurrent_gathers_fewer_full_flushes, 60000),
	KTEST_CASE_TIMEOUT_CPUS(asid_rollover_keeps_mms_apart, 10000, 2000),
	KTEST_CASE(switched_out_and_back_catches_up),
	KTEST_CASE(switch_in_reads_gen_before_loading_root),
	KTEST_END,
};
KTEST_SUITE(tlb_suite, "tlb", tlb_cases);
