// SPDX-License-Identifier: BSD-2-Clause
/*
 * ktest suite: the framework checks itself. EXPECT records and continues,
 * ASSERT aborts the case; the comparison macros report correct operands.
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
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "tests/ktest.h"

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

static const struct ktest_case ktest_cases[] = {
	KTEST_CASE(expect_records_and_continues),
	KTEST_CASE(assert_passes_through),
	KTEST_CASE(deliberate_failure),
	KTEST_CASE(deliberate_panic),
	KTEST_CASE_TIMEOUT(deliberate_hang, 500),
	KTEST_CASE(deliberate_fault),
	KTEST_END,
};
KTEST_SUITE(ktest_suite, "ktest", ktest_cases);
