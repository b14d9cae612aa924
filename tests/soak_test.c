// SPDX-License-Identifier: BSD-2-Clause
/*
 * soak suite: one address space hammered from every CPU for `soak.cycles`
 * cycles (`make soak CYCLES=N`; a short slice in the plain `make test`).
 *
 * Every online CPU runs one soak thread in the mm. A cycle is one change
 * to a page the thread owns (map and fill it, unmap it, downgrade it to
 * read-only, give the write back, or reclaim it: take it into a TLB batch,
 * then vm_unmap it while the batch's gather is still open, and flush the
 * batch only at the end of the cycle; vm_unmap usually finds nothing left
 * to clear and must still not return before the page is flushed; or, a
 * quarter of the reclaims, take it into the batch alone, with readers
 * invited to it, and flush the batch at once: reclaim_open) and
 * SOAK_ACCESSES reads or writes of
 * pages of any CPU. Each mapped page carries a tag: its address and the
 * generation of the mapping (bumped by every map). Frames are poisoned
 * when freed (frame_poison_on_free), so a read through a stale translation
 * finds the poison, zeroes or another page's tag, and a write through one
 * shows up as a poison violation when the frame is next allocated.
 *
 * The owner publishes a page's state under a sequence count (odd while it
 * changes it). An access that saw the same even count before and after
 * ran entirely in one settled state, and the state says what must happen:
 * an unmapped page faults, a read-only page faults on a write, a mapped
 * page reads its own tag at the current generation. Whatever the count, a
 * successful read must never see another page's tag or the poison (a
 * page the fault handler fills before its owner tags it reads zero, which
 * counts only while the count moved). The first stale access stops the run
 * and is reported with the CPU, the address, the frames, the generations
 * and the last changes made to the soak's pages (its own event ring), and
 * the TLB counters.
 *
 * Around the threads: a second address space whose threads (and kernel
 * threads, on odd CPUs) take turns with the soak threads, so CPUs switch
 * mm, go lazy and come back; the soak's mm is torn down and created
 * again every SOAK_EPOCH cycles, each time checked by the page-table
 * audit and for leaked frames. The case prints progress (cycles, rate,
 * ETA) every few seconds.
 *
 * The changes themselves are in soak_change.c. Quiet reclaims
 * (soak_quiet.c): now and then a reclaim runs with no other thread's
 * gather of the mm open, the others reading its page meanwhile.
 *
 * Live mode switches (soak_mode.c): now and then a soak thread asks for
 * another TLB shootdown mode, which must be refused while threads run.
 *
 * Kernel mappings (soak_kernel.c): each soak thread also remaps a global
 * kernel page of its own now and then and reads the others'.
 *
 * DMA (soak_dma.c): each epoch's mm is bound (SVA) to the emulated
 * IOMMU's device, which every soak thread uses for a few device accesses
 * a cycle, and to edu behind the machine's hardware IOMMU when there is
 * one; a device access judged stale stops the run the same way.
 *
 * Widened (soak.widen=, soak_span.c): each thread also owns a span of
 * pages across two leaf tables, changed by one call one cycle in
 * SOAK_SPAN_EVERY (its pages are slots after the others, judged the same
 * way), and the TLB protocol's narrowest windows are held open for other
 * CPUs to switch into and fill; a one-page unmap or downgrade invites the
 * other threads to its page first (invite) and holds its flush decision
 * open.
 */
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/entry.h"
#include "kernel/mm/audit.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/tlb_batch.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/soak.h"
#include "tests/soak_run.h"

CMDLINE_PARAM(soak_cycles_param, .key = "soak.cycles", .kind = CMDLINE_U64, .min = 1,
	      .max = 1000000000, .def = "500",
	      .help = "cycles the soak suite runs (make soak CYCLES=N)");

#define SOAK_ACCESSES		8	   /* per cycle */
#define SOAK_BURST		64	   /* reads of the page an access makes */
#define SOAK_BURST_CHANGING	16384	   /* at most, while its owner is changing it */
#define SOAK_BURST_INVITED	(1u << 20) /* the same, invited to it */
#define SOAK_EPOCH		20000	   /* cycles between teardowns of the soak's mm */
#define SOAK_YIELD_EVERY	16	   /* cycles between turns given to the other threads */
#define SOAK_SPAN_EVERY		8	   /* widened: one change in this many is of the span */
#define SOAK_PROGRESS_NS	3000000000ull
#define SOAK_STALL_MS		120000 /* no cycle finished for this long: the case times out */
#define SOAK_OTHER_TURN_NS	100000000ull
#define SOAK_WIDENED_MIN_CYCLES 500 /* below, the widened run's counts are only printed */
#define SOAK_OTHER_VA		(arch_mm_layout.user_base + MiB(32))

