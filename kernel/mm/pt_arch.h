/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page-table contract between generic code (kernel/mm/pt*.c) and an
 * architecture's descriptor format. This header is the only place it is
 * declared; arch/<arch>/pt.c implements it, and tests/host/fake_pt_arch.c
 * implements it again with deliberately scrambled bits so that the host
 * tests prove generic code assumes no layout.
 *
 * Levels are numbered from the leaf: level 0 maps 4 KiB pages, level 1
 * 2 MiB, level 2 1 GiB, level PT_LEVELS-1 is the root. Generic code knows
 * a descriptor only as a pte_t value and what these functions say of it,
 * with one fixed point: the value 0 is an absent descriptor at every level
 * (so a zeroed page is an empty table).
 */
#ifndef PAGODA_KERNEL_MM_PT_ARCH_H
#define PAGODA_KERNEL_MM_PT_ARCH_H

#include "kernel/types.h"

typedef uint64_t pte_t;

#define PT_LEVELS 4
#define PT_ENTRIES 512
#define PT_PAGE_SHIFT 12

/* Abstract attributes; the arch encodes them into its own bits. */
enum pt_attr {
	PT_READ = 1u << 0, /* always set on a present leaf */
	PT_WRITE = 1u << 1,
	PT_EXEC = 1u << 2,
	PT_USER = 1u << 3, /* reachable from user mode (not used by kernel mappings) */
	PT_GLOBAL = 1u << 4, /* not tagged with an address-space id */
	PT_DEVICE = 1u << 5, /* uncached device memory (x86 PCD/PWT, arm64 Device-nGnRE) */
	PT_ACCESSED = 1u << 6, /* hardware-set on access */
	PT_DIRTY = 1u << 7, /* hardware-set on write */
	/* Software: written since soft-dirty tracking last cleared it (notifier.h, vm_soft_dirty_clear). */
	PT_SOFT_DIRTY = 1u << 8,
	/* Not a descriptor bit: tells pt_map to use 4 KiB leaves only (never passed to the arch). */
	PT_PAGES_ONLY = 1u << 16,
	/* Not a descriptor bit: tells pt_protect to clear PT_SOFT_DIRTY (it keeps it otherwise). */
	PT_CLEAR_SOFT_DIRTY = 1u << 17,
};
#define PT_PERMS (PT_READ | PT_WRITE | PT_EXEC | PT_USER)

enum pte_kind {
	PTE_ABSENT = 0, /* invalid: translation faults */
	PTE_TABLE, /* points to the next level's table */
	PTE_LEAF, /* maps a page (level 0) or a block (higher levels) */
};

/* log2 of the bytes one entry at `level` maps: 12, 21, 30, 39. */
static inline unsigned pt_level_shift(unsigned level)
{
	return PT_PAGE_SHIFT + 9 * level;
}

/* May `level` hold a leaf? Level 0 always; 1 (2 MiB) and 2 (1 GiB) if the CPU can. */
bool arch_pt_leaf_allowed(unsigned level);
/* A descriptor at `level` (> 0) pointing to the table at physical `table`. */
pte_t arch_pte_make_table(phys_addr_t table, unsigned level);
/* A leaf at `level` mapping physical `pa` (aligned to the level) with `attrs`. */
pte_t arch_pte_make_leaf(phys_addr_t pa, unsigned level, unsigned attrs);
enum pte_kind arch_pte_kind(pte_t pte, unsigned level);
/* The physical address a table descriptor or a leaf points to. */
phys_addr_t arch_pte_address(pte_t pte, unsigned level);
/* The abstract attributes of a leaf (including accessed and dirty). */
unsigned arch_pte_attrs(pte_t pte, unsigned level);
/*
 * Names the descriptor's bits as the architecture manual does (x86: "P RW
 * US A D NX"; arm64: "page AttrIdx=1(normal) SH=inner AP=rw,el0 AF nG
 * PXN"), for a student reading a walk (kernel/mm/pt_dump.c). Writes one
 * line, no newline, always terminated inside `size`.
 */
