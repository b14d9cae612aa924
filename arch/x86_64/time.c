// SPDX-License-Identifier: BSD-2-Clause
/*
 * Time on x86-64: the TSC is the clock (QEMU keeps it in step on every
 * CPU), its rate measured at boot (the median of five windows) against
 * the best clock the machine describes: CPUID leaf 0x15 when the CPU states the TSC's crystal ratio,
 * else the HPET or the ACPI PM timer (both found in the ACPI tables, both
 * fixed-rate by specification), else PIT channel 2, whose 1.193182 MHz
 * input every PC has. A real PC may lack the PIT's speaker gate or have
 * it emulated badly (SMM), which is why it is the last resort. The LAPIC
 * timer is measured against the TSC in the same window.
 * `time.source=` forces a clock, for tests and odd machines.
 *
 * ns = ((tsc - tsc_at_boot) * tsc_mult) >> 32 avoids a division per read
 * and needs no 128-bit division from libgcc.
 */
#include "arch/x86_64/x86.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/mmio.h"
#include "kernel/printk.h"

#define PIT_HZ		1193182u
#define PM_TIMER_HZ	3579545u
#define CALIBRATION_MS	10u
#define CALIBRATION_WINDOWS 5u /* odd, so that one is the median */
#define HPET_CAP	0x000 /* bits 63:32: counter period in femtoseconds; bit 13: 64-bit */
#define HPET_CONFIG	0x010 /* bit 0: counter enabled */
#define HPET_COUNTER	0x0f0
#define CLOCK_SPIN_MAX	100000000ull /* polls before a clock is declared stuck */

static uint64_t tsc_at_boot;
static uint64_t tsc_mult;
uint64_t x86_tsc_hz;
enum x86_clock x86_clock_used;
const char *const x86_clock_names[X86_CLOCK_COUNT] = {"CPUID 0x15", "HPET", "ACPI PM timer",
						       "PIT"};

CMDLINE_PARAM(time_source_param, .key = "time.source", .kind = CMDLINE_ENUM,
	      .values = "auto|cpuid|hpet|pmtimer|pit", .def = "auto",
	      .help = "x86-64: clock the TSC and LAPIC timer are calibrated against");

/* Programs PIT channel 2 for a one-shot of `ms` and waits for it to expire. */
static void pit_wait_ms(unsigned ms)
{
	uint32_t count = PIT_HZ * ms / 1000;
	uint8_t gate = inb(0x61);
	outb(0x61, (uint8_t)((gate & ~0x02) | 0x01)); /* gate on, speaker off */
	outb(0x43, 0xB0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	/* Restart the count by toggling the gate. */
	gate = inb(0x61);
	outb(0x61, (uint8_t)(gate & ~0x01));
	outb(0x61, (uint8_t)(gate | 0x01));
	for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > CLOCK_SPIN_MAX)
			panic("pit_wait_ms: PIT channel 2 never expired");
}

static volatile uint8_t *hpet;
static uint64_t hpet_period_fs;
static uint16_t pm_timer_port;
static uint32_t pm_timer_mask;

/* Finds the HPET and the PM timer in the ACPI tables (once); a bad table is named and skipped. */
static void clocks_probe(void)
{
	static bool probed;
	if (probed)
		return;
	probed = true;
	char err[128];
	const struct acpi_sdt_header *t = acpi_find_table("HPET");
	phys_addr_t base;
	if (t && !acpi_hpet_parse(t, &base, err, sizeof(err)))
		printk("time: %s; HPET not used", err);
	else if (t && (hpet = vm_map_mmio(base, PAGE_SIZE, "HPET")) != NULL) {
		hpet_period_fs = mmio_read64(hpet + HPET_CAP) >> 32;
		/* The specification bounds the period: at most 100 ns, never 0. */
		if (hpet_period_fs == 0 || hpet_period_fs > 100000000ull) {
			printk("time: HPET period %llu fs out of range; HPET not used",
			       (unsigned long long)hpet_period_fs);
			hpet = NULL;
		} else {
			mmio_write64(hpet + HPET_CONFIG, mmio_read64(hpet + HPET_CONFIG) | 1);
		}
	}
	struct acpi_fadt_info f;
	t = acpi_find_table("FACP");
	if (t && !acpi_fadt_parse(t, &f, err, sizeof(err)))
		printk("time: %s; ACPI PM timer not used", err);
	else if (t && f.pm_tmr && f.pm_tmr <= 0xffff) {
		pm_timer_port = (uint16_t)f.pm_tmr;
		pm_timer_mask = f.pm_tmr_32bit ? 0xffffffffu : 0xffffffu;
	}
}