struct soak soak;

uint64_t soak_rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

void soak_fail(const struct soak_report *r)
{
	uint32_t none = 0;
	if (atomic_cmpxchg(&soak.stopper, &none, 1))
		soak.report = *r;
	atomic_store_release(&soak.stop, true);
}

void soak_fail_page(struct soak_report *r, const char *what, bool faulted)
{
	const struct soak_slot *s = &soak.slots[r->slot];
	r->cpu = arch_cpu_id();
	r->va = soak_va(r->slot);
	r->frame = s->frame;
	r->prev_frame = s->prev_frame;
	snprintf(r->what, sizeof(r->what), "%s%s", what, faulted ? " (it faulted)" : "");
	soak_fail(r);
}

bool soak_stopping(void)
{
	return atomic_load_relaxed(&soak.stop);
}

bool soak_spin_until(bool (*done)(void *arg), void *arg, uint64_t until)
{
	while (!done(arg)) {
		if (arch_time_ns() > until || soak_stopping())
			return false;
		soak_dma_yield_point();
		arch_cpu_relax();
	}
	return true;
}

uint64_t soak_deadline(uint64_t ns, unsigned n)
{
	return arch_time_ns() + ns * MAX(1u, n / 4);
}

struct mm *soak_mm(void)
{
	return soak.mm;
}

unsigned soak_nr_slots(void)
{
	return soak.nr_slots;
}

struct soak_slot *soak_slot(unsigned i)
{
	return &soak.slots[i];
}

virt_addr_t soak_va(unsigned slot)
{
	if (slot < soak.nr_pages)
		return SOAK_PAGE_VA(slot);
	unsigned t = (slot - soak.nr_pages) / SOAK_SPAN, k = (slot - soak.nr_pages) % SOAK_SPAN;
	return SOAK_SPAN_TABLES(t) + MiB(2) - (SOAK_SPAN / 2) * PAGE_SIZE + k * PAGE_SIZE;
}

virt_addr_t soak_va_end(void)
{
	return SOAK_PAGE_VA(soak.nr_pages - 1) + PAGE_SIZE; /* the spans lie below the pages */
}

/* ---- Accesses, by every soak thread ------------------------------------------------- */

/*
 * Which page the next access goes to. Where stale entries show: a page
 * whose owner is changing it right now (its flush not yet everywhere), or
 * the page just accessed (its translation cached here). A page that has
 * been unmapped for a while is tried only now and then: each such access
 * faults, and a fault takes the mm's lock, which every change needs too.
 */
unsigned soak_pick_slot(uint64_t *rng, unsigned last, uint64_t dice)
{
	if ((dice >> 40) & 1)
		return last;
	unsigned invited = atomic_load_acquire(&soak.invited);
	if (invited != SOAK_NONE_HELD && ((dice >> 41) & 1))
		return invited;
	unsigned pick = (unsigned)(dice % soak.nr_slots);
	for (unsigned try = 0; try < 4; try++) {
		unsigned i = (unsigned)(soak_rng_next(rng) % soak.nr_slots);
		uint32_t seq = atomic_load_relaxed(&soak.slots[i].seq);
		/* A reclaimed page is unmapped, its batch's flush still to come. */
		if ((seq & 1) || atomic_load_relaxed(&soak.slots[i].held))
			return i;
		if (soak.slots[i].state != SOAK_UNMAPPED)
			pick = i;
	}
	return pick;
}

