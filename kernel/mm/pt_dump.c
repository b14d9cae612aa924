// SPDX-License-Identifier: BSD-2-Clause
/*
 * Printing a page-table walk, for page-fault reports and the console's
 * `walk`: one line per level with the index, the raw descriptor, what the
 * arch says it is and its bits by their manual names (arch_pte_describe).
 * It only reads tables through the direct map, so it cannot fault itself.
 */
#include "kernel/entry.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/printk.h"

static void attrs_string(unsigned a, char out[16])
{
	char *p = out;
	*p++ = (a & PT_READ) ? 'r' : '-';
	*p++ = (a & PT_WRITE) ? 'w' : '-';
	*p++ = (a & PT_EXEC) ? 'x' : '-';
	*p++ = (a & PT_USER) ? 'u' : '-';
	*p++ = (a & PT_GLOBAL) ? 'g' : '-';
	*p++ = (a & PT_DEVICE) ? 'D' : '-';
	*p++ = (a & PT_ACCESSED) ? 'A' : '-';
	*p++ = (a & PT_DIRTY) ? 'd' : '-';
	*p = 0;
}

void pt_dump_walk(phys_addr_t root, virt_addr_t va)
{
	console_write("  walk of %#lx from root %#lx:\n", (unsigned long)va, (unsigned long)root);
	phys_addr_t table = root;
	for (unsigned level = PT_LEVELS - 1;; level--) {
		unsigned idx = (unsigned)(va >> pt_level_shift(level)) & (PT_ENTRIES - 1);
		const pte_t *t = kva(table);
		pte_t pte = t[idx];
		enum pte_kind kind = arch_pte_kind(pte, level);
		if (kind == PTE_ABSENT) {
			console_write("    L%u[%3u] %016lx absent\n", level, idx, (unsigned long)pte);
			return;
		}
		char bits[96];
		arch_pte_describe(pte, level, bits, sizeof(bits));
		if (kind == PTE_LEAF) {
			char a[16];
			attrs_string(arch_pte_attrs(pte, level), a);
			console_write("    L%u[%3u] %016lx leaf -> %#lx %s (%s)\n", level, idx,
				      (unsigned long)pte, (unsigned long)arch_pte_address(pte, level),
				      a, bits);
			return;
		}
		table = arch_pte_address(pte, level);
		console_write("    L%u[%3u] %016lx table -> %#lx (%s)\n", level, idx,
			      (unsigned long)pte, (unsigned long)table, bits);
		if (level == 0)
			return;
	}
}
