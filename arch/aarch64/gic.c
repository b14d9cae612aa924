// SPDX-License-Identifier: BSD-2-Clause
/*
 * GIC front end: the board (platform/) chooses the driver once, the GICv2
 * or GICv3 the device tree names or the Pi 3's BCM2836 local controller
 * (bcm2836_local_intc.c, behind the same contract), and this forwards to
 * it. Invariant: `gic` is set before the first IRQ is unmasked, so the
 * interrupt path never sees it NULL.
 *
 * The drivers reach their registers through vm_map_mmio() mappings made in
 * gic_init(), which runs from arch_init(), after mm_init().
 */
#include "arch/aarch64/gic.h"
#include "arch/aarch64/gicv3_its.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

static const struct gic_ops *gic;

const struct gic_ops *gic_from_dt(void)
{
	switch (fdt_platform.gic_version) {
	case 2:
		if (!fdt_platform.gicd_base || !fdt_platform.gicc_base)
			panic("gic_init: GICv2 without a distributor or CPU interface address");
		return &gicv2_ops;
	case 3:
		if (!fdt_platform.gicd_base || !fdt_platform.gicr_base)
			panic("gic_init: GICv3 without a distributor or redistributor address");
		return &gicv3_ops;
	default:
		panic("gic_init: device tree names no supported interrupt controller (version %u)",
		      fdt_platform.gic_version);
	}
}

void gic_init(void)
{
	gic = platform->irqchip();
	gic->init();
	gicv2m_init();
	its_probe_dt();
	its_probe_acpi();
}

void gic_init_cpu(void)
{
	gic->init_cpu();
}

uint32_t gic_ack(uint32_t *raw)
{
	return gic->ack(raw);
}

void gic_eoi(uint32_t raw)
{
	gic->eoi(raw);
}

void gic_send_sgi(cpumask_t targets, unsigned sgi)
{
	gic->send_sgi(targets, sgi);
}

void gic_enable_ppi(unsigned intid)
{
	gic->enable_ppi(intid);
}

unsigned gic_lines(void)
{
	return gic->lines();
}

void gic_enable_spi(unsigned intid, bool level)
{
	if (intid < 32 || intid >= gic_lines())
		panic("gic_enable_spi: INTID %u is not an SPI this GIC has", intid);
	gic->enable_spi(intid, level);
}

void gic_disable_spi(unsigned intid)
{
	if (intid >= 32 && intid < gic_lines())
		gic->disable_spi(intid);
}

uintptr_t gic_map(phys_addr_t base, uint64_t size, uint64_t fallback, const char *what)
{
	return (uintptr_t)vm_map_mmio(base, size ? size : fallback, what);
}
