/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shootdown event ring: what the MMU layer did to the TLBs, per CPU,
 * with timestamps, for `make trace` (tools/trace_plot.py draws it), the
 * console's `trace on|off|dump`, and the tlb_trace tests.
 *
 * Each CPU appends to its own ring with interrupts off, so a ring has one
 * writer and needs no lock; a full ring overwrites its oldest events. A
 * reader validates every slot by its sequence number, so an event
 * overwritten while it is read is counted as lost, never shown torn.
 * Disabled, recording costs one predictable branch on a flag
 * (tlb_trace_ring_on); enabled, a timestamp and four stores.
 *
 * Timestamps are arch_time_ns() (kernel/time.h): one clock on every CPU, so
 * events of different CPUs can be ordered by them; within a CPU they never
 * decrease.
 */
#ifndef PAGODA_KERNEL_MM_TLB_TRACE_H
#define PAGODA_KERNEL_MM_TLB_TRACE_H

#include "kernel/atomic.h"
#include "kernel/types.h"

/* What happened; the dump prints the name in tlb_trace_kind_name(). */
enum tlb_ev {
	TLB_EV_NONE,
	TLB_EV_UNMAP_START,   /* a = start, b = end of the range unmapped (or discarded) */
	TLB_EV_UNMAP_END,     /* a, b: as at the start; the change and its flush are done */
	TLB_EV_PROTECT_START, /* a = start, b = end of a protection change */
	TLB_EV_PROTECT_END,
	TLB_EV_GATHER_PAGES, /* a = first frame, b = pages queued for freeing after the flush */
	TLB_EV_GATHER_TABLE, /* a = a page table queued for freeing after the flush */
	TLB_EV_GEN_BUMP,     /* a = the mm's new generation, b = start of its range */
	TLB_EV_DEFER, /* a = generation, b = table whose flush is deferred to the gather's end */
	TLB_EV_FLUSH_BEGIN, /* local invalidation: a = start, b = pages (1: page, 0: whole mm) */
	TLB_EV_FLUSH_END,   /* a, b: as at the begin */
	TLB_EV_BCAST_BEGIN, /* hardware broadcast invalidation: a = start, b = pages (0: whole) */
	/* BCAST_END: issued; complete too, except in a TLB batch (see BCAST_SYNC). */
	TLB_EV_BCAST_END,
	TLB_EV_IPI_SEND,   /* a = mask of the other CPUs asked to flush, b = how many */
	TLB_EV_IPI_RECV,   /* request taken here (an IPI may carry several): a = sender, b = gen */
	TLB_EV_IPI_ACKED,  /* every target answered: a = mask, b = how many */
	TLB_EV_CATCH_UP,   /* a = generation this CPU stood at, b = the one it reaches */
	TLB_EV_SKIP,	   /* a flush not done: a = enum tlb_ev_skip, b = generation or CPU count */
	TLB_EV_FREE_PAGE,  /* a = frame freed by a gather */
	TLB_EV_FREE_TABLE, /* a = page table freed by a gather */
	TLB_EV_BCAST_SYNC, /* a TLB batch's one wait for its broadcasts returned: b = entries */
	TLB_EV_KINDS
};

/* Why a flush was not done (TLB_EV_SKIP's a). */
enum tlb_ev_skip {
	TLB_SKIP_AT_GEN = 1,	/* this CPU already stood at the request's generation */
	TLB_SKIP_NOT_LOADED,	/* the mm is neither loaded nor cached here */
	TLB_SKIP_COMPLETED,	/* a completed generation covered the gather's change */
	TLB_SKIP_LAZY,		/* b lazy CPUs left out; they catch up when they stop being lazy */
	TLB_SKIP_SWITCHED_AWAY, /* b CPUs left stale; they flush when they switch back in */
};

extern bool tlb_trace_ring_on;
/* Appends one event to this CPU's ring (any context). Use tlb_ev(). */
void tlb_trace_ring_record(enum tlb_ev kind, uint64_t a, uint64_t b);

/* Whether recording is on: callers test it before preparing costly arguments. */
static inline bool tlb_trace_on(void)
{
	return __builtin_expect(atomic_load_relaxed(&tlb_trace_ring_on), 0);
}

static inline void tlb_ev(enum tlb_ev kind, uint64_t a, uint64_t b)
{
	if (tlb_trace_on())
		tlb_trace_ring_record(kind, a, b);
}

/*
 * Starts (true) or stops (false) recording on every CPU. Any context. An
 * event that was being recorded when tracing stopped may still land.
 */
void tlb_trace_ring_enable(bool on);
/*
 * Forgets every event recorded so far (recording need not be off: an event
 * landing at the same time may survive). Any context; takes no lock.
 */
void tlb_trace_ring_clear(void);
/*
 * Calls emit(line, ctx) once per line, in timestamp order across CPUs:
 * `trace: begin events=N lost=L cpus=C` (C: CPUs online), then one line per event
 * `trace: <ns> <cpu> <kind> 0x<a> 0x<b>` (the kinds' names are
 * tlb_trace_kind_name()), then `trace: end`. A line has no newline and
 * lives only during the call. Thread context (it may take a while and
 * sleeps on a mutex: dumps and reads take turns); best with recording off,
 * else events recorded meanwhile may be shown or lost.
 */
void tlb_trace_ring_dump(void (*emit)(const char *line, void *ctx), void *ctx);

/* One event as read back. */
struct tlb_trace_rec {
	uint64_t ns, a, b;
	unsigned cpu;
	enum tlb_ev kind;
};
/*
 * Copies up to `cap` events into `out` in the dump's order and returns how
 * many; *lost (if not NULL) gets the number overwritten or torn. For tests
 * and tools that check the order rather than print it. Thread context, as
 * for the dump.
 */
unsigned tlb_trace_ring_read(struct tlb_trace_rec *out, unsigned cap, uint64_t *lost);
/* The dump's name of a kind ("?" for none). */
const char *tlb_trace_kind_name(enum tlb_ev kind);

#endif
