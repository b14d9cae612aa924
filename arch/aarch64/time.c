// SPDX-License-Identifier: BSD-2-Clause
/*
 * Time on aarch64: the generic timer. The clock is the virtual counter
 * CNTVCT_EL0 (the same on every CPU: CNTVOFF_EL2 is zeroed when we enter
 * at EL2, and firmware keeps it uniform otherwise), at CNTFRQ_EL0 Hz. The
 * tick is each CPU's EL1 virtual timer (CNTV_*), a PPI whose number comes
 * from the device tree's arm,armv8-timer node (INTID 27 on QEMU virt).
 *
 * ns = ((cnt - cnt_at_boot) * ns_mult) >> 32, like x86's TSC: no division
 * per read and no 128-bit division from libgcc (the widening multiply is
 * inline: mul + umulh).
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

#define CNTV_CTL_ENABLE (1u << 0)

static uint64_t cnt_hz;
static uint64_t cnt_at_boot;
static uint64_t ns_mult;
static uint64_t tick_counts; /* counter ticks per timer tick */
static unsigned timer_intid;

static inline uint64_t counter(void)
{
	/* isb: without it the counter read may be taken early, out of program order. */
	isb();
	return read_sysreg(cntvct_el0);
}

void aarch64_time_init(void)
{
	cnt_hz = read_sysreg(cntfrq_el0) & 0xFFFFFFFFu;
	if (cnt_hz < 1000000)
		return; /* reported by arch_init, once the console can say it */
	ns_mult = (1000000000ull << 32) / cnt_hz;
	tick_counts = cnt_hz / TIMER_HZ;
	cnt_at_boot = counter();
}

uint64_t aarch64_timer_hz(void)
{
	return cnt_hz;
}

uint64_t arch_time_ns(void)
{
	if (!ns_mult)
		return 0;
	uint64_t delta = counter() - cnt_at_boot;
	return (uint64_t)(((unsigned __int128)delta * ns_mult) >> 32);
}

unsigned aarch64_timer_intid(void)
{
	if (!timer_intid) {
		if (!ns_mult)
			panic(
			    "aarch64_time: CNTFRQ_EL0 is %lu Hz: firmware did not set the counter "
			    "frequency",
			    (unsigned long)cnt_hz);
		if (fdt_platform.timer_ppi_virt >= 16)
			panic("aarch64_time: timer PPI %u from the device tree is not a PPI (0-15)",
			      fdt_platform.timer_ppi_virt);
		timer_intid = fdt_platform.timer_ppi_virt + 16;
	}
	return timer_intid;
}

void aarch64_timer_rearm(void)
{
	write_sysreg(cntv_tval_el0, tick_counts);
	/* The new compare value must lower the timer's level before the EOI. */
	isb();
}

void arch_timer_start(void)
{
	unsigned intid = aarch64_timer_intid();
	write_sysreg(cntv_tval_el0, tick_counts);
	write_sysreg(cntv_ctl_el0, CNTV_CTL_ENABLE);
	isb();
	gic_enable_ppi(intid);
}
