/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLB shootdown for address spaces: one request (mm, range, stride,
 * freed-tables) is carried out on every CPU that may hold the mm's
 * translations, the initiator's own flush running while the others run
 * theirs (the cross-call layer's local-work overlap).
 *
 * Per CPU, the TLB state says which mm is loaded and whether the CPU is
 * lazy in it (a kernel thread borrowed it: nothing will touch its user
 * addresses). A lazy CPU is skipped unless page tables were freed (its
 * page walker could still wander into them); it is marked stale instead
 * and flushes the whole mm when it stops being lazy.
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
};

/* Flushes the request's translations on every CPU that may hold them; waits. */
void tlb_flush_mm_range(const struct tlb_flush_request *req);

/* Ranges above this many pages are flushed as the whole mm. */
#define TLB_RANGE_PAGES_MAX 33

struct tlb_cpu_state {
	struct mm *loaded; /* the mm whose tables this CPU translates user addresses with */
	bool lazy; /* loaded only because a kernel thread borrowed it */
	bool stale; /* a flush skipped this CPU while lazy */
};
extern struct tlb_cpu_state tlb_cpu[CPU_MAX];

struct tlb_counters {
	uint64_t requests; /* flush requests this CPU initiated */
	uint64_t remote_targets; /* CPUs other than itself it asked to flush */
	uint64_t lazy_skipped; /* lazy CPUs left out (and marked stale) */
	uint64_t local_page_flushes; /* single-page invalidations run here */
	uint64_t local_full_flushes; /* whole-mm invalidations run here */
	uint64_t not_loaded; /* requests that found the mm not loaded here */
};
struct tlb_counters tlb_counters_cpu(unsigned cpu);
struct tlb_counters tlb_counters_total(void);
/* Runs on a CPU leaving lazy mode: flush if something was skipped meanwhile. */
void tlb_leave_lazy(unsigned cpu, struct mm *mm);

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
