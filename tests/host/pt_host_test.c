/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test suite for the generic page-table code (kernel/mm/pt.c and
 * pt_walk.c), run against the scrambled fake architecture (fake_pt_arch.c)
 * and the host stubs (host_stubs.c). Build and run:
 * make -f tools/host_test.mk host-pt-test
 *
 * This file holds main and the table of cases; the cases live in the
 * pt_host_*.c files, one idea each (pt_host.h lists them per file): map and
 * query (map), block splits (split), holes, refusals and the top of the
 * address space (edges), table allocation, freeing and the stats (alloc),
 * TLB maintenance (tlb), live trees (live), the fake architecture and what
 * pt.c and pt_walk.c must not assume of a layout (layout), and the randomized
 * differential test (random). The harness is pt_host.c; the checks over a
 * tree and its event log are pt_host_check.c.
 *
 * Each case is a function. The harness prints "ok N name" or "not ok N name"
 * (after "# file:line: ..." lines for each failed check), then a final line
 * "N passed, M failed", and exits 1 if any case failed. A panic inside a
 * case (pt.c's or pt_walk.c's own, a fake-arch contract violation, a bad frame_free) fails
 * that case and the run goes on; every frame still allocated after a case is
 * a leak and fails it. An optional argument runs only the cases whose name
 * contains it.
 *
 * One case is not about the generic page-table code: tlbi_range_operands checks arm64's range
 * TLBI operands (tlbi_range_host_test.c), pure arithmetic QEMU cannot check.
 */
#include <stdio.h>
#include <string.h>

#include "tests/host/pt_host.h"

/* Sanitizers: make every report fatal, even when the binary is run by hand. */
const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=0:halt_on_error=1";
}
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* ---- Main ------------------------------------------------------------------------------------ */

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* clang-format off */
#define CASE(fn) { #fn + 5, fn } /* the name without "test_" */
static const struct test_case cases[] = {
	CASE(test_fake_arch_selftest),
	CASE(test_empty_tree),
	CASE(test_map_query_single_page),
	CASE(test_one_page_map_direct_and_back_off),
	CASE(test_map_straddles_2m_boundary),
	CASE(test_map_straddles_1g_boundary),
	CASE(test_map_straddles_512g_boundary),
	CASE(test_large_leaves_2m_by_alignment),
	CASE(test_relatively_misaligned_gives_4k_leaves),
	CASE(test_mixed_leaves_by_alignment),
	CASE(test_leaves_1g_when_allowed),
	CASE(test_no_1g_leaves_when_disabled),
	CASE(test_only_4k_leaves_mode),
	CASE(test_partial_unmap_splits_2m_block),
	CASE(test_partial_unmap_splits_1g_block_twice),
	CASE(test_partial_protect_splits_block),
	CASE(test_partial_protect_splits_1g_block),
	CASE(test_protect_whole_block_does_not_split),
	CASE(test_protect_keeps_accessed_dirty),
	CASE(test_unmap_holes_ok),
	CASE(test_protect_holes_ok),
	CASE(test_map_over_mapping_eexist),
	CASE(test_last_page_of_address_space),
	CASE(test_range_ending_at_top),
	CASE(test_wrapping_range_einval),
	CASE(test_misaligned_einval),
	CASE(test_size_zero_einval),
	CASE(test_map_pa_range_wraps_einval),
	CASE(test_map_range_beyond_tree_reach_einval),
	CASE(test_unmap_everything_frees_all_but_root),
	CASE(test_destroy_frees_everything),
	CASE(test_enomem_pt_init),
	CASE(test_enomem_map_at_every_allocation),
	CASE(test_enomem_unmap_split_at_every_allocation),
	CASE(test_enomem_protect_split_at_every_allocation),
	CASE(test_unhook_flush_free_order),
	CASE(test_not_live_no_flush),
	CASE(test_live_unmap_flushes),
	CASE(test_live_protect_flush_rules),
	CASE(test_live_split_invalidated_before_its_pages_change),
	CASE(test_bbm_split_breaks_invalidates_makes),
	CASE(test_split_not_live),
	CASE(test_bbm_retype_and_permissions),
	CASE(test_enomem_live_splits),
	CASE(test_bbm_live_break_in_use_refused),
	CASE(test_attrs_need_flush_truth_table),
	CASE(test_stats_counters),
	CASE(test_nonzero_absent_descriptors_are_absent),
	CASE(test_page_metadata_marks_tables),
	CASE(test_no_page_metadata_and_pa_not_pointer),
	CASE(test_random_differential_layout0),
	CASE(test_random_differential_scrambled_seed1),
	CASE(test_random_differential_scrambled_seed2),
	CASE(test_random_differential_bbm_live),
	CASE(test_random_differential_bbm_not_live),
	CASE(test_tlbi_range_operands),
	CASE(test_live_change_with_interrupts_off_panics),
};
/* clang-format on */

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0;
	printf("1..%zu\n", ARRAY_SIZE(cases));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		bool ok = run_case(cases[i].fn);
		printf("%s %zu %s\n", ok ? "ok" : "not ok", i + 1, cases[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
