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
 * Allocation takes one global lock, and only when a CPU switches to a
 * different mm: simple, and cheap enough for a teaching kernel.
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
/* Test hook: pretend only `n` hardware ids exist (0: all of them). */
void asid_test_limit(unsigned n);
/* The hardware id CPU `cpu` runs with now (0: none). For tests and reports. */
unsigned asid_active_hw(unsigned cpu);

#endif
