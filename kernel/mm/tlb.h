/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLB shootdown for address spaces, with generations. The layer's files:
 * tlb.c (the flush engine), switch.c (what a CPU does with this state when
 * it changes address space), tlb_stats.c (counters, the tests' small
 * trace), tlb_trace.c (the timestamped per-CPU event ring, tlb_trace.h) and
 * tlb_config.c (command line); tlb_internal.h is what they share.
 *
 * Per mm:   tlb_gen        bumped before every flush request and every
 *                          deferral; a change to the tables made before a
 *                          bump is covered by that generation;
 *           tlb_gen_completed  every generation <= it has been flushed on
 *                          every CPU that could use it (or such a CPU will
 *                          catch up before it uses the mm again);
 *           tlb_gen_deferred   the last generation a gather deferred;
 *           ring           the ranges of the last TLB_RING_SIZE generations,
 *                          indexed by generation, validated like a seqlock.
 * Per CPU:  the generation it has caught up to for the loaded mm.
 *
 * A request carries (mm, range, stride, freed_tables, gen). A target that
 * is already at gen skips it; one that is exactly one behind, when gen is
 * the mm's current generation, flushes just the range; otherwise it
 * catches up: it merges the ring's ranges for every generation it missed
 * and flushes their union, and only a ring overrun (or a union that is too
 * large) makes it flush the whole mm. Either way it then stands at the mm's
 * generation it read.
 *
 * Deferral (per page table): a gather that clears entries in a table bumps
 * the generation right after, records that generation on the table's
 * struct page and in the ring. pt_table_flush_pending() then answers "may
 * a CPU still cache a stale entry from this table?" without looking at the
 * rest of the mm: table gen > completed. A gather whose last deferred
 * generation is already completed by someone else's flush, and that freed
 * no tables, skips its own flush.
 *
 * Mode `tlb=mmgen` (command line) behaves like Linux x86 instead:
 * generations per mm only, bumped once per flush, no per-table deferral,
 * no ring (a CPU more than one behind flushes the whole mm), no skipping
 * by completed generation. Both modes are in one build so they can be
 * compared in one run.
 *
 * Lazy CPUs (a kernel thread borrowed the mm) are skipped unless tables
 * were freed; they catch up by generation when they stop being lazy. The
 * flusher bumps the generation before reading a CPU's lazy flag; the CPU
 * clears the flag before reading the generation: one sees the other.
 */
#ifndef PAGODA_KERNEL_MM_TLB_H
#define PAGODA_KERNEL_MM_TLB_H

#include "kernel/cpumask.h"

struct mm;

struct tlb_flush_request {
	struct mm *mm;
	virt_addr_t start, end; /* [start, end) */
	unsigned stride_shift; /* smallest page size in the range */
	bool freed_tables;
	bool full; /* flush the whole mm, whatever the range */
	uint64_t gen; /* the generation this request brings its targets to */
};

#define TLB_RING_SIZE 16

struct tlb_ring_entry {
	uint64_t seq; /* 2 * gen + 1 while being written, 2 * gen + 2 when valid */
	virt_addr_t start, end;
	unsigned stride_shift;
	bool freed_tables;
};

enum tlb_mode {
	TLB_MODE_GEN, /* Pagoda: per-table deferral, ring catch-up, completed skips */
	TLB_MODE_MMGEN, /* Linux-like: per-mm generations only */
};
extern enum tlb_mode tlb_mode;
/*
 * Transport: IPIs to the CPUs that need it (each flushes its own TLB), or,
 * where the hardware has it, one broadcast invalidation reaching every
 * CPU (arm64's default; `tlb=ipi` or `tlb=broadcast` choose, see
 * tlb_setup). A broadcast flushes only the request's range, so it never
 * lets a gather skip its flush by completed generation, and nested gathers
 * escalate to the whole mm, as with per-mm generations.
 */
extern bool tlb_broadcast;