/* One read (and, every other time, a write) of a page picked by pick_slot. */
static void access_one(void *arg)
{
	struct soak_cpu *me = arg;
	uint64_t dice = soak_rng_next(&me->rng);
	unsigned i = me->forced ? me->forced_slot : soak_pick_slot(&me->rng, me->slot, dice);
	me->forced = false;
	struct soak_slot *s = &soak.slots[i];
	me->slot = i;
	me->write = (dice >> 32) & 1;
	me->seq = atomic_load_acquire(&s->seq);
	me->state = s->state;
	me->gen = s->gen;
	me->seen_va = me->seen_gen = 0;
	smp_mb();
	volatile uint64_t *page = (volatile uint64_t *)soak_va(i);
	if (soak_shadow_read(soak_va(i), me->write, &me->seen_va, &me->seen_gen)) {
		if (me->seq & 1)
			atomic_fetch_add(&s->visits, 1); /* as below: reclaim_open waits for one */
		return; /* through the shadow TLB's entry, as a tagged TLB would */
	}
	me->seen_va = page[0];
	me->seen_gen = page[1];
	if (me->seq & 1)
		atomic_fetch_add(&s->visits, 1); /* reaching it now: reclaim_open waits for one */
	/*
	 * Keep reading while the owner may be changing it on another CPU: a
	 * stale entry is usable only until that CPU's flush arrives. A change
	 * of tag ends the burst, and the caller judges what was seen.
	 */
	unsigned burst = SOAK_BURST;
	if (me->seq & 1)
		burst = atomic_load_relaxed(&soak.invited) == i ? SOAK_BURST_INVITED
								: SOAK_BURST_CHANGING;
	for (unsigned r = 0; r < burst; r++) {
		uint64_t v = page[0], g = page[1];
		if ((me->seq & 1) && (r & 63) == 63) {
			/* The change is over: its window for a stale read has closed. */
			if (atomic_load_relaxed(&s->seq) != me->seq)
				break;
			if (soak_stage_wants(me->index))
				break;		/* its part in the staged race is due (play_part) */
			soak_dma_yield_point(); /* the change may be waiting for the IOMMU here */
			soak_mode_try(&me->rng); /* or for its flush decision, held open */
		}
		if (v != me->seen_va || g != me->seen_gen) {
			me->seen_va = v;
			me->seen_gen = g;
			break;
		}
	}
	if (me->write)
		page[2 + arch_cpu_id()] = me->accesses;
	soak_shadow_filled(soak_va(i));
}

/* The access just made: was it what the page's state allows? */
static void judge(struct soak_cpu *me, bool faulted, const struct fault_info *f)
{
	smp_mb();
	struct soak_slot *s = &soak.slots[me->slot];
	uint32_t after = atomic_load_acquire(&s->seq);
	bool settled = after == me->seq && !(after & 1);
	virt_addr_t va = soak_va(me->slot);
	const char *what = NULL;
	if (faulted && (f->address < va || f->address >= va + PAGE_SIZE))
		what = "a fault outside the page accessed";
	else if (!faulted && me->seen_va != va && (settled || me->seen_va != 0))
		what = "read a page that is not this one (a freed frame or another page's)";
	else if (!faulted && settled && me->seen_gen != me->gen)
		what = "read an older mapping of this page";
	else if (settled && me->state == SOAK_UNMAPPED && !faulted)
		what = "an unmapped page was still reachable";
	else if (settled && me->state == SOAK_RO && me->write && !faulted)
		what = "a write went through after the page was made read-only";
	else if (settled && faulted && me->state == SOAK_RW)
		what = "a mapped, writable page faulted";
	else if (settled && faulted && me->state == SOAK_RO && !me->write)
		what = "a read of a read-only page faulted";
	me->accesses++;
	me->faults += faulted;
	if (!what) {
		soak_shadow_check();
		return;
	}
	struct soak_report r = {.slot = me->slot,
				.write = me->write,
				.seen_va = me->seen_va,
				.seen_gen = me->seen_gen,
				.gen = me->gen,
				.state = me->state,
				.seq_before = me->seq,
				.seq_after = after};
	soak_fail_page(&r, what, faulted);
}

/* One access, judged; whether it faulted. */
static bool access_step(struct soak_cpu *me)
{
	struct fault_info f;
	bool faulted = ktest_expect_fault(access_one, me, &f);
	judge(me, faulted, &f);
	return faulted;
}

/*
 * Plays this thread's part in the staged race when its step has come
 * (soak_stage.c): G's unmap, or T's switch and reads of G's page until the
 * race is over, each judged.
 */
static void play_part(struct soak_cpu *me)
{
	unsigned slot;
	while (soak_stage_role(me, &slot)) {
		me->forced = true;
		me->forced_slot = slot;
		if (access_step(me))
			soak_stage_pause();
	}
}