/* The TSC's rate from CPUID 0x15 (crystal Hz * EBX / EAX), or 0 where it is not stated. */
static uint64_t cpuid15_tsc_hz(void)
{
	uint32_t max, a, b, c, d;
	cpuid(0, 0, &max, &b, &c, &d);
	if (max < 0x15)
		return 0;
	cpuid(0x15, 0, &a, &b, &c, &d);
	return a && b && c ? (uint64_t)c * b / a : 0;
}

static void hpet_wait_ms(unsigned ms)
{
	uint64_t ticks = (uint64_t)ms * 1000000000000ull / hpet_period_fs;
	uint64_t start = mmio_read64(hpet + HPET_COUNTER);
	for (uint64_t spins = 0; mmio_read64(hpet + HPET_COUNTER) - start < ticks; spins++)
		if (spins > CLOCK_SPIN_MAX)
			panic("hpet_wait_ms: the HPET counter does not advance");
}

static void pm_timer_wait_ms(unsigned ms)
{
	uint32_t ticks = PM_TIMER_HZ / 1000 * ms;
	uint32_t start = inl(pm_timer_port) & pm_timer_mask;
	for (uint64_t spins = 0; ((inl(pm_timer_port) - start) & pm_timer_mask) < ticks; spins++)
		if (spins > CLOCK_SPIN_MAX)
			panic("pm_timer_wait_ms: the ACPI PM timer does not advance");
}

static void tsc_wait_ms(unsigned ms)
{
	uint64_t end = rdtsc() + x86_tsc_hz / 1000 * ms;
	while (rdtsc() < end)
		arch_cpu_relax();
}

static bool clock_present(enum x86_clock clock)
{
	clocks_probe();
	switch (clock) {
	case X86_CLOCK_CPUID15: return cpuid15_tsc_hz() != 0;
	case X86_CLOCK_HPET: return hpet != NULL;
	case X86_CLOCK_PMTIMER: return pm_timer_port != 0;
	default: return true;
	}
}

static void clock_wait_ms(enum x86_clock clock, unsigned ms)
{
	switch (clock) {
	case X86_CLOCK_HPET: hpet_wait_ms(ms); break;
	case X86_CLOCK_PMTIMER: pm_timer_wait_ms(ms); break;
	case X86_CLOCK_PIT: pit_wait_ms(ms); break;
	default: tsc_wait_ms(ms); break; /* CPUID 0x15: the TSC's rate is already known */
	}
}

bool x86_clock_measure_tsc(enum x86_clock clock, unsigned ms, uint64_t *hz)
{
	if (!clock_present(clock))
		return false;
	if (clock == X86_CLOCK_CPUID15) {
		*hz = cpuid15_tsc_hz();
		return true;
	}
	uint64_t t0 = rdtsc();
	clock_wait_ms(clock, ms);
	*hz = (rdtsc() - t0) * 1000 / ms;
	return true;
}

/* The clock time.source= asks for, or the best one present. */
static enum x86_clock clock_choose(void)
{
	static const enum x86_clock forced[] = {X86_CLOCK_COUNT, X86_CLOCK_CPUID15, X86_CLOCK_HPET,
						X86_CLOCK_PMTIMER, X86_CLOCK_PIT};
	enum x86_clock want = forced[cmdline_enum("time.source")];
	if (want != X86_CLOCK_COUNT) {
		if (clock_present(want))
			return want;
		printk("time: time.source asks for the %s, which this machine does not have",
		       x86_clock_names[want]);
	}
	enum x86_clock c = X86_CLOCK_CPUID15;
	while (!clock_present(c))
		c++; /* the PIT is always present */
	return c;
}