/*
 * Test-only switches that break one invariant each (command line
 * tlb.break=<name>, in this order); the tests that guard the invariant must
 * then fail (docs/tlb.md lists which). At most one is set per boot.
 */
enum tlb_break {
	TLB_BREAK_NONE,
	TLB_BREAK_FREE_BEFORE_FLUSH, /* the gather frees before it flushes */
	TLB_BREAK_NO_DEFER_BUMP, /* a deferral reuses the current generation */
	TLB_BREAK_SKIP_LAZY_ALWAYS, /* lazy CPUs skipped even when tables were freed */
	TLB_BREAK_ASID_NO_CARRY, /* a kept ASID does not move CPUs' records along */
	TLB_BREAK_SWITCH_ORDER, /* untagged switch-in reads the generation after the root load */
	TLB_BREAK_KERNEL_LOCAL_ONLY, /* kernel mapping changes flushed on the calling CPU only */
	TLB_BREAK_SETTLE_NO_FLUSH, /* an early settle frees what it holds without flushing */
	TLB_BREAK_NESTED_BLIND, /* a nested gather neither escalates nor takes on pending tables */
	TLB_BREAK_LAZY_NO_CATCH_UP, /* a CPU leaving lazy mode does not catch up */
	TLB_BREAK_SWITCH_NO_CATCH_UP, /* tagged switch-in does not replay what it missed */
	TLB_BREAK_CATCH_UP_SKIPS_RING, /* a catch-up flushes only the request in hand */
	TLB_BREAK_ASID_FORGET_RESERVED, /* a rollover keeps no id for running mms */
	TLB_BREAK_REPLACE_NO_FLUSH, /* a replaced live kernel entry (a split) is not invalidated */
	TLB_BREAK_ASID_PIN_IGNORED, /* a rollover neither keeps nor reserves pinned ids */
	TLB_BREAK_DEFER_EVERY_LEVEL, /* a change defers every table the walk passed through */
	TLB_BREAK_SPARE_SWITCHED_AWAY, /* a switched-away CPU is spared even when tables are freed */
	TLB_BREAK_ASID_ORPHAN_FREED, /* a destroyed mm's still-pinned id goes back to the pool */
	TLB_BREAK_TRACE_RECORDS_OFF, /* the event ring (tlb_trace.h) keeps recording when stopped */
	TLB_BREAK_MODE_SWITCH_IGNORES_USERS, /* a live mode switch runs while a thread uses an mm */
	TLB_BREAK_BATCH_FREE_EARLY, /* a TLB batch frees its frames before its round */
	TLB_BREAK_RANGE_LIMIT_OFF_BY_ONE, /* ranges of exactly the limit are flushed whole */
	TLB_BREAK_BATCH_CLOSES_AT_HAND_OFF, /* a handed-off gather stops counting as open */
	TLB_BREAK_COMPLETE_TO_BEFORE, /* completion ignores what the targets reached */
	TLB_BREAK_REFUSED_SWITCH_FORGETS, /* a refused mode switch forgets mms checked first */
	TLB_BREAK_ASID_RELEASE_UNUSED, /* releasing an mm that never had an id drops reservations */
	TLB_BREAK_MODE_SWITCH_IGNORES_OPS, /* a mode switch lets an operation with no thread begin */
};
extern enum tlb_break tlb_broken;
/* The tlb.break= words ('|'-separated, "none" first), in enum tlb_break order. */
const char *tlb_break_names(void);
/*
 * Arms the switch named `name` (a tlb.break= word; "none" disarms) from
 * now on, for the console's `mutant`: false when there is no such word.
 * A teaching aid: operations already running may see either setting.
 */
