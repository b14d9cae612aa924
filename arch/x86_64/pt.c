// SPDX-License-Identifier: BSD-2-Clause
/*
 * x86-64 4-level paging descriptors behind the generic contract in
 * kernel/mm/pt_arch.h.
 *
 * Bits: P 0, RW 1, US 2, PWT 3, PCD 4, A 5, D 6, PS 7 (a leaf above level
 * 0), G 8, NX 63; the address in bits 12..51. Device memory is PCD|PWT,
 * which is uncached with the power-on PAT. Table descriptors are fully
 * permissive (P|RW|US): x86 combines permissions across levels, so the
 * leaf alone decides.
 */
#include "arch/x86_64/x86.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb_shadow.h"
#include "lib/fmt.h"

#define X86_P (1ull << 0)
#define X86_RW (1ull << 1)
#define X86_US (1ull << 2)
#define X86_PWT (1ull << 3)
#define X86_PCD (1ull << 4)
#define X86_A (1ull << 5)
#define X86_D (1ull << 6)
#define X86_PS (1ull << 7)
#define X86_G (1ull << 8)
#define X86_SOFT_DIRTY (1ull << 11) /* available to software: PT_SOFT_DIRTY */
#define X86_NX (1ull << 63)
#define X86_ADDR_MASK 0x000FFFFFFFFFF000ull

static bool has_1g_pages(void)
{
	static int cached = -1;
	if (cached < 0) {
		uint32_t a, b, c, d;
		cpuid(0x80000001, 0, &a, &b, &c, &d);
		cached = (d >> 26) & 1;
	}
	return cached;
}

bool arch_pt_leaf_allowed(unsigned level)
{
	return level == 0 || level == 1 || (level == 2 && has_1g_pages());
}

pte_t arch_pte_make_table(phys_addr_t table, unsigned level)
{
	(void)level;
	return (table & X86_ADDR_MASK) | X86_P | X86_RW | X86_US;
}

pte_t arch_pte_make_leaf(phys_addr_t pa, unsigned level, unsigned attrs)
{
	pte_t pte = (pa & X86_ADDR_MASK) | X86_P;
	if (level > 0)
		pte |= X86_PS;
	if (attrs & PT_WRITE)
		pte |= X86_RW;
	if (!(attrs & PT_EXEC))
		pte |= X86_NX;
	if (attrs & PT_USER)
		pte |= X86_US;
	if (attrs & PT_GLOBAL)
		pte |= X86_G;
	if (attrs & PT_DEVICE)
		pte |= X86_PCD | X86_PWT;
	if (attrs & PT_ACCESSED)
		pte |= X86_A;
	if (attrs & PT_DIRTY)
		pte |= X86_D;
	if (attrs & PT_SOFT_DIRTY)
		pte |= X86_SOFT_DIRTY;
	return pte;
}

enum pte_kind arch_pte_kind(pte_t pte, unsigned level)
{
	if (!(pte & X86_P))
		return PTE_ABSENT;
	if (level == 0 || (pte & X86_PS))
		return PTE_LEAF;
	return PTE_TABLE;
}

phys_addr_t arch_pte_address(pte_t pte, unsigned level)
{
	phys_addr_t pa = pte & X86_ADDR_MASK;
	/* In a large leaf, bit 12 is PAT, not address. */
	if (level > 0 && (pte & X86_PS))
		pa &= ~((1ull << pt_level_shift(level)) - 1);
	return pa;
}

unsigned arch_pte_attrs(pte_t pte, unsigned level)
{
	(void)level;
	unsigned a = PT_READ;
	if (pte & X86_RW)
		a |= PT_WRITE;
	if (!(pte & X86_NX))
		a |= PT_EXEC;
	if (pte & X86_US)
		a |= PT_USER;
	if (pte & X86_G)
		a |= PT_GLOBAL;
	if (pte & X86_PCD)
		a |= PT_DEVICE;
	if (pte & X86_A)
		a |= PT_ACCESSED;
	if (pte & X86_D)
		a |= PT_DIRTY;
	if (pte & X86_SOFT_DIRTY)
		a |= PT_SOFT_DIRTY;
	return a;
}

void arch_pte_write(pte_t *slot, pte_t value)
{
	/* One aligned 8-byte store: the walker sees the old or the new entry, never a mix. */
	__atomic_store_n(slot, value, __ATOMIC_RELEASE);
}

void arch_pte_describe(pte_t pte, unsigned level, char *buf, size_t size)
{
	static const struct {
		pte_t bit;
		const char *name;
	} bits[] = {
	    {X86_P, "P"},   {X86_RW, "RW"}, {X86_US, "US"}, {X86_PWT, "PWT"},
	    {X86_PCD, "PCD"}, {X86_A, "A"},   {X86_D, "D"},   {X86_PS, "PS"},
	    {X86_G, "G"},   {X86_SOFT_DIRTY, "soft-dirty"}, {X86_NX, "NX"},
	};
	size_t n = 0;
	(void)level;
	if (size)
		buf[0] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(bits) && n < size; i++)
		if (pte & bits[i].bit)
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? " " : "", bits[i].name);
}

