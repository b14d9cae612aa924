/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cross-CPU calls: run a function on a set of CPUs, optionally waiting
 * until every one has finished. This is the transport for TLB shootdown.
 *
 * Design (see docs/xcall.md):
 *  - One request slot per (target, initiator) pair: concurrent initiators
 *    never contend for a slot, and a target learns who called from a
 *    per-target pending bitmask, never from counting interrupts (IPIs of
 *    one kind may merge).
 *  - An IPI is sent only when the target's pending mask was empty: a
 *    target that already has work queued will see the new request too.
 *  - The initiator runs its own share locally while remote CPUs run theirs.
 *  - While waiting, an initiator services requests addressed to itself, so
 *    two CPUs calling each other at once both make progress.
 *  - A waiter whose caller had interrupts enabled halts after spinning
 *    `xcall.spin_us`; the target that frees its slot wakes it (IPI_WAKE).
 * Functions run with interrupts disabled and must not block or call xcall.
 */
#ifndef PAGODA_KERNEL_XCALL_H
#define PAGODA_KERNEL_XCALL_H

#include "kernel/cpumask.h"

typedef void (*xcall_fn)(void *arg);

enum xcall_flags {
	XCALL_NOWAIT = 0,
	XCALL_WAIT = 1, /* return only after every target has run fn */
};

/*
 * Runs fn(arg) on every online CPU in `targets` (the caller included if it
 * is in the set; its own share runs with interrupts off, while the others
 * run theirs). With XCALL_NOWAIT, `arg` must stay valid until the targets
 * have run: the next call from this CPU to the same target waits for the
 * previous one. Must not be called from an interrupt handler, nor while
 * holding a lock a target may spin on with interrupts off (it could never
 * run the request, and a waiting caller would wait forever).
 */
void xcall(cpumask_t targets, xcall_fn fn, void *arg, enum xcall_flags flags);
/* How long a waiter spins before it halts (xcall.spin_us); UINT64_MAX: it never halts. */
uint64_t xcall_spin_ns(void);
/* Waits until every request this CPU posted has been run. */
void xcall_drain(void);
/*
 * Reads the layer's command-line key (`xcall.break=`, test-only). Runs
 * once on the boot CPU, before the tests.
 */
void xcall_setup(void);

struct xcall_stats {
	uint64_t ipis_sent; /* IPI_CALL interrupts this CPU requested */
	uint64_t ipis_received; /* IPI_CALL interrupts this CPU took */
	uint64_t requests_posted; /* requests this CPU queued for others */
	uint64_t requests_run; /* requests from others this CPU ran */
	uint64_t requests_coalesced; /* posted without an IPI: target already had work */
	/* Waiting (XCALL_WAIT) for remote CPUs to finish its requests, after its own share. */
	uint64_t wait_ns;
	uint64_t send_ns; /* in arch_ipi_send, sending its IPIs */
	uint64_t halts;	  /* waits that halted after spinning xcall.spin_us */
	uint64_t wakes_sent;	 /* IPI_WAKE sent to a halted waiter whose slot this CPU freed */
	uint64_t wakes_received; /* IPI_WAKE interrupts this CPU took */
};
/* Sum of every CPU's counters (relaxed reads: exact once CPUs are quiet). */
struct xcall_stats xcall_stats_total(void);
struct xcall_stats xcall_stats_cpu(unsigned cpu);

/* Called from ipi_handle(IPI_CALL). */
void xcall_handle_ipi(void);
/* Called from ipi_handle(IPI_WAKE): counts it (the interrupt itself ended the halt). */
void xcall_handle_wake(void);

#endif
