/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the files of the TLB layer: tlb.c (the flush engine),
 * tlb_stats.c (counters and trace), tlb_config.c (command line) and
 * switch.c (the TLB side of a context switch). Not for other subsystems:
 * they read the counters through tlb_counters_cpu() and
 * tlb_counters_total() (tlb.h).
 */
#ifndef PAGODA_KERNEL_MM_TLB_INTERNAL_H
#define PAGODA_KERNEL_MM_TLB_INTERNAL_H

#include "kernel/mm/tlb.h"
#include "kernel/xcall.h"

struct mm;

/* Every CPU's counters (defined in tlb_stats.c); a CPU updates only its own entry. */
extern struct tlb_counters tlb_cpu_counters[CPU_MAX];

/*
 * Brings this CPU, which stands at generation `from` of `mm` and translates
 * through mm's tables, up to the generation of `mm` it reads now: it replays
 * the ranges of the generations it missed from the ring, or flushes the
 * whole mm when it cannot (tlb.c). Returns the generation reached.
 * Interrupts off.
 */
uint64_t tlb_catch_up(struct mm *mm, uint64_t from);

/*
 * The pieces of a flush request, shared with tlb_batch.c (which carries
 * out many requests in one round). All on the initiator but
 * tlb_flush_here; each request's generation was bumped, and a full fence
 * passed, before any of them reads mm state (rule 2).
 *  tlb_request_targets:   the CPUs that must take `req` (the caller
 *                         included), skipping lazy and switched-away CPUs
 *                         as the rules allow; counts one request.
 *  tlb_flush_here:        a target's side of `req`, on that CPU, interrupts
 *                         off: skip by generation, the single-table fast
 *                         path, or a catch-up. Returns the generation this
 *                         CPU is now covered up to (every change published
 *                         at or below it is gone from its TLB, or will be
 *                         before it uses the mm again).
 *  tlb_request_completed: every target has carried `req` out, and every
 *                         CPU is covered up to `done` (>= req->gen): raises
 *                         the mm's completed generation where someone waits.
 *  tlb_broadcast_request: `req` by hardware broadcast (tlb_broadcast only),
 *                         counted; with `sync` false it returns without
 *                         waiting (arch_tlb_broadcast_sync waits).
 */
cpumask_t tlb_request_targets(const struct tlb_flush_request *req);
/* xcall(targets, fn, arg, XCALL_WAIT), the IPIs' send and last answer in the event ring. */
void tlb_xcall_traced(cpumask_t targets, xcall_fn fn, void *arg);
uint64_t tlb_flush_here(const struct tlb_flush_request *req);
void tlb_request_completed(const struct tlb_flush_request *req, uint64_t done);
void tlb_broadcast_request(const struct tlb_flush_request *req, bool sync);

#endif
