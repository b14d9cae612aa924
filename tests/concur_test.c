// SPDX-License-Identifier: BSD-2-Clause
/*
 * concur suite: the reader-writer lock (kernel/sync/rwsem.h) and what it
 * buys an address space: faults, populate and changes of disjoint ranges
 * of one mm running side by side (docs/mm.md, "Locking").
 *
 * The rwsem cases hold the lock on CPU 0 and watch threads on other CPUs
 * get in or stay out; sync.break=readers_barge (a reader passes a waiting
 * writer) must fail writer_waits_and_is_preferred.
 *
 * The mm cases park an unmap (or protect) of range A on another CPU inside
 * the vm_test_unmap_parked hook: after its table work, before its flush,
 * its read hold and gather still open. Meanwhile faults fill range B,
 * populate fills range P and another CPU unmaps range C, all of the same
 * mm, and all must finish while A's change is still parked (under the old
 * mutex they waited for it; C's gather is nested in A's). A touch of A
 * meanwhile must fault: the unmap marked A's VMA dying before its walk,
 * and a fault checks its VMA and installs its page under one vma_lock
 * (mm.break=unmap_vma_alive leaves the VMA alive: the touch
 * fills a page the walk has already passed, the page outlives the unmap,
 * and the case must fail). Afterwards the result must be coherent: readers
 * on other CPUs that wrote A before the change fault on it (unmap) or on a
 * write (protect), no page of A or C is left mapped, and B and P are.
 */
#include "kernel/entry.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/rwsem.h"
#include "kernel/time.h"
#include "tests/ktest.h"

#define MS	       1000000ull
#define UVA(off)       (arch_mm_layout.user_base + GiB(4) + (off))
#define RANGE_PAGES    16
#define RANGE_A	       UVA(0)
#define RANGE_B	       UVA(MiB(4))
#define RANGE_C	       UVA(MiB(8))
#define RANGE_P	       UVA(MiB(12))
#define RANGE_BYTES    (RANGE_PAGES * PAGE_SIZE)
#define CONCUR_READERS 2

/* ---- The lock itself ------------------------------------------------------------- */

static struct rwsem sem = RWSEM_INIT;

struct locker {
	bool write;
	uint32_t in, out; /* holding it / has released it */
	uint32_t release; /* set by the test: let go */
};

static void locker_run(void *arg)
{
	struct locker *l = arg;
	if (l->write)
		down_write(&sem);
	else
		down_read(&sem);
	atomic_store_release(&l->in, 1);
	while (!atomic_load_acquire(&l->release))
		thread_sleep_ns(MS);
	if (l->write)
		up_write(&sem);
	else
		up_read(&sem);
	atomic_store_release(&l->out, 1);
}

/* Polls `flag` for up to `ms` milliseconds (a sleep lasts a tick or more); true once set. */
static bool wait_flag(uint32_t *flag, unsigned ms)
{
	uint64_t deadline = arch_time_ns() + ms * MS;
	while (!atomic_load_acquire(flag) && arch_time_ns() < deadline)
		thread_sleep_ns(MS);
	return atomic_load_acquire(flag) != 0;
}

/* The n-th online CPU other than the caller's, or -1. */
static int other_cpu(unsigned n)
{
	cpumask_t m = cpumask_read(&cpu_online_mask);
	cpumask_clear(&m, arch_cpu_id());
	for_each_cpu(c, m) if (n-- == 0) return (int)c;
	return -1;
}

static struct thread *start_locker(struct locker *l, unsigned n, bool write)
{
	*l = (struct locker){.write = write};
	return thread_create("locker", (unsigned)other_cpu(n), locker_run, l);
}

static void readers_share(struct ktest *t)
{
	if (other_cpu(0) < 0)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct locker r;
	down_read(&sem);
	struct thread *th = start_locker(&r, 0, false);
	ASSERT_TRUE(t, th != NULL);
	EXPECT_TRUE(t, wait_flag(&r.in, 2000)); /* in beside us */
	atomic_store_release(&r.release, 1);
	up_read(&sem);
	thread_join(th);
	EXPECT_TRUE(t, down_write_trylock(&sem)); /* nobody left inside */
	up_write(&sem);
}

