/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shadow TLB: a software model of what each CPU's TLB and page-walk
 * caches may hold, as the architecture allows, for a test to read through.
 *
 * QEMU's TLB cannot show every hazard Pagoda guards against: it is not
 * ASID-tagged (an ASID change drops everything), and it caches no
 * paging-structure entries. A real Cortex-A72 keeps tagged entries across
 * switches and caches table pointers; so does an x86 CPU's walker while its
 * CR3 stays loaded. The shadow keeps, per CPU, the translations the soak's
 * accesses filled (tagged with the ASID loaded at the time, and the tables
 * the walk went through), and drops them exactly when a TLB maintenance
 * instruction of the architecture would: the arch calls the hooks below
 * next to each instruction, and at each load of the lower half's root.
 *
 * Invariants the model keeps:
 *  - an entry is dropped only by an invalidation that would drop it on
 *    hardware (never evicted, so the shadow holds a superset of what a
 *    real TLB may hold: a stale entry it reports is one hardware may use);
 *  - a fill reads the page tables under its CPU's shadow lock, and every
 *    invalidation of that CPU takes the lock, so a fill either reads the
 *    change or is dropped by the invalidation that follows it;
 *  - nothing is taken inside a shadow lock, so any lock may be held
 *    around a hook.
 *
 * Off (the default) every hook is one load and a branch. The soak turns it
 * on with `soak.shadow` (tests/soak_shadow.c, docs/reliability.md).
 */
#ifndef PAGODA_KERNEL_MM_TLB_SHADOW_H
#define PAGODA_KERNEL_MM_TLB_SHADOW_H

#include "kernel/types.h"

#define TLB_SHADOW_ANY_ASID (~0u)

extern bool tlb_shadow_on;

/* Starts the model with every CPU's shadow empty; stop drops everything. */
void tlb_shadow_start(void);
void tlb_shadow_stop(void);

void tlb_shadow_note_load(phys_addr_t root, unsigned asid);
void tlb_shadow_note_unload(bool walks_finish);
void tlb_shadow_note_drop(bool all_cpus, unsigned asid, virt_addr_t start, virt_addr_t end,
			  bool all_walks);
void tlb_shadow_note_table_freed(phys_addr_t table);

/*
 * This CPU loaded `root`, tagged `asid`, for the lower half. The load
 * itself invalidates nothing: where it does (x86-64's CR3 write), the arch
 * calls tlb_shadow_drop first. Entries tagged `asid` from another root
 * still held here are recorded as a violation.
 */
static inline void tlb_shadow_load(phys_addr_t root, unsigned asid)
{
	if (tlb_shadow_on)
		tlb_shadow_note_load(root, asid);
}

/*
 * This CPU no longer starts walks of the lower half (its tagged entries
 * stay). `walks_finish`: a walk already under way may still complete
 * through the old root, reading its tables and filling under its tag
 * (arm64: the ISB after a TTBR0 write orders later walks, not one begun
 * before it), until a flush of that tag or, as the model bounds it, the
 * next root load; false where the unload itself ends every walk (x86-64's
 * CR3 load is serializing).
 */
static inline void tlb_shadow_unload(bool walks_finish)
{
	if (tlb_shadow_on)
		tlb_shadow_note_unload(walks_finish);
}

/*
 * An invalidation: on this CPU or every CPU, of entries tagged `asid` (or
 * any, TLB_SHADOW_ANY_ASID), for the pages of [start, end) (end 0: every
 * address). Walk-cache entries go when their table's range meets
 * [start, end), or all of the CPU's with `all_walks` (x86-64's INVLPG
 * drops every paging-structure entry of the current PCID).
 */
static inline void tlb_shadow_drop(bool all_cpus, unsigned asid, virt_addr_t start, virt_addr_t end,
				   bool all_walks)
{
	if (tlb_shadow_on)
		tlb_shadow_note_drop(all_cpus, asid, start, end, all_walks);
}

/*
 * Page table `table` is about to be freed (its invalidation done): a CPU
 * whose walk cache still holds it under the tag it has loaded now could
 * walk into the freed frame. Recorded as the model's first violation.
 */
static inline void tlb_shadow_table_freed(phys_addr_t table)
{
	if (tlb_shadow_on)
		tlb_shadow_note_table_freed(table);
}

/* What a shadow hit translates to. */
struct tlb_shadow_hit {
	phys_addr_t frame;
	bool writable;
	unsigned asid;
};

/*
 * This CPU's shadow entry for the page of `va` under the tag it has loaded
 * now, if any: what the hardware could translate `va` to without walking.
 * On a hit, also the first `n` words of the page it translates to, read
 * before any invalidation can drop the entry (and so before the frame can
 * be freed under a correct protocol).
 */
bool tlb_shadow_lookup(virt_addr_t va, struct tlb_shadow_hit *out, uint64_t *words, unsigned n);

/*
 * Fills this CPU's shadow for `va` as a hardware walk of the loaded root
 * would (the leaf, and every table on the way), or, between an unload
 * whose walks may finish and the next load, as a walk begun before the
 * unload (the old root, its tag). Returns false when the walk finds no
 * leaf (nothing filled).
 */
bool tlb_shadow_fill(virt_addr_t va);

/*
 * The model's first violation, found by the model itself rather than by a
 * read: a freed table still cached where the walker may use it, or a CPU
 * loading an ASID under which it still holds another address space's
 * entries (the hardware would translate the new one through them).
 */
enum tlb_shadow_violation_kind { TLB_SHADOW_FREED_TABLE = 1, TLB_SHADOW_ASID_ALIAS };
struct tlb_shadow_violation {
	enum tlb_shadow_violation_kind kind;
	unsigned cpu, asid;
	unsigned level;	   /* FREED_TABLE: the table's level */
	phys_addr_t table; /* FREED_TABLE: the table; ASID_ALIAS: the other root */
	virt_addr_t va;	   /* the first address the table translated, or the entry's */
};
bool tlb_shadow_violated(struct tlb_shadow_violation *out);

struct tlb_shadow_counts {
	uint64_t fills, hits, drops, tables_checked;
};
void tlb_shadow_counts(struct tlb_shadow_counts *out);

#endif
