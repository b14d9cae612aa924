// SPDX-License-Identifier: BSD-2-Clause
/*
 * Which address space a CPU translates user addresses through: the mm side
 * of a context switch (mm_switch), and a CPU letting go of an mm that is
 * being destroyed (mm_unload_here). The scheduler calls mm_switch() with
 * the next thread's mm and knows nothing else of this; nothing here looks
 * at threads.
 *
 * The TLB side of switching lives here too, not in tlb.c: the CPU's
 * generation for the loaded mm, its lazy flag, and on a tagged TLB its
 * slots of recently run mms. The switch-in ordering (docs/tlb.md, ordering
 * rules 2 to 4 and 8) is one sequence across both, and it is kept in one
 * file so that it can be read top to bottom against the flusher's side
 * (tlb_flush_mm_range in tlb.c). tlb.c provides the catch-up both use.
 *
 * Switching follows the order the shootdown relies on: the CPU first adds
 * itself to mm->cpus (a sequentially consistent RMW), and only then loads
 * the mm's root and looks at any TLB state. A flusher changes the tables
 * first and reads mm->cpus afterwards; so either it sees this CPU and
 * flushes it, or this CPU loads the root after the change and cannot have
 * cached the old entry.
 *
 * Invariants:
 *  - A CPU's `loaded`, `lazy` and `slots` (tlb_cpu[cpu]) are written only by
 *    that CPU, with interrupts off: here, at a switch or in the cross-call
 *    of mm_destroy. (Its `gen` is also moved by the flush engine, on that
 *    CPU.) Other CPUs read `loaded` and `lazy` with acquire loads.
 *  - A CPU stands at a generation only once every change that generation
 *    covers is out of its TLB (flushed, replayed, or loaded after it).
 *  - A slot is matched on the mm and its full asid (generation included),
 *    so an id recycled for another mm never matches.
 */
#include "kernel/mm/mm.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/tlb_internal.h"

struct tlb_switch_test tlb_switch_test;
tlb_window_fn tlb_window_hook;

static void switch_test_hook(struct mm *mm)
{
	struct tlb_switch_test *h = &tlb_switch_test;
	tlb_window(TLB_WINDOW_SWITCHED_IN, mm);
	if (likely(READ_ONCE(h->mm) != mm) || h->cpu != arch_cpu_id())
		return;
	WRITE_ONCE(h->mm, NULL); /* one shot */
	h->fn(h->arg);
}

static struct tlb_slot *find_slot(struct tlb_cpu_state *s, struct mm *mm)
{
	for (unsigned i = 0; i < TLB_SLOTS; i++)
		if (s->slots[i].mm == mm && s->slots[i].asid == mm->asid)
			return &s->slots[i];
	return NULL;
}

/*
 * Tagged TLB: `cpu` switches from `old` (may be NULL) to `mm`, and will run
 * with mm's ASID. Saves how far it had caught up with `old`, and catches up
 * with `mm` from its slot (ring merge) or flushes the ASID.
 */
static void switch_in_tagged(unsigned cpu, struct mm *old, struct mm *mm)
{
	struct tlb_cpu_state *s = &tlb_cpu[cpu];
	struct tlb_counters *c = &tlb_cpu_counters[cpu];
	if (old) {
		struct tlb_slot *slot = find_slot(s, old);
		if (!slot) {
			slot = &s->slots[s->next_slot];
			s->next_slot = (s->next_slot + 1) % TLB_SLOTS;
		}
		*slot = (struct tlb_slot){old, old->asid, s->gen};
	}
	struct tlb_slot *slot = find_slot(s, mm);
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (slot && tlb_broken_is(TLB_BREAK_SWITCH_NO_CATCH_UP)) {
		s->gen = now; /* broken on purpose: the entries it kept are trusted as they are */
		return;
	}
	if (slot) {
		/* Its entries survived; replay what it missed while away. */
		s->gen = slot->gen < now ? tlb_catch_up(mm, slot->gen) : slot->gen;
		c->switch_catch_ups += slot->gen < now;
		return;
	}
	arch_tlb_flush_user_full(asid_hw(mm));
	c->switch_full_flushes++;
	s->gen = now;
}

/* A CPU leaving lazy mode: catch up on what was skipped meanwhile. */
static void leave_lazy(unsigned cpu, struct mm *mm)
{
	atomic_store_relaxed(&tlb_cpu[cpu].lazy, false);
	/* Broken on purpose: what was skipped while lazy stays cached. */
	if (tlb_broken_is(TLB_BREAK_LAZY_NO_CATCH_UP))
		return;
	smp_mb(); /* clear lazy, then read the generation: see tlb.h */
	uint64_t now = atomic_load_acquire(&mm->tlb_gen);
	if (tlb_cpu[cpu].gen < now)
		tlb_cpu[cpu].gen = tlb_catch_up(mm, tlb_cpu[cpu].gen);
}

