// SPDX-License-Identifier: BSD-2-Clause
/*
 * concur suite: the reader-writer lock (kernel/sync/rwsem.h) and what it
 * buys an address space: faults, populate and changes of disjoint ranges
 * of one mm running side by side (docs/mm.md, "Locking").
 *
 * The rwsem cases hold the lock on CPU 0 and watch threads on other CPUs
 * get in or stay out; the last reader out wakes a waiting writer
 * (sync.break=last_reader_fast must fail last_reader_out_wakes_the_writer);
 * sync.break=readers_barge (a reader passes a waiting writer) must fail
 * writer_waits_and_is_preferred, and a downgrade must keep a writer that
 * queued before it out.
 *
 * The mm cases park a change on another CPU inside the
 * vm_test_change_stage hook (mm.h), its read hold and range still owned.
 * The first two park an unmap (or protect) of range A after its table
 * work, before its flush, its gather open. Meanwhile faults fill range B,
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
 * Two more park earlier, for the races review 8 found (findings 1 and 2:
 * each case says what it builds and the mm.break= switch it catches).
 * Every mm case ends through scene_end(), which lets every thread it
 * started go, clears the hook and destroys the mm, whatever failed.
 */
#include "kernel/entry.h"
#include "kernel/errno.h"
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
#define PARK_MAX_MS    10000 /* how long a parked change or a reader waits for a failed case */
#define HOLD_MAX_MS    3000  /* how long a locker holds the rwsem without being told */

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
	/* Bounded: a case that fails (or deadlocks on a broken lock) must still end. */
	uint64_t deadline = arch_time_ns() + HOLD_MAX_MS * MS;
	while (!atomic_load_acquire(&l->release) && arch_time_ns() < deadline)
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

/* Waits up to 2 s for a writer to queue on `sem`; how many wait then. */
static uint32_t writers_queued(void)
{
	uint64_t deadline = arch_time_ns() + 2000 * MS;
	while (!atomic_load_acquire(&sem.writers_waiting) && arch_time_ns() < deadline)
		thread_sleep_ns(MS);
	return atomic_load_acquire(&sem.writers_waiting);
}

/* Takes `sem` for read, then starts a locker on the first other CPU; NULL, `sem` free, if it cannot. */
static struct thread *read_then_start(struct locker *l, bool write)
{
	down_read(&sem);
	struct thread *th = start_locker(l, 0, write);
	if (!th)
		up_read(&sem); /* the cases after this one need it free */
	return th;
}

static void readers_share(struct ktest *t)
{
	if (other_cpu(0) < 0)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct locker r;
	struct thread *th = read_then_start(&r, false);
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
	struct thread *wt = read_then_start(&w, true);
	ASSERT_TRUE(t, wt != NULL);
	EXPECT_EQ(t, writers_queued(), 1u);
	EXPECT_FALSE(t, atomic_load_acquire(&w.in)); /* a reader holds it */
	/* A reader arriving now waits behind the writer, though only readers hold it. */
	struct thread *rt = start_locker(&r, 1, false);
	if (!rt) { /* let the writer in and out first */
		up_read(&sem);
		atomic_store_release(&w.release, 1);
		thread_join(wt);
	}
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

/*
 * The last reader out with a writer waiting wakes it: that reader leaves
 * under the queue lock, not by the lock-free fast path, which would leave
 * the writer asleep with nobody inside (sync.break=last_reader_fast does,
 * and this case must then fail).
 */
static void last_reader_out_wakes_the_writer(struct ktest *t)
{
	if (other_cpu(0) < 0)
		KTEST_SKIP(t, "needs 2 CPUs");
	static struct locker w;
	struct thread *wt = read_then_start(&w, true);
	ASSERT_TRUE(t, wt != NULL);
	EXPECT_EQ(t, writers_queued(), 1u);
	up_read(&sem);
	bool woken = wait_flag(&w.in, 2000);
	EXPECT_TRUE(t, woken);
	if (!woken) /* broken: wake it by hand, so the case ends and the next finds it free */
		wait_queue_wake_all(&sem.wq);
	EXPECT_TRUE(t, wait_flag(&w.in, 2000));
	atomic_store_release(&w.release, 1);
	thread_join(wt);
}

/*
 * A downgrade is one step: a writer that queued while we held the write
 * hold finds our read hold (a downgrade made of up_write and down_read
 * would let it in between), and readers that queued come in beside us.
 */
static void downgrade_lets_readers_in_not_writers(struct ktest *t)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	static struct locker r, w;
	down_write(&sem);
	struct thread *wt = start_locker(&w, 0, true);
	EXPECT_EQ(t, wt ? writers_queued() : 0u, 1u); /* queued behind us */
	downgrade_write(&sem);
	EXPECT_FALSE(t, rwsem_is_write_held_by_me(&sem));
	EXPECT_FALSE(t, wait_flag(&w.in, 50)); /* our read hold keeps it out */
	up_read(&sem);
	EXPECT_TRUE(t, wait_flag(&w.in, 2000));
	atomic_store_release(&w.release, 1);
	if (wt)
		thread_join(wt);

	/* No writer waiting: a reader queued behind our write hold comes in beside our read. */
	down_write(&sem);
	struct thread *rt = start_locker(&r, 0, false);
	EXPECT_FALSE(t, wait_flag(&r.in, 20)); /* a writer holds it */
	downgrade_write(&sem);
	EXPECT_TRUE(t, wait_flag(&r.in, 2000));
	wt = start_locker(&w, 1, true);
	EXPECT_FALSE(t, wait_flag(&w.in, 30)); /* two readers inside */
	atomic_store_release(&r.release, 1);
	EXPECT_TRUE(t, wait_flag(&r.out, 2000));
	EXPECT_FALSE(t, wait_flag(&w.in, 20)); /* still our read hold */
	up_read(&sem);
	EXPECT_TRUE(t, wait_flag(&w.in, 2000));
	atomic_store_release(&w.release, 1);
	if (rt)
		thread_join(rt);
	if (wt)
		thread_join(wt);
}

