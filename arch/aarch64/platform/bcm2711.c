// SPDX-License-Identifier: BSD-2-Clause
/*
 * Raspberry Pi 4 Model B (BCM2711, 4 x Cortex-A72): RAM from 0, the
 * peripherals at 0xFC000000 (PL011 UART0 at 0xFE201000 by the firmware's
 * and QEMU's convention, the early UART; the mini UART at 0xFE215040, the
 * header's console, beside it), a GIC-400 (the GICv2 driver),
 * secondaries by spin tables, reset and power-off by the PM watchdog.
 */
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/printk.h"

static const char *const bcm2711_compatible[] = {"raspberrypi,4-model-b", "brcm,bcm2711", NULL};

static const struct gic_ops *bcm2711_irqchip(void)
{
	if (fdt_platform.gic_version != 2)
		panic("bcm2711_irqchip: the device tree names no GIC-400 (arm,gic-400)");
	return gic_from_dt();
}

/* The mini UART where the firmware and QEMU put it (AUX at +0x215000), until the tree says. */
static void bcm2711_early_console(void)
{
	bcm2835_aux_uart_early(0xFE215040);
}

const struct platform_ops platform_bcm2711 = {
    .name = "bcm2711 (Raspberry Pi 4)",
    .compatible = bcm2711_compatible,
    .early_uart = 0xFE201000,
    .uart_clock_hz = 48000000, /* the firmware's init_uart_clock default */
    .cpu_part = 0xD08,	       /* Cortex-A72 */
    .early_console_init = bcm2711_early_console,
    .console_init = bcm2835_aux_uart_console_init,
    .irqchip = bcm2711_irqchip,
    .cpu_start = spin_table_cpu_start,
    .power_init = bcm2835_pm_init,
    .poweroff = bcm2835_pm_poweroff,
    .reset = bcm2835_pm_reset,
};
