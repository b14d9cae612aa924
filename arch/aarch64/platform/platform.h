/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Board code for the one aarch64 kernel: QEMU virt (and any machine whose
 * device tree names PSCI and a GIC), the Raspberry Pi 3 (BCM2837) and the
 * Raspberry Pi 4 (BCM2711). The board is chosen once at boot from the
 * device tree's root compatible (platform_select); before that only
 * platform_guess may be used, to pick an early UART that can report a
 * missing or wrong device tree.
 *
 * Invariants: `platform` is never NULL once aarch64_boot_main has run
 * platform_guess; every address a board uses comes from the device tree
 * (fdt_platform) except the early UART, which is touched only when the
 * boot map makes it Device memory (never RAM by accident).
 */
#ifndef PAGODA_ARCH_AARCH64_PLATFORM_PLATFORM_H
#define PAGODA_ARCH_AARCH64_PLATFORM_PLATFORM_H

#include "arch/aarch64/gic.h"
#include "kernel/types.h"

struct platform_ops {
	const char *name;
	/* root compatibles that select this board, NULL-terminated */
	const char *const *compatible;
	/* its console PL011 before the device tree is read; 0: none */
	phys_addr_t early_uart;
	/* adds its other early console UARTs (at guessed addresses); NULL: none */
	void (*early_console_init)(void);
	/* that PL011's reference clock as the firmware leaves it, for 115200 baud; 0: unknown */
	uint32_t uart_clock_hz;
	/*
	 * adds the board's other console UARTs the device tree names, beside
	 * the PL011 (boot CPU, before mm_init, boot map); NULL: none
	 */
	void (*console_init)(void);
	/* MIDR_EL1.PartNum of its cores (platform_guess); 0: any */
	uint32_t cpu_part;
	/* the interrupt controller driver, checked against the device tree */
	const struct gic_ops *(*irqchip)(void);
	/* starts `cpu` at physical `entry`, handing it physical `boot` (smp.c) */
	bool (*cpu_start)(unsigned cpu, uint64_t mpidr, phys_addr_t boot);
	/* maps what reset and power-off need (arch_init, after mm_init) */
	void (*power_init)(void);
	/* both return only when the hardware did not act */
	void (*poweroff)(void);
	void (*reset)(void);
	/* fills boot_info.framebuffer (arch_init, after mm_init); NULL: no screen */
	bool (*screen_init)(void);
};

extern const struct platform_ops platform_virt, platform_bcm2837, platform_bcm2711;
extern const struct platform_ops *platform;

/*
 * Before the device tree: the board an image loaded at `image_pa` on this
 * CPU most likely is (RAM at 0 and a Cortex-A53: Pi 3; Cortex-A72: Pi 4;
 * loaded above 1 GiB: virt), or NULL. Sets `platform` to it (virt when
 * unsure) and returns it. Only the early UART may be trusted from it.
 */
const struct platform_ops *platform_guess(phys_addr_t image_pa);
/*
 * After fdt_boot_parse: the first board any of the root's compatible
 * strings (fdt_platform.board_compat) names; an unknown list is run as
 * virt (PSCI or spin tables and the GIC the tree names). Sets `platform`,
 * logs one line, and returns whether the board was known.
 */
bool platform_select(void);

/* Shared board pieces: PSCI (psci.c), spin tables, the PM watchdog (bcm2835_pm.c). */
bool psci_cpu_start(unsigned cpu, uint64_t mpidr, phys_addr_t boot);
void psci_poweroff(void);
void psci_reset(void);
bool spin_table_cpu_start(unsigned cpu, uint64_t mpidr, phys_addr_t boot);
void bcm2835_pm_init(void);
void bcm2835_pm_poweroff(void);
void bcm2835_pm_reset(void);
/*
 * The mini UART (fdt_platform.aux_uart_base) joins the console, enabled
 * if the firmware did not; without one in the tree, or under
 * uart.break=no_aux, the console stays the PL011 alone.
 */
void bcm2835_aux_uart_console_init(void);
/*
 * Before the device tree: the mini UART at the guessed board's `pa` joins
 * the console if the boot map makes it Device and the firmware left it
 * enabled (never enabled here); bcm2835_aux_uart_console_init replaces it.
 */
void bcm2835_aux_uart_early(phys_addr_t pa);
/*
 * The VideoCore mailbox (bcm2835_mbox.c): sends the property message at
 * `msg` (16-byte aligned, in RAM below 1 GiB; msg[0] its size in bytes,
 * msg[1] 0) on channel 8 and waits, bounded, for the answer the VideoCore
 * writes into it. NULL when answered (msg[1] == BCM2835_MBOX_ANSWERED),
 * else a short reason. Boot CPU only, after mm_init.
 */
#define BCM2835_MBOX_CHAN_PROPERTY 8
#define BCM2835_MBOX_ANSWERED	   0x80000000u
#define BCM2835_MBOX_WAIT_NS	   100000000ull
const char *bcm2835_mbox_property(uint32_t *msg);
/*
 * The Pi's framebuffer (bcm2835_fb.c): asks the VideoCore for a 640x480
 * 32-bit screen and describes it in boot_info.framebuffer for the screen
 * console; false, after one line naming the step that failed, if none.
 */
bool bcm2835_fb_init(void);
/* The GIC driver the device tree names (version 2 or 3); panics on none. */
const struct gic_ops *gic_from_dt(void);
/* The BCM2836 ARM local controller (Pi 3), behind the GIC contract. */
extern const struct gic_ops bcm2836_local_intc_ops;

#endif
