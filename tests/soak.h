/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The soak suite's shared state (soak_test.c, soak_change.c), for its
 * other parts (soak_dma.c and the rest below): the pages the soak threads change, how an access is
 * told stale, and how the run is stopped.
 *
 * A page's owner publishes its state under `seq` (odd while it changes
 * it); `gen` is the generation its tag carries (bumped by every map,
 * after the tag is written); `rw_gen` is bumped before every change that
 * makes the page writable (a map, or giving the write back), so an
 * access that saw it unchanged across its window knows the page was not
 * made writable meanwhile. Only the owner writes a slot.
 */
#ifndef PAGODA_TESTS_SOAK_H
#define PAGODA_TESTS_SOAK_H

#include "kernel/mm/mm.h"

#define SOAK_SLOTS_PER_CPU 8
/*
 * Two pages share each leaf table, so emptying both frees the table too.
 * Below 256 MiB (up to 15 CPUs): edu's default 28-bit DMA mask reaches them.
 */
#define SOAK_PAGE_VA(slot)                                                                         \
	(arch_mm_layout.user_base + MiB(128) + (virt_addr_t)((slot) / 2) * MiB(2) +                \
	 ((slot) % 2) * PAGE_SIZE)
/*
 * With soak.widen (soak_span.c), thread t also owns a span: SOAK_SPAN
 * pages, the last half of one leaf table and the first half of the next,
 * in the two tables from SOAK_SPAN_TABLES(t) (below the pages above,
 * clear of soak_dma.c's result page at 120 MiB).
 */
#define SOAK_SPAN	    16
#define SOAK_SPAN_TABLES(t) (arch_mm_layout.user_base + MiB(48) + (virt_addr_t)(t)*MiB(4))
/* Where a slot's page is: the pages first, then each thread's span, in thread order. */
virt_addr_t soak_va(unsigned slot);
/* The end of the highest page. */
virt_addr_t soak_va_end(void);

enum soak_state { SOAK_UNMAPPED, SOAK_RW, SOAK_RO };

struct soak_slot {
	uint32_t seq;		       /* odd while the owner changes the page */
	uint32_t state;		       /* enum soak_state, settled when seq is even */
	uint64_t gen;		       /* the tag's generation of the current mapping */
	uint64_t rw_gen;	       /* changes towards writable begun */
	phys_addr_t frame, prev_frame; /* the mapping's frame, the one before */
	uint32_t held;		       /* reclaimed, its owner's batch not flushed yet */
	uint32_t visits;	       /* CPU accesses that reached it while it changed */
};

/* The first stale access (or error); `engine` names the device for a DMA access (else NULL). */
struct soak_report {
	unsigned cpu, slot;
	virt_addr_t va;
	bool write;
	const char *engine;
	unsigned stream;
	uint64_t seen_va, seen_gen, gen;
	uint32_t state, seq_before, seq_after;
	phys_addr_t frame, prev_frame;
	bool broken; /* not a stale access: something failed (reported as FAILED, not STALE) */
	bool kernel; /* a read of the kernel part's window (slot: the page's owner) */
	bool walk;   /* the shadow TLB's walk cache holds a freed table (frame: the table) */
	char what[96];
};

/* What an owner does to its pages in one change (soak_change.c's soak_change()). */
enum soak_op {
	SOAK_OP_MAP = 1,
	SOAK_OP_UNMAP,
	SOAK_OP_PROTECT_RO,
	SOAK_OP_PROTECT_RW,
	SOAK_OP_RECLAIM,
	SOAK_OP_RECLAIM_OPEN /* into the batch only, flushed at once: reclaim_open */
};

/* The soak's mm of this epoch and its pages. */
struct mm *soak_mm(void);
unsigned soak_nr_slots(void);
struct soak_slot *soak_slot(unsigned i);
/*
 * A page to access next: the last one half the time (dice bit 40), else
 * preferably one whose owner is changing it now. `rng`: the caller's.
 */