/*
 * One calibration window: TSC ticks and LAPIC timer counts (divide by 16)
 * over CALIBRATION_MS of `clock`.
 */
static void calibration_window(enum x86_clock clock, uint64_t *tsc, uint32_t *apic)
{
	x86_apic_write(0x380, 0xFFFFFFFFu);
	uint64_t t0 = rdtsc();
	clock_wait_ms(clock, CALIBRATION_MS);
	*tsc = rdtsc() - t0;
	*apic = 0xFFFFFFFFu - x86_apic_read(0x390);
	x86_apic_write(0x380, 0);
}

/* The index of a window whose TSC count is the median of CALIBRATION_WINDOWS. */
static unsigned median_window(const uint64_t *tsc)
{
	for (unsigned i = 0; i < CALIBRATION_WINDOWS; i++) {
		unsigned below = 0, equal = 0;
		for (unsigned j = 0; j < CALIBRATION_WINDOWS; j++) {
			below += tsc[j] < tsc[i];
			equal += tsc[j] == tsc[i];
		}
		if (below <= CALIBRATION_WINDOWS / 2 && below + equal > CALIBRATION_WINDOWS / 2)
			return i;
	}
	return 0; /* not reached: one of them is the median */
}

void x86_time_calibrate(void)
{
	x86_clock_used = clock_choose();
	x86_apic_write(0x3E0, 0x3); /* LAPIC timer: divide by 16 */
	x86_apic_write(0x320, 1u << 16); /* masked, one-shot */
	if (x86_clock_used == X86_CLOCK_CPUID15)
		x86_tsc_hz = cpuid15_tsc_hz(); /* then the window below is timed by the TSC */
	/*
	 * One window to warm up (cold caches and, under QEMU, translating this
	 * code cost 1-2% of a window), then CALIBRATION_WINDOWS kept, of which
	 * the median counts: a host that preempts the vCPU between reading the
	 * TSC and the reference clock stretches one window by whole
	 * milliseconds (seen: 19%), and the median ignores up to two of those.
	 */
	uint64_t tsc_elapsed[CALIBRATION_WINDOWS], t0[CALIBRATION_WINDOWS];
	uint32_t apic_elapsed[CALIBRATION_WINDOWS];
	calibration_window(x86_clock_used, &tsc_elapsed[0], &apic_elapsed[0]);
	for (unsigned i = 0; i < CALIBRATION_WINDOWS; i++) {
		t0[i] = rdtsc();
		calibration_window(x86_clock_used, &tsc_elapsed[i], &apic_elapsed[i]);
	}
	unsigned m = median_window(tsc_elapsed);

	if (x86_clock_used != X86_CLOCK_CPUID15)
		x86_tsc_hz = tsc_elapsed[m] * (1000 / CALIBRATION_MS);
	if (x86_tsc_hz < 1000000)
		panic("x86_time_calibrate: TSC runs at %lu Hz, too slow to be a clock",
		      (unsigned long)x86_tsc_hz);
	tsc_mult = (1000000000ull << 32) / x86_tsc_hz;
	tsc_at_boot = t0[0];
	x86_apic_timer_count = apic_elapsed[m] * (1000 / CALIBRATION_MS) / TIMER_HZ;
	if (x86_apic_timer_count == 0)
		panic("x86_time_calibrate: LAPIC timer did not count");
	printk("time: TSC %lu kHz, LAPIC timer %u counts per %u Hz tick, measured against the %s",
	       (unsigned long)(x86_tsc_hz / 1000), x86_apic_timer_count, TIMER_HZ,
	       x86_clock_names[x86_clock_used]);
}

uint64_t arch_time_ns(void)
{
	if (!tsc_mult)
		return 0;
	uint64_t delta = rdtsc() - tsc_at_boot;
	return (uint64_t)(((unsigned __int128)delta * tsc_mult) >> 32);
}
