// SPDX-License-Identifier: BSD-2-Clause
/*
 * Leaving the machine. First choice: semihosting SYS_EXIT (QEMU
 * -semihosting, on virt and on the Raspberry Pis alike), whose A64 form
 * takes a block {reason, subcode}; with reason ADP_Stopped_ApplicationExit
 * QEMU exits with status `subcode`, so the host sees 0, 1 or 2 (enum
 * exit_status). Without a semihosting host the call returns (firmware.S)
 * and the board powers off (PSCI SYSTEM_OFF on virt, the PM watchdog on
 * the Pis; QEMU then exits 0, so the status is lost); failing that the
 * CPU halts.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

#define SEMIHOSTING_SYS_EXIT	     0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

void arch_exit(enum exit_status status)
{
	arch_irq_disable();
	const uint64_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint64_t)status};
	aarch64_semihosting_call(SEMIHOSTING_SYS_EXIT, block);
	platform->poweroff();
	arch_cpu_halt();
}

__noreturn void arch_poweroff(void)
{
	arch_irq_disable();
	platform->poweroff();
	printk("power: the %s power-off did not act: halting", platform->name);
	arch_cpu_halt();
}

__noreturn void arch_reset(void)
{
	arch_irq_disable();
	platform->reset();
	printk("power: the %s reset did not act: halting", platform->name);
	arch_cpu_halt();
}
