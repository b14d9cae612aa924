// SPDX-License-Identifier: BSD-2-Clause
/*
 * VMSAv8-64 stage-1 descriptors (4 KiB granule, 4 levels) behind the
 * generic contract in kernel/mm/pt_arch.h, and the TLB maintenance that
 * goes with them.
 *
 * Bits of a descriptor:
 *   0      valid
 *   1      levels 1-3: 1 = table, 0 = block (level 3, the root: tables only);
 *          level 0: must be 1 (a page), 0 with bit 0 set is reserved
 *   4:2    AttrIndx into MAIR_EL1 (layout.h: Normal WB, or Device-nGnRE)
 *   7:6    AP[2:1]: AP[2] = read-only, AP[1] = EL0 may access (PT_USER)
 *   9:8    SH: inner shareable for Normal memory (ignored for Device)
 *   10     AF, the access flag
 *   11     nG: not global (tagged with the ASID), set without PT_GLOBAL
 *   47:12  output address (blocks: only the bits above the block size)
 *   53     PXN: EL1 may not execute
 *   54     UXN: EL0 may not execute
 *   56     software: PT_SOFT_DIRTY (written since tracking was cleared)
 *   55     software dirty bit (PT_DIRTY). Bits 55-58 are reserved for
 *          software; with no hardware dirty-state management (no DBM),
 *          the hardware never sets or reads it.
 * Table descriptors carry no attributes (no APTable/PXNTable limits): the
 * leaf alone decides, as on x86.
 *
 * Invariants:
 *  - every leaf made here has AF set: cortex-a72 has no hardware access
 *    flag management, and a leaf without AF faults on first use, which the
 *    kernel does not handle. PT_ACCESSED therefore always reads back set.
 *  - kernel leaves are never EL0-executable (UXN); user leaves are never
 *    EL1-executable (PXN), so PT_EXEC means "executable at the leaf's own
 *    privilege".
 *  - value 0 is absent at every level (the valid bit is clear).
 *  - a valid entry is never replaced by a valid one that needs
 *    break-before-make (output address, size, memory type, shareability or
 *    nG change) in a single store: arch_pt_needs_bbm() says the generic
 *    walker must go through an invalid entry and an invalidation on every
 *    CPU (generic code does it: kernel/mm/pt_walk.c the break and the stop,
 *    pt.c the invalidation and the make), and arch_pte_write() panics if asked to
 *    skip that.
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/printk.h"
#include "lib/fmt.h"

#define D_VALID	      (1ull << 0)
#define D_TABLE	      (1ull << 1) /* also "page" at level 0 */
#define D_ATTR_SHIFT  2
#define D_ATTR_MASK   (7ull << D_ATTR_SHIFT)
#define D_AP_USER     (1ull << 6)
#define D_AP_RDONLY   (1ull << 7)
#define D_SH_INNER    (3ull << 8)
#define D_AF	      (1ull << 10)
#define D_NG	      (1ull << 11)
#define D_PXN	      (1ull << 53)
#define D_UXN	      (1ull << 54)
#define D_SW_DIRTY    (1ull << 55)
#define D_SOFT_DIRTY  (1ull << 56) /* software: PT_SOFT_DIRTY */
#define D_ADDR_MASK   0x0000FFFFFFFFF000ull
#define D_TYPE_MASK   (D_VALID | D_TABLE)
#define D_ATTR(index) ((pte_t)(index) << D_ATTR_SHIFT)

#define TLBI_VA_MASK ((1ull << 44) - 1) /* TLBI by VA takes VA[55:12] in bits 43:0 */

bool arch_pt_leaf_allowed(unsigned level)
{
	/* 4 KiB pages, 2 MiB and 1 GiB blocks: all part of ARMv8.0 with a 4 KiB granule. */
	return level <= 2;
}

pte_t arch_pte_make_table(phys_addr_t table, unsigned level)
{
	(void)level;
	return (table & D_ADDR_MASK) | D_VALID | D_TABLE;
}