/* ---- Address spaces ---------------------------------------------------------------- */

enum parked_op { PARK_UNMAP, PARK_PROTECT, PARK_MIXED };

struct concur {
	struct mm *mm;
	enum parked_op op;
	virt_addr_t va, end;	       /* the change that parks */
	enum vm_change_stage stage;    /* where it parks */
	uint32_t parked, release;      /* the change is in the hook / may go on */
	uint32_t returned;	       /* the change returned */
	uint32_t readers_ready, check; /* readers cached A / may probe it now */
	int change_err;
};

static struct concur cc;

/* The hook: parks the one change the case names, at its stage (others run through). */
static void park_here(struct mm *mm, virt_addr_t va, virt_addr_t end, enum vm_change_stage stage)
{
	if (mm != cc.mm || va != cc.va || end != cc.end || stage != cc.stage)
		return;
	atomic_store_release(&cc.parked, 1);
	/* Bounded: a failing case must not leave a thread parked for ever. */
	uint64_t deadline = arch_time_ns() + PARK_MAX_MS * MS;
	while (!atomic_load_acquire(&cc.release) && arch_time_ns() < deadline)
		thread_sleep_ns(MS);
}

static void change_run(void *arg)
{
	(void)arg;
	uint64_t size = cc.end - cc.va;
	if (cc.op == PARK_UNMAP)
		cc.change_err = vm_unmap(cc.mm, cc.va, size);
	else
		cc.change_err = vm_protect(cc.mm, cc.va, size,
					   cc.op == PARK_MIXED ? PT_READ | PT_EXEC : PT_READ);
	atomic_store_release(&cc.returned, 1);
}

/* Touches `pages` pages from `va` (a write, or a read), under a fault fixture. */
struct prober {
	virt_addr_t va;
	unsigned pages; /* 0: one */
	bool write;
	bool faulted;
	uint32_t seen, done;
	struct fault_info fault;
};

static void probe_body(void *arg)
{
	struct prober *p = arg;
	for (unsigned i = 0; i < MAX(p->pages, 1u); i++) {
		volatile uint32_t *q = (volatile uint32_t *)(p->va + i * PAGE_SIZE);
		if (p->write)
			*q = 0xB0000u + i;
		else
			p->seen = *q;
	}
}

static void probe_run(void *arg)
{
	struct prober *p = arg;
	p->faulted = ktest_expect_fault(probe_body, p, &p->fault);
	atomic_store_release(&p->done, 1);
}

/*
 * A reader of A on another CPU: writes every page (its TLB now holds them
 * writable and dirty), stays in the mm, then probes page 0 when told to.
 */
struct reader {
	struct prober probe;
	bool told; /* the check came before the reader gave up waiting */
};

