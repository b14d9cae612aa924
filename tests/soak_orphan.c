// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's orphan stage (`soak.shadow soak.churn`): an SVA unbind races
 * the last mm_destroy of the mm it binds, the interleaving in which
 * asid_release finds the mm's id still pinned. The id must stay taken
 * until the unbind's release gives it back (kernel/mm/asid.c); given back
 * with the mm as well, it goes back twice, and two live mms can end up
 * with it, which the shadow TLB shows as one reading the other's page.
 *
 * One stage, by a churn thread S on its CPU X, holding the churn's
 * transient stream:
 *  1. a fresh mm M is bound to that stream: its id P is pinned;
 *  2. the unbind is held half-way (tests/sva_race.h) and M destroyed: the
 *     pin is orphaned (asid_stats.orphaned), P still taken;
 *  3. fresh mms B1, B2, ... are switched into on X, each reading its own
 *     page at page 0's address through the shadow, until one is given P
 *     or the ids run out (a rollover; it takes pinned ids into the new
 *     generation, which makes everything after it right). On a correct
 *     kernel no B is ever given P, and the stage ends here;
 *  4. (B has P: it went back with M) the release runs and gives P back
 *     again, while B has it; fresh mms C1, C2, ... are switched into on X,
 *     each between two visits of B, until one is given P. C's switch-in
 *     flushes P (C is in none of X's slots), but B, back in, trusts its
 *     slot: its load of P is an alias (the shadow's check) and its read
 *     hits C's page.
 *
 * Why the stage steers by id: the allocator hands out the next free id
 * after the last one it gave, so which mm gets P depends on all the
 * churn does meanwhile; unsteered, the two hand-outs of step 3 and 4
 * came within one generation in none of 88 tries (docs/reliability.md).
 * The ids only choose when to stop making mms; the verdict is the
 * shadow's and the pages'. Every mm of a stage is gone when it returns.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "tests/soak.h"
#include "tests/soak_run.h"
#include "tests/sva_race.h"

#define ORPHAN_MARK 0x0B0A0E0000000000ull /* | the stage mm's number, in its page */
#define ORPHAN_MMS  64			  /* a stage's fresh mms at most (two sweeps of the ids) */
/* Binds a stage tries, until one sees no rollover before its mm's teardown. */
#define ORPHAN_ATTEMPTS 4

static struct {
	struct mm *mms[ORPHAN_MMS];
	phys_addr_t frames[ORPHAN_MMS];
	unsigned n; /* made so far in this stage */
	struct iommu_sva bond;
	struct soak_orphan_counts counts;
} stage;

/* This CPU runs stage mm `number` for one read of its page (the shadow first). */
static void stage_read(unsigned number)
{
	mm_switch(stage.mms[number]);
	uint64_t saw = soak_shadow_read_page0();
	if (saw != (ORPHAN_MARK | number))
		soak_shadow_page0_fail("orphan stage mm", number, saw);
}

/*
 * Runs stage mm `number` on this CPU for one read, as a switch away and
 * back does (interrupts off, as in soak_span.c's switches away): its
 * switch-in gives it an id. With `before` (else -1), that stage mm is
 * read right before and right after it: a switch-in flushes an id it
 * cannot vouch for (the mm is in none of the CPU's slots, docs/tlb.md),
 * so what two mms with one id share shows when the one that ran here
 * last comes back, trusting its slot, to the other's entries.
 */
static void stage_visit(int before, unsigned number)
{
	struct mm *home = thread_current()->mm;
	irqflags_t f = arch_irq_save();
	if (before >= 0)
		stage_read((unsigned)before);
	stage_read(number);
	if (before >= 0)
		stage_read((unsigned)before);
	mm_switch(home);
	arch_irq_restore(f);
}

/* A fresh mm with its marked page, or NULL (out of room or memory). */
static struct mm *stage_mm_new(void)
{
	if (stage.n == ORPHAN_MMS)
		return NULL;
	unsigned i = stage.n;
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	stage.mms[i] = mm;
	stage.n++;
	if (frame_alloc_zeroed(&stage.frames[i]))
		return NULL;
	uint64_t *p = kva(stage.frames[i]);
	p[0] = p[1] = ORPHAN_MARK | i;
	if (vm_map_phys(mm, soak_va(0), stage.frames[i], PAGE_SIZE, PT_READ))
		return NULL;
	return mm;
}

enum sweep_end { SWEEP_GIVEN, SWEEP_ROLLED, SWEEP_GAVE_UP };

/*
 * Makes fresh mms, each run once on this CPU (between two visits of
 * `before`, if not -1), until one is given `id` (*number: that mm), the
 * ids run out (a rollover since `rollovers`), or it gives up (`tries`
 * made, no room or memory, or the soak stopping).
 */
static enum sweep_end sweep_until_given(unsigned id, int before, uint64_t rollovers, unsigned tries,
					int *number)
{
	for (unsigned k = 0; k < tries && !soak_stopping(); k++) {
		struct mm *mm = stage_mm_new();
		if (!mm)
			return SWEEP_GAVE_UP;
		stage_visit(before, stage.n - 1);
		if (atomic_load_relaxed(&asid_stats.rollovers) != rollovers)
			return SWEEP_ROLLED;
		if (asid_hw(mm) == id) {
			*number = (int)stage.n - 1;
			return SWEEP_GIVEN;
		}
	}
	return SWEEP_GAVE_UP;
}

static void stage_clean(void)
{
	for (unsigned i = 0; i < stage.n; i++) {
		if (stage.mms[i])
			mm_destroy(stage.mms[i]);
		if (stage.frames[i])
			frame_free(stage.frames[i], 0);
		stage.mms[i] = NULL;
		stage.frames[i] = 0;
	}
	stage.n = 0;
}

/*
 * Steps 1 and 2: a fresh mm bound to `stream`, its unbind held half-way,
 * the mm destroyed. 0: its pin is orphaned and was the mm's current id
 * (*pinned; the unbind is still held); 1: a rollover came between the
 * bind and the teardown (finished, nothing to show); -1: no bind, no
 * unregister thread, or the teardown did not orphan the pin (finished).
 */
static int orphan_pin(unsigned stream, unsigned other, struct sva_held_unbind *held,
		      unsigned *pinned, uint64_t *rollovers)
{
	/* Read before the bind: one during it can leave M's id out of date too. */
	*rollovers = atomic_load_relaxed(&asid_stats.rollovers);
	struct mm *m = mm_create();
	if (!m || soak_dma_bind(&stage.bond, stream, m)) {
		if (m)
			mm_destroy(m);
		return -1;
	}
	*pinned = stage.bond.asid;
	uint64_t orphaned = atomic_load_relaxed(&asid_stats.orphaned);
	if (!sva_unbind_hold(held, &stage.bond, other)) {
		iommu_sva_unbind(&stage.bond);
		mm_destroy(m);
		return -1;
	}
	mm_destroy(m); /* the subscription is unlinked: the pin outlives the mm */
	if (atomic_load_relaxed(&asid_stats.orphaned) == orphaned) {
		sva_unbind_finish(held); /* not orphaned: asid_release is not what it should be */
		return -1;
	}
	stage.counts.orphaned++;
	if (atomic_load_relaxed(&asid_stats.rollovers) == *rollovers)
		return 0;
	/* M's id was out of date at its teardown: nothing went back either way. */
	sva_unbind_finish(held);
	stage.counts.rolled++;
	return 1;
}

void soak_orphan_stage(unsigned stream, unsigned ids)
{
	unsigned me = arch_cpu_id(), other = me;
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) if (c != me) other = c;
	if (other == me)
		return; /* the unregister needs another CPU */
	if (2 * (ids + 1) > ORPHAN_MMS) {
		stage.counts.aborted++; /* two sweeps would not fit: the stage proves nothing */
		return;
	}
	stage.counts.staged++;
	uint64_t first_rollovers = atomic_load_relaxed(&asid_stats.rollovers);
	struct sva_held_unbind held;
	unsigned pinned = 0;
	uint64_t rollovers = 0;
	int got = 1;
	for (unsigned attempt = 0; got == 1 && attempt < ORPHAN_ATTEMPTS; attempt++)
		got = orphan_pin(stream, other, &held, &pinned, &rollovers);
	if (got) {
		stage.counts.aborted++;
		stage.counts.rollovers +=
		    atomic_load_relaxed(&asid_stats.rollovers) - first_rollovers;
		return;
	}
	/* A sweep of every id meets P (free) or runs out (a rollover) within ids + 1 mms. */
	int b = -1, c = -1;
	enum sweep_end end = sweep_until_given(pinned, -1, rollovers, ids + 1, &b);
	sva_unbind_finish(&held); /* the release: the pin's id goes back */
	if (end == SWEEP_ROLLED)
		stage.counts.held++; /* as it must be: every id went round, P stayed taken */
	else if (end == SWEEP_GAVE_UP)
		stage.counts.gave_up++;
	else {
		stage.counts.given++;
		if (sweep_until_given(pinned, b, rollovers, ids + 1, &c) == SWEEP_GIVEN)
			stage.counts.shared++;
	}
	stage.counts.rollovers += atomic_load_relaxed(&asid_stats.rollovers) - first_rollovers;
	stage_clean();
}

void soak_orphan_counts(struct soak_orphan_counts *c)
{
	*c = stage.counts;
}

void soak_orphan_reset(void)
{
	stage.counts = (struct soak_orphan_counts){0};
}