pte_t arch_pte_make_leaf(phys_addr_t pa, unsigned level, unsigned attrs)
{
	pte_t pte = (pa & D_ADDR_MASK & ~((1ull << pt_level_shift(level)) - 1)) | D_VALID | D_AF;
	if (level == 0)
		pte |= D_TABLE; /* "page" */
	if (attrs & PT_DEVICE)
		pte |= D_ATTR(MT_DEVICE_nGnRE);
	else
		pte |= D_ATTR(MT_NORMAL) | D_SH_INNER;
	if (!(attrs & PT_WRITE))
		pte |= D_AP_RDONLY;
	if (attrs & PT_USER) {
		/* EL0 may use it; EL1 never executes what EL0 can write or run. */
		pte |= D_AP_USER | D_PXN;
		if (!(attrs & PT_EXEC))
			pte |= D_UXN;
	} else {
		pte |= D_UXN;
		if (!(attrs & PT_EXEC))
			pte |= D_PXN;
	}
	if (!(attrs & PT_GLOBAL))
		pte |= D_NG;
	if (attrs & PT_DIRTY)
		pte |= D_SW_DIRTY;
	if (attrs & PT_SOFT_DIRTY)
		pte |= D_SOFT_DIRTY;
	return pte;
}

enum pte_kind arch_pte_kind(pte_t pte, unsigned level)
{
	pte_t type = pte & D_TYPE_MASK;
	if (!(type & D_VALID))
		return PTE_ABSENT;
	if (level == 0)
		return type == (D_VALID | D_TABLE) ? PTE_LEAF : PTE_ABSENT;
	if (type == (D_VALID | D_TABLE))
		return PTE_TABLE;
	/* A block: the hardware accepts it at levels 1 and 2; at the root it faults. */
	return level <= 2 ? PTE_LEAF : PTE_ABSENT;
}

phys_addr_t arch_pte_address(pte_t pte, unsigned level)
{
	phys_addr_t pa = pte & D_ADDR_MASK;
	if (level > 0 && (pte & D_TYPE_MASK) == D_VALID)
		pa &= ~((1ull << pt_level_shift(level)) - 1); /* a block: low bits are RES0 or nT */
	return pa;
}

unsigned arch_pte_attrs(pte_t pte, unsigned level)
{
	(void)level;
	unsigned a = PT_READ;
	if (!(pte & D_AP_RDONLY))
		a |= PT_WRITE;
	if (pte & D_AP_USER) {
		a |= PT_USER;
		if (!(pte & D_UXN))
			a |= PT_EXEC;
	} else if (!(pte & D_PXN)) {
		a |= PT_EXEC;
	}
	if (!(pte & D_NG))
		a |= PT_GLOBAL;
	if ((pte & D_ATTR_MASK) == D_ATTR(MT_DEVICE_nGnRE))
		a |= PT_DEVICE;
	if (pte & D_AF)
		a |= PT_ACCESSED;
	if (pte & D_SW_DIRTY)
		a |= PT_DIRTY;
	if (pte & D_SOFT_DIRTY)
		a |= PT_SOFT_DIRTY;
	return a;
}

/*
 * Does changing the valid `old` into the valid `next` need break-before-make?
 * Yes for another output address, block <-> table, memory type,
 * shareability or nG; permissions (AP, PXN, UXN), AF and the software
 * dirty bit may change in place. Entries made here keep the address bits
 * below a block's size zero, so whole-field comparisons work at any level.
 */
static bool needs_bbm(pte_t old, pte_t next)
{
	pte_t must_match = D_TYPE_MASK | D_ADDR_MASK | D_ATTR_MASK | D_SH_INNER | D_NG;
	return ((old ^ next) & must_match) != 0;
}

static void store(pte_t *slot, pte_t value)
{
	/*
	 * The dsb before: the new entry may point to a table just filled with
	 * ordinary stores, which the walker must see first. One aligned 8-byte
	 * store: the walker reads the old or the new entry, never a mix. The
	 * dsb after makes it visible to the walker; the isb keeps instructions
	 * already fetched after this one from having been translated with the
	 * old entry (otherwise a mapping just made could fault once, and the
	 * kernel has no handler that retries spurious faults).
	 */
	__asm__ __volatile__("dsb ishst\n\t"
			     "str %1, %0\n\t"
			     "dsb ishst\n\t"
			     "isb"
			     : "=Q"(*slot)
			     : "r"(value)
			     : "memory");
}