void arch_pte_describe(pte_t pte, unsigned level, char *buf, size_t size);

/*
 * Must a valid descriptor that some CPU may walk be made invalid, and that
 * invalidated on every CPU, before a valid one that translates differently
 * (a block replaced by a table, another output address, memory type or
 * global bit) is written in its place? arm64: yes (break-before-make);
 * x86-64: no, the new entry may be written over the old one, which is then
 * invalidated. Generic code does the sequence (kernel/mm/pt_walk.c: the
 * replacement and the stop; pt.c: the invalidation and the make); the arch
 * only answers. Where it says yes, generic code never writes a valid entry
 * over a valid one that translates differently, live or not.
 */
bool arch_pt_needs_bbm(void);
/*
 * Stores a descriptor with ordering the page-table walker observes: what
 * was written before (a table's contents) is visible to the walker first,
 * and the walker sees the old or the new entry, never a mix.
 */
void arch_pte_write(pte_t *slot, pte_t value);

/*
 * Clears `n` consecutive leaves at `level` starting at `slots` (they map one
 * physically contiguous run) in one call, and returns the union of their
 * PT_ACCESSED and PT_DIRTY state: the caller learns whether any page of the
 * run was used or written without reading each descriptor again.
 */
unsigned arch_pte_clear_run(pte_t *slots, unsigned n, unsigned level);
/* What arch_pte_protect_run() rewrote, as slot indexes counted from its first slot. */
struct pte_run_change {
	unsigned changed;     /* leaves rewritten */
	unsigned first, last; /* the first and the last of them (when changed) */
	unsigned flushes;     /* of them, those arch_pte_needs_flush() says a TLB must lose */
	unsigned first_flush, last_flush; /* the first and the last of those (when flushes) */
};
/*
 * Gives the leaves among the `n` consecutive slots from `slots` (at
 * `level`) the permissions and memory type `attrs` (as arch_pte_make_leaf
 * takes them; PT_SOFT_DIRTY there sets it), each keeping its output address
 * and whichever of its PT_ACCESSED, PT_DIRTY and PT_SOFT_DIRTY states `keep`
 * names. Absent slots and leaves already so are passed over. Returns the
 * slots consumed: all `n`, or fewer when it stops before the first leaf
 * whose rewrite needs break-before-make (the caller makes that change the
 * long way). Each entry is replaced by one atomic compare-and-swap, so an
 * accessed or dirty bit a CPU's walker sets meanwhile is kept, never
 * overwritten; the entries are visible to the walker on return. Why one
 * call: a protect of many pages would otherwise cost several calls per
 * entry, the generic code's only cost that grows with the range.
 */
unsigned arch_pte_protect_run(pte_t *slots, unsigned n, unsigned level, unsigned attrs,
			      unsigned keep, struct pte_run_change *out);
/* For arch_pte_protect_run(): slot `i` was rewritten (`flush`: and a TLB must lose it). */
static inline void pte_run_change_note(struct pte_run_change *out, unsigned i, bool flush)
{
	if (!out->changed++)
		out->first = i;
	out->last = i;
	if (!flush)
		return;
	if (!out->flushes++)
		out->first_flush = i;
	out->last_flush = i;
}
/*
 * Does replacing leaf `old` by leaf `new` at `level` need a TLB flush? Not
 * when a permission is only added, or nothing the hardware uses changed: a
 * stale, stricter entry can then only cause a spurious fault, after which
 * the fault handler finds the access allowed and retries. That holds for
 * address spaces only: a kernel fault is not retried, so the kernel's
 * tables flush every rewritten leaf (pt_walk.c).
 */
bool arch_pte_needs_flush(pte_t old, pte_t new, unsigned level);

/*
 * Local TLB maintenance on the calling CPU, kernel (global) entries
 * included. Other CPUs are reached by tlb_flush_kernel_range (kernel/mm/tlb.h).
 */
void arch_tlb_flush_local_page(virt_addr_t va);
void arch_tlb_flush_local_full(void);

#endif
