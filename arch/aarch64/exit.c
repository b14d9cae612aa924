// SPDX-License-Identifier: BSD-2-Clause
/*
 * Leaving the machine. First choice: semihosting SYS_EXIT (QEMU
 * -semihosting), whose A64 form takes a block {reason, subcode}; with
 * reason ADP_Stopped_ApplicationExit QEMU exits with status `subcode`, so
 * the host sees 0, 1 or 2 (enum exit_status). Without a semihosting host
 * the call returns (firmware.S) and PSCI SYSTEM_OFF powers off (QEMU then
 * exits 0, so the status is lost); without PSCI the CPU halts.
 */
#include "arch/aarch64/aarch64.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

#define SEMIHOSTING_SYS_EXIT	     0x18
#define ADP_STOPPED_APPLICATION_EXIT 0x20026
#define PSCI_SYSTEM_OFF		     0x84000008
#define PSCI_SYSTEM_RESET	     0x84000009

void arch_exit(enum exit_status status)
{
	arch_irq_disable();
	const uint64_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint64_t)status};
	aarch64_semihosting_call(SEMIHOSTING_SYS_EXIT, block);
	aarch64_psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	arch_cpu_halt();
}

__noreturn void arch_poweroff(void)
{
	arch_irq_disable();
	printk("power: powering off (PSCI SYSTEM_OFF)");
	int64_t err = aarch64_psci_call(PSCI_SYSTEM_OFF, 0, 0, 0);
	printk("power: PSCI SYSTEM_OFF returned %s: halting", aarch64_psci_error(err));
	arch_cpu_halt();
}

__noreturn void arch_reset(void)
{
	arch_irq_disable();
	printk("power: resetting (PSCI SYSTEM_RESET)");
	int64_t err = aarch64_psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
	printk("power: PSCI SYSTEM_RESET returned %s: halting", aarch64_psci_error(err));
	arch_cpu_halt();
}