void mm_switch(struct mm *next)
{
	unsigned me = arch_cpu_id();
	struct tlb_cpu_state *s = &tlb_cpu[me];
	if (!next) {
		/* A kernel thread borrows whatever is loaded and touches no user address. */
		if (s->loaded)
			atomic_store_release(&s->lazy, true);
		return;
	}
	if (s->loaded == next) {
		if (s->lazy)
			leave_lazy(me, next);
		return;
	}
	struct mm *old = s->loaded;
	/*
	 * Tagged TLB: the lower half goes off before the next id is taken.
	 * From asid_for_switch on, the allocator no longer records the old
	 * mm's id for this CPU, so a rollover on another CPU may give that mm
	 * a new id, which its flushes then name; with the old root still in
	 * TTBR0 under the old id, the walker could start walks and hit
	 * entries those flushes miss until arch_mm_activate. Off, it starts
	 * none and hits none (TTBR0's ASID is 0, which no mm has); only a
	 * walk already under way at the ISB may still finish (docs/tlb.md,
	 * "ASIDs"). (Found by the ASID model with 3 ids, docs/reliability.md.)
	 */
	if (old && !arch_tlb_caps()->switch_flushes)
		arch_mm_deactivate();
	/*
	 * The switch-in ordering (docs/tlb.md, "Switching in"):
	 *  0. (tagged) the old root is unloaded, above;
	 *  1. the ASID is chosen first, so that a flusher that reads the mm's
	 *     ASID after our fence and finds the old one bumped the generation
	 *     before we read it below (and we flush that change ourselves);
	 *  2. we publish that we hold the mm (cpus, loaded, not lazy), then a
	 *     full fence, then read the generation: a flusher bumps, fences,
	 *     then reads whom to interrupt, so one of us sees the other;
	 *  3. on an untagged TLB the generation is read BEFORE loading the
	 *     root: loading it flushes, but the walker may refill from the
	 *     tables at once, so only changes published before the flush may
	 *     be counted as flushed by it. A later bump finds us in `cpus`
	 *     and its request is not skipped as already done.
	 */
	unsigned asid = asid_for_switch(next);
	cpumask_set_atomic(&next->cpus, me);
	atomic_store_release(&s->loaded, next);
	atomic_store_release(&s->lazy, false);
	smp_mb();
	if (arch_tlb_caps()->switch_flushes) {
		uint64_t gen = atomic_load_acquire(&next->tlb_gen);
		if (tlb_broken_is(TLB_BREAK_SWITCH_ORDER)) {
			arch_mm_activate(next->pt.root, asid);
			switch_test_hook(next);
			gen = atomic_load_acquire(&next->tlb_gen); /* the old order, on purpose */
		} else {
			arch_mm_activate(next->pt.root, asid);
			switch_test_hook(next);
		}
		s->gen = gen; /* the load flushed everything the generation read before it covers */
		if (old)
			cpumask_clear_atomic(&old->cpus, me);
	} else {
		/*
		 * Tagged entries may remain from an earlier visit: catch up from
		 * its slot (or flush the ASID) before the walker can use them.
		 */
		if (old)
			tlb_window(TLB_WINDOW_SWITCHING_AWAY, old);
		switch_in_tagged(me, old, next);
		arch_mm_activate(next->pt.root, asid);
	}
}

void mm_unload_here(struct mm *mm)
{
	unsigned me = arch_cpu_id();
	struct tlb_cpu_state *s = &tlb_cpu[me];
	for (unsigned i = 0; i < TLB_SLOTS; i++)
		if (s->slots[i].mm == mm)
			s->slots[i] = (struct tlb_slot){0};
	if (s->loaded == mm) {
		arch_mm_deactivate();
		atomic_store_release(&s->loaded, NULL);
		atomic_store_release(&s->lazy, false);
		if (arch_tlb_caps()->switch_flushes)
			cpumask_clear_atomic(&mm->cpus, me);
		/* Running nothing, this CPU holds no id for it through a rollover. */
		asid_unload_here(mm);
	}
	/*
	 * A tagged TLB may still hold entries of this mm's id (a CPU that ran
	 * it and switched away). Drop them here, once no root of this mm is
	 * loaded: the teardown flush skips CPUs that no longer hold the mm,
	 * and the id may be given to another mm right after. An mm that
	 * never ran has no id (0 tags none): nothing to drop.
	 */
	if (!arch_tlb_caps()->switch_flushes && asid_hw(mm)) {
		arch_tlb_flush_user_full(asid_hw(mm));
		tlb_cpu_counters[me].unload_full_flushes++;
	}
}