static void soak_thread(void *arg)
{
	struct soak_cpu *me = arg;
	unsigned nr_threads = soak.nr_pages / SOAK_SLOTS_PER_CPU;
	uint64_t n;
	if (tlb_batch_init(&me->batch)) {
		struct soak_report r = {.cpu = arch_cpu_id(), .slot = me->index, .broken = true};
		snprintf(r.what, sizeof(r.what), "no page for the thread's TLB batch");
		soak_fail(&r);
		return;
	}
	while (!atomic_load_acquire(&soak.stop) &&
	       (n = atomic_fetch_add(&soak.claimed, 1)) < soak.target) {
		uint64_t dice = soak_rng_next(&me->rng);
		unsigned mine = (unsigned)(dice % SOAK_SLOTS_PER_CPU);
		unsigned quiet_slot;
		while (!soak_busy_enter(me->index, &quiet_slot) &&
		       !atomic_load_relaxed(&soak.stop)) {
			/* Another thread's quiet reclaim or stage: read its page until it is over.
			 */
			play_part(me);
			me->forced = true;
			me->forced_slot = quiet_slot;
			if (access_step(me))
				soak_quiet_pause(me->index);
			soak_dma_yield_point();
		}
		int err = soak.widened && (dice >> 8) % SOAK_SPAN_EVERY == 0
			      ? soak_change(soak.nr_pages + me->index * SOAK_SPAN, SOAK_SPAN, me)
			      : soak_change(me->index + mine * nr_threads, 1, me);
		if (err) {
			struct soak_report r = {
			    .cpu = arch_cpu_id(), .slot = me->index, .broken = true};
			snprintf(r.what, sizeof(r.what), "a change of a page failed (%d)", err);
			soak_fail(&r);
		}
		if (me->held_slot == SOAK_NONE_HELD)
			soak_busy_exit(me->index);
		for (unsigned k = 0; k < SOAK_ACCESSES && !atomic_load_relaxed(&soak.stop); k++) {
			play_part(me);
			soak_mode_try(&me->rng);
			/* A reclaim's forced access (its first) goes first. */
			if (!me->forced)
				me->forced = soak_span_pick(&me->rng, &me->forced_slot);
			access_step(me);
			soak_quiet_end(me->index); /* a quiet reclaim's page was read */
			soak_dma_yield_point();
		}
		soak_quiet_end(me->index);
		soak_kernel_cycle(me->index, n / nr_threads, &me->rng);
		soak_dma_cycle(&me->rng);
		/*
		 * A reclaim's batch (an open reclaim's was flushed at once) is
		 * flushed only now, after the cycle's
		 * accesses: they ran with the page settled as unmapped and the
		 * batch's gather still open, so only vm_unmap's own flush made
		 * them fault. Not later: an open gather makes every other
		 * change on the mm a nested one (a whole-mm flush in tlb=mmgen
		 * and with a broadcast), which hides the ranged flush paths.
		 */
		tlb_batch_flush(&me->batch);
		if (me->held_slot != SOAK_NONE_HELD) {
			atomic_store_relaxed(&soak.slots[me->held_slot].held, 0);
			me->held_slot = SOAK_NONE_HELD;
		}
		soak_busy_exit(me->index);
		atomic_fetch_add(&soak.done, 1);
		if (n % SOAK_YIELD_EVERY == 0)
			thread_yield(); /* the CPU switches mm (or goes lazy) and comes back */
	}
	tlb_batch_fini(&me->batch); /* empty: every cycle flushed it */
}

/*
 * Takes a turn on its CPU now and then: in the other mm, or as a kernel
 * thread (the soak's mm stays loaded, lazily). It sleeps in between rather
 * than spin on thread_yield: QEMU runs more CPUs than the host has cores,
 * and a spinning CPU slows every flush that waits for it. Not every tick
 * either: an untagged TLB drops the soak's entries at each switch, and a
 * stale entry must live long enough to be used.
 */
static void other_thread(void *arg)
{
	volatile uint64_t *p = arg;
	while (!atomic_load_acquire(&soak.other_stop)) {
		if (p)
			p[arch_cpu_id()]++;
		thread_sleep_ns(SOAK_OTHER_TURN_NS);
	}
}

/* ---- The run ---------------------------------------------------------------------------- */

