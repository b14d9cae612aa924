// SPDX-License-Identifier: BSD-2-Clause
/*
 * Time on x86-64: the TSC is the clock (QEMU keeps it in step on every
 * CPU), its rate measured at boot (the median of five windows) against
 * the best clock the machine describes: CPUID leaf 0x15 when the CPU
 * states the TSC's crystal ratio, else the HPET or the ACPI PM timer (both found in the ACPI tables, both
 * fixed-rate by specification), else PIT channel 2, whose 1.193182 MHz
 * input every PC has. A real PC may lack the PIT's speaker gate or have
 * it emulated badly (SMM), which is why it is the last resort. The LAPIC
 * timer is measured against the TSC in the same window. Counter reads are
 * bracketed by TSC reads (clock_sample), so a read that stalls cannot
 * stretch a window.
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
#define SAMPLE_TRIES	    8u /* bracketed reads per clock sample, the narrowest kept */
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

/* A counter clock (HPET or PM timer) read once: its value, and how many ns one count is. */
static uint64_t counter_read(enum x86_clock clock)
{
	if (clock == X86_CLOCK_HPET)
		return mmio_read64(hpet + HPET_COUNTER);
	return inl(pm_timer_port) & pm_timer_mask;
}

/* Nanoseconds in `counts` of a counter clock (no overflow below 10^9 s of counts). */
static uint64_t counter_ns(enum x86_clock clock, uint64_t counts)
{
	if (clock == X86_CLOCK_HPET)
		return counts * (hpet_period_fs / 1000) / 1000; /* fs -> ps, then ps -> ns */
	return counts * 1000000000ull / PM_TIMER_HZ;
}

static uint64_t counter_delta(enum x86_clock clock, uint64_t from, uint64_t to)
{
	return clock == X86_CLOCK_HPET ? to - from : (to - from) & pm_timer_mask;
}

/*
 * A reading of a counter clock paired with the TSC: the read bracketed by
 * two TSC reads, the narrowest bracket of SAMPLE_TRIES kept, the TSC taken
 * at its middle. A read that waits (QEMU's device lock, a host that
 * preempts the vCPU) widens only its own bracket, so it cannot stretch a
 * measurement window the way "read the TSC, then the clock" can.
 */
struct clock_sample {
	uint64_t tsc, count;
};

static struct clock_sample clock_sample(uint64_t (*read)(enum x86_clock), enum x86_clock clock)
{
	struct clock_sample best = {0};
	uint64_t narrowest = ~0ull;
	for (unsigned i = 0; i < SAMPLE_TRIES; i++) {
		uint64_t before = rdtsc(), v = read(clock), after = rdtsc();
		if (after - before < narrowest) {
			narrowest = after - before;
			best = (struct clock_sample){before + (after - before) / 2, v};
		}
	}
	return best;
}

/* The TSC's rate over at least `ms` of a counter clock, from two bracketed samples. */
static uint64_t counter_measure_tsc(enum x86_clock clock, unsigned ms)
{
	struct clock_sample a = clock_sample(counter_read, clock), b;
	uint64_t spins = 0;
	do {
		if (++spins > CLOCK_SPIN_MAX)
			panic("counter_measure_tsc: the %s does not advance", x86_clock_names[clock]);
		b = clock_sample(counter_read, clock);
	} while (counter_ns(clock, counter_delta(clock, a.count, b.count)) < ms * 1000000ull);
	uint64_t ns = counter_ns(clock, counter_delta(clock, a.count, b.count));
	return (b.tsc - a.tsc) * 1000000000ull / ns;
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

bool x86_clock_measure_tsc(enum x86_clock clock, unsigned ms, uint64_t *hz)
{
	if (!clock_present(clock))
		return false;
	switch (clock) {
	case X86_CLOCK_CPUID15:
		*hz = cpuid15_tsc_hz();
		return true;
	case X86_CLOCK_HPET:
	case X86_CLOCK_PMTIMER:
		*hz = counter_measure_tsc(clock, ms);
		return true;
	default: {
		/* The PIT is a one-shot here (no counter read): the wait bounds the window. */
		uint64_t t0 = rdtsc();
		pit_wait_ms(ms);
		*hz = (rdtsc() - t0) * 1000 / ms;
		return true;
	}
	}
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

static uint64_t apic_timer_read(enum x86_clock unused)
{
	(void)unused;
	return x86_apic_read(0x390); /* current count */
}

/*
 * One calibration window of CALIBRATION_MS of `clock`: the TSC's rate, and
 * the LAPIC timer's counts (divide by 16) per tick, its count read against
 * the TSC with bracketed samples as well.
 */
static void calibration_window(enum x86_clock clock, uint64_t *tsc_hz, uint64_t *apic_per_tick)
{
	x86_apic_write(0x380, 0xFFFFFFFFu);
	struct clock_sample a = clock_sample(apic_timer_read, clock);
	if (clock == X86_CLOCK_CPUID15) {
		tsc_wait_ms(CALIBRATION_MS); /* the rate is stated; the window times the LAPIC */
		*tsc_hz = x86_tsc_hz;
	} else {
		x86_clock_measure_tsc(clock, CALIBRATION_MS, tsc_hz);
	}
	struct clock_sample b = clock_sample(apic_timer_read, clock);
	x86_apic_write(0x380, 0);
	*apic_per_tick = (a.count - b.count) * *tsc_hz / (b.tsc - a.tsc) / TIMER_HZ;
}

/* The index of a window whose TSC rate is the median of CALIBRATION_WINDOWS. */
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
	uint64_t hz[CALIBRATION_WINDOWS], apic[CALIBRATION_WINDOWS];
	uint64_t t0 = rdtsc(); /* time 0 */
	calibration_window(x86_clock_used, &hz[0], &apic[0]);
	for (unsigned i = 0; i < CALIBRATION_WINDOWS; i++)
		calibration_window(x86_clock_used, &hz[i], &apic[i]);
	unsigned m = median_window(hz);

	if (x86_clock_used != X86_CLOCK_CPUID15)
		x86_tsc_hz = hz[m];
	if (x86_tsc_hz < 1000000)
		panic("x86_time_calibrate: TSC runs at %lu Hz, too slow to be a clock",
		      (unsigned long)x86_tsc_hz);
	tsc_mult = (1000000000ull << 32) / x86_tsc_hz;
	tsc_at_boot = t0;
	x86_apic_timer_count = (uint32_t)apic[m];
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
