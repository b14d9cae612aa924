/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The soak run's own state, shared by soak_test.c (the threads' accesses
 * and the run) and soak_change.c (each page's owner changing it); the
 * other parts of the soak see it only through tests/soak.h.
 *
 * A soak_cpu belongs to its thread: only that thread writes it, except
 * the counters the run sums after the threads are done. In struct soak,
 * the slots are written by their owners only (soak.h), the cycle counts
 * and `stop` atomically, the rest by the run between epochs.
 */
#ifndef PAGODA_TESTS_SOAK_RUN_H
#define PAGODA_TESTS_SOAK_RUN_H

#include "kernel/mm/tlb_batch.h"
#include "kernel/percpu.h"
#include "tests/soak.h"

#define SOAK_SLOTS     (CPU_MAX * (SOAK_SLOTS_PER_CPU + SOAK_SPAN))
#define SOAK_NONE_HELD ~0u

/* One soak thread's state, read by its access loop and the fault fixture's caller. */
struct soak_cpu {
	unsigned index;	      /* owns pages index, index + threads, index + 2 * threads, ... */
	unsigned cpu;	      /* the CPU it runs on */
	enum soak_op next_op; /* the next change's, or 0: picked at random (soak_stage.c) */
	uint64_t rng;
	/* The access in progress: what it saw before it touched the page. */
	unsigned slot;
	bool write;
	uint32_t seq, state;
	uint64_t gen, seen_va, seen_gen;
	uint64_t accesses, faults, changes;
	struct tlb_batch batch; /* for reclaims: one page at a time */
	unsigned held_slot;	/* the page in `batch` (its `held` set), or SOAK_NONE_HELD */
	bool forced; /* the next access goes to `forced_slot` (a reclaim's, soak_span_pick, the
			quiet's) */
	unsigned forced_slot;
};

struct soak {
	struct mm *mm;
	struct soak_slot slots[SOAK_SLOTS];
	unsigned nr_slots, nr_pages; /* pages, then (widened) spans */
	bool widened;
	uint64_t target, claimed, done; /* cycles: this epoch's last, claimed, finished */
	uint64_t last_done;		/* cycles of the whole run at the last progress line */
	bool stop, other_stop;
	uint32_t stopper; /* 0: nobody reported yet */
	uint64_t open_reclaims;
	unsigned invited; /* a page about to be cleared (reclaim_open, invite), or SOAK_NONE_HELD */
	struct soak_report report;
	struct soak_cpu cpu[CPU_MAX];
	struct mm *other;
};
extern struct soak soak;

/* The frame va translates to in the soak's mm now (0: none). */
phys_addr_t soak_frame_of(virt_addr_t va);
/*
 * One change by `me` of its pages [first, first + n): one page, or a span
 * (all in one state, one call), the operation picked from the page's
 * state; published under the pages' counts. 0 or the error.
 */
int soak_change(unsigned first, unsigned n, struct soak_cpu *me);

/* ---- Through the shadow TLB (soak_shadow.c, `soak.shadow`) ---------------------------- */

struct ktest;
/* Before the threads start: switches the shadow on when asked; whether it is. */
bool soak_shadow_start(void);
/*
 * An access of the page at `va` the shadow answers (a hit usable for it):
 * the words it reads through that entry; false: make the real access.
 */
bool soak_shadow_read(virt_addr_t va, bool write, uint64_t *seen_va, uint64_t *seen_gen);
/* A real access of `va` went through: the walk fills the shadow. */
void soak_shadow_filled(virt_addr_t va);
/* Each epoch, around its threads: ASID churn (where the CPU has ids) and the mm's pin. */
void soak_shadow_epoch_begin(struct mm *mm);
void soak_shadow_epoch_end(void);
/* Reports the shadow's freed-table violation, if it found one, as the run's stale access. */
void soak_shadow_check(void);
/* After the run: counts printed, the model off; `judged`: a full run, which must have used it. */
void soak_shadow_finish(struct ktest *t, bool judged);

/* ---- The staged race (soak_stage.c) --------------------------------------------------- */

/*
 * Before the run (after soak_dma_start): whether the stage can be played,
 * from the online CPUs and `widened`; its counts start at 0.
 */
void soak_stage_start(bool widened);
/* Whether it is played in this run. */
bool soak_stage_on(void);
/* In `me`'s one-page unmap: whether to stage it (now and then, when on). */
bool soak_stage_due(struct soak_cpu *me);
/* The staged unmap of `me`'s page `slot` (its change begun), as R: vm_unmap's result. */
int soak_stage_unmap(struct soak_cpu *me, unsigned slot);
/*
 * Between a thread's accesses: plays its part (T or G) when its step has
 * come; true, with *slot the page to read next, while it is T and the
 * race is not over (the caller reads and asks again).
 */
bool soak_stage_role(struct soak_cpu *me, unsigned *slot);
/* T's access faulted: if G is flushing, nothing of its page is left to read: waits for G. */
void soak_stage_pause(void);
struct soak_stage_counts {
	uint64_t staged, played, aborted; /* begun, played through, given up */
	uint64_t exact; /* played with T at R's generation and G's deferral the next one */
};
void soak_stage_counts(struct soak_stage_counts *c);

#endif