static void reader_run(void *arg)
{
	struct reader *r = arg;
	for (unsigned i = 0; i < RANGE_PAGES; i++)
		*(volatile uint32_t *)(RANGE_A + i * PAGE_SIZE + 64 * arch_cpu_id()) = i;
	atomic_fetch_add(&cc.readers_ready, 1);
	/* Spinning keeps the mm loaded here (a flush target); bounded, for a case that failed. */
	uint64_t deadline = arch_time_ns() + PARK_MAX_MS * MS;
	while (!atomic_load_acquire(&cc.check) && arch_time_ns() < deadline)
		arch_cpu_relax();
	r->told = atomic_load_acquire(&cc.check) != 0;
	if (r->told)
		r->probe.faulted = ktest_expect_fault(probe_body, &r->probe, &r->probe.fault);
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
 * A parked change and the threads around it. scene_end() undoes all of it
 * whatever the case got to: it lets the change and the readers go, joins
 * every thread started, clears the hook and destroys the mm.
 */
struct scene {
	struct reader readers[CONCUR_READERS];
	struct thread *rth[CONCUR_READERS];
	unsigned nreaders;
	struct thread *change;
};

static struct scene sc;

/* Starts the scene on `mm` (taken over, also on failure); with readers, each caches A. */
static bool scene_begin(struct ktest *t, struct mm *mm, enum parked_op op, virt_addr_t va,
			virt_addr_t end, bool readers)
{
	cc = (struct concur){.mm = mm, .op = op, .va = va, .end = end};
	sc = (struct scene){0};
	if (!mm)
		return false;
	for (unsigned i = 0; readers && i < CONCUR_READERS && other_cpu(1 + i) >= 0; i++) {
		/* After an unmap any touch faults; after a protect, a write. */
		sc.readers[i] =
		    (struct reader){.probe = {.va = RANGE_A, .write = op != PARK_UNMAP}};
		sc.rth[i] = thread_create_mm("reader", (unsigned)other_cpu(1 + i), mm, reader_run,
					     &sc.readers[i]);
		EXPECT_TRUE(t, sc.rth[i] != NULL);
		if (!sc.rth[i])
			return false;
		sc.nreaders++;
	}
	uint64_t deadline = arch_time_ns() + 2000 * MS;
	while (atomic_load_acquire(&cc.readers_ready) < sc.nreaders && arch_time_ns() < deadline)
		thread_sleep_ns(MS);
	EXPECT_EQ(t, atomic_load_acquire(&cc.readers_ready), sc.nreaders);
	return atomic_load_acquire(&cc.readers_ready) == sc.nreaders;
}

/* Starts the change on CPU other(0), to park at `stage`; true once it is parked there. */
static bool scene_park(struct ktest *t, enum vm_change_stage stage)
{
	cc.stage = stage;
	vm_test_change_stage = park_here;
	sc.change = thread_create_mm("change", (unsigned)other_cpu(0), cc.mm, change_run, NULL);
	EXPECT_TRUE(t, sc.change != NULL);
	bool parked = sc.change && wait_flag(&cc.parked, 5000);
	EXPECT_TRUE(t, parked);
	return parked;
}

/* Lets the parked change go and waits for it to return. */
static void scene_release(struct ktest *t)
{
	atomic_store_release(&cc.release, 1);
	if (sc.change)
		thread_join(sc.change);
	sc.change = NULL;
	vm_test_change_stage = NULL;
	EXPECT_EQ(t, cc.change_err, 0);
}

/* Every reader that cached A before the change must fault on it now (no stale entry). */
static void scene_check_readers(struct ktest *t)
{
	atomic_store_release(&cc.check, 1);
	for (unsigned i = 0; i < sc.nreaders; i++) {
		thread_join(sc.rth[i]);
		sc.rth[i] = NULL;
		EXPECT_TRUE(t, sc.readers[i].told);
		EXPECT_TRUE(t, sc.readers[i].probe.faulted);
	}
}

static void scene_end(void)
{
	atomic_store_release(&cc.release, 1);
	atomic_store_release(&cc.check, 1);
	if (sc.change)
		thread_join(sc.change);
	for (unsigned i = 0; i < sc.nreaders; i++)
		if (sc.rth[i])
			thread_join(sc.rth[i]);
	vm_test_change_stage = NULL;
	if (cc.mm)
		mm_destroy(cc.mm);
	cc.mm = NULL;
}

/*
 * The scenario of the header: CPU other(0) changes A and parks after its
 * walk; readers of A on other(1..); faults on B from CPU 0 (a thread),
 * populate of P and the unmap of C from this thread, and a touch of A,
 * all while parked.
 */
static void beside_a_parked_change(struct ktest *t, enum parked_op op)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	struct gather_stats g0 = gather_stats;
	if (!scene_begin(t, concur_mm(), op, RANGE_A, RANGE_A + RANGE_BYTES, true) ||
	    !scene_park(t, VM_CHANGE_WALKED))
		goto out;
	struct mm *mm = cc.mm;

	/* While A's change is parked: faults on B, populate of P, unmap of C, a touch of A. */
	static struct prober fill_b, touch;
	fill_b = (struct prober){.va = RANGE_B, .pages = RANGE_PAGES, .write = true};
	struct thread *fb = thread_create_mm("fill-b", arch_cpu_id(), mm, probe_run, &fill_b);
	EXPECT_TRUE(t, fb != NULL);
	EXPECT_TRUE(t, wait_flag(&fill_b.done, 5000)); /* no waiting for the parked change */
	if (fb)
		thread_join(fb);
	EXPECT_FALSE(t, fill_b.faulted);
	EXPECT_EQ(t, vm_populate(mm, RANGE_P, RANGE_BYTES), 0);
	EXPECT_EQ(t, vm_unmap(mm, RANGE_C, RANGE_BYTES), 0);
	touch = (struct prober){.va = RANGE_A + 3 * PAGE_SIZE, .write = false};
	struct thread *tt = thread_create_mm("touch-a", arch_cpu_id(), mm, probe_run, &touch);
	EXPECT_TRUE(t, tt != NULL);
	if (tt)
		thread_join(tt);
	/* All of that ran beside the parked change: it is still parked. */
	EXPECT_FALSE(t, atomic_load_acquire(&cc.returned));
	EXPECT_GE(t, gather_stats.nested - g0.nested, 1u); /* C's gather finished beside A's */
	if (op == PARK_UNMAP)
		EXPECT_TRUE(t, touch.faulted); /* A's VMA is dying: nothing may be filled there */
	else
		EXPECT_FALSE(t, touch.faulted); /* a read of a read-only page */

	scene_release(t);
	scene_check_readers(t);
	EXPECT_EQ(t, count_mapped(mm, RANGE_A), op == PARK_UNMAP ? 0u : (unsigned)RANGE_PAGES);
	EXPECT_EQ(t, count_mapped(mm, RANGE_C), 0u);
	EXPECT_EQ(t, count_mapped(mm, RANGE_B), (unsigned)RANGE_PAGES);
	EXPECT_EQ(t, count_mapped(mm, RANGE_P), (unsigned)RANGE_PAGES);
out:
	scene_end();
}