bool tlb_break_arm(const char *name);
/*
 * Switches the shootdown mode live (the console's `tlb mode`, the mm suite):
 * `word` is a tlb= word, gen|ipi|mmgen|broadcast. Thread context. It goes
 * through only while the machine is quiet, no thread using any address
 * space and no gather open on one, and refuses otherwise (a caller that
 * uses an mm is always refused): a mode is read several times within one
 * operation, and an operation must not span a switch. A thread cannot
 * start in an mm meanwhile (thread_create_mm counts it under the live
 * list's lock, which the switch holds: mm_add_user), and no operation on
 * an mm no thread uses (a reclaim pass, an unmap of the caller's own): the
 * switch holds every mm's lock for write from its check to its end, so
 * such an operation is either in flight at the check (refused) or waits
 * and runs whole in the new mode. Any read hold of an mm's lock refuses
 * it, the caller's own included, and it does not wait for one to end (no
 * retry: a caller tries again). mm_destroy's teardown is the one
 * operation it neither waits for nor sees: the mm is off the live list,
 * unloaded on every CPU and never loaded again, and its gather reads the
 * mode once, at its finish. Sleeps. A ktest timeout inside the hold
 * leaks the live list's mutex and every mm lock taken.
 * With nothing running, every record is already valid in every mode (CPU
 * and slot generations mean the same, ring entries are checked by their
 * sequence, `completed` is never ahead); still, every CPU first lets go of
 * every live mm (mm_unload_here: slots, tagged entries, ASID reservations)
 * and each mm's generations are marked complete, so nothing made under the
 * old mode is even consulted again (no old pending table is taken on).
 * Returns 0, -EINVAL (no such word, or broadcast where the CPU has none) or
 * -EBUSY (an mm in use, or an operation on one in flight), with a one-line
 * reason in `why`; refused, it has changed nothing (no mm forgotten, no
 * generation completed).
 */
int tlb_mode_switch(const char *word, char *why, size_t len);
/* The mode as its tlb= word: gen, mmgen or broadcast (ipi reads back as gen). */
const char *tlb_mode_word(void);
static inline bool tlb_broken_is(enum tlb_break b)
{
	/* The console may arm a switch while other CPUs test it: one plain load each. */
	return READ_ONCE(tlb_broken) == b;
}

/*
 * Test hook: when `mm` is armed, the next untagged switch into it on `cpu`
 * calls fn(arg) right after loading the root, interrupts off (mm_switch,
 * kernel/mm/switch.c). It lets a test fill the TLB and race a flush in the
 * window the ordering rule is about (tlb suite:
 * switch_in_reads_gen_before_loading_root).
 */
struct tlb_switch_test {
	struct mm *mm;
	unsigned cpu;
	void (*fn)(void *arg);
	void *arg;
};
extern struct tlb_switch_test tlb_switch_test;

/*
 * Test-only window widening (the soak's `soak.widen=`, docs/reliability.md):
 * when set, called at the four points where the protocol's narrowest races
 * live, so that a test can hold them open (a delay) and fill a TLB entry
 * there as the page walker may at any time:
 *  - TLB_WINDOW_DEFERRED: a gather has just published one table's change
 *    (tlb_defer_table), page-table lock held, interrupts off; the walk goes
 *    on to the next table after it (rule 1: tlb.break=no_defer_bump);
 *  - TLB_WINDOW_SWITCHED_IN: an untagged switch-in has just loaded the root,
 *    interrupts off; the generation was read before (rule 3), or is read
 *    only after this under tlb.break=switch_order.
 *  - TLB_WINDOW_FLUSHING: a gather is about to decide its flush (thread
 *    context, no spinlock, interrupts on; mm->lock usually held): its
 *    changes are published under its deferred generation, and a completion
 *    that claims that generation too early lets it skip the flush
 *    (tlb.break=mode_switch_ignores_users, complete_to_before).
 *  - TLB_WINDOW_SWITCHING_AWAY: a tagged switch has published that the CPU
 *    left `mm` but has not loaded the next root yet, interrupts off: the
 *    walker may still use `mm`'s tables, so a request that frees one must
 *    still reach the CPU (tlb.break=spare_switched_away).
 * NULL (always, unless a test sets it): one predictable branch each.
 */