/* Starts one soak thread and one other thread per online CPU; returns how many soak threads. */
static unsigned start_threads(struct thread **th, struct thread **other)
{
	unsigned n = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask))
	{
		struct soak_cpu *me = &soak.cpu[n];
		me->index = n;
		me->cpu = c;
		me->held_slot = SOAK_NONE_HELD;
		me->rng = 0x9E3779B97F4A7C15ull * (c + 1) + soak_changes_logged();
		th[n] = thread_create_mm("soak", c, soak.mm, soak_thread, me);
		other[n] = c % 2 ? thread_create("soak-lazy", c, other_thread, NULL)
				 : thread_create_mm("soak-other", c, soak.other, other_thread,
						    (void *)SOAK_OTHER_VA);
		n++;
	}
	return n;
}

/* Stale writes land in freed frames: the allocator finds the poison changed when it hands one out.
 */
static void check_poison(uint64_t violations_before)
{
	if (frame_poison_violations == violations_before || atomic_load_relaxed(&soak.stopper))
		return;
	struct soak_report r = {.cpu = arch_cpu_id(), .frame = frame_poison_last};
	snprintf(r.what, sizeof(r.what),
		 "a freed frame was written while free (a stale write; cpu unknown)");
	soak_fail(&r);
}

static uint64_t sum_cpus(size_t offset, unsigned nr)
{
	uint64_t sum = 0;
	for (unsigned i = 0; i < nr; i++)
		sum += *(const uint64_t *)((const char *)&soak.cpu[i] + offset);
	return sum;
}

/* One epoch: a fresh mm, the threads until `cycles` are done (or a stop), the checks, teardown. */
static bool run_epoch(struct ktest *t, uint64_t cycles, uint64_t done_before, uint64_t total,
		      uint64_t start_ns, uint64_t *last_print, uint64_t violations_before)
{
	uint64_t free0 = frame_free_count();
	soak.mm = mm_create();
	ASSERT_TRUE(t, soak.mm != NULL);
	if (soak.widened) {
		int pinned = soak_span_epoch_begin(soak.mm, soak.nr_pages / SOAK_SLOTS_PER_CPU);
		if (pinned)
			ktest_log(t, "mapping the spans' pins failed (%d)", pinned);
		ASSERT_EQ(t, pinned, 0);
	}
	int bound = soak_dma_epoch_begin(soak.mm);
	if (bound)
		ktest_log(t, "binding the DMA engines to the epoch's mm failed (%d)", bound);
	EXPECT_EQ(t, bound, 0);
	for (unsigned i = 0; i < soak.nr_slots; i++) {
		struct soak_slot *s = &soak.slots[i];
		*s = (struct soak_slot){.state = SOAK_UNMAPPED, .gen = s->gen};
	}
	soak.target = cycles;
	soak.claimed = soak.done = 0;
	soak.other_stop = false;
	struct thread *th[CPU_MAX] = {0}, *other[CPU_MAX] = {0};
	unsigned n = start_threads(th, other);
	soak_shadow_epoch_begin(soak.mm);
	while (atomic_load_acquire(&soak.done) < cycles && !atomic_load_acquire(&soak.stop)) {
		thread_sleep_ns(50000000);
		check_poison(violations_before);
		soak_dma_poll();
		uint64_t now = arch_time_ns();
		if (now - *last_print < SOAK_PROGRESS_NS)
			continue;
		*last_print = now;
		uint64_t done = done_before + atomic_load_relaxed(&soak.done);
		/* 10^6 cycles outlast any fixed timeout: only a stall may end the case. */
		if (done > soak.last_done) {
			ktest_progress(t, SOAK_STALL_MS);
			soak.last_done = done;
		}
		uint64_t rate = done * 1000000000ull / (now - start_ns + 1);
		uint64_t dma, dma_faults;
		soak_dma_counts(&dma, &dma_faults);
		printk("soak: %lu/%lu cycles, %lu/s, ETA %lu s; %lu accesses, %lu faults, 0 stale; "
		       "DMA %lu accesses, %lu faults, 0 stale",
		       (unsigned long)done, (unsigned long)total, (unsigned long)rate,
		       (unsigned long)(rate ? (total - done) / rate : 0),
		       (unsigned long)sum_cpus(offsetof(struct soak_cpu, accesses), n),
		       (unsigned long)sum_cpus(offsetof(struct soak_cpu, faults), n),
		       (unsigned long)dma, (unsigned long)dma_faults);
	}
	for (unsigned i = 0; i < n; i++)
		if (th[i])
			thread_join(th[i]);
	soak_dma_epoch_quiesce();
	atomic_store_release(&soak.other_stop, true);
	for (unsigned i = 0; i < n; i++)
		if (other[i])
			thread_join(other[i]);
	soak_shadow_epoch_end();
	for (unsigned i = 0; i < n; i++)
		EXPECT_TRUE(t, th[i] != NULL && other[i] != NULL);
	check_poison(violations_before);
	soak_shadow_check(); /* a table freed after the last access was judged */
	char why[160];
	int audit = mm_audit_mm(soak.mm, why, sizeof(why));
	if (audit)
		ktest_log(t, "after the epoch: %s", why);
	EXPECT_EQ(t, audit, 0);
	if (soak.stopper)
		/* While the mm still says what the page translates to. */
		soak_print_report(&soak.report,
				  soak.report.kernel ? 0 : soak_frame_of(soak.report.va));
	mm_destroy(soak.mm); /* with the DMA engines bound: their release stops them */
	soak.mm = NULL;
	soak_dma_epoch_end();
	uint64_t free1 = frame_free_count();
	if (free1 != free0)
		ktest_log(t, "the epoch leaked %ld frames", (long)(free0 - free1));
	EXPECT_EQ(t, free1, free0);
	return audit == 0 && free1 == free0 && !soak.stopper;
}