unsigned soak_pick_slot(uint64_t *rng, unsigned last, uint64_t dice);
uint64_t soak_rng_next(uint64_t *s);
/* Stops the run; the first caller's report is the one printed. */
void soak_fail(const struct soak_report *r);
/* The same for an access of page r->slot: fills in the CPU, the page and its frames, and `what`. */
void soak_fail_page(struct soak_report *r, const char *what, bool faulted);
bool soak_stopping(void);
/*
 * The soak's one way to wait for another thread: spins until done(arg)
 * holds, the soak stops, or arch_time_ns() passes `until`; true: done held.
 * On the emulated IOMMU's CPU it yields to the command thread meanwhile
 * (every change's sync waits for it); on any other CPU it never sleeps, and
 * may run with interrupts off (the staged race's held flush decisions,
 * whose threads all run off that CPU).
 */
bool soak_spin_until(bool (*done)(void *arg), void *arg, uint64_t until);
/*
 * The deadline for a wait of `ns` per 4 of `n` (threads or CPUs, at least
 * `ns`): another thread's way to anything grows with the vCPUs QEMU shares
 * the host's cores among.
 */
uint64_t soak_deadline(uint64_t ns, unsigned n);

/* ---- The report (soak_report.c) ------------------------------------------------------ */

/* Forgets the changes logged (a new run). */
void soak_log_reset(void);
/* Logs a change just settled: `slot` (the first page), its tag's generation, its frame. */
void soak_log_change(unsigned slot, enum soak_op op, uint64_t gen, phys_addr_t frame);
/* Changes logged since the reset. */
uint64_t soak_changes_logged(void);
/* Prints the first failure's report; `now`: the frame r->va translates to now (0: none). */
void soak_print_report(const struct soak_report *r, phys_addr_t now);
/* Prints the last changes logged, oldest first, the TLB counters and the DMA engines'. */
void soak_print_events(void);

/* ---- Spans and widened windows (soak_span.c) ------------------------------------------- */

/*
 * Reads soak.widen; when set, makes every gather batch allocation fail and
 * installs the TLB window hook. `other`: the mm a thread switches away to.
 * Returns whether the soak runs widened (spans and switches away).
 */
bool soak_span_start(struct mm *other);
/* What the widened run did (all 0 when it was not widened). */
struct soak_span_counts {
	uint64_t windows;	/* span changes' first deferrals held open */
	uint64_t early_settles; /* gathers out of room, with no batch page */
	uint64_t aways, hits;	/* switches away; back in within a window */
	uint64_t fills;		/* pages filled right after an untagged root load */
	uint64_t flush_holds;	/* one-page changes' flush decisions held open */
};
/* Undoes soak_span_start; prints and returns the counts. */
void soak_span_stop(struct soak_span_counts *c);
/* Whether the shadow run churns ASIDs (soak.churn; soak_shadow.c). */
bool soak_shadow_churning(void);
/* Maps the pins of `threads` spans in the epoch's new `mm`: 0 or the error. */
int soak_span_epoch_begin(struct mm *mm, unsigned threads);
/* Around a span's unmap or downgrade (from slot `first`), by its owner. */
void soak_span_change_begin(unsigned first);
void soak_span_change_end(void);
/*
 * Around a one-page unmap or downgrade by its owner: its gather's flush
 * decision (TLB_WINDOW_FLUSHING) is held open, its change published and
 * not yet flushed, while the other threads read the page and change theirs.
 */
bool soak_span_single_begin(void); /* false: no hold (not widened, or not tlb=gen with IPIs) */
void soak_span_single_end(void);
/* Whether a one-page change's flush decision is held open now (on any CPU). */
bool soak_span_flush_held(void);
/*
 * While another thread changes a span, the page this one accesses next
 * (true, in *slot; false: none). On an even CPU it first switches to the
 * other mm, waits for the span's window and switches back in, filling a
 * page of the span's second table right after the root load: that page.
 * On an odd CPU: a page of the span's first table.
 */
bool soak_span_pick(uint64_t *rng, unsigned *slot);

