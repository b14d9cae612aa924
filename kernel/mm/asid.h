/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Address-space identifiers allocated by generation (arm64 ASIDs; x86-64
 * without PCID has none and gets 0 everywhere).
 *
 * An mm's `asid` holds generation | hardware id. The hardware id is valid
 * only while the generation is current. When the ids run out, the
 * generation moves on, the map is cleared except for the ids CPUs are
 * running with right now (those mms keep them), and every CPU must flush
 * its whole TLB before it next switches address space: entries tagged with
 * a recycled id would otherwise hit for the wrong mm.
 *
 * A switch to an mm whose id is of the current generation takes no lock
 * (one compare-and-exchange on the CPU's own record, asid.c); getting a new
 * id or rolling over takes one global lock.
 */
#ifndef PAGODA_KERNEL_MM_ASID_H
#define PAGODA_KERNEL_MM_ASID_H

#include "kernel/types.h"

struct mm;

/* The hardware id `mm` must run with on this CPU now (allocating or recycling). */
unsigned asid_for_switch(struct mm *mm);
/* The hardware id part of an mm's asid (0 when the arch has none). */
unsigned asid_hw(const struct mm *mm);
/* An mm is going away: its id may be reused. */
void asid_release(struct mm *mm);

struct asid_stats {
	uint64_t allocated;
	uint64_t rollovers;
	uint64_t rollover_flushes; /* full local flushes done because of a rollover */
};
extern struct asid_stats asid_stats;
/*
 * Test hook: pretend only `n` hardware ids exist (0: all of them). `n`
 * must exceed the number of CPUs running user mms + 1, or a rollover can
 * free nothing (new_asid then panics).
 */
void asid_test_limit(unsigned n);
/*
 * The hardware id the allocator records for CPU `cpu` (0: none). For tests
 * and reports; arch_mm_active_asid() says what the CPU really uses.
 */
unsigned asid_active_hw(unsigned cpu);
/* Switches on CPU `cpu` that kept a current id without taking the lock. */
uint64_t asid_fast_switches(unsigned cpu);

#endif