static void writer_waits_and_is_preferred(struct ktest *t)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	static struct locker w, r;
	down_read(&sem);
	struct thread *wt = start_locker(&w, 0, true);
	ASSERT_TRUE(t, wt != NULL);
	uint64_t deadline = arch_time_ns() + 2000 * MS;
	while (!atomic_load_acquire(&sem.writers_waiting) && arch_time_ns() < deadline)
		thread_sleep_ns(MS);
	EXPECT_EQ(t, atomic_load_acquire(&sem.writers_waiting), 1u);
	EXPECT_FALSE(t, atomic_load_acquire(&w.in)); /* a reader holds it */
	/* A reader arriving now waits behind the writer, though only readers hold it. */
	struct thread *rt = start_locker(&r, 1, false);
	ASSERT_TRUE(t, rt != NULL);
	EXPECT_FALSE(t, wait_flag(&r.in, 50));
	bool barged = down_read_trylock(&sem);
	EXPECT_FALSE(t, barged);
	if (barged) /* broken: give it back, so the case ends instead of hanging */
		up_read(&sem);
	up_read(&sem);
	EXPECT_TRUE(t, wait_flag(&w.in, 2000)); /* the writer first */
	EXPECT_FALSE(t, atomic_load_acquire(&r.in));
	atomic_store_release(&w.release, 1);
	EXPECT_TRUE(t, wait_flag(&r.in, 2000)); /* then the reader */
	atomic_store_release(&r.release, 1);
	thread_join(wt);
	thread_join(rt);
}

static void downgrade_lets_readers_in_not_writers(struct ktest *t)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	static struct locker r, w;
	down_write(&sem);
	struct thread *rt = start_locker(&r, 0, false);
	ASSERT_TRUE(t, rt != NULL);
	EXPECT_FALSE(t, wait_flag(&r.in, 20)); /* a writer holds it */
	downgrade_write(&sem);
	EXPECT_FALSE(t, rwsem_is_write_held_by_me(&sem));
	EXPECT_TRUE(t, wait_flag(&r.in, 2000)); /* beside our read hold */
	struct thread *wt = start_locker(&w, 1, true);
	ASSERT_TRUE(t, wt != NULL);
	EXPECT_FALSE(t, wait_flag(&w.in, 30)); /* two readers inside */
	atomic_store_release(&r.release, 1);
	EXPECT_TRUE(t, wait_flag(&r.out, 2000));
	EXPECT_FALSE(t, wait_flag(&w.in, 20)); /* still our read hold */
	up_read(&sem);
	EXPECT_TRUE(t, wait_flag(&w.in, 2000));
	atomic_store_release(&w.release, 1);
	thread_join(rt);
	thread_join(wt);
}

/* ---- Address spaces ---------------------------------------------------------------- */

enum parked_op { PARK_UNMAP, PARK_PROTECT };

struct concur {
	struct mm *mm;
	enum parked_op op;
	uint32_t parked, release;      /* the change of A is in the hook / may go on */
	uint32_t returned;	       /* the change of A returned */
	uint32_t readers_ready, check; /* readers cached A / may probe it now */
	int change_err;
};

static struct concur cc;

/* The hook: parks the change of A only (the unmap of C runs through). */
static void park_here(struct mm *mm, virt_addr_t va, virt_addr_t end)
{
	if (mm != cc.mm || va != RANGE_A || end != RANGE_A + RANGE_BYTES)
		return;
	atomic_store_release(&cc.parked, 1);
	/* Bounded: a failing case must not leave a thread parked for ever. */
	for (unsigned i = 0; i < 10000 && !atomic_load_acquire(&cc.release); i++)
		thread_sleep_ns(MS);
}

static void change_a(void *arg)
{
	(void)arg;
	cc.change_err = cc.op == PARK_UNMAP ? vm_unmap(cc.mm, RANGE_A, RANGE_BYTES)
					    : vm_protect(cc.mm, RANGE_A, RANGE_BYTES, PT_READ);
	atomic_store_release(&cc.returned, 1);
}

struct prober {
	virt_addr_t va;
	bool write;
	bool faulted;
	uint32_t seen;
	struct fault_info fault;
};

static void probe_body(void *arg)
{
	struct prober *p = arg;
	volatile uint32_t *q = (volatile uint32_t *)p->va;
	if (p->write)
		*q = 0xBADu;
	else
		p->seen = *q;
}

/*
 * A reader of A on another CPU: writes every page (its TLB now holds them
 * writable and dirty), stays in the mm, then probes page 0.
 */
struct reader {
	struct prober probe;
};

