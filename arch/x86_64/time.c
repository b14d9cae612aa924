// SPDX-License-Identifier: BSD-2-Clause
/*
 * Time on x86-64: the TSC is the clock (QEMU keeps it in step on every
 * CPU), calibrated once against PIT channel 2, whose 1.193182 MHz input is
 * fixed by the platform. The same 10 ms window calibrates the LAPIC timer.
 *
 * ns = ((tsc - tsc_at_boot) * tsc_mult) >> 32 avoids a division per read
 * and needs no 128-bit division from libgcc.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

#define PIT_HZ 1193182u
#define CALIBRATION_MS 10u

static uint64_t tsc_at_boot;
static uint64_t tsc_mult;
uint64_t x86_tsc_hz;

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
		if (spins > 100000000ull)
			panic("pit_wait_ms: PIT channel 2 never expired");
}

void x86_time_calibrate(void)
{
	x86_apic_write(0x3E0, 0x3); /* LAPIC timer: divide by 16 */
	x86_apic_write(0x320, 1u << 16); /* masked, one-shot */
	x86_apic_write(0x380, 0xFFFFFFFFu);
	uint64_t t0 = rdtsc();
	pit_wait_ms(CALIBRATION_MS);
	uint64_t t1 = rdtsc();
	uint32_t apic_elapsed = 0xFFFFFFFFu - x86_apic_read(0x390);
	x86_apic_write(0x380, 0);

	x86_tsc_hz = (t1 - t0) * (1000 / CALIBRATION_MS);
	if (x86_tsc_hz < 1000000)
		panic("x86_time_calibrate: TSC runs at %lu Hz, too slow to be a clock",
		      (unsigned long)x86_tsc_hz);
	tsc_mult = (1000000000ull << 32) / x86_tsc_hz;
	tsc_at_boot = t0;
	x86_apic_timer_count = apic_elapsed * (1000 / CALIBRATION_MS) / TIMER_HZ;
	if (x86_apic_timer_count == 0)
		panic("x86_time_calibrate: LAPIC timer did not count");
	printk("time: TSC %lu kHz, LAPIC timer %u counts per %u Hz tick",
	       (unsigned long)(x86_tsc_hz / 1000), x86_apic_timer_count, TIMER_HZ);
}

uint64_t arch_time_ns(void)
{
	if (!tsc_mult)
		return 0;
	uint64_t delta = rdtsc() - tsc_at_boot;
	return (uint64_t)(((unsigned __int128)delta * tsc_mult) >> 32);
}