static void no_stale_access(struct ktest *t)
{
	uint64_t total = cmdline_u64("soak.cycles");
	unsigned nr_cpus = cpumask_weight(cpumask_read(&cpu_online_mask));
	memset(&soak, 0, sizeof(soak));
	soak_log_reset();
	soak.invited = SOAK_NONE_HELD;
	soak.nr_pages = nr_cpus * SOAK_SLOTS_PER_CPU;
	soak.other = mm_create();
	ASSERT_TRUE(t, soak.other != NULL);
	soak.widened = soak_span_start(soak.other);
	soak.nr_slots = soak.nr_pages + (soak.widened ? nr_cpus * SOAK_SPAN : 0);
	ASSERT_EQ(t, vm_map_anon(soak.other, SOAK_OTHER_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(soak.other, SOAK_OTHER_VA, PAGE_SIZE), 0);
	printk("soak: %lu cycles on %u CPUs, %u pages, %u accesses a cycle, a new mm every %u",
	       (unsigned long)total, nr_cpus, soak.nr_slots, SOAK_ACCESSES, SOAK_EPOCH);
	ASSERT_TRUE(t, soak_dma_start());
	int kernel = soak_kernel_start(nr_cpus);
	if (kernel)
		soak_dma_finish();
	ASSERT_EQ(t, kernel, 0);
	uint64_t violations0 = frame_poison_violations;
	frame_poison_on_free(true);
	soak_mode_start();
	soak_quiet_start(nr_cpus);
	soak_stage_start(soak.widened);
	soak_shadow_start();
	uint64_t start = arch_time_ns(), last_print = start, done = 0;
	unsigned epochs = 0;
	bool ok = true;
	while (ok && done < total) {
		uint64_t cycles = MIN((uint64_t)SOAK_EPOCH, total - done);
		ok = run_epoch(t, cycles, done, total, start, &last_print, violations0);
		done += MIN(atomic_load_relaxed(&soak.done), cycles);
		epochs++;
	}
	frame_poison_on_free(false);
	struct soak_span_counts widened;
	soak_span_stop(&widened);
	uint64_t ns = arch_time_ns() - start;
	if (soak.stopper) {
		if (!soak.report.va) /* a stale write: only the frame is known */
			printk("soak: STALE ACCESS: %s: frame %#lx (%lu poison violations)",
			       soak.report.what, (unsigned long)soak.report.frame,
			       (unsigned long)(frame_poison_violations - violations0));
		soak_print_events();
	}
	uint64_t dma, dma_faults, kremaps, kreads;
	soak_dma_counts(&dma, &dma_faults);
	soak_kernel_counts(&kremaps, &kreads);
	int64_t ksplits = soak_kblock_splits();
	soak_kernel_finish();
	uint64_t mode_tries, mode_went;
	soak_mode_finish(&mode_tries, &mode_went);
	printk(
	    "soak: %lu cycles in %lu.%03lu s (%lu/s), %u epochs; %lu accesses, %lu faults, "
	    "%lu changes; kernel %lu remaps, %lu reads; DMA %lu accesses, %lu faults; %s",
	    (unsigned long)done, (unsigned long)(ns / 1000000000),
	    (unsigned long)(ns / 1000000 % 1000), (unsigned long)(done * 1000000000ull / (ns + 1)),
	    epochs, (unsigned long)sum_cpus(offsetof(struct soak_cpu, accesses), nr_cpus),
	    (unsigned long)sum_cpus(offsetof(struct soak_cpu, faults), nr_cpus),
	    (unsigned long)sum_cpus(offsetof(struct soak_cpu, changes), nr_cpus),
	    (unsigned long)kremaps, (unsigned long)kreads, (unsigned long)dma,
	    (unsigned long)dma_faults,
	    soak.stopper ? "STOPPED at the first stale access" : "0 stale accesses, 0 stale DMA");
	EXPECT_EQ(t, soak.stopper, 0u);
	EXPECT_EQ(t, frame_poison_violations, violations0);
	EXPECT_EQ(t, done, total);
	EXPECT_GT(t, dma, 0u);
	EXPECT_GT(t, kremaps, 0u);
	EXPECT_EQ(t, mode_went, 0u); /* a live mode switch went through under running threads */
	struct soak_stage_counts stage = {0};
	if (soak_stage_on()) {
		soak_stage_counts(&stage);
		printk(
		    "soak: staged race: %lu staged, %lu played through (%lu in the exact order), "
		    "%lu aborted",
		    (unsigned long)stage.staged, (unsigned long)stage.played,
		    (unsigned long)stage.exact, (unsigned long)stage.aborted);
	}
	if (done == total && nr_cpus >= 2 && total >= SOAK_WIDENED_MIN_CYCLES) {
		/*
		 * The flavours the negatives rely on were run (open reclaims about
		 * 1 cycle in 25, quiet ones 1 in 80 and each thread's first
		 * reclaim; mode tries 1 in 64).
		 */
		uint64_t quiet, unquiet;
		soak_quiet_counts(&quiet, &unquiet);
		printk("soak: %lu open reclaims, %lu quiet reclaims (%lu gave up waiting)\n",
		       (unsigned long)soak.open_reclaims, (unsigned long)quiet,
		       (unsigned long)unquiet);
		EXPECT_GT(t, soak.open_reclaims, 0u);
		EXPECT_GT(t, quiet, 0u);
		if (soak_stage_on()) /* each eligible thread's first one-page unmap is staged */
			EXPECT_GT(t, stage.exact, 0u);
		EXPECT_GT(t, mode_tries, 0u);
		if (ksplits >= 0)
			EXPECT_GT(t, ksplits, 0);
	}
	if (soak.widened && done == total && nr_cpus >= 2 && total >= SOAK_WIDENED_MIN_CYCLES) {
		/*
		 * The widened races were run, not just enabled (tlb=mmgen defers
		 * no table). Only where they can be: an even CPU other than the
		 * span's owner, and enough cycles for spans (1 change in 8).
		 */
		bool deferring = tlb_mode == TLB_MODE_GEN;
		EXPECT_GT(t, widened.early_settles, 0u);
		EXPECT_EQ(t, widened.windows > 0, deferring);
		EXPECT_EQ(t, widened.hits > 0, deferring);
		EXPECT_EQ(t, widened.fills > 0, deferring && arch_tlb_caps()->switch_flushes);
	}
	soak_shadow_finish(t, done == total && nr_cpus >= 2 && total >= SOAK_WIDENED_MIN_CYCLES);
	soak_dma_finish();
	mm_destroy(soak.other);
}

/*
 * After the case, also one that failed an assertion half-way: nothing the
 * run switched on may outlive it (batch pages failing, the window hook,
 * poisoning, the kernel part's pages), or later suites would fail for it.
 */
static void soak_exit(struct ktest *t)
{
	(void)t;
	struct soak_span_counts ignored;
	soak_span_stop(&ignored);
	frame_poison_on_free(false);
	soak_shadow_finish(t, false); /* after a failed assertion too: churn mms, id limit */
	soak_kernel_finish();
	uint64_t tries, went;
	soak_mode_finish(&tries, &went);
}

static const struct ktest_case soak_cases[] = {
    KTEST_CASE_TIMEOUT(no_stale_access, 900000),
    {0},
};
KTEST_SUITE(soak_suite, "soak", soak_cases, .exit = soak_exit);