enum tlb_window {
	TLB_WINDOW_DEFERRED,
	TLB_WINDOW_SWITCHED_IN,
	TLB_WINDOW_FLUSHING,
	TLB_WINDOW_SWITCHING_AWAY
};
typedef void (*tlb_window_fn)(enum tlb_window where, struct mm *mm);
extern tlb_window_fn tlb_window_hook;

static inline void tlb_window(enum tlb_window where, struct mm *mm)
{
	tlb_window_fn fn = READ_ONCE(tlb_window_hook);
	if (unlikely(fn))
		fn(where, mm);
}

/*
 * Reads the TLB layer's command-line keys (`tlb=`, `tlb.break=`,
 * `tlb.skip_flush`), sets the mode and the test-only switches above, and
 * prints the mode (kernel/mm/tlb_config.c). Runs once on the boot CPU,
 * after arch_init (broadcast availability) and before any address space
 * but the kernel's is used.
 */
void tlb_setup(void);

/*
 * Ranges longer than this many pages are flushed as the whole mm, by the
 * broadcast transport (`broadcast`) or by each CPU locally: the arch's
 * measured limits (struct tlb_caps), or `tlb.range_max=` for both when
 * set (a benchmark knob: `make bench-threshold` compares the limits).
 * Fixed from tlb_setup() on.
 */
unsigned tlb_range_max_pages(bool broadcast);
/*
 * True when `tlb.range_max=` replaced the arch's limits (for tests that
 * check those limits themselves). Fixed from tlb_setup() on.
 */
bool tlb_range_max_overridden(void);

/*
 * Bumps mm's generation for a change to [start, end) that has already been
 * made to the tables, records it in the ring, and returns it.
 */
uint64_t tlb_gen_bump(struct mm *mm, virt_addr_t start, virt_addr_t end, unsigned stride_shift,
		      bool freed_tables);
/* Raises mm->tlb_gen_completed to at least `gen`. */
void tlb_gen_complete(struct mm *mm, uint64_t gen);
/* May a CPU still hold a stale translation from the page table at `table`? */
bool pt_table_flush_pending(struct mm *mm, phys_addr_t table);

/* Flushes the request's translations on every CPU that may hold them; waits. */
void tlb_flush_mm_range(const struct tlb_flush_request *req);

/*
 * Kernel mappings are shared by every CPU: invalidates `pages` pages from
 * `start`, or every translation when `full`, on every online CPU, and
 * returns once all have done it (kernel/mm/pt.c calls it for the kernel's
 * tables, after the change and before freeing tables). The caller holds no
 * lock that another CPU may spin on with interrupts off: the flush waits
 * for the other CPUs. Transport: hardware broadcast where tlb_broadcast,
 * else a cross-call to every online CPU.
 *
 * With no other CPU online (early boot, a single CPU) a local flush is the
 * whole job. A CPU coming online later is not missed: the caller changed
 * the tables, then (full fence) reads cpu_online_mask; the new CPU joins
 * the mask, then (full fence) flushes its whole TLB (smp_secondary_main).
 * Either it is in the set read here, or its own flush comes after the
 * change.
 */
void tlb_flush_kernel_range(virt_addr_t start, uint64_t pages, bool full);


/*
 * On a tagged TLB (arm64 ASIDs) a CPU keeps an mm's entries after it
 * switches away; a slot remembers how far it had caught up, so switching
 * back in only replays the generations it missed (ring merge) instead of
 * flushing the whole ASID. Slots are matched on the mm and its full asid
 * (generation included), so a recycled id never matches.
 *
 * Each CPU's state is written by that CPU only: `loaded`, `lazy` and the
 * slots when it switches (kernel/mm/switch.c), `gen` there and when it
 * flushes for a request (tlb.c). Flushers on other CPUs read `loaded` and
 * `lazy`.
 */
#define TLB_SLOTS 4
struct tlb_slot {
	struct mm *mm;
	uint64_t asid;
	uint64_t gen;
};

