// SPDX-License-Identifier: BSD-2-Clause
/*
 * mm suite: address spaces used by threads on several CPUs at once.
 *
 * The central case, stale_tlb_never_writes_freed_frame, is the bug the
 * whole unhook -> flush -> free discipline exists to prevent: threads on
 * other CPUs keep writing to a page while it is unmapped; its frame is
 * poisoned the moment it is freed (as its next owner would overwrite it)
 * and must never change afterwards. QEMU's software TLB keeps a
 * translation until it is invalidated, so with the flush skipped
 * (`tlb.skip_flush`) or the frame freed before the flush
 * (`tlb.break=free_before_flush`) this case fails, and CI checks that.
 */
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h" /* mm_for_each_live */
#include "kernel/mm/pt.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/rwsem.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off) (arch_mm_layout.user_base + MiB(64) + (off))
#define POISON 0x5A5A5A5Au

static cpumask_t online(void)
{
	return cpumask_read(&cpu_online_mask);
}

struct writers {
	struct mm *mm;
	virt_addr_t va;
	bool stop;
	uint32_t started;
	uint64_t writes[CPU_MAX];
	bool faulted[CPU_MAX];
};

static void write_loop(void *arg)
{
	struct writers *w = arg;
	unsigned me = arch_cpu_id();
	volatile uint32_t *p = (volatile uint32_t *)(w->va + 64 * me);
	*p = 0xC0FFEE00u | me; /* first touch: fills the page, caches the translation */
	atomic_fetch_add(&w->started, 1);
	while (!atomic_load_acquire(&w->stop)) {
		*p = 0xBAD00000u | me;
		w->writes[me]++;
	}
}

static void writer(void *arg)
{
	struct writers *w = arg;
	struct fault_info f;
	/* After the unmap and its flush, the next write faults: that ends the loop. */
	w->faulted[arch_cpu_id()] = ktest_expect_fault(write_loop, w, &f);
}

static void stale_tlb_never_writes_freed_frame(struct ktest *t)
{
	if (cpumask_weight(online()) < 2)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct writers w;
	memset(&w, 0, sizeof(w));
	w.mm = mm_create();
	ASSERT_TRUE(t, w.mm != NULL);
	w.va = UVA(0);
	ASSERT_EQ(t, vm_map_anon(w.mm, w.va, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(w.mm, w.va, PAGE_SIZE), 0);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&w.mm->pt, w.va, &q));
	phys_addr_t frame = q.pa;

	struct thread *th[CPU_MAX] = {0};
	unsigned n = 0;
	for_each_cpu(c, online()) if (c != arch_cpu_id())
	{
		th[c] = thread_create_mm("writer", c, w.mm, writer, &w);
		ASSERT_TRUE(t, th[c] != NULL);
		n++;
	}
	while (atomic_load_acquire(&w.started) < n)
		thread_sleep_ns(1000000);
	thread_sleep_ns(5000000); /* let them write for a while */

	/* Unmap while they write; the frame is poisoned at the instant it is freed. */
	frame_poison_on_free(true);
	int err = vm_unmap(w.mm, w.va, PAGE_SIZE);
	frame_poison_on_free(false);
	ASSERT_EQ(t, err, 0);
	volatile uint32_t *reused = kva(frame);
	thread_sleep_ns(30000000);
	atomic_store_release(&w.stop, true);
	for_each_cpu(c, online()) if (th[c]) thread_join(th[c]);

	unsigned corrupted = 0;
	for (unsigned i = 0; i < PAGE_SIZE / 4; i++)
		corrupted += reused[i] != POISON;
	EXPECT_EQ(t, corrupted, 0u);
	for_each_cpu(c, online()) if (th[c])
	{
		EXPECT_TRUE(t, w.faulted[c]); /* each writer hit the fault, not the freed frame */
		EXPECT_GT(t, w.writes[c], 0u);
	}
	mm_destroy(w.mm);
}

static uint32_t read_user(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	if (!pt_query(&mm->pt, va, &q))
		return 0xFFFFFFFFu;
	return *(volatile uint32_t *)kva(q.pa);
}

struct toucher {
	virt_addr_t va;
	uint32_t value;
	uint32_t seen;
	bool faulted;
	struct fault_info fault;
};

