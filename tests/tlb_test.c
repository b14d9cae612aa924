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
#include "tests/tlb_test.h"

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

cpumask_t tlb_test_others(void)
{
	cpumask_t m = cpumask_read(&cpu_online_mask);
	cpumask_clear(&m, arch_cpu_id());
	return m;
}

struct mm *tlb_test_mm_with(uint64_t pages)
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
	cpumask_t o = tlb_test_others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct residents r;
	memset(&r, 0, sizeof(r));
	r.mm = tlb_test_mm_with(512);
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
	cpumask_t o = tlb_test_others();
	unsigned cpu = cpumask_empty(o) ? arch_cpu_id() : (unsigned)__builtin_ctzll(o.bits);
	static struct local_unmap u;
	u = (struct local_unmap){.mm = tlb_test_mm_with(8)};
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
	cpumask_t o = tlb_test_others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	static struct lazy_setup l;
	l = (struct lazy_setup){.mm = tlb_test_mm_with(600)};
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
	struct mm *mm = tlb_test_mm_with(8);
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
	struct mm *mm = tlb_test_mm_with(8);
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
	cpumask_t o = tlb_test_others();
	if (cpumask_weight(o) < 1)
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	struct mm *mm = tlb_test_mm_with(8), *elsewhere = tlb_test_mm_with(1);
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
	struct mm *mm = tlb_test_mm_with(1);
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
	cpumask_t o = tlb_test_others();
	if (cpumask_empty(o))
		KTEST_SKIP(t, "needs 2 CPUs");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	static const struct {
		unsigned first, pages;
	} cases[] = {{5, 1}, {3, 3}, {1, 64}, {7, 99}, {2, 511}, {0, 600}};
	for (unsigned k = 0; k < ARRAY_SIZE(cases); k++) {
		struct mm *mm = tlb_test_mm_with(cases[k].first + cases[k].pages + 1);
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
/*
 * Eight pages in a row, each moved to a fresh frame, and the race lost if
 * any reads its old one. One page at 48 MiB, as this case first had, was
 * caught in 1 of 18 boots (one round each, under tlb.break=switch_order):
 * QEMU's soft TLB is indexed by the low bits of the page number (with an
 * 8-entry victim cache, resized at flushes), and what the CPU touched in
 * the window evidently took that entry (as LAZY_VA's comment found); at 48
 * MiB + 4 KiB 0 of 6 were caught, at + 1 MiB 2 of 6, at + 0x37000 6 of 6
 * and at + 0x5a000 12 of 12. Which entries the kernel's own pages take
 * moves with its layout, so no one page is safe; of eight consecutive
 * page numbers, a few slots taken still leave others. With eight, one
 * round caught it in 6 of 6 boots here (7 of the 8 pages stale: one slot
 * was taken) and in 6 of 6 from 48 MiB (5 or 6 stale).
 */
#define SWITCH_RACE_VA	  UVA(MiB(48) + 0x5a000)
#define SWITCH_RACE_PAGES 8

struct switch_race {
	struct mm *mm;
	unsigned flusher;
	uint32_t filled;
	uint32_t remapped;
	uint32_t seen[SWITCH_RACE_PAGES];
};

static void switch_hook_fill_and_wait(void *arg)
{
	struct switch_race *r = arg;
	uint64_t requests = tlb_counters_cpu(r->flusher).requests;
	/* The TLB now holds the old translations. */
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++)
		(void)*(volatile uint32_t *)(SWITCH_RACE_VA + i * PAGE_SIZE);
	atomic_store_release(&r->filled, 1);
	/*
	 * Hold the window until the flusher has cleared the entries, bumped the
	 * generation and chosen its targets for the flush request (counted
	 * just before it is posted to us). Not until it posted any cross-call,
	 * as this case first did, nor until the first bump: either could end
	 * the window before the request's own generation, and the broken order
	 * then went unseen in up to 10 boots of 10 (the case run alone).
	 */
	uint64_t deadline = arch_time_ns() + 2000000000ull;
	while (tlb_counters_cpu(r->flusher).requests == requests && arch_time_ns() < deadline)
		arch_cpu_relax();
}

static void read_after_switch(void *arg)
{
	struct switch_race *r = arg;
	while (!atomic_load_acquire(&r->remapped))
		arch_cpu_relax();
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++)
		r->seen[i] = *(volatile uint32_t *)(SWITCH_RACE_VA + i * PAGE_SIZE);
}