bool arch_pt_needs_bbm(void)
{
	/*
	 * Always, whatever FEAT_BBM level the CPU reports: level 1 and 2 relax
	 * only block-size changes and may still raise TLB conflict aborts.
	 */
	return true;
}

void arch_pte_describe(pte_t pte, unsigned level, char *buf, size_t size)
{
	static const char *const sh[] = {"non", "?", "outer", "inner"};
	static const char *const mt[] = {"device-nGnRE", "normal", "normal-NC"};
	unsigned idx = (unsigned)((pte & D_ATTR_MASK) >> D_ATTR_SHIFT);
	if (arch_pte_kind(pte, level) == PTE_TABLE) {
		/* Bits 59-63 limit what the levels below may grant; Pagoda leaves them 0. */
		snprintf(buf, size, "table%s", (pte >> 59) ? " APTable/XNTable/NSTable set" : "");
		return;
	}
	snprintf(buf, size, "%s AttrIdx=%u(%s) SH=%s AP=%s%s%s%s%s%s%s%s",
		 level == 0 ? "page" : "block", idx, idx < ARRAY_SIZE(mt) ? mt[idx] : "?",
		 sh[(pte >> 8) & 3], (pte & D_AP_RDONLY) ? "ro" : "rw",
		 (pte & D_AP_USER) ? ",el0" : "", (pte & D_AF) ? " AF" : "",
		 (pte & D_NG) ? " nG" : "", (pte & D_PXN) ? " PXN" : "", (pte & D_UXN) ? " UXN" : "",
		 (pte & D_SW_DIRTY) ? " sw-dirty" : "", (pte & D_SOFT_DIRTY) ? " soft-dirty" : "");
}

void arch_pte_write(pte_t *slot, pte_t value)
{
	/*
	 * The walker breaks first (arch_pt_needs_bbm): a valid entry replaced
	 * by one that needs break-before-make here is a bug in generic code,
	 * which on hardware could leave two conflicting TLB entries.
	 */
	pte_t old = READ_ONCE(*slot);
	if ((old & D_VALID) && (value & D_VALID) && needs_bbm(old, value))
		panic("arch_pte_write: %#lx replaced by %#lx without break-before-make",
		      (unsigned long)old, (unsigned long)value);
	store(slot, value);
}

void arch_tlb_flush_local_page(virt_addr_t va)
{
	/*
	 * vaae1: by address, any ASID, so kernel (global) entries and any
	 * tagged entry go; vae1 would only match the current ASID. nsh: this
	 * CPU only, as the contract says (the caller flushes other CPUs).
	 */
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi vaae1, %0\n\t"
			     "dsb nsh\n\t"
			     "isb" ::"r"((va >> 12) & TLBI_VA_MASK)
			     : "memory");
	tlb_shadow_drop(false, TLB_SHADOW_ANY_ASID, va, va + (1ull << PT_PAGE_SHIFT), false);
}

void arch_tlb_flush_local_full(void)
{
	/* vmalle1: every stage-1 EL1&0 entry of this CPU, global ones included. */
	__asm__ __volatile__("dsb nshst\n\t"
			     "tlbi vmalle1\n\t"
			     "dsb nsh\n\t"
			     "isb" ::
				 : "memory");
	tlb_shadow_drop(false, TLB_SHADOW_ANY_ASID, 0, 0, true);
}

void arch_tlb_broadcast_kernel(virt_addr_t start, uint64_t pages, bool full)
{
	/*
	 * The same operations as the local ones, inner shareable: vaae1is (any
	 * ASID, global entries included) per page, or vmalle1is; the dsb ishst
	 * first makes the table changes visible to every walker, the dsb ish
	 * after waits until every CPU has dropped the entries.
	 */
	__asm__ __volatile__("dsb ishst" ::: "memory");
	if (full) {
		__asm__ __volatile__("tlbi vmalle1is" ::: "memory");
		tlb_shadow_drop(true, TLB_SHADOW_ANY_ASID, 0, 0, true);
	} else {
		for (uint64_t i = 0; i < pages; i++)
			__asm__ __volatile__("tlbi vaae1is, %0" ::"r"(
						 ((start + (i << PT_PAGE_SHIFT)) >> 12) & TLBI_VA_MASK)
					     : "memory");
		tlb_shadow_drop(true, TLB_SHADOW_ANY_ASID, start, start + (pages << PT_PAGE_SHIFT),
				false);
	}
	__asm__ __volatile__("dsb ish\n\tisb" ::: "memory");
}