static void reader_run(void *arg)
{
	struct reader *r = arg;
	for (unsigned i = 0; i < RANGE_PAGES; i++)
		*(volatile uint32_t *)(RANGE_A + i * PAGE_SIZE + 64 * arch_cpu_id()) = i;
	atomic_fetch_add(&cc.readers_ready, 1);
	while (!atomic_load_acquire(&cc.check))
		arch_cpu_relax(); /* spinning keeps the mm loaded here: a flush target */
	r->probe.faulted = ktest_expect_fault(probe_body, &r->probe, &r->probe.fault);
}

/* Touches the RANGE_B pages (faults that fill) and writes each page's index. */
static void fill_b(void *arg)
{
	uint32_t *done = arg;
	for (unsigned i = 0; i < RANGE_PAGES; i++)
		*(volatile uint32_t *)(RANGE_B + i * PAGE_SIZE) = 0xB0000u + i;
	atomic_store_release(done, 1);
}

static void probe_run(void *arg)
{
	struct prober *p = arg;
	p->faulted = ktest_expect_fault(probe_body, p, &p->fault);
}

static bool mapped(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q);
}

static unsigned count_mapped(struct mm *mm, virt_addr_t base)
{
	unsigned n = 0;
	for (unsigned i = 0; i < RANGE_PAGES; i++)
		n += mapped(mm, base + i * PAGE_SIZE);
	return n;
}

static struct mm *concur_mm(void)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	const unsigned rw = PT_READ | PT_WRITE;
	if (vm_map_anon(mm, RANGE_A, RANGE_BYTES, rw) || vm_populate(mm, RANGE_A, RANGE_BYTES) ||
	    vm_map_anon(mm, RANGE_B, RANGE_BYTES, rw) ||
	    vm_map_anon(mm, RANGE_C, RANGE_BYTES, rw) || vm_populate(mm, RANGE_C, RANGE_BYTES) ||
	    vm_map_anon(mm, RANGE_P, RANGE_BYTES, rw)) {
		mm_destroy(mm);
		return NULL;
	}
	return mm;
}

/*
 * The scenario of the header: CPU other(0) changes A and parks; readers of
 * A on other(1..); faults on B from CPU 0 (a thread), populate of P and the
 * unmap of C from this thread, and a touch of A, all while parked.
 */
static void beside_a_parked_change(struct ktest *t, enum parked_op op)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	struct mm *mm = concur_mm();
	ASSERT_TRUE(t, mm != NULL);
	cc = (struct concur){.mm = mm, .op = op};
	static struct reader readers[CONCUR_READERS];
	struct thread *rth[CONCUR_READERS] = {0};
	unsigned nreaders = 0;
	for (unsigned i = 0; i < CONCUR_READERS && other_cpu(1 + i) >= 0; i++, nreaders++) {
		readers[i] = (struct reader){.probe = {.va = RANGE_A, .write = op == PARK_PROTECT}};
		rth[i] = thread_create_mm("reader", (unsigned)other_cpu(1 + i), mm, reader_run,
					  &readers[i]);
		ASSERT_TRUE(t, rth[i] != NULL);
	}
	for (unsigned i = 0; i < 2000 && atomic_load_acquire(&cc.readers_ready) < nreaders; i++)
		thread_sleep_ns(MS);
	ASSERT_EQ(t, atomic_load_acquire(&cc.readers_ready), nreaders);

	struct gather_stats g0 = gather_stats;
	vm_test_unmap_parked = park_here;
	struct thread *ch =
	    thread_create_mm("change-a", (unsigned)other_cpu(0), mm, change_a, NULL);
	ASSERT_TRUE(t, ch != NULL);
	bool parked = wait_flag(&cc.parked, 5000);
	EXPECT_TRUE(t, parked);

	/* While A's change is parked: faults on B, populate of P, unmap of C, a touch of A. */
	static uint32_t b_done;
	b_done = 0;
	struct thread *fb = thread_create_mm("fill-b", arch_cpu_id(), mm, fill_b, &b_done);
	ASSERT_TRUE(t, fb != NULL);
	EXPECT_TRUE(t, wait_flag(&b_done, 5000));
	EXPECT_EQ(t, vm_populate(mm, RANGE_P, RANGE_BYTES), 0);
	EXPECT_EQ(t, vm_unmap(mm, RANGE_C, RANGE_BYTES), 0);
	static struct prober touch;
	touch = (struct prober){.va = RANGE_A + 3 * PAGE_SIZE, .write = false};
	struct thread *tt = thread_create_mm("touch-a", arch_cpu_id(), mm, probe_run, &touch);
	ASSERT_TRUE(t, tt != NULL);
	thread_join(tt);
	/* All of that ran beside the parked change: it is still parked. */
	EXPECT_FALSE(t, atomic_load_acquire(&cc.release));
	EXPECT_FALSE(t, atomic_load_acquire(&cc.returned));
	EXPECT_GE(t, gather_stats.nested - g0.nested, 1u); /* C's gather finished beside A's */
	if (op == PARK_UNMAP)
		EXPECT_TRUE(t, touch.faulted); /* A's VMA is gone: nothing may be filled there */
	else
		EXPECT_FALSE(t, touch.faulted); /* a read of a read-only page */

	atomic_store_release(&cc.release, 1);
	thread_join(ch);
	thread_join(fb);
	vm_test_unmap_parked = NULL;
	EXPECT_EQ(t, cc.change_err, 0);

	/* Coherent: every CPU that cached A lost what the change took away. */
	atomic_store_release(&cc.check, 1);
	for (unsigned i = 0; i < nreaders; i++) {
		thread_join(rth[i]);
		EXPECT_TRUE(t, readers[i].probe.faulted);
	}
	EXPECT_EQ(t, count_mapped(mm, RANGE_A), op == PARK_UNMAP ? 0u : (unsigned)RANGE_PAGES);
	EXPECT_EQ(t, count_mapped(mm, RANGE_C), 0u);
	EXPECT_EQ(t, count_mapped(mm, RANGE_B), (unsigned)RANGE_PAGES);
	EXPECT_EQ(t, count_mapped(mm, RANGE_P), (unsigned)RANGE_PAGES);
	mm_destroy(mm);
}

