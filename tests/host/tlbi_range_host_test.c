// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host check of arm64's range TLBI operands (arch/aarch64/tlbi_range.h):
 * every run of pages is decoded back from the operations and must be
 * covered exactly, in order, with no gap or overlap, by at most
 * TLBI_RANGE_MAX_OPS operations, each carrying the ASID and the 4 KiB
 * granule. QEMU's TCG flushes its whole TLB for most range TLBIs, so a
 * wrong operand would pass every in-kernel test; this is where it shows.
 *
 * Run as one case of the host suite (tlbi_range_operands, pt_host_tlb.c);
 * prints a "#" line for each of the first few mismatches and returns how
 * many runs failed.
 */
#include <stdio.h>

#include "arch/aarch64/tlbi_range.h"
#include "tests/host/host.h"

/* Decodes ops[] back; 0 when they cover [va, va + pages pages) exactly. */
static int check_run(unsigned asid, uint64_t va, uint64_t pages)
{
	struct tlbi_op ops[TLBI_RANGE_MAX_OPS + 1];
	unsigned n = tlbi_range_ops(asid, va, pages, ops);
	if (n == 0 || n > TLBI_RANGE_MAX_OPS)
		return 1;
	uint64_t next = va >> 12, covered = 0;
	for (unsigned i = 0; i < n; i++) {
		uint64_t arg = ops[i].arg, base, count;
		if (arg >> TLBI_ASID_SHIFT != asid)
			return 2;
		if (ops[i].range) {
			if (((arg >> 46) & 3) != 1) /* TG: 4 KiB */
				return 3;
			if (((arg >> 37) & 3) != 0) /* TTL: no level hint */
				return 4;
			base = arg & ((1ull << 37) - 1);
			count = (((arg >> 39) & 0x1F) + 1) << (5 * ((arg >> 44) & 3) + 1);
		} else {
			base = arg & ((1ull << 44) - 1);
			count = 1;
		}
		if (base != (next & ((1ull << 37) - 1)))
			return 5;
		next += count;
		covered += count;
	}
	return covered == pages ? 0 : 6;
}

unsigned tlbi_range_host_check(void)
{
	unsigned failures = 0;
	uint64_t runs = 0;
	const uint64_t bases[] = {0x400000, 0x7FFF00000000ull, (1ull << 47) - (1ull << 33)};
	const unsigned asids[] = {0, 1, 0xFFFF};
	for (unsigned b = 0; b < 3; b++)
		for (uint64_t pages = 1; pages < TLBI_RANGE_MAX_PAGES;
		     pages += pages < 4096 ? 1 : 4093 + (pages & 7)) {
			int why = check_run(asids[b], bases[b], pages);
			runs++;
			if (why && failures++ < 5)
				printf(
				    "#   tlbi_range_ops(asid %#x, va %#llx, %llu pages): check %d "
				    "failed\n",
				    asids[b], (unsigned long long)bases[b],
				    (unsigned long long)pages, why);
		}
	int why = check_run(7, 0x400000, TLBI_RANGE_MAX_PAGES - 1); /* every field at its maximum */
	runs++;
	if (why && failures++ < 5)
		printf("#   tlbi_range_ops: the largest run failed check %d\n", why);
	printf("#   tlbi_range_ops: %llu runs decoded, %u wrong\n", (unsigned long long)runs,
	       failures);
	return failures;
}
