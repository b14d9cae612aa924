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
/*
 * An mm is going away: its id may be reused, unless it is still pinned
 * (an unbind racing the teardown): then the id stays taken, owned by no
 * mm, until its last asid_unpin_id. The mm is never touched again here.
 */
void asid_release(struct mm *mm);
/*
 * This CPU no longer runs `mm` (mm_unload_here, interrupts off, its tagged
 * entries dropped): its active and reserved ids stop naming mm's id, so a
 * rollover need not keep that id for it.
 */
void asid_unload_here(const struct mm *mm);
/*
 * Pins `mm`'s id for a device that tags the mm's translations with it (an
 * SMMU context descriptor shares the CPU's ASID, SVA-style): gives the mm
 * an id of the current generation if it has none, and from then until the
 * last asid_unpin the mm keeps that hardware id across rollovers and no
 * other mm is given it (Linux's arm64_mm_context_get). Pins nest. Returns
 * the hardware id, or 0 where the arch has no ids (x86-64 without PCID:
 * nothing to share), when pinning it would leave a rollover nothing to
 * free (more than ASID_MAX_PINNED pinned ids), or once `mm` was released.
 */
unsigned asid_pin(struct mm *mm);
/*
 * An id of the CPU's space that no mm has and none is given until its
 * asid_unpin_id: for an IOMMU that shares the CPU's ASID space and tags a
 * domain of its own (a shadow domain on the SMMU). Counts as one pin; 0
 * where the arch has no ids or ASID_MAX_PINNED are already pinned.
 */
unsigned asid_reserve(void);
/*
 * Drops one pin of hardware id `id` (from asid_pin or asid_reserve). Needs
 * no mm: the pinned mm may have been destroyed meanwhile (then the last
 * unpin frees the id). Otherwise the id stays the mm's, but a rollover may
 * now recycle it. Panics when `id` is not pinned.
 */
void asid_unpin_id(unsigned id);
/* At most this many ids are pinned at once, so that a rollover always frees ids. */
#define ASID_MAX_PINNED 16
/* How many ids are pinned or reserved now (for tests: a leaked pin shows). */
unsigned asid_pins_held(void);

struct asid_stats {
	uint64_t allocated;
	uint64_t rollovers;
	uint64_t rollover_flushes; /* full local flushes done because of a rollover */
	uint64_t orphaned; /* mms released while still pinned (an unbind raced the teardown) */
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