unsigned arch_pte_clear_run(pte_t *slots, unsigned n, unsigned level)
{
	/*
	 * One exchange per entry: with hardware access/dirty management (not
	 * on cortex-a72, but on later cores) the CPU could update an entry
	 * while we clear it, and that update must be seen.
	 */
	pte_t seen = 0;
	for (unsigned i = 0; i < n; i++)
		seen |= __atomic_exchange_n(&slots[i], 0, __ATOMIC_ACQ_REL);
	__asm__ __volatile__("dsb ishst" ::: "memory");
	return arch_pte_attrs(seen, level) & (PT_ACCESSED | PT_DIRTY);
}

/* arch_pte_needs_flush() for two leaves. */
static bool leaf_needs_flush(pte_t old, pte_t new)
{
	/* Output, memory type, ASID tagging or EL0 access changed: the old entry is wrong. */
	const pte_t identity = D_ADDR_MASK | D_ATTR_MASK | D_NG | D_AP_USER | D_TYPE_MASK;
	if ((old ^ new) & identity)
		return true;
	/* Made read-only, or made non-executable at either level. AF and dirty need nothing. */
	if (!(old & D_AP_RDONLY) && (new & D_AP_RDONLY))
		return true;
	return ((new & ~old) & (D_PXN | D_UXN)) != 0;
}

bool arch_pte_needs_flush(pte_t old, pte_t new, unsigned level)
{
	if (arch_pte_kind(old, level) != PTE_LEAF)
		return false;
	if (arch_pte_kind(new, level) != PTE_LEAF)
		return true;
	return leaf_needs_flush(old, new);
}

unsigned arch_pte_protect_run(pte_t *slots, unsigned n, unsigned level, unsigned attrs,
			      unsigned keep, struct pte_run_change *out)
{
	/* Every leaf made here has AF set, so the template carries it. */
	const pte_t tmpl = arch_pte_make_leaf(0, level, attrs & ~PT_DIRTY);
	const pte_t kept = (D_ADDR_MASK & ~((1ull << pt_level_shift(level)) - 1)) |
			   (keep & PT_DIRTY ? D_SW_DIRTY : 0) |
			   (keep & PT_SOFT_DIRTY ? D_SOFT_DIRTY : 0);
	unsigned i;
	*out = (struct pte_run_change){0};
	for (i = 0; i < n; i++) {
		/*
		 * Nothing here sets AF or dirty behind our back (no hardware
		 * access/dirty management is enabled), but a later core's would:
		 * compare-and-swap, rebuilding from what a failed one found, as
		 * x86-64 does, so the contract is one.
		 */
		pte_t old = __atomic_load_n(&slots[i], __ATOMIC_RELAXED), new;
		bool stop = false;
		for (;;) {
			if (arch_pte_kind(old, level) != PTE_LEAF ||
			    (new = (old & kept) | tmpl) == old)
				break;
			/*
			 * The same rule as the generic walker's `retranslates`
			 * (pt_walk.c) for every leaf arch_pte_make_leaf builds: an
			 * output, memory type or nG change breaks first.
			 */
			if ((stop = needs_bbm(old, new)))
				break;
			if (__atomic_compare_exchange_n(&slots[i], &old, new, false,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
				pte_run_change_note(out, i, leaf_needs_flush(old, new));
				break;
			}
		}
		if (stop)
			break; /* the caller breaks it first */
	}
	/* As store(): visible to the walker, and nothing fetched after uses the old entries. */
	if (out->changed)
		__asm__ __volatile__("dsb ishst\n\tisb" ::: "memory");
	return i;
}
