// SPDX-License-Identifier: BSD-2-Clause
/*
 * QEMU virt, and the default for any device tree Pagoda does not know:
 * secondary CPUs by PSCI CPU_ON (or spin tables when the tree says so),
 * the GICv2 or GICv3 the tree names, PSCI SYSTEM_OFF / SYSTEM_RESET.
 * The early UART is build.mk's EARLY_UART (virt's PL011 by default).
 */
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"

#ifndef AARCH64_EARLY_UART_BASE
#define AARCH64_EARLY_UART_BASE 0x09000000
#endif

static const char *const virt_compatible[] = {"linux,dummy-virt", NULL};

/* A tree that starts its CPUs by spin tables (not virt's own) is followed. */
static bool virt_cpu_start(unsigned cpu, uint64_t mpidr, phys_addr_t boot)
{
	if (fdt_platform.cpu_enable == CPU_ENABLE_SPIN_TABLE)
		return spin_table_cpu_start(cpu, mpidr, boot);
	return psci_cpu_start(cpu, mpidr, boot);
}

static void virt_power_init(void)
{
}

const struct platform_ops platform_virt = {
    .name = "virt",
    .compatible = virt_compatible,
    .early_uart = AARCH64_EARLY_UART_BASE,
    .cpu_part = 0,
    .irqchip = gic_from_dt,
    .cpu_start = virt_cpu_start,
    .power_init = virt_power_init,
    .poweroff = psci_poweroff,
    .reset = psci_reset,
};
