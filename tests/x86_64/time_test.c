// SPDX-License-Identifier: BSD-2-Clause
/*
 * time suite (x86-64): every clock the machine offers (CPUID 0x15, HPET,
 * ACPI PM timer, PIT) measures the same TSC rate as the boot's
 * calibration, so whichever one a real PC leaves Pagoda with, time runs
 * at the right speed. Under QEMU all of them follow the virtual clock, so
 * they agree within a fraction of a percent unless the host preempts the
 * vCPU inside a measurement window; the best of five windows is used.
 * The LAPIC timer, calibrated at boot, must count at QEMU's fixed rate
 * within 1%.
 */
#include "arch/x86_64/x86.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "tests/ktest.h"

#define WINDOW_MS     20
#define TRIES	      5
#define TOLERANCE_PCT 3ull

static void every_clock_agrees_on_the_tsc_rate(struct ktest *t)
{
	unsigned measured = 0;
	for (enum x86_clock c = 0; c < X86_CLOCK_COUNT; c++) {
		uint64_t best = ~0ull, hz = 0;
		bool present = false;
		for (unsigned i = 0; i < TRIES && best > x86_tsc_hz / 1000; i++) {
			uint64_t h;
			if (!x86_clock_measure_tsc(c, WINDOW_MS, &h))
				break;
			present = true;
			uint64_t off = h > x86_tsc_hz ? h - x86_tsc_hz : x86_tsc_hz - h;
			if (off < best) {
				best = off;
				hz = h;
			}
		}
		if (!present)
			continue;
		measured++;
		printk("time: %s: TSC %llu kHz (boot: %llu kHz, from the %s)", x86_clock_names[c],
		       (unsigned long long)hz / 1000, (unsigned long long)x86_tsc_hz / 1000,
		       x86_clock_names[x86_clock_used]);
		EXPECT_LE(t, best * 100, x86_tsc_hz * (uint64_t)TOLERANCE_PCT);
	}
	/* q35 has an HPET (unless -machine hpet=off), a PM timer and a PIT. */
	EXPECT_GE(t, measured, 2u);
}

/* QEMU's local APIC timer counts at 1 GHz before its divider (hw/intc/apic.c): /16 here. */
#define QEMU_LAPIC_COUNTS_PER_TICK (1000000000u / 16u / TIMER_HZ)

static void lapic_timer_matches_qemus_rate(struct ktest *t)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (!(c & (1u << 31)))
		KTEST_SKIP(t, "not under a hypervisor: the LAPIC timer's rate is the board's");
	uint64_t want = QEMU_LAPIC_COUNTS_PER_TICK, got = x86_apic_timer_count;
	printk("time: LAPIC timer %llu counts per tick, QEMU's rate gives %llu",
	       (unsigned long long)got, (unsigned long long)want);
	EXPECT_LE(t, (got > want ? got - want : want - got) * 100, want); /* within 1% */
}

static const struct ktest_case time_cases[] = {
	KTEST_CASE(lapic_timer_matches_qemus_rate),
	KTEST_CASE_TIMEOUT(every_clock_agrees_on_the_tsc_rate, 10000),
	KTEST_END,
};
KTEST_SUITE(time_suite, "time", time_cases);
