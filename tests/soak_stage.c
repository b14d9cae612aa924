// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's staged race (widened, tlb=gen with IPIs, 4 CPUs or more): the
 * one order of events in which a flush request may not complete the mm's
 * generations up to the one it read last (`before`, docs/tlb.md), played
 * now and then among the soak threads while the others keep reading.
 *
 * A flush request completes up to the lowest generation its targets are
 * covered to, and `before`. A target that had caught up past the request
 * (it skips it and reports its own generation) may still be behind a
 * third gather's deferral made between the request's deferral and its
 * read of `before`; completing to `before` lets that gather skip its flush
 * and free a frame the target still maps (tlb.break=complete_to_before).
 * Random hammering did not line that up in 10,000 cycles, so a thread
 * whose one-page unmap is due stages it, with two other soak threads:
 *
 *  1. R, the stage's owner, takes the quiet (soak_quiet.c: no other gather
 *     of the mm open, the others reading) and unmaps its page; its gather
 *     defers (generation r) and, at its flush decision (the window hook,
 *     TLB_WINDOW_FLUSHING), holds.
 *  2. T switches its CPU to the other mm and back: it catches up to r.
 *     It reads a mapped page of G's (its entry cached) and keeps reading.
 *  3. G unmaps that page: its gather defers (r + 1) and holds at its
 *     flush decision.
 *  4. R goes on: its request reads `before` (r + 1), T skips it (it stands
 *     at r) and reports r. The mm's completed generation must become r.
 *  5. G goes on: its deferral is not completed, so it flushes (T's entry
 *     goes) and frees. Broken, it skips, frees, and T reads the poison.
 *
 * R, G and T are soak threads on CPUs other than the emulated IOMMU's
 * command thread's (which must run for their syncs; T must not switch).
 * Every wait is bounded (SOAK_STAGE_NS); a wait that gives up aborts the
 * stage, and everyone goes on. Nothing here runs unless the soak is
 * widened in tlb=gen without a broadcast.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/fmt.h"
#include "tests/soak_run.h"

#define SOAK_STAGE_EVERY 16	   /* one-page unmaps per stage */
#define SOAK_STAGE_NS	 50000000u /* at most (per 4 threads), one step waits for the next */

enum stage_step {
	STAGE_IDLE,
	STAGE_ARMED,	   /* roles given, R unmapping */
	STAGE_R_HELD,	   /* R deferred, holds its flush decision: T switches */
	STAGE_T_READY,	   /* T caught up to R's generation, holds G's page: G unmaps */
	STAGE_G_UNMAPPING, /* G took its part (one G per stage) */
	STAGE_G_HELD,	   /* G deferred, holds its flush decision: R flushes */
	STAGE_R_DONE,	   /* R's request completed: G decides */
	STAGE_G_DONE,	   /* G settled: T's next read must fault */
	STAGE_ABORT
};

static struct {
	bool on;
	unsigned cpus; /* online: the waits scale with them (soak_deadline) */
	uint32_t step;
	/* The roles, written by R before the step leaves IDLE (release), read after it (acquire).
	 */
	unsigned g, t;	 /* thread indices */
	unsigned r_cpu;	 /* where R's flush decision holds */
	unsigned g_slot; /* G's page, that T reads */
	unsigned g_cpu;	 /* where G's holds: set by G when it takes its part */
	bool t_switched;
	uint32_t t_reads; /* T's accesses begun after G_DONE */
	/* What the kernel stood at: R's deferral, T after its switch, G's deferral, R's completion.
	 */
	uint64_t r_gen, t_gen, g_gen, completed;
	uint64_t staged, played, exact, aborted;
	bool played_by[CPU_MAX]; /* a stage of this thread's (as R) played through */
} stage;

void soak_stage_start(bool widened)
{
	unsigned cast = 0, cpus = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask))
	{
		cast += !soak_dma_shares_cpu(c);
		cpus++;
	}
	stage = (typeof(stage)){0};
	stage.on = widened && tlb_mode == TLB_MODE_GEN && !tlb_broadcast && cast >= 3;
	stage.cpus = cpus;
}

bool soak_stage_on(void)
{
	return stage.on;
}

/* The step moves from `from` to `to`; false if it was not at `from` (aborted, say). */
static bool step(uint32_t from, uint32_t to)
{
	return atomic_cmpxchg(&stage.step, &from, to);
}