/* ---- Live mode switches (soak_mode.c) ----------------------------------------------------- */

/* Remembers the mode in force; the tries start. */
void soak_mode_start(void);
/* Called around a soak thread's accesses: now and then a live TLB mode switch (refused). */
void soak_mode_try(uint64_t *rng);
/*
 * Idempotent: stops the tries, puts the boot's mode back if a switch went
 * through, prints the counts; *tries and *went: how many were made and not refused.
 */
void soak_mode_finish(uint64_t *tries, uint64_t *went);

/* ---- Quiet reclaims (soak_quiet.c) ------------------------------------------------------ */

/* A run with `threads` soak threads (indices 0 .. threads - 1): none busy. */
void soak_quiet_start(unsigned threads);
/*
 * Soak thread `me` is about to open a gather of the mm (a change): true,
 * and it counts as busy until soak_busy_exit (after its change, or after
 * its batch's flush); false while another thread's quiet reclaim runs:
 * the caller reads *slot (that reclaim's page) and asks again.
 */
bool soak_busy_enter(unsigned me, unsigned *slot);
void soak_busy_exit(unsigned me);
/*
 * The reader's read of that page faulted (the page is settled unmapped:
 * a fault the kernel fixes, filling a page, never reaches the caller):
 * nothing of it is left to read through; waits, boundedly, for the quiet
 * to end rather than fault again and again on the mm's lock.
 */
void soak_quiet_pause(unsigned me); /* or until `me`'s part in the staged race is due */
/*
 * In a reclaim by `me` (busy) of page `slot`, before it is taken into the
 * batch: now and then (`rng`: the caller's) waits, boundedly, until no
 * other thread is busy and one has read the page, and keeps them from
 * starting a change; true when it did. The caller ends it with
 * soak_quiet_end, which is idempotent and may always be called.
 */
bool soak_quiet_begin(unsigned me, unsigned slot, uint64_t *rng);
/*
 * The quiet alone, for the staged race (soak_stage.c): `me` (busy) takes
 * it for page `slot` and waits, boundedly, until no other thread is busy;
 * false when another thread holds it or the wait gave up (none taken).
 */
bool soak_quiet_claim(unsigned me, unsigned slot);
void soak_quiet_end(unsigned me);
/* Reclaims run quiet so far, and quiet ones given up after the bounded wait. */
void soak_quiet_counts(uint64_t *quiet_reclaims, uint64_t *unquiet);

/* ---- The staged race (soak_stage.c; the rest in soak_run.h) ---------------------------- */

/* At a gather's flush decision (the window hook): holds the stage's two; true if it was one. */
bool soak_stage_hold(void);
/* Whether soak thread `me`'s part in it is due now: it stops reading other pages. */
bool soak_stage_wants(unsigned me);

/* ---- The DMA part (soak_dma.c) ------------------------------------------------------------ */

/* Powers the emulated IOMMU on for the run (its command thread on the last CPU). false: failed. */
bool soak_dma_start(void);
void soak_dma_finish(void);
/*
 * Per epoch, around the soak threads: binds the emulated IOMMU's stream,
 * and edu's on the hardware IOMMU when one was probed, to `mm`, and
 * starts edu's thread. 0 or the binding's error.
 */
int soak_dma_epoch_begin(struct mm *mm);
/* Stops edu's thread: the device is idle (before the mm's teardown). */
void soak_dma_epoch_quiesce(void);
/* After the mm's teardown (which released the bindings): unbinds both. */
void soak_dma_epoch_end(void);
/* A soak thread's DMA step: device accesses of pages, each judged. */
void soak_dma_cycle(uint64_t *rng);
/* Whether the emulated IOMMU's command thread runs on `cpu` (started: soak_dma_start). */
bool soak_dma_shares_cpu(unsigned cpu);
/* Called between a soak thread's accesses: lets the IOMMU's command thread run on its CPU. */
void soak_dma_yield_point(void);
/* Drains the emulated IOMMU's event queue (the run's control thread, now and then). */
void soak_dma_poll(void);
/* Device accesses and (expected) faults so far. */
void soak_dma_counts(uint64_t *accesses, uint64_t *faults);
/* One line about the DMA engines, for the report. */
void soak_dma_print(void);
/*
 * The shadow run's ASID churn (soak_shadow.c): a second emulated IOMMU
 * (after soak_dma_start), which tags by the CPU's ids, as an SMMUv3 does:
 * a bind pins the mm's id (asid_pin). Binds of the churn mms to its
 * streams (undone with iommu_sva_unbind), and single device reads of one
 * word through them. The soak's own engine keeps its ids apart: its bind
 * pins nothing, so the soak's mm still changes ids across rollovers (not
 * behind an SMMUv3, whose edu bind pins it for the epoch).
 */
