// SPDX-License-Identifier: BSD-2-Clause
/*
 * ktest suite: the framework checks itself. EXPECT records and continues,
 * ASSERT aborts the case; the comparison macros report correct operands;
 * the `ktest=` list selects suites and cases as documented.
 *
 * Three cases exist to prove the host runner sees failures, and are
 * skipped unless their test-only switch is on the command line:
 *   ktest.fail   deliberate_failure fails an expectation;
 *   ktest.panic  deliberate_panic panics the kernel;
 *   ktest.hang   deliberate_hang spins past its 500 ms timeout;
 *   ktest.fault  deliberate_fault touches an unmapped address with no
 *                fixture armed: the full exception report, then a panic.
 * CI runs each switch and requires the runner to report the failure.
 */
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "tests/ktest.h"

CMDLINE_PARAM(ktest_fail_param, .key = "ktest.fail", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: ktest.deliberate_failure fails an expectation");
CMDLINE_PARAM(ktest_panic_param, .key = "ktest.panic", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: ktest.deliberate_panic panics the kernel");
CMDLINE_PARAM(ktest_hang_param, .key = "ktest.hang", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: ktest.deliberate_hang overruns its 500 ms timeout");
CMDLINE_PARAM(ktest_fault_param, .key = "ktest.fault", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: ktest.deliberate_fault takes an unexpected page fault");

static void expect_records_and_continues(struct ktest *t)
{
	struct ktest scratch = {.suite = "scratch", .name = "scratch", .quiet = true};
	EXPECT_EQ(&scratch, 1, 2);
	EXPECT_NE(&scratch, 3, 3);
	EXPECT_LT(&scratch, 5u, 4u);
	EXPECT_GE(&scratch, -1, 0);
	EXPECT_STREQ(&scratch, "a", "b");
	EXPECT_TRUE(&scratch, false);
	/* Six wrong expectations, six failures, and execution went on to here. */
	EXPECT_EQ(t, scratch.failures, 6u);
	struct ktest good = {.quiet = true};
	EXPECT_EQ(&good, 2, 2);
	EXPECT_LE(&good, -5, 3);
	EXPECT_STREQ(&good, "same", "same");
	EXPECT_EQ(t, good.failures, 0u);
}

static bool reached_after_assert;

static void assert_aborts_case_body(struct ktest *t)
{
	ASSERT_EQ(t, 1, 1);
	reached_after_assert = true;
}

static void assert_passes_through(struct ktest *t)
{
	reached_after_assert = false;
	assert_aborts_case_body(t);
	EXPECT_TRUE(t, reached_after_assert);
}

static void deliberate_failure(struct ktest *t)
{
	if (!cmdline_has("ktest.fail"))
		KTEST_SKIP(t, "enable with ktest.fail on the command line");
	EXPECT_EQ(t, 2 + 2, 5);
}

static void deliberate_panic(struct ktest *t)
{
	if (!cmdline_has("ktest.panic"))
		KTEST_SKIP(t, "enable with ktest.panic on the command line");
	panic("deliberate_panic: requested by ktest.panic");
}

static void deliberate_hang(struct ktest *t)
{
	if (!cmdline_has("ktest.hang"))
		KTEST_SKIP(t, "enable with ktest.hang on the command line");
	for (;;)
		arch_cpu_idle();
}

static void deliberate_fault(struct ktest *t)
{
	if (!cmdline_has("ktest.fault"))
		KTEST_SKIP(t, "enable with ktest.fault on the command line");
	probe_read((const volatile uint8_t *)0x0000100000000000ull);
}

/* The `ktest=` list: suite globs, "suite.case" globs, several at once. */
static void filter_selects_suites_and_cases(struct ktest *t)
{
	EXPECT_TRUE(t, ktest_filter_selects("*", "tlb", "any_case"));
	EXPECT_TRUE(t, ktest_filter_selects("tlb", "tlb", "any_case"));
	EXPECT_FALSE(t, ktest_filter_selects("tlb", "tlbx", "any_case"));
	EXPECT_TRUE(t, ktest_filter_selects("tlb.*", "tlb", "any_case"));
	EXPECT_TRUE(t, ktest_filter_selects("tlb,mm.stale_*", "tlb", "x"));
	EXPECT_TRUE(t, ktest_filter_selects("tlb,mm.stale_*", "mm", "stale_tlb"));
	EXPECT_FALSE(t, ktest_filter_selects("tlb,mm.stale_*", "mm", "anon_zero_fill"));
	EXPECT_FALSE(t, ktest_filter_selects("mm.stale_*", "gather", "stale_x"));
	EXPECT_TRUE(t, ktest_filter_selects("*.unmap_*", "gather", "unmap_512"));
	EXPECT_TRUE(t, ktest_filter_selects("a,b,c?", "cd", "x"));
	/* Without a '.' a glob names suites only, as single globs always did. */
	EXPECT_FALSE(t, ktest_filter_selects("*fault*", "mm", "protect_faults_writes"));
	EXPECT_TRUE(t, ktest_filter_selects("*fault*", "fault", "x"));
	EXPECT_FALSE(t, ktest_filter_selects("", "tlb", "x"));
	EXPECT_TRUE(t, ktest_glob_selects("ktest.filter_*", "ktest", "filter_selects"));
}

static const struct ktest_case ktest_cases[] = {
	KTEST_CASE(expect_records_and_continues),
	KTEST_CASE(assert_passes_through),
	KTEST_CASE(filter_selects_suites_and_cases),
	KTEST_CASE(deliberate_failure),
	KTEST_CASE(deliberate_panic),
	KTEST_CASE_TIMEOUT(deliberate_hang, 500),
	KTEST_CASE(deliberate_fault),
	KTEST_END,
};
KTEST_SUITE(ktest_suite, "ktest", ktest_cases);