static void faults_run_beside_a_parked_unmap(struct ktest *t)
{
	beside_a_parked_change(t, PARK_UNMAP);
}

static void faults_run_beside_a_parked_protect(struct ktest *t)
{
	beside_a_parked_change(t, PARK_PROTECT);
}

/* An exec fault on A, handed to the fault handler as the arch would hand it. */
struct exec_fault {
	struct mm *mm;
	bool handled;
	uint32_t done;
};

static void exec_fault_run(void *arg)
{
	struct exec_fault *x = arg;
	/*
	 * The kernel cannot fetch from a user page itself (SMEP, PXN): the
	 * handler gets the fault the fetch would raise, from a thread with
	 * interrupts on, and returns with them off, as the arch's entry has them.
	 */
	struct fault_info info = {.kind = FAULT_PAGE,
				  .name = "instruction fetch",
				  .address = RANGE_A,
				  .exec = true,
				  .irqs_were_on = true};
	x->handled = mm_handle_fault(x->mm, &info);
	arch_irq_enable();
	atomic_store_release(&x->done, 1);
}

/*
 * Review 8 finding 1: a protect of A's page 0 from RW to RX (it adds exec
 * and takes write away) parks once the VMA is RX, before its walk; readers
 * on other CPUs cached the page writable. An exec fault on the page now
 * sees a VMA that allows it and an entry that does not: it must not give
 * the entry the VMA's permissions (that takes write away with no flush,
 * and the protect's walk then finds nothing to do and flushes nothing),
 * but wait for the protect. Afterwards every reader's write must fault.
 * mm.break=fault_removes_perm takes the permissions at once: this fails.
 */
static void fault_beside_a_mixed_protect_takes_nothing(struct ktest *t)
{
	if (other_cpu(1) < 0)
		KTEST_SKIP(t, "needs 3 CPUs");
	if (!scene_begin(t, concur_mm(), PARK_MIXED, RANGE_A, RANGE_A + PAGE_SIZE, true) ||
	    !scene_park(t, VM_CHANGE_MARKED))
		goto out;
	static struct exec_fault x;
	x = (struct exec_fault){.mm = cc.mm};
	struct thread *xt = thread_create_mm("exec-a", arch_cpu_id(), cc.mm, exec_fault_run, &x);
	EXPECT_TRUE(t, xt != NULL);
	/* Parked: the fault waits for the protect, and the entry is still writable. */
	EXPECT_FALSE(t, wait_flag(&x.done, 50));
	struct pt_query_result q;
	EXPECT_TRUE(t, pt_query(&cc.mm->pt, RANGE_A, &q) && (q.attrs & PT_WRITE));
	scene_release(t);
	if (xt)
		thread_join(xt);
	EXPECT_TRUE(t, x.handled); /* now the entry allows the fetch */
	EXPECT_TRUE(t, pt_query(&cc.mm->pt, RANGE_A, &q) && !(q.attrs & PT_WRITE) &&
			   (q.attrs & PT_EXEC));
	scene_check_readers(t);
out:
	scene_end();
}