static uint64_t stage_deadline(void)
{
	return soak_deadline(SOAK_STAGE_NS, stage.cpus);
}

struct step_wait {
	uint32_t want, seen;
};

/* The step is at w->want or beyond, or the stage is over; w->seen: the step looked at. */
static bool step_reached(void *arg)
{
	struct step_wait *w = arg;
	w->seen = atomic_load_acquire(&stage.step);
	return w->seen == STAGE_ABORT || w->seen == STAGE_IDLE || w->seen >= w->want;
}

/* Waits for the step to reach `want` (or beyond, but not ABORT); gives up: aborts. */
static bool wait_step(uint32_t want)
{
	uint64_t until = stage_deadline();
	struct step_wait w = {.want = want};
	for (;;) {
		/* Decided on the step the wait saw: a later look could be a newer stage's. */
		if (soak_spin_until(step_reached, &w, until))
			return w.seen != STAGE_ABORT && w.seen != STAGE_IDLE;
		if (step(w.seen, STAGE_ABORT)) /* else it moved on: look again */
			return false;
	}
}

static bool t_read_twice(void *unused)
{
	(void)unused;
	return atomic_load_acquire(&stage.t_reads) >= 2;
}

static bool not_r_done(void *unused)
{
	(void)unused;
	return atomic_load_acquire(&stage.step) != STAGE_R_DONE;
}

/* A soak thread other than `not1` and `not2`, away from the IOMMU's CPU; ~0u: none. */
static unsigned pick_thread(uint64_t *rng, unsigned threads, unsigned not1, unsigned not2)
{
	unsigned start = (unsigned)(soak_rng_next(rng) % threads);
	for (unsigned k = 0; k < threads; k++) {
		unsigned t = (start + k) % threads;
		if (t != not1 && t != not2 && !soak_dma_shares_cpu(soak.cpu[t].cpu))
			return t;
	}
	return ~0u;
}

/* Mapped and settled (the quiet holds it so). */
static bool mapped(unsigned i)
{
	const struct soak_slot *s = &soak.slots[i];
	return !(atomic_load_acquire(&s->seq) & 1) && s->state != SOAK_UNMAPPED;
}

/*
 * A mapped page of thread g's, in another leaf table than `avoid`, whose
 * table-mate (slot ^ 1, soak.h) is mapped too, so that G's unmap frees no
 * table (a freed table makes a whole-mm flush nobody may skip); ~0u: none.
 */
static unsigned pick_page(unsigned g, unsigned threads, unsigned avoid)
{
	for (unsigned k = 0; k < SOAK_SLOTS_PER_CPU; k++) {
		unsigned i = g + k * threads;
		if (i / 2 != avoid / 2 && mapped(i) && mapped(i ^ 1))
			return i;
	}
	return ~0u;
}

bool soak_stage_due(struct soak_cpu *me)
{
	if (!stage.on || soak_dma_shares_cpu(me->cpu))
		return false;
	/* Each thread's first one-page unmap is staged, until one plays through. */
	return !stage.played_by[me->index] || soak_rng_next(&me->rng) % SOAK_STAGE_EVERY == 0;
}

int soak_stage_unmap(struct soak_cpu *me, unsigned slot)
{
	virt_addr_t va = soak_va(slot);
	unsigned threads = soak.nr_pages / SOAK_SLOTS_PER_CPU;
	if (!soak_quiet_claim(me->index, slot))
		return vm_unmap(soak.mm, va, PAGE_SIZE);
	/*
	 * Quiet: every other thread is out of its changes, their pages
	 * settled. R's table-mate must be mapped too (no table freed).
	 */
	unsigned g = pick_thread(&me->rng, threads, me->index, me->index);
	unsigned t = g == ~0u ? ~0u : pick_thread(&me->rng, threads, me->index, g);
	unsigned g_slot = t == ~0u || !mapped(slot ^ 1) ? ~0u : pick_page(g, threads, slot);
	if (g_slot == ~0u) {
		soak_quiet_end(me->index);
		return vm_unmap(soak.mm, va, PAGE_SIZE);
	}
	stage.g = g;
	stage.t = t;
	stage.g_slot = g_slot;
	stage.r_cpu = arch_cpu_id();
	stage.g_cpu = ~0u;
	stage.t_switched = false;
	stage.t_reads = 0;
	stage.r_gen = stage.t_gen = stage.g_gen = stage.completed = 0;
	atomic_fetch_add(&stage.staged, 1);
	atomic_store_release(&stage.step, STAGE_ARMED);
	int err = vm_unmap(soak.mm, va, PAGE_SIZE); /* holds in soak_stage_hold */
	stage.completed = atomic_load_acquire(&soak.mm->tlb_gen_completed);
	if (step(STAGE_G_HELD, STAGE_R_DONE) && wait_step(STAGE_G_DONE)) {
		/* T's first access after G settled is judged before the quiet ends. */
		soak_spin_until(t_read_twice, NULL, stage_deadline());
		atomic_fetch_add(&stage.played, 1);
		stage.played_by[me->index] = true;
		/* The order staged: T stood at R's generation, G deferred right past it. */
		if (stage.t_gen == stage.r_gen && stage.g_gen == stage.r_gen + 1)
			atomic_fetch_add(&stage.exact, 1);
	} else {
		atomic_fetch_add(&stage.aborted, 1);
	}
	atomic_store_release(&stage.step, STAGE_IDLE);
	soak_quiet_end(me->index);
	return err;
}

