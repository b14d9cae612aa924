/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What Pagoda reads from a flattened device tree besides memory and CPUs
 * (those go to struct boot_info): the devices an aarch64 arch layer needs
 * to bring up a console, interrupts, timers and secondary CPUs (PCIe is
 * read by kernel/pci/ from boot_info.dtb).
 *
 * fdt_boot_parse() fills both boot_info and fdt_platform from one blob.
 * Every value comes from the blob; nothing is assumed from the machine
 * model. A malformed blob panics naming the node and property.
 */
#ifndef PAGODA_BOOT_FDT_PLATFORM_H
#define PAGODA_BOOT_FDT_PLATFORM_H

#include "kernel/cpumask.h"

enum psci_method { PSCI_NONE = 0, PSCI_HVC, PSCI_SMC };
enum cpu_enable_method { CPU_ENABLE_NONE = 0, CPU_ENABLE_PSCI, CPU_ENABLE_SPIN_TABLE };

struct fdt_platform {
	/* /psci */
	enum psci_method psci;
	uint32_t psci_cpu_on; /* function id; 0xC4000003 when the node gives none */
	/* enable-method of the secondary CPUs (first non-boot CPU's) */
	enum cpu_enable_method cpu_enable;
	uint64_t cpu_release_addr[CPU_MAX]; /* spin-table release address per boot_info cpu index */

	/* the root node's first compatible string ("linux,dummy-virt", "raspberrypi,4-model-b") */
	char board[48];
	/* the root's whole compatible list (NUL-separated, as in the blob; cut at a string) */
	char board_compat[128];
	uint32_t board_compat_len;

	/*
	 * interrupt controller: 2 for arm,gic-400/arm,cortex-a15-gic, 3 for
	 * arm,gic-v3, 0 for the BCM2836 local controller (local_intc_base)
	 */
	unsigned gic_version;
	phys_addr_t local_intc_base;
	uint64_t local_intc_size;
	phys_addr_t gicd_base;
	uint64_t gicd_size;
	phys_addr_t gicc_base; /* GICv2 CPU interface */
	uint64_t gicc_size;
	phys_addr_t gicr_base; /* GICv3 redistributors */
	uint64_t gicr_size;
	/* GICv2m MSI frame (arm,gic-v2m-frame under a GICv2); 0: none, or malformed (logged) */
	phys_addr_t v2m_base;
	uint64_t v2m_size;
	/* GICv3 ITS (arm,gic-v3-its, msi-controller) under a GICv3; 0: none, or malformed */
	phys_addr_t its_base;
	uint64_t its_size;
	uint32_t its_phandle; /* what the PCI host's msi-map names (ACPI: the MADT's ITS id) */

	/* arm,armv8-timer: PPI numbers (interrupt specifier cell 1), or local timer lines 0-3 */
	unsigned timer_ppi_virt;
	unsigned timer_ppi_phys;

	/* console: the node chosen by /chosen/stdout-path (arm,pl011) */
	phys_addr_t uart_base;
	uint64_t uart_size;
	char stdout_path[64];
	/*
	 * brcm,bcm2835-aux-uart (the Pis' mini UART, a second console) and the
	 * AUX block it sits in (brcm,bcm2835-aux: AUXENB); 0: none, or
	 * malformed (logged). aux_uart_clock_hz: the rate the tree states for
	 * its clock (a clock-frequency along its `clocks` chain); 0: unknown.
	 */
	phys_addr_t aux_uart_base;
	phys_addr_t aux_base;
	uint32_t aux_uart_clock_hz;

	/* brcm,bcm2835-pm-wdt: the PM block's first reg entry (RSTC, RSTS, WDOG); 0: none */
	phys_addr_t pm_base;
	uint64_t pm_size;

	/* brcm,bcm2835-mbox: the VideoCore mailbox (the Pi's framebuffer); 0: none */
	phys_addr_t mbox_base;
	uint64_t mbox_size;
};

extern struct fdt_platform fdt_platform;

/*
 * Validates the blob at `dtb` (physical address, reachable with
 * arch_phys_to_virt) and fills boot_info (memory, reserved ranges including
 * /memreserve/, reserved-memory and the blob itself, cmdline from
 * /chosen/bootargs, CPUs with their MPIDRs) and fdt_platform. `boot_mpidr`
 * marks which CPU is the boot CPU. Panics naming node and property on any
 * malformed input.
 */
void fdt_boot_parse(phys_addr_t dtb, uint64_t boot_mpidr);

#endif