/*
 * One race in a fresh mm: how many of the pages the switched-in thread
 * read from their new frames (all of them unless a stale translation
 * survived), or -1 if the race could not be set up.
 */
static int switch_race_round(struct ktest *t, unsigned cpu)
{
	struct mm *mm = mm_create();
	EXPECT_TRUE(t, mm != NULL);
	if (!mm)
		return -1;
	phys_addr_t old_frame[SWITCH_RACE_PAGES] = {0}, new_frame[SWITCH_RACE_PAGES] = {0};
	int fresh = -1;
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++) {
		if (frame_alloc_zeroed(&old_frame[i]) || frame_alloc_zeroed(&new_frame[i]) ||
		    vm_map_phys(mm, SWITCH_RACE_VA + i * PAGE_SIZE, old_frame[i], PAGE_SIZE,
				PT_READ)) {
			ktest_fail_msg(t, __FILE__, __LINE__, "no memory for the race");
			goto out;
		}
		*(volatile uint32_t *)kva(old_frame[i]) = 1;
		*(volatile uint32_t *)kva(new_frame[i]) = 2;
	}
	static struct switch_race r;
	r = (struct switch_race){.mm = mm, .flusher = arch_cpu_id()};
	tlb_switch_test = (struct tlb_switch_test){.cpu = cpu, .fn = switch_hook_fill_and_wait,
						   .arg = &r};
	atomic_store_release(&tlb_switch_test.mm, mm);
	struct thread *th = thread_create_mm("switch-race", cpu, mm, read_after_switch, &r);
	EXPECT_TRUE(t, th != NULL);
	if (!th)
		goto out;
	while (!atomic_load_acquire(&r.filled))
		arch_cpu_relax();
	/*
	 * In the window: move the pages to other frames (clear, bump, one
	 * flush request for the range), as an unmap and a new map would.
	 */
	EXPECT_EQ(t, vm_unmap(mm, SWITCH_RACE_VA, SWITCH_RACE_PAGES * PAGE_SIZE), 0);
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++)
		EXPECT_EQ(t,
			  vm_map_phys(mm, SWITCH_RACE_VA + i * PAGE_SIZE, new_frame[i], PAGE_SIZE,
				      PT_READ),
			  0);
	atomic_store_release(&r.remapped, 1);
	thread_join(th);
	fresh = 0;
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++) {
		if (r.seen[i] == 2u)
			fresh++;
		else
			ktest_log(t, "page %u read %u (1: its old frame)", i, r.seen[i]);
	}
out:
	atomic_store_release(&tlb_switch_test.mm, NULL);
	mm_destroy(mm);
	for (unsigned i = 0; i < SWITCH_RACE_PAGES; i++) {
		if (old_frame[i])
			frame_free(old_frame[i], 0);
		if (new_frame[i])
			frame_free(new_frame[i], 0);
	}
	return fresh;
}

/*
 * Several rounds: under tlb.break=switch_order a round shows a stale
 * frame only if the other CPU keeps a translation until the read, and a
 * TLB may evict them first (see SWITCH_RACE_VA). Every round must read
 * every page's new frame.
 */
#define SWITCH_RACE_ROUNDS 3

static void switch_in_reads_gen_before_loading_root(struct ktest *t)
{
	if (!arch_tlb_caps()->switch_flushes)
		KTEST_SKIP(t, "tagged TLB: switch-in catches up after loading (see docs/tlb.md)");
	cpumask_t o = tlb_test_others();
	if (cpumask_empty(o))
		KTEST_SKIP(t, "needs a second CPU");
	unsigned cpu = (unsigned)__builtin_ctzll(o.bits);
	for (unsigned round = 0; round < SWITCH_RACE_ROUNDS; round++) {
		int fresh = switch_race_round(t, cpu);
		if (fresh != SWITCH_RACE_PAGES)
			ktest_log(t, "round %u of %u", round + 1, SWITCH_RACE_ROUNDS);
		/* Fewer: a stale translation survived the switch. */
		EXPECT_EQ(t, fresh, SWITCH_RACE_PAGES);
		if (fresh != SWITCH_RACE_PAGES)
			break;
	}
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
