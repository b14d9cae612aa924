// SPDX-License-Identifier: BSD-2-Clause
/*
 * prof suite: the sampling profiler (kernel/prof.h) charges a tick to the
 * function it interrupted and to that function's caller, whether the
 * function is a leaf (no frame record: its caller is its return link) or
 * not (the caller from its frame record), and counts nothing once stopped.
 * The test CPU runs a loop of its own with interrupts on for
 * PROF_TEST_TICKS of its ticks, nearly all of it inside one function; at
 * least half of them must be charged to that function and its caller (a
 * tick may land in the loop's own code or the callee's call, 14 of 20
 * seen once under a loaded host). A kernel whose symbol table it cannot
 * read (once: UEFI boots, whose loader zero-filled the GOT) counts none;
 * the first case checks that table directly.
 */
#include "kernel/arch.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/prof.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define PROF_TEST_TICKS 20u
#define PROF_TEST_WORK	2000u /* iterations per call: a call's overhead is a sliver of it */

static volatile uint64_t sink;

/* A leaf: no calls, so no frame record on either arch at -O2. */
static __attribute__((noinline)) void prof_test_leaf(unsigned n)
{
	uint64_t x = sink;
	for (unsigned i = 0; i < n; i++)
		x = x * 6364136223846793005ull + i;
	sink = x;
}

/* Not a leaf: it calls the leaf once, then works on its own (its frame record is set up). */
static __attribute__((noinline)) void prof_test_nonleaf(unsigned n)
{
	prof_test_leaf(1);
	uint64_t x = sink;
	for (unsigned i = 0; i < n; i++)
		x = x * 2862933555777941757ull + i;
	sink = x;
}

static __attribute__((noinline)) void prof_test_run_leaf(void)
{
	uint64_t end = READ_ONCE(this_cpu()->ticks) + PROF_TEST_TICKS;
	while (READ_ONCE(this_cpu()->ticks) < end)
		prof_test_leaf(PROF_TEST_WORK);
}

static __attribute__((noinline)) void prof_test_run_nonleaf(void)
{
	uint64_t end = READ_ONCE(this_cpu()->ticks) + PROF_TEST_TICKS;
	while (READ_ONCE(this_cpu()->ticks) < end)
		prof_test_nonleaf(PROF_TEST_WORK);
}

/* Its names: the embedded symbol table (symbols.c) reads, however the kernel was loaded. */
static void symbols_name_a_function(struct ktest *t)
{
	uintptr_t offset = 1;
	const char *name = symbol_lookup((virt_addr_t)prof_test_leaf, &offset);
	ASSERT_TRUE(t, name != NULL);
	EXPECT_STREQ(t, name, "prof_test_leaf");
	EXPECT_EQ(t, offset, 0u);
	name = symbol_lookup((virt_addr_t)prof_test_leaf + 4, &offset);
	ASSERT_TRUE(t, name != NULL);
	EXPECT_STREQ(t, name, "prof_test_leaf");
	EXPECT_EQ(t, offset, 4u);
}

static void charges_a_leaf_and_its_caller(struct ktest *t)
{
	prof_start();
	prof_test_run_leaf();
	prof_stop();
	virt_addr_t leaf = (virt_addr_t)prof_test_leaf, run = (virt_addr_t)prof_test_run_leaf;
	/*
	 * Every tick of the loop lands in it, most in the leaf; a tick just
	 * before or after the loop (a host stall there) may add one each side.
	 */
	EXPECT_GE(t, prof_samples(leaf, run), PROF_TEST_TICKS / 2);
	EXPECT_LE(t, prof_samples(leaf, PROF_ANY) + prof_samples(run, PROF_ANY),
		  PROF_TEST_TICKS + 2);
}

static void charges_a_framed_function_and_its_caller(struct ktest *t)
{
	prof_start();
	prof_test_run_nonleaf();
	prof_stop();
	virt_addr_t nonleaf = (virt_addr_t)prof_test_nonleaf;
	EXPECT_GE(t, prof_samples(nonleaf, (virt_addr_t)prof_test_run_nonleaf),
		  PROF_TEST_TICKS / 2);
}

/* Only the stop itself: the wait for a tick in flight is not something a test can time. */
static void stopped_counts_nothing(struct ktest *t)
{
	prof_start();
	prof_stop();
	/* A tick may have come between the two (any CPU's): only later ones must not count. */
	uint32_t before = prof_samples(PROF_ANY, PROF_ANY);
	prof_test_run_leaf();
	EXPECT_EQ(t, prof_samples(PROF_ANY, PROF_ANY), before);
}

static const struct ktest_case prof_cases[] = {
    KTEST_CASE(symbols_name_a_function),
    KTEST_CASE(charges_a_leaf_and_its_caller),
    KTEST_CASE(charges_a_framed_function_and_its_caller),
    KTEST_CASE(stopped_counts_nothing),
    KTEST_END,
};
/* A case that failed half-way leaves no sampling on for the rest of the suites. */
static void prof_case_exit(struct ktest *t)
{
	(void)t;
	prof_stop();
}

KTEST_SUITE(prof_suite, "prof", prof_cases, .exit = prof_case_exit);
