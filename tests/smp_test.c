// SPDX-License-Identifier: BSD-2-Clause
/*
 * smp suite: CPU enumeration from firmware (ACPI MADT on x86-64, the
 * device tree on aarch64) agrees with QEMU's -smp, and SMP bring-up put
 * every listed CPU online with its own hardware id.
 */
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/smp.h"
#include "kernel/time.h"
#include "tests/ktest.h"

static void firmware_cpus_match_smp(struct ktest *t)
{
	uint64_t want;
	if (!cmdline_get_u64("test.cpus", &want))
		KTEST_SKIP(t, "no test.cpus= on the command line");
	EXPECT_EQ(t, (uint64_t)boot_info.nr_cpus_firmware, want);
	EXPECT_EQ(t, (uint64_t)boot_info.nr_cpus, MIN(want, (uint64_t)CPU_MAX));
	EXPECT_TRUE(t, boot_info.cpus[0].boot_cpu);
	for (unsigned i = 1; i < boot_info.nr_cpus; i++)
		EXPECT_FALSE(t, boot_info.cpus[i].boot_cpu);
}

static void all_cpus_online(struct ktest *t)
{
	cpumask_t online = cpumask_read(&cpu_online_mask);
	EXPECT_EQ(t, cpumask_weight(online), boot_info.nr_cpus);
	for (unsigned i = 0; i < boot_info.nr_cpus; i++)
		EXPECT_TRUE(t, cpumask_test(online, i));
}

/*
 * The count the boot CPU printed is the online mask: a CPU it gave up on
 * that arrived late parked instead of joining behind the count
 * (smp.test_late makes one late; without the start protocol it would join).
 */
static void online_cpus_were_counted(struct ktest *t)
{
	EXPECT_EQ(t, cpumask_weight(cpumask_read(&cpu_online_mask)), cpu_count);
	for (unsigned i = 1; i < boot_info.nr_cpus; i++)
		EXPECT_EQ(t, cpumask_test(cpumask_read(&cpu_online_mask), i),
			  atomic_load_acquire(&cpus[i].start_state) == CPU_START_JOINING);
}

static uint64_t reported_hw_id[CPU_MAX];
static unsigned reported_cpu_id[CPU_MAX];

static void report_identity(void *arg)
{
	(void)arg;
	unsigned me = arch_cpu_id();
	reported_cpu_id[me] = me;
	reported_hw_id[me] = cpus[me].hw_id;
}

static void distinct_hardware_ids(struct ktest *t)
{
	cpumask_t online = cpumask_read(&cpu_online_mask);
	for (unsigned i = 0; i < CPU_MAX; i++)
		reported_cpu_id[i] = ~0u;
	xcall(online, report_identity, NULL, XCALL_WAIT);
	for_each_cpu(i, online) {
		/* Each CPU answered for itself: its logical id indexes its own slot. */
		EXPECT_EQ(t, reported_cpu_id[i], i);
		EXPECT_EQ(t, reported_hw_id[i], boot_info.cpus[i].hw_id);
		for_each_cpu(j, online) if (j < i) EXPECT_NE(t, reported_hw_id[i], reported_hw_id[j]);
	}
}

static void timer_ticks_on_every_cpu(struct ktest *t)
{
	uint64_t before[CPU_MAX];
	cpumask_t online = cpumask_read(&cpu_online_mask);
	for_each_cpu(i, online) before[i] = READ_ONCE(cpus[i].ticks);
	/* 100 ms at TIMER_HZ = 100 is about 10 ticks; demand at least 3. */
	uint64_t end = arch_time_ns() + 100000000ull;
	while (arch_time_ns() < end)
		arch_cpu_idle();
	for_each_cpu(i, online) EXPECT_GE(t, READ_ONCE(cpus[i].ticks), before[i] + 3);
}

static uint64_t clock_sample[CPU_MAX];

static void sample_clock(void *arg)
{
	(void)arg;
	clock_sample[arch_cpu_id()] = arch_time_ns();
}

static void clock_agrees_across_cpus(struct ktest *t)
{
	cpumask_t online = cpumask_read(&cpu_online_mask);
	uint64_t before = arch_time_ns();
	xcall(online, sample_clock, NULL, XCALL_WAIT);
	uint64_t after = arch_time_ns();
	/* Every CPU's reading lies between ours taken before and after. */
	for_each_cpu(i, online)
	{
		EXPECT_GE(t, clock_sample[i], before);
		EXPECT_LE(t, clock_sample[i], after);
	}
}

static const struct ktest_case cpus_cases[] = {
	KTEST_CASE(firmware_cpus_match_smp),
	KTEST_CASE(all_cpus_online),
	KTEST_CASE(online_cpus_were_counted),
	KTEST_CASE(distinct_hardware_ids),
	KTEST_CASE(timer_ticks_on_every_cpu),
	KTEST_CASE(clock_agrees_across_cpus),
	KTEST_END,
};
KTEST_SUITE(cpus_suite, "smp", cpus_cases);