static void faults_run_beside_a_parked_unmap(struct ktest *t)
{
	beside_a_parked_change(t, PARK_UNMAP);
}

static void faults_run_beside_a_parked_protect(struct ktest *t)
{
	beside_a_parked_change(t, PARK_PROTECT);
}

/* Two faults on one page at once: one frame stays mapped, the other is freed. */
struct racer {
	struct mm *mm;
	uint32_t *go;
};

static void race_fill(void *arg)
{
	struct racer *r = arg;
	while (!atomic_load_acquire(r->go))
		arch_cpu_relax();
	for (unsigned i = 0; i < 64; i++)
		(void)*(volatile uint32_t *)(RANGE_B + i * PAGE_SIZE);
}

static void two_faults_on_one_page_install_once(struct ktest *t)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, RANGE_B, 64 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	static uint32_t go;
	go = 0;
	static struct racer r;
	r = (struct racer){.mm = mm, .go = &go};
	struct thread *th[2];
	for (unsigned i = 0; i < 2; i++) {
		th[i] = thread_create_mm("racer", (unsigned)other_cpu(i), mm, race_fill, &r);
		ASSERT_TRUE(t, th[i] != NULL);
	}
	uint64_t free_before = frame_free_count();
	uint64_t filled = mm->stats.faults_filled, raced = mm->stats.faults_raced;
	atomic_store_release(&go, 1);
	thread_join(th[0]);
	thread_join(th[1]);
	EXPECT_EQ(t, mm->stats.faults_filled - filled, 64u); /* one install per page */
	EXPECT_EQ(t,
		  count_mapped(mm, RANGE_B) + count_mapped(mm, RANGE_B + RANGE_BYTES) +
		      count_mapped(mm, RANGE_B + 2 * RANGE_BYTES) +
		      count_mapped(mm, RANGE_B + 3 * RANGE_BYTES),
		  64u);
	/* The losers' frames went back: 64 pages and their tables are all that left. */
	EXPECT_LE(t, free_before - frame_free_count(), 64u + PT_LEVELS);
	ktest_log(t, "two racers: %lu fills lost the race",
		  (unsigned long)(mm->stats.faults_raced - raced));
	mm_destroy(mm);
}

static const struct ktest_case concur_cases[] = {
    KTEST_CASE(readers_share),
    KTEST_CASE(writer_waits_and_is_preferred),
    KTEST_CASE(downgrade_lets_readers_in_not_writers),
    KTEST_CASE_TIMEOUT(faults_run_beside_a_parked_unmap, 30000),
    KTEST_CASE_TIMEOUT(faults_run_beside_a_parked_protect, 30000),
    KTEST_CASE(two_faults_on_one_page_install_once),
    KTEST_END,
};
KTEST_SUITE(concur_suite, "concur", concur_cases);