static void touch_body(void *arg)
{
	struct toucher *x = arg;
	x->seen = *(volatile uint32_t *)x->va;
	*(volatile uint32_t *)x->va = x->value;
}

static void toucher(void *arg)
{
	struct toucher *x = arg;
	x->faulted = ktest_expect_fault(touch_body, x, &x->fault);
}

/* Runs one touch of va inside mm on CPU `cpu`. */
static struct toucher run_touch(struct mm *mm, unsigned cpu, virt_addr_t va, uint32_t value)
{
	static struct toucher x;
	x = (struct toucher){.va = va, .value = value};
	struct thread *th = thread_create_mm("toucher", cpu, mm, toucher, &x);
	if (th)
		thread_join(th);
	return x;
}

static void anon_zero_fill_on_first_touch(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), 16 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	uint64_t filled = mm->stats.faults_filled;
	struct toucher x = run_touch(mm, cpu, UVA(3 * PAGE_SIZE + 8), 77);
	EXPECT_FALSE(t, x.faulted);
	EXPECT_EQ(t, x.seen, 0u); /* zero-filled */
	EXPECT_EQ(t, mm->stats.faults_filled, filled + 1);
	EXPECT_EQ(t, read_user(mm, UVA(3 * PAGE_SIZE + 8)), 77u);
	/* Outside any VMA: refused, reported to the fixture. */
	x = run_touch(mm, cpu, UVA(MiB(1)), 1);
	EXPECT_TRUE(t, x.faulted);
	EXPECT_EQ(t, x.fault.address, UVA(MiB(1)));
	mm_destroy(mm);
}

static void unmap_then_remap_sees_fresh_page(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_FALSE(t, run_touch(mm, cpu, UVA(0), 1234).faulted);
	ASSERT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);
	EXPECT_TRUE(t, run_touch(mm, cpu, UVA(0), 1).faulted);
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	struct toucher x = run_touch(mm, cpu, UVA(0), 5);
	EXPECT_FALSE(t, x.faulted);
	EXPECT_EQ(t, x.seen, 0u);
	mm_destroy(mm);
}

static void discard_keeps_mapping_drops_contents(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), 4 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_FALSE(t, run_touch(mm, cpu, UVA(PAGE_SIZE), 99).faulted);
	uint64_t free_before = frame_free_count();
	uint64_t tables_before = pt_count_tables(&mm->pt);
	ASSERT_EQ(t, vm_discard(mm, UVA(0), 4 * PAGE_SIZE), 0);
	/* The one touched page is back, and so are the tables it alone kept alive. */
	uint64_t tables_freed = tables_before - pt_count_tables(&mm->pt);
	EXPECT_EQ(t, frame_free_count(), free_before + 1 + tables_freed);
	struct toucher x = run_touch(mm, cpu, UVA(PAGE_SIZE), 3);
	EXPECT_FALSE(t, x.faulted); /* still mapped */
	EXPECT_EQ(t, x.seen, 0u); /* but fresh */
	mm_destroy(mm);
}

static void protect_read_only_faults_writes(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_FALSE(t, run_touch(mm, cpu, UVA(0), 1).faulted);
	ASSERT_EQ(t, vm_protect(mm, UVA(0), PAGE_SIZE, PT_READ), 0);
	struct toucher x = run_touch(mm, cpu, UVA(0), 2);
	EXPECT_TRUE(t, x.faulted);
	EXPECT_TRUE(t, x.fault.write);
	EXPECT_EQ(t, x.seen, 1u); /* the read went through */
	/* Back to writable: works again (a stale read-only entry would only fault spuriously). */
	ASSERT_EQ(t, vm_protect(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_FALSE(t, run_touch(mm, cpu, UVA(0), 3).faulted);
	EXPECT_EQ(t, read_user(mm, UVA(0)), 3u);
	mm_destroy(mm);
}

static void teardown_frees_every_frame(struct ktest *t)
{
	uint64_t before = frame_free_count();
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	/* Spread over several tables at every level, plus a physical mapping. */
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), MiB(4), PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, UVA(0), MiB(4)), 0);
	ASSERT_EQ(t, vm_map_anon(mm, UVA(GiB(600)), 3 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, UVA(GiB(600)), 3 * PAGE_SIZE), 0);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(2, &pa), 0);
	ASSERT_EQ(t, vm_map_phys(mm, UVA(GiB(2)), pa, 4 * PAGE_SIZE, PT_READ), 0);
	EXPECT_GT(t, pt_count_tables(&mm->pt), 6u);
	mm_destroy(mm);
	frame_free(pa, 2);
	EXPECT_EQ(t, frame_free_count(), before);
}

