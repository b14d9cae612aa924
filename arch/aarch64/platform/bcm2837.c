// SPDX-License-Identifier: BSD-2-Clause
/*
 * Raspberry Pi 3 Model B (BCM2837, 4 x Cortex-A53): RAM from 0, the
 * peripherals at 0x3F000000 (PL011 UART0 at 0x3F201000, the early UART;
 * the mini UART at 0x3F215040, the header's console, beside it),
 * no GIC: the BCM2836 ARM local controller at 0x40000000 takes the timer
 * and the IPIs (mailboxes), secondaries by spin tables, reset and
 * power-off by the PM watchdog, the screen from the VideoCore mailbox.
 */
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/printk.h"

static const char *const bcm2837_compatible[] = {"raspberrypi,3-model-b", "brcm,bcm2837", NULL};

static const struct gic_ops *bcm2837_irqchip(void)
{
	if (fdt_platform.gic_version != 0 || !fdt_platform.local_intc_base)
		panic("bcm2837_irqchip: the device tree names no brcm,bcm2836-l1-intc");
	return &bcm2836_local_intc_ops;
}

/* The mini UART where the firmware and QEMU put it (AUX at +0x215000), until the tree says. */
static void bcm2837_early_console(void)
{
	bcm2835_aux_uart_early(0x3F215040);
}

const struct platform_ops platform_bcm2837 = {
    .name = "bcm2837 (Raspberry Pi 3)",
    .compatible = bcm2837_compatible,
    .early_uart = 0x3F201000,
    .uart_clock_hz = 48000000, /* the firmware's init_uart_clock default */
    .cpu_part = 0xD03,	       /* Cortex-A53 */
    .early_console_init = bcm2837_early_console,
    .console_init = bcm2835_aux_uart_console_init,
    .irqchip = bcm2837_irqchip,
    .cpu_start = spin_table_cpu_start,
    .power_init = bcm2835_pm_init,
    .poweroff = bcm2835_pm_poweroff,
    .reset = bcm2835_pm_reset,
    .screen_init = bcm2835_fb_init,
};