bool arch_pt_needs_bbm(void)
{
	/*
	 * x86 lets a live large page be replaced by a table mapping the same
	 * memory in one store. The old large entry must still be invalidated
	 * before the new pages change (a TLB holding both sizes for one address
	 * with different attributes is undefined, SDM 4.10.2.3): the walker
	 * does that after the split.
	 */
	return false;
}

void arch_tlb_flush_local_page(virt_addr_t va)
{
	__asm__ __volatile__("invlpg (%0)" ::"r"(va) : "memory");
	/* INVLPG also drops every paging-structure entry of the current PCID (SDM 4.10.4.1). */
	tlb_shadow_drop(false, TLB_SHADOW_ANY_ASID, va, va + (1ull << PT_PAGE_SHIFT), true);
}

void arch_tlb_flush_local_full(void)
{
	/* Toggling CR4.PGE flushes global entries too; a CR3 reload alone would keep them. */
	uint64_t cr4;
	__asm__ __volatile__("mov %%cr4, %0" : "=r"(cr4));
	if (cr4 & (1u << 7)) {
		__asm__ __volatile__("mov %0, %%cr4" ::"r"(cr4 & ~(1ull << 7)) : "memory");
		__asm__ __volatile__("mov %0, %%cr4" ::"r"(cr4) : "memory");
	} else {
		uint64_t cr3 = read_cr3();
		__asm__ __volatile__("mov %0, %%cr3" ::"r"(cr3) : "memory");
	}
	tlb_shadow_drop(false, TLB_SHADOW_ANY_ASID, 0, 0, true);
}

unsigned arch_pte_clear_run(pte_t *slots, unsigned n, unsigned level)
{
	/*
	 * An atomic exchange per entry: the CPU may set A or D in the same
	 * entry concurrently, and that update must be seen, not overwritten.
	 */
	pte_t seen = 0;
	for (unsigned i = 0; i < n; i++)
		seen |= __atomic_exchange_n(&slots[i], 0, __ATOMIC_ACQ_REL);
	return arch_pte_attrs(seen, level) & (PT_ACCESSED | PT_DIRTY);
}

/* arch_pte_needs_flush() for two leaves. */
static bool leaf_needs_flush(pte_t old, pte_t new)
{
	/*
	 * A different frame, memory type, size, global or user bit: the old
	 * entry is wrong, not just stricter (a user-bit change also flips
	 * which privilege may use it, so either direction counts).
	 */
	const pte_t identity = X86_ADDR_MASK | X86_PCD | X86_PWT | X86_G | X86_PS | X86_US;
	if ((old ^ new) & identity)
		return true;
	/* Permissions: write taken away or NX put in. A and D changes need nothing. */
	if ((old & X86_RW) && !(new & X86_RW))
		return true;
	return !(old & X86_NX) && (new & X86_NX);
}

bool arch_pte_needs_flush(pte_t old, pte_t new, unsigned level)
{
	if (arch_pte_kind(old, level) != PTE_LEAF)
		return false; /* nothing was cached */
	if (arch_pte_kind(new, level) != PTE_LEAF)
		return true;
	return leaf_needs_flush(old, new);
}

unsigned arch_pte_protect_run(pte_t *slots, unsigned n, unsigned level, unsigned attrs,
			      unsigned keep, struct pte_run_change *out)
{
	/* The new entry is the template plus what each old one keeps; x86 never needs a break. */
	const pte_t tmpl = arch_pte_make_leaf(0, level, attrs & ~(PT_ACCESSED | PT_DIRTY));
	const pte_t address = X86_ADDR_MASK & ~((1ull << pt_level_shift(level)) - 1);
	const pte_t kept = address | (keep & PT_ACCESSED ? X86_A : 0) |
			   (keep & PT_DIRTY ? X86_D : 0) |
			   (keep & PT_SOFT_DIRTY ? X86_SOFT_DIRTY : 0);
	*out = (struct pte_run_change){0};
	for (unsigned i = 0; i < n; i++) {
		pte_t old = __atomic_load_n(&slots[i], __ATOMIC_RELAXED);
		for (;;) {
			if (arch_pte_kind(old, level) != PTE_LEAF)
				break;
			/* A large leaf's PAT bit (12) goes, as arch_pte_make_leaf() drops it. */
			pte_t new = (old & kept) | tmpl;
			if (new == old)
				break;
			/* On failure `old` is what the CPU left (A or D set): rebuild. */
			if (__atomic_compare_exchange_n(&slots[i], &old, new, false,
							__ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
				pte_run_change_note(out, i, leaf_needs_flush(old, new));
				break;
			}
		}
	}
	return n;
}