bool soak_stage_hold(void)
{
	unsigned cpu = arch_cpu_id();
	uint32_t now = atomic_load_acquire(&stage.step);
	if (now == STAGE_ARMED && cpu == stage.r_cpu) {
		/* R: published at r, flush not decided; T catches up to r, G defers past it. */
		stage.r_gen = atomic_load_acquire(&soak.mm->tlb_gen);
		if (step(STAGE_ARMED, STAGE_R_HELD))
			wait_step(STAGE_G_HELD);
		return true;
	}
	if (now == STAGE_G_UNMAPPING && cpu == READ_ONCE(stage.g_cpu)) {
		/* G: published at r + 1; R's request completes first. */
		stage.g_gen = atomic_load_acquire(&soak.mm->tlb_gen);
		if (step(STAGE_G_UNMAPPING, STAGE_G_HELD))
			wait_step(STAGE_R_DONE);
		return true;
	}
	return false;
}

bool soak_stage_role(struct soak_cpu *me, unsigned *slot)
{
	uint32_t now = atomic_load_acquire(&stage.step);
	if (now == STAGE_IDLE || now == STAGE_ABORT || now == STAGE_ARMED)
		return false;
	if (me->index == stage.t) {
		if (now == STAGE_R_HELD && !stage.t_switched) {
			/* Away and back in, as a scheduler switch would: it catches up to r. */
			irqflags_t flags = arch_irq_save();
			mm_switch(soak.other);
			mm_switch(soak.mm);
			stage.t_gen = tlb_cpu[arch_cpu_id()].gen;
			arch_irq_restore(flags);
			stage.t_switched = true; /* this access caches G's page */
		} else if (now == STAGE_R_HELD) {
			step(STAGE_R_HELD, STAGE_T_READY);
		} else if (now == STAGE_G_DONE) {
			atomic_fetch_add(&stage.t_reads, 1);
		}
		*slot = stage.g_slot;
		return true;
	}
	if (me->index == stage.g && now == STAGE_T_READY) {
		unsigned g_slot = stage.g_slot;
		if (!step(STAGE_T_READY, STAGE_G_UNMAPPING))
			return false; /* not this stage's G any more */
		WRITE_ONCE(stage.g_cpu, arch_cpu_id());
		me->next_op = SOAK_OP_UNMAP;
		int err = soak_change(g_slot, 1, me); /* holds in soak_stage_hold */
		if (err) {
			struct soak_report r = {
			    .cpu = arch_cpu_id(), .slot = me->index, .broken = true};
			snprintf(r.what, sizeof(r.what), "the staged unmap failed (%d)", err);
			soak_fail(&r);
		}
		step(STAGE_R_DONE, STAGE_G_DONE);
	}
	return false;
}

bool soak_stage_wants(unsigned me)
{
	uint32_t now = atomic_load_acquire(&stage.step);
	return (me == stage.t && now >= STAGE_R_HELD && now <= STAGE_G_DONE) ||
	       (me == stage.g && now == STAGE_T_READY);
}

void soak_stage_pause(void)
{
	/* Only while G flushes and frees: before, a fault may be a write to a read-only page. */
	soak_spin_until(not_r_done, NULL, stage_deadline());
}

void soak_stage_counts(struct soak_stage_counts *c)
{
	*c = (struct soak_stage_counts){.staged = stage.staged,
					.played = stage.played,
					.exact = stage.exact,
					.aborted = stage.aborted};
}