struct tlb_cpu_state {
	struct mm *loaded; /* the mm whose tables this CPU translates user addresses with */
	bool lazy; /* loaded only because a kernel thread borrowed it */
	uint64_t gen; /* the loaded mm's generation this CPU has caught up to */
	struct tlb_slot slots[TLB_SLOTS]; /* mms this CPU ran recently (tagged TLBs only) */
	unsigned next_slot;
};
extern struct tlb_cpu_state tlb_cpu[CPU_MAX];

/*
 * Per CPU, what the hardware was asked to do (each invalidation instruction
 * counted once, where it was issued) and every flush not done, by reason.
 * A CPU's TLB is asked for user invalidations in four places: a request
 * or a catch-up (local_*), a tagged switch-in with no usable slot
 * (switch_full_flushes), dropping a destroyed mm (unload_full_flushes), and
 * a broadcast another CPU issued (counted on that CPU, broadcast_*).
 */
struct tlb_counters {
	uint64_t requests; /* flush requests this CPU initiated */
	uint64_t requests_received; /* requests handled here (its own included) */
	uint64_t remote_targets; /* CPUs other than itself it asked to flush */
	uint64_t local_page_flushes; /* single-page invalidations run here (no local range ones) */
	uint64_t local_ranged; /* flushes by range (page by page) run here */
	uint64_t local_full_flushes; /* whole-mm invalidations run here: requests, catch-ups */
	uint64_t broadcasts; /* requests carried out by hardware broadcast, no IPI */
	uint64_t broadcast_pages; /* of those: single-page invalidations issued (every CPU's TLB) */
	uint64_t broadcast_ranges; /* range invalidations issued */
	uint64_t broadcast_full; /* whole-ASID invalidations issued */
	uint64_t broadcast_ns; /* time in them, to the last completion (the DSB) if waited for */
	uint64_t ring_merges; /* catch-ups done by merging ring ranges */
	uint64_t ring_overruns; /* catch-ups that found the ring overwritten */
	uint64_t switch_catch_ups; /* switch-ins that replayed missed generations */
	uint64_t switch_full_flushes; /* switch-ins with no usable slot: the whole ASID */
	uint64_t unload_full_flushes; /* a destroyed mm's ASID dropped here (tagged TLBs) */
	/* Flushes not done, by reason. */
	uint64_t skipped_by_gen; /* already done: a request found this CPU at its generation */
	uint64_t not_loaded; /* requests that found the mm not loaded (nor cached) here */
	uint64_t lazy_skipped; /* lazy CPUs this CPU's requests left out */
	uint64_t switched_away_skipped; /* CPUs not running the mm: left stale, not interrupted */
	uint64_t completed_skips; /* covered: gathers here that a completed generation covered */
	uint64_t kernel_requests; /* kernel mapping flushes this CPU initiated */
	uint64_t kernel_broadcasts; /* of those, carried out by hardware broadcast */
	uint64_t kernel_flushes; /* kernel mapping flushes run here (own or by cross-call) */
};
/*
 * Prints every CPU's counters and the totals, two lines each (what the
 * hardware did, what was skipped and why; kernel/mm/tlb_stats.c).
 */
void tlb_counters_print(void);
struct tlb_counters tlb_counters_cpu(unsigned cpu);
struct tlb_counters tlb_counters_total(void);
/* A gather on this CPU skipped its flush: a completed flush covered it (gather.c). */
void tlb_count_completed_skip(void);

/* A tiny event trace for tests that check the unhook -> flush -> free order. */
enum tlb_trace_kind { TLB_TRACE_FLUSH = 1, TLB_TRACE_FREE, TLB_TRACE_FREE_TABLE };
struct tlb_trace_event {
	enum tlb_trace_kind kind;
	uint64_t arg;
};
void tlb_trace_start(struct tlb_trace_event *buf, unsigned capacity);
/* Stops tracing; returns the number of events recorded (capped at the capacity). */
unsigned tlb_trace_stop(void);
void tlb_trace_event(enum tlb_trace_kind kind, uint64_t arg);

#endif