/*
 * Review 8 finding 2: a change of [A, A + 3 ranges) whose middle range H
 * is a hole parks right after it owned its VMAs (before it cuts and marks
 * them). Meanwhile H is mapped read-write: no change owns anything there,
 * so the map goes ahead. The change must leave H's new VMA alone: H then
 * takes writes without a fault, stays mapped and its VMA stays (a second
 * map of H finds it). mm.break=mark_unowned marks every VMA in the range:
 * an unmap leaves H's dying, a protect makes it read-only; either way the
 * writes fault, and this fails.
 */
static void hole_of_a_parked_change(struct ktest *t, enum parked_op op)
{
	if (other_cpu(0) < 0)
		KTEST_SKIP(t, "needs 2 CPUs");
	const virt_addr_t hole = RANGE_A + RANGE_BYTES, c = RANGE_A + 2 * RANGE_BYTES;
	const unsigned rw = PT_READ | PT_WRITE;
	struct mm *mm = mm_create();
	if (mm &&
	    (vm_map_anon(mm, RANGE_A, RANGE_BYTES, rw) || vm_populate(mm, RANGE_A, RANGE_BYTES) ||
	     vm_map_anon(mm, c, RANGE_BYTES, rw) || vm_populate(mm, c, RANGE_BYTES))) {
		mm_destroy(mm);
		mm = NULL;
	}
	EXPECT_TRUE(t, mm != NULL);
	if (!scene_begin(t, mm, op, RANGE_A, c + RANGE_BYTES, false) ||
	    !scene_park(t, VM_CHANGE_CLAIMED))
		goto out;
	EXPECT_EQ(t, vm_map_anon(mm, hole, RANGE_BYTES, rw), 0); /* beside the parked change */
	EXPECT_FALSE(t, atomic_load_acquire(&cc.returned));
	scene_release(t);

	static struct prober touch;
	touch = (struct prober){.va = hole, .pages = RANGE_PAGES, .write = true};
	struct thread *tt = thread_create_mm("touch-hole", arch_cpu_id(), mm, probe_run, &touch);
	EXPECT_TRUE(t, tt != NULL);
	if (tt)
		thread_join(tt);
	EXPECT_FALSE(t, touch.faulted);
	EXPECT_EQ(t, count_mapped(mm, hole), (unsigned)RANGE_PAGES);
	EXPECT_EQ(t, vm_map_anon(mm, hole, PAGE_SIZE, rw), -EEXIST); /* its VMA is still there */
	unsigned around = op == PARK_UNMAP ? 0u : (unsigned)RANGE_PAGES; /* a protect keeps them */
	EXPECT_EQ(t, count_mapped(mm, RANGE_A), around);
	EXPECT_EQ(t, count_mapped(mm, c), around);
out:
	scene_end();
}

static void map_into_the_hole_of_a_parked_unmap_survives(struct ktest *t)
{
	hole_of_a_parked_change(t, PARK_UNMAP);
}

static void map_into_the_hole_of_a_parked_protect_keeps_its_rights(struct ktest *t)
{
	hole_of_a_parked_change(t, PARK_PROTECT);
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
    KTEST_CASE(last_reader_out_wakes_the_writer),
    KTEST_CASE(downgrade_lets_readers_in_not_writers),
    KTEST_CASE_TIMEOUT(faults_run_beside_a_parked_unmap, 30000),
    KTEST_CASE_TIMEOUT(faults_run_beside_a_parked_protect, 30000),
    KTEST_CASE_TIMEOUT(fault_beside_a_mixed_protect_takes_nothing, 30000),
    KTEST_CASE_TIMEOUT(map_into_the_hole_of_a_parked_unmap_survives, 30000),
    KTEST_CASE_TIMEOUT(map_into_the_hole_of_a_parked_protect_keeps_its_rights, 30000),
    KTEST_CASE(two_faults_on_one_page_install_once),
    KTEST_END,
};
KTEST_SUITE(concur_suite, "concur", concur_cases);