static void overlapping_and_bad_ranges_refused(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), 4 * PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, vm_map_anon(mm, UVA(3 * PAGE_SIZE), 4 * PAGE_SIZE, PT_READ), -EEXIST);
	EXPECT_EQ(t, vm_map_anon(mm, UVA(1), PAGE_SIZE, PT_READ), -EINVAL);
	EXPECT_EQ(t, vm_map_anon(mm, arch_mm_layout.user_top, PAGE_SIZE, PT_READ), -EINVAL);
	EXPECT_EQ(t, vm_map_anon(mm, 0, PAGE_SIZE, PT_READ), -EINVAL);
	/* Only permissions: a global user entry would outlive every ASID flush of this mm. */
	EXPECT_EQ(t, vm_map_anon(mm, UVA(MiB(1)), PAGE_SIZE, PT_READ | PT_GLOBAL), -EINVAL);
	EXPECT_EQ(t, vm_map_anon(mm, UVA(MiB(1)), PAGE_SIZE, PT_READ | PT_DEVICE), -EINVAL);
	EXPECT_EQ(t, vm_protect(mm, UVA(0), PAGE_SIZE, PT_READ | PT_GLOBAL), -EINVAL);
	/* A populate range that wraps around the top is refused, not looped over. */
	EXPECT_EQ(t, vm_populate(mm, UVA(0), ~0ull - UVA(0) + 2 * PAGE_SIZE), -EINVAL);
	EXPECT_EQ(t, vm_populate(mm, UVA(0), 0), -EINVAL);
	EXPECT_EQ(t, vm_populate(mm, UVA(0), PAGE_SIZE), 0);
	/* Punching a hole splits the VMA: both sides stay mapped. */
	ASSERT_EQ(t, vm_unmap(mm, UVA(PAGE_SIZE), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_map_anon(mm, UVA(PAGE_SIZE), PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, vm_map_anon(mm, UVA(2 * PAGE_SIZE), PAGE_SIZE, PT_READ), -EEXIST);
	mm_destroy(mm);
}

/*
 * The console's `tlb mode`: switched live, each mode still shoots down
 * exactly. Before each switch an mm is touched on every CPU, so they hold
 * it (lazily, with what they recorded under the old mode) when the switch
 * comes; afterwards its unmap must leave no CPU a way in, and the central
 * case above must hold in the new mode. The boot's mode is restored.
 */
static void live_mode_switch_keeps_shootdowns_exact(struct ktest *t)
{
	static const char *const words[] = {"mmgen", "ipi", "broadcast", "gen"};
	char boot[16], why[96];
	/* Before any switch: the stale case below would skip out of a switched machine. */
	if (cpumask_weight(online()) < 2)
		KTEST_SKIP(t, "needs 2 CPUs");
	snprintf(boot, sizeof(boot), "%s", tlb_mode_word());
	for (unsigned i = 0; i < ARRAY_SIZE(words); i++) {
		if (strcmp(words[i], "broadcast") == 0 && !arch_tlb_caps()->broadcast)
			continue;
		struct mm *mm = mm_create();
		ASSERT_TRUE(t, mm != NULL);
		ASSERT_EQ(t, vm_map_anon(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
		for_each_cpu(c, online()) EXPECT_FALSE(t, run_touch(mm, c, UVA(0), c).faulted);
		int err = tlb_mode_switch(words[i], why, sizeof(why));
		ASSERT_EQ(t, err, 0);
		EXPECT_STREQ(t, tlb_mode_word(), strcmp(words[i], "ipi") == 0 ? "gen" : words[i]);
		ASSERT_EQ(t, vm_unmap(mm, UVA(0), PAGE_SIZE), 0);
		for_each_cpu(c, online()) EXPECT_TRUE(t, run_touch(mm, c, UVA(0), 1).faulted);
		mm_destroy(mm);
		stale_tlb_never_writes_freed_frame(t);
	}
	/* Refused, not half done: an unknown word, and broadcast where there is none. */
	EXPECT_EQ(t, tlb_mode_switch("fast", why, sizeof(why)), -EINVAL);
	if (!arch_tlb_caps()->broadcast)
		EXPECT_EQ(t, tlb_mode_switch("broadcast", why, sizeof(why)), -EINVAL);
	EXPECT_STREQ(t, tlb_mode_word(), "gen");
	ASSERT_EQ(t, tlb_mode_switch(boot, why, sizeof(why)), 0);
}

static void sleep_in_mm(void *arg)
{
	bool *stop = arg;
	while (!atomic_load_acquire(stop))
		thread_sleep_ns(1000000);
}

/*
 * A live switch while a thread uses an address space, or while an
 * operation on one is in flight, would let that operation span two modes:
 * refused, and the mode left as it was (tlb.break=mode_switch_ignores_users
 * must fail this); refused whole, so an idle mm checked before the busy one
 * keeps its generation pending (tlb.break=refused_switch_forgets must fail
 * this).
 */
static void live_mode_switch_refused_while_a_thread_runs(struct ktest *t)
{
	char boot[16], why[96];
	snprintf(boot, sizeof(boot), "%s", tlb_mode_word());
	const char *other = strcmp(boot, "mmgen") == 0 ? "gen" : "mmgen";
	/*
	 * The busy mm, then a newer idle one (listed first, so the switch
	 * reaches it before the busy one), both made before the thread starts.
	 */
	struct mm *mm = mm_create(), *idle = mm_create();
	ASSERT_TRUE(t, mm != NULL && idle != NULL);
	ASSERT_EQ(t, vm_map_anon(idle, UVA(0), 2 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(idle, UVA(0), 2 * PAGE_SIZE), 0);
	static bool stop;
	atomic_store_release(&stop, false);
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	struct thread *th = thread_create_mm("sleeper", cpu, mm, sleep_in_mm, &stop);
	ASSERT_TRUE(t, th != NULL);
	/* The idle mm's generation is not complete: a switch that goes through completes it. */
	uint64_t completed = atomic_load_acquire(&idle->tlb_gen_completed);
	EXPECT_GT(t, atomic_load_acquire(&idle->tlb_gen), completed);
	EXPECT_EQ(t, tlb_mode_switch(other, why, sizeof(why)), -EBUSY);
	EXPECT_STREQ(t, tlb_mode_word(), boot);
	/* Refused means nothing done (tlb.break=refused_switch_forgets must fail this). */
	EXPECT_EQ(t, atomic_load_acquire(&idle->tlb_gen_completed), completed);
	atomic_store_release(&stop, true);
	thread_join(th);
	/*
	 * No thread now, but an operation in flight on the idle mm (a gather
	 * open, as a TLB batch or the console's own unmap may hold one): refused.
	 */
	struct mmu_gather g;
	down_read(&idle->lock);
	tlb_gather_begin(&g, idle, false);
	EXPECT_EQ(t, pt_unmap_gather(&idle->pt, UVA(0), PAGE_SIZE, &g, true), 0);
	up_read(&idle->lock);
	EXPECT_EQ(t, tlb_mode_switch(other, why, sizeof(why)), -EBUSY);
	if (!strstr(why, "in flight"))
		ktest_log(t, "refused for another reason: %s", why);
	EXPECT_TRUE(t, strstr(why, "in flight") != NULL);
	EXPECT_STREQ(t, tlb_mode_word(), boot);
	tlb_gather_finish(&g);
	mm_destroy(idle);
	mm_destroy(mm);
	if (strcmp(tlb_mode_word(), boot) != 0) /* broken on purpose: the boot's mode back */
		tlb_mode_switch(boot, why, sizeof(why));
}

/* An unmap on an mm no thread uses, parked once marked (mm.h's test hook). */
static struct {
	struct mm *mm;
	bool parked, release;
	int err;
} outside_op;

static void park_marked(struct mm *mm, virt_addr_t va, virt_addr_t end, enum vm_change_stage stage)
{
	(void)va;
	(void)end;
	if (mm != outside_op.mm || stage != VM_CHANGE_MARKED)
		return;
	atomic_store_release(&outside_op.parked, true);
	uint64_t until = arch_time_ns() + 5000000000ull; /* bounded: never a hung suite */
	while (!atomic_load_acquire(&outside_op.release) && arch_time_ns() < until)
		thread_sleep_ns(1000000);
}

static void unmap_from_outside(void *arg)
{
	(void)arg;
	outside_op.err = vm_unmap(outside_op.mm, UVA(0), PAGE_SIZE);
}

/*
 * An operation on an mm no thread uses (as a reclaim pass makes), in
 * flight with its VMAs marked and its gather not yet begun: a switch now
 * would let it span two modes, so it is refused, and the mode stays
 * (tlb.break=mode_switch_ignores_ops, which checks only for a gather open,
 * must fail this). Once the unmap has returned the switch goes through.
 */
static void live_mode_switch_refused_while_an_operation_runs(struct ktest *t)
{
	char boot[16], why[96];
	snprintf(boot, sizeof(boot), "%s", tlb_mode_word());
	const char *other = strcmp(boot, "mmgen") == 0 ? "gen" : "mmgen";
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, UVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, UVA(0), PAGE_SIZE), 0);
	outside_op.mm = mm;
	outside_op.err = -1;
	atomic_store_release(&outside_op.parked, false);
	atomic_store_release(&outside_op.release, false);
	vm_test_change_stage = park_marked;
	unsigned cpu = cpumask_weight(online()) > 1 ? 1 : 0;
	struct thread *th = thread_create("outsider", cpu, unmap_from_outside, NULL);
	EXPECT_TRUE(t, th != NULL);
	uint64_t until = arch_time_ns() + 5000000000ull;
	while (th && !atomic_load_acquire(&outside_op.parked) && arch_time_ns() < until)
		thread_sleep_ns(1000000);
	bool parked = atomic_load_acquire(&outside_op.parked);
	EXPECT_TRUE(t, parked);
	if (parked) {
		EXPECT_EQ(t, READ_ONCE(mm->users), 0u);
		EXPECT_EQ(t, atomic_load_acquire(&mm->gathers_active), 0u); /* not begun yet */
		EXPECT_EQ(t, tlb_mode_switch(other, why, sizeof(why)), -EBUSY);
		EXPECT_TRUE(t, strstr(why, "in flight") != NULL);
		EXPECT_STREQ(t, tlb_mode_word(), boot);
	}
	atomic_store_release(&outside_op.release, true);
	if (th)
		thread_join(th);
	vm_test_change_stage = NULL;
	EXPECT_EQ(t, outside_op.err, 0);
	/* Nothing in flight now: the switch goes through, and back. */
	if (strcmp(tlb_mode_word(), boot) == 0)
		EXPECT_EQ(t, tlb_mode_switch(other, why, sizeof(why)), 0);
	EXPECT_EQ(t, tlb_mode_switch(boot, why, sizeof(why)), 0);
	mm_destroy(mm);
	outside_op.mm = NULL;
}

struct start_in_walk {
	struct mm *mm;
	struct thread *starter, *started;
	bool go, created, ran, stop;
	/* What the walk saw, holding the live list. */
	uint32_t users_in_walk;
	bool created_in_walk, ran_in_walk, blocked_in_walk;
};

/* The thread started in the mm: says it ran, then sleeps until told to stop. */
static void run_in_mm(void *arg)
{
	struct start_in_walk *w = arg;
	atomic_store_release(&w->ran, true);
	while (!atomic_load_acquire(&w->stop))
		thread_sleep_ns(1000000);
}

/* Starts a thread in w->mm as soon as told (yielding meanwhile, not sleeping a tick). */
static void start_when_told(void *arg)
{
	struct start_in_walk *w = arg;
	while (!atomic_load_acquire(&w->go))
		thread_yield();
	w->started = thread_create_mm("late", arch_cpu_id(), w->mm, run_in_mm, w);
	atomic_store_release(&w->created, true);
}

/* The starter sleeps in mutex_lock: its thread_create_mm waits for the live list. */
static bool starter_blocked(const struct start_in_walk *w)
{
	const char *on = READ_ONCE(w->starter->blocked_on);
	return on && strcmp(on, "mutex_lock") == 0;
}

/*
 * Under the live list's lock: lets the starter go, then waits (at most
 * 500 ms) until it either created its thread (the rule broken) or sleeps
 * on the lock, and records what it sees.
 */
static int look_while_holding_the_list(struct mm *mm, void *arg)
{
	struct start_in_walk *w = arg;
	if (mm != w->mm)
		return 0;
	atomic_store_release(&w->go, true);
	uint64_t until = arch_time_ns() + 500000000ull;
	while (!atomic_load_acquire(&w->created) && !starter_blocked(w) && arch_time_ns() < until)
		thread_sleep_ns(1000000);
	w->blocked_in_walk = starter_blocked(w);
	w->users_in_walk = READ_ONCE(mm->users);
	w->created_in_walk = atomic_load_acquire(&w->created);
	w->ran_in_walk = atomic_load_acquire(&w->ran);
	return 0;
}

/*
 * A thread starting in an mm is counted under the live list's lock
 * (mm_add_user), so a walk of the list that checks and acts in one hold
 * (tlb_mode_switch: no user anywhere, every mm forgotten, the new mode
 * written) never sees an mm idle and then used: a start during the walk
 * waits for its end, neither counted nor running. The walk waits until the
 * starter is seen asleep on the lock, so the case cannot pass without the
 * two meeting. mm.test_users_unlocked (counted without the lock) must fail
 * this.
 */
static void thread_start_waits_for_a_live_list_walk(struct ktest *t)
{
	static struct start_in_walk w;
	memset(&w, 0, sizeof(w));
	unsigned me = arch_cpu_id(), cpu = me;
	for_each_cpu(c, online()) if (c != me && cpu == me) cpu = c;
	w.mm = mm_create();
	ASSERT_TRUE(t, w.mm != NULL);
	w.starter = thread_create("starter", cpu, start_when_told, &w);
	if (!w.starter)
		mm_destroy(w.mm);
	ASSERT_TRUE(t, w.starter != NULL);
	EXPECT_EQ(t, mm_for_each_live(look_while_holding_the_list, &w), 0);
	thread_join(w.starter);
	ktest_log(t,
		  "during the walk: starter asleep on the lock %s, users %u, thread created %s, "
		  "ran %s; after it: users %u",
		  w.blocked_in_walk ? "yes" : "no", w.users_in_walk,
		  w.created_in_walk ? "yes" : "no", w.ran_in_walk ? "yes" : "no",
		  READ_ONCE(w.mm->users));
	EXPECT_TRUE(t, w.blocked_in_walk);
	EXPECT_EQ(t, w.users_in_walk, 0u);
	EXPECT_FALSE(t, w.created_in_walk);
	EXPECT_FALSE(t, w.ran_in_walk);
	ASSERT_TRUE(t, w.started != NULL);
	EXPECT_EQ(t, READ_ONCE(w.mm->users), 1u);
	atomic_store_release(&w.stop, true);
	thread_join(w.started);
	EXPECT_TRUE(t, atomic_load_acquire(&w.ran));
	EXPECT_EQ(t, READ_ONCE(w.mm->users), 0u);
	mm_destroy(w.mm);
}

static const struct ktest_case mm_cases[] = {
	KTEST_CASE_TIMEOUT(stale_tlb_never_writes_freed_frame, 20000),
	KTEST_CASE(anon_zero_fill_on_first_touch),
	KTEST_CASE(unmap_then_remap_sees_fresh_page),
	KTEST_CASE(discard_keeps_mapping_drops_contents),
	KTEST_CASE(protect_read_only_faults_writes),
	KTEST_CASE(teardown_frees_every_frame),
	KTEST_CASE(overlapping_and_bad_ranges_refused),
	KTEST_CASE_TIMEOUT(live_mode_switch_keeps_shootdowns_exact, 60000),
	KTEST_CASE(live_mode_switch_refused_while_a_thread_runs),
	KTEST_CASE(live_mode_switch_refused_while_an_operation_runs),
	KTEST_CASE(thread_start_waits_for_a_live_list_walk),
	KTEST_END,
};
KTEST_SUITE(mm_suite, "mm", mm_cases);
