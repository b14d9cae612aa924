// SPDX-License-Identifier: BSD-2-Clause
/*
 * exceptions suite: a breakpoint trap returns to the next instruction; a
 * fault inside a test fixture (ktest_expect_fault) is caught and described
 * (kind, address, access) instead of being fatal; the fixture is one-shot
 * and leaves nothing armed behind it.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "tests/ktest.h"

/* Canonical, below the kernel, and never mapped by the boot tables on either arch. */
#define UNMAPPED_VA ((uintptr_t)0x0000100000000000ull)

static void breakpoint_returns(struct ktest *t)
{
	unsigned me = arch_cpu_id();
	uint64_t before = breakpoints_resumed[me];
	volatile int after_trap = 0;
	arch_breakpoint();
	after_trap = 1;
	EXPECT_EQ(t, breakpoints_resumed[me], before + 1);
	EXPECT_EQ(t, after_trap, 1);
}

static void read_unmapped(void *arg)
{
	(void)arg;
	probe_read((const volatile uint8_t *)UNMAPPED_VA);
}

static void write_unmapped(void *arg)
{
	(void)arg;
	probe_write((volatile uint8_t *)(UNMAPPED_VA + 0x123), 1);
}

static void expected_read_fault_is_caught(struct ktest *t)
{
	struct fault_info info = {0};
	ASSERT_TRUE(t, ktest_expect_fault(read_unmapped, NULL, &info));
	EXPECT_EQ(t, (int)info.kind, (int)FAULT_PAGE);
	EXPECT_EQ(t, info.address, UNMAPPED_VA);
	EXPECT_FALSE(t, info.write);
	EXPECT_FALSE(t, info.exec);
	ktest_log(t, "caught %s at pc %#lx", info.name, (unsigned long)info.pc);
}

static void expected_write_fault_is_caught(struct ktest *t)
{
	struct fault_info info = {0};
	ASSERT_TRUE(t, ktest_expect_fault(write_unmapped, NULL, &info));
	EXPECT_EQ(t, (int)info.kind, (int)FAULT_PAGE);
	EXPECT_EQ(t, info.address, UNMAPPED_VA + 0x123);
	EXPECT_TRUE(t, info.write);
}

static void do_nothing(void *arg)
{
	*(int *)arg = 42;
}

static void fixture_without_fault_returns_false(struct ktest *t)
{
	int v = 0;
	struct fault_info info = {0};
	EXPECT_FALSE(t, ktest_expect_fault(do_nothing, &v, &info));
	EXPECT_EQ(t, v, 42);
	EXPECT_TRUE(t, thread_current()->fault_fixup == NULL);
}

static void trap_in_fixture(void *arg)
{
	(void)arg;
	arch_breakpoint();
}

static void breakpoint_in_fixture_is_reported(struct ktest *t)
{
	struct fault_info info = {0};
	ASSERT_TRUE(t, ktest_expect_fault(trap_in_fixture, NULL, &info));
	EXPECT_EQ(t, (int)info.kind, (int)FAULT_BREAKPOINT);
	/* And the fixture disarmed itself. */
	EXPECT_TRUE(t, thread_current()->fault_fixup == NULL);
}

static void faults_in_a_row(struct ktest *t)
{
	/* Recovery must leave the CPU able to take the next fault. */
	for (int i = 0; i < 20; i++) {
		struct fault_info info = {0};
		ASSERT_TRUE(t, ktest_expect_fault(i & 1 ? write_unmapped : read_unmapped, NULL,
						  &info));
		EXPECT_EQ(t, (int)info.kind, (int)FAULT_PAGE);
	}
	EXPECT_TRUE(t, arch_irq_enabled());
}

static const struct ktest_case exceptions_cases[] = {
	KTEST_CASE(breakpoint_returns),
	KTEST_CASE(expected_read_fault_is_caught),
	KTEST_CASE(expected_write_fault_is_caught),
	KTEST_CASE(fixture_without_fault_returns_false),
	KTEST_CASE(breakpoint_in_fixture_is_reported),
	KTEST_CASE(faults_in_a_row),
	KTEST_END,
};
KTEST_SUITE(exceptions_suite, "exceptions", exceptions_cases);
