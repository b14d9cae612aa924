/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Operands of the TLBIs that invalidate a run of 4 KiB pages by address,
 * with range TLBIs (FEAT_TLBIRANGE, Armv8.4) where they help. Pure
 * arithmetic, no instruction: mm_user.c issues the operations, and the host
 * suite (tests/host/tlbi_range_host_test.c) decodes them back and checks
 * that they cover the run exactly, because QEMU flushes its whole TLB for
 * most ranges and so cannot show a wrong operand.
 *
 * One range TLBI covers (NUM + 1) << (5 * SCALE + 1) pages from BaseADDR
 * (NUM 5 bits, SCALE 2 bits, 4 KiB granule: TG = 1). An odd page goes
 * alone by address (TLBI VAE1IS); the rest is taken scale by scale from
 * the smallest, each scale consuming the 5 bits of the count it can
 * express (Linux's __flush_tlb_range_op). So a run of fewer than
 * TLBI_RANGE_MAX_PAGES pages needs at most TLBI_RANGE_MAX_OPS operations.
 */
#ifndef PAGODA_ARCH_AARCH64_TLBI_RANGE_H
#define PAGODA_ARCH_AARCH64_TLBI_RANGE_H

#include "kernel/types.h"

#define TLBI_ASID_SHIFT	       48
#define TLBI_VA(va)	       (((va) >> 12) & ((1ull << 44) - 1)) /* VA[55:12] */
#define TLBI_RANGE_TG_4K       (1ull << 46)
#define TLBI_RANGE_SCALE(s)    ((uint64_t)(s) << 44)
#define TLBI_RANGE_NUM(n)      ((uint64_t)(n) << 39)
#define TLBI_RANGE_BASE(va)    (((va) >> 12) & ((1ull << 37) - 1)) /* VA[48:12] */
#define TLBI_RANGE_PAGES(n, s) ((uint64_t)(n) << (5 * (s) + 1))
#define TLBI_RANGE_MAX_PAGES   TLBI_RANGE_PAGES(32, 3) /* exclusive */
#define TLBI_RANGE_MAX_OPS     5		       /* one page alone, then one per scale */

struct tlbi_op {
	uint64_t arg; /* the TLBI's register operand, ASID included */
	bool range;   /* TLBI RVAE1IS; else TLBI VAE1IS */
};

/*
 * Fills ops[] with the operations that invalidate `pages` pages from the
 * page-aligned `va` for `asid`, lowest address first, and returns how many.
 * Requires 0 < pages < TLBI_RANGE_MAX_PAGES.
 */
static inline unsigned tlbi_range_ops(unsigned asid, uint64_t va, uint64_t pages,
				      struct tlbi_op ops[TLBI_RANGE_MAX_OPS])
{
	uint64_t tag = (uint64_t)asid << TLBI_ASID_SHIFT;
	unsigned n = 0;
	if (pages & 1) {
		ops[n++] = (struct tlbi_op){tag | TLBI_VA(va), false};
		va += 1ull << 12;
		pages--;
	}
	for (unsigned scale = 0; pages && scale < 4; scale++) {
		uint64_t num = (pages >> (5 * scale + 1)) & 0x1F;
		if (!num)
			continue;
		ops[n++] = (struct tlbi_op){tag | TLBI_RANGE_TG_4K | TLBI_RANGE_SCALE(scale) |
						TLBI_RANGE_NUM(num - 1) | TLBI_RANGE_BASE(va),
					    true};
		va += TLBI_RANGE_PAGES(num, scale) << 12;
		pages -= TLBI_RANGE_PAGES(num, scale);
	}
	return n;
}

#endif
