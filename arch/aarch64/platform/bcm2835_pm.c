// SPDX-License-Identifier: BSD-2-Clause
/*
 * Reset and power-off on the Raspberry Pis: the BCM2835 power manager's
 * watchdog ("brcm,bcm2835-pm-wdt", the same block on the BCM2711). Every
 * write carries the PM password in its top byte or is ignored. Reset: arm
 * the watchdog with a short timeout and ask for a full reset in RSTC.
 * Power-off is the same reset with RSTS's partition field at 63, which the
 * firmware reads as "halt" on the next boot (Linux's convention); QEMU run
 * with -no-reboot exits at the reset either way.
 *
 * Invariant: the block is reached only through the vm_map_mmio mapping
 * made by bcm2835_pm_init (arch_init); before that, or without a PM node,
 * poweroff and reset return at once and the caller halts.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

#define PM_RSTC		   0x1C
#define PM_RSTS		   0x20
#define PM_WDOG		   0x24
#define PM_PASSWORD	   0x5A000000u
#define PM_RSTC_WRCFG_MASK 0x30u
#define PM_RSTC_FULL_RESET 0x20u
#define PM_RSTS_HALT	   0x555u /* partition 63, spread over RSTS's even bits */
#define PM_WDOG_TICKS	   10	  /* about 150 us of the watchdog's 65.5 kHz clock */
#define PM_WAIT_NS	   100000000ull

static uintptr_t pm;

void bcm2835_pm_init(void)
{
	if (!fdt_platform.pm_base) {
		printk("power: no PM watchdog in the device tree: reset and power-off halt");
		return;
	}
	pm = (uintptr_t)vm_map_mmio(fdt_platform.pm_base, PAGE_SIZE, "bcm2835 PM watchdog");
}

/* Arms the watchdog for a full reset and waits for it; returns if nothing happened. */
static void pm_full_reset(void)
{
	mmio_write32(pm + PM_WDOG, PM_PASSWORD | PM_WDOG_TICKS);
	uint32_t rstc = mmio_read32(pm + PM_RSTC) & ~PM_RSTC_WRCFG_MASK;
	mmio_write32(pm + PM_RSTC, (rstc & 0xFFFFFFu) | PM_PASSWORD | PM_RSTC_FULL_RESET);
	uint64_t deadline = arch_time_ns() + PM_WAIT_NS;
	while (arch_time_ns() < deadline)
		arch_cpu_relax();
}

void bcm2835_pm_poweroff(void)
{
	if (!pm)
		return;
	printk("power: powering off (PM watchdog, RSTS halt)");
	uint32_t rsts = mmio_read32(pm + PM_RSTS) & 0xFFFFFFu;
	mmio_write32(pm + PM_RSTS, rsts | PM_PASSWORD | PM_RSTS_HALT);
	pm_full_reset();
}

void bcm2835_pm_reset(void)
{
	if (!pm)
		return;
	printk("power: resetting (PM watchdog)");
	pm_full_reset();
}
