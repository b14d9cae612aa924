/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * One small interface over the Arm Generic Interrupt Controller, version 2
 * (memory-mapped CPU interface) or 3 (system-register CPU interface with
 * redistributors); the device tree says which. Only arch/aarch64/ uses it.
 *
 * Pagoda's interrupts: SGIs 0..IPI_KIND_COUNT-1 carry the IPIs (SGI number
 * = enum ipi_kind), the virtual timer PPI ticks; an SPI is enabled only
 * when a device driver asks (INTx, or a GICv2m MSI), an LPI likewise
 * (an ITS MSI, gicv3_its.h). All of them are Group 1 (GICv3) or the group the firmware left (GICv2), at one
 * priority, signalled as IRQ.
 */
#ifndef PAGODA_ARCH_AARCH64_GIC_H
#define PAGODA_ARCH_AARCH64_GIC_H

#include "kernel/cpumask.h"

#define GIC_SPURIOUS	1020 /* acknowledged ids 1020..1023 mean "nothing" */
#define GIC_SPECIAL_END 1024 /* LPIs (8192 up) are real interrupts again */
#define GIC_PRIORITY 0xA0 /* every interrupt Pagoda enables */
#define GIC_PMR	     0xF0 /* lets GIC_PRIORITY through */

struct gic_ops {
	const char *name;
	void (*init)(void);
	void (*init_cpu)(void);
	uint32_t (*ack)(uint32_t *raw);
	void (*eoi)(uint32_t raw);
	void (*send_sgi)(cpumask_t targets, unsigned sgi);
	void (*enable_ppi)(unsigned intid);
	void (*enable_spi)(unsigned intid, bool level);
	void (*disable_spi)(unsigned intid);
	unsigned (*lines)(void);
};
extern const struct gic_ops gicv2_ops, gicv3_ops;

/* Picks the driver from fdt_platform and sets up the distributor. Boot CPU, once. */
void gic_init(void);
/* Finds the GICv2m MSI frame's SPIs (msi.c); no MSI without one. Boot CPU, after gic_init. */
void gicv2m_init(void);
/* Sets up the calling CPU's interface (and redistributor). Every CPU, IRQs masked. */
void gic_init_cpu(void);
/*
 * Acknowledges the highest-priority pending interrupt and returns its id
 * (GIC_SPURIOUS..GIC_SPECIAL_END-1 when none); *raw is what gic_eoi needs back.
 */
uint32_t gic_ack(uint32_t *raw);
/* Ends the interrupt (priority drop and deactivation). */
void gic_eoi(uint32_t raw);
/* Sends SGI `sgi` to every CPU in `targets`, after the caller's earlier stores. */
void gic_send_sgi(cpumask_t targets, unsigned sgi);
/* Enables PPI `intid` (16..31) on the calling CPU. */
void gic_enable_ppi(unsigned intid);
/*
 * Configures SPI `intid` (32..1019) level- or edge-triggered and enables it,
 * routed to the boot CPU (every SPI is, from gic_init); gic_disable_spi
 * disables it. The configuration is changed only while the SPI is off.
 */
void gic_enable_spi(unsigned intid, bool level);
void gic_disable_spi(unsigned intid);
/* Interrupt lines the distributor implements (GICD_TYPER), capped at 1020. */
unsigned gic_lines(void);
/*
 * Maps a GIC register frame with vm_map_mmio() (after mm_init: the kernel's
 * tables have no other mapping of devices). `size` is the device tree's,
 * or `fallback` when the tree gives none. Returns its kernel address.
 */
uintptr_t gic_map(phys_addr_t base, uint64_t size, uint64_t fallback, const char *what);

#endif