bool soak_dma_churn_start(void);
void soak_dma_churn_stop(void); /* after every churn binding was unbound */
struct iommu_sva;
int soak_dma_bind(struct iommu_sva *bond, unsigned stream, struct mm *mm);
/* 0, or -EFAULT when the read faulted. */
int soak_dma_read(unsigned stream, virt_addr_t va, uint64_t *word);
/* A read of the word at page 0's address in the running mm, through the shadow TLB first. */
uint64_t soak_shadow_read_page0(void);
/* Stops the run: `who` `number`, running here, read `saw` at page 0's address, not its mark. */
void soak_shadow_page0_fail(const char *who, unsigned number, uint64_t saw);

/* ---- The orphan stage (soak_orphan.c) ------------------------------------------------- */

struct soak_orphan_counts {
	uint64_t staged;    /* stages begun */
	uint64_t aborted;   /* no bind, no unregister thread, no orphan, or every try rolled over */
	uint64_t orphaned;  /* the bound mm's teardown found its id still pinned */
	uint64_t rolled;    /* tries with a rollover since the bind (nothing to show) */
	uint64_t held;	    /* every id went round, none to the pinned one's (correct) */
	uint64_t gave_up;   /* the sweep stopped first (no room or memory, or the soak stopping) */
	uint64_t given;	    /* a fresh mm was given the pinned id: it went back with its mm */
	uint64_t shared;    /* ... and after the release a second live mm was given it */
	uint64_t rollovers; /* the stages' own (their sweeps end in one) */
};
/*
 * By a churn thread holding the churn IOMMU's `stream` (not bound): one
 * stage, an unbind racing the teardown of a fresh bound mm, then fresh
 * mms run on this CPU until one is given the pinned id or the `ids`
 * (asid_test_limit's) run out. Needs a second CPU (else does nothing).
 */
void soak_orphan_stage(unsigned stream, unsigned ids);
void soak_orphan_counts(struct soak_orphan_counts *c);
void soak_orphan_reset(void); /* before a run */

/* ---- The kernel part (soak_kernel.c) ---------------------------------------------------- */

/* Maps one kernel page per soak thread (`threads`). 0, or the error (nothing left mapped). */
int soak_kernel_start(unsigned threads);
/* Unmaps and frees them (the soak threads are done). */
void soak_kernel_finish(void);
/*
 * Soak thread `me`'s kernel step of cycle `cycle`: now and then a remap of
 * its own page, and reads of the others' pages, each judged.
 */
void soak_kernel_cycle(unsigned me, uint64_t cycle, uint64_t *rng);
void soak_kernel_counts(uint64_t *remaps, uint64_t *reads);

/* ---- The kernel block (soak_kblock.c), driven by the kernel part ------------------------ */

/* Resets it (nothing mapped). */
void soak_kblock_start(void);
/* Idempotent: unmaps and frees what is mapped, prints the counts if it split. */
void soak_kblock_finish(void);
/*
 * Thread 0 steps the block (map; split and unmap) on its first cycle and
 * every SOAK_KBLOCK_EVERY of its own after; the others read it.
 */
void soak_kblock_cycle(unsigned me);
/* Splits made so far; -1 when the part is skipped (no 2 MiB frame run). */
int64_t soak_kblock_splits(void);

#endif
