// SPDX-License-Identifier: BSD-2-Clause
/*
 * Device interrupts on aarch64 (kernel/arch.h, "Device interrupts"):
 * interrupt numbers are GIC INTIDs; a device's interrupt is an SPI,
 * routed to the boot CPU by gic_init.
 *
 * MSI goes through a GICv2m frame (arm,gic-v2m-frame, QEMU virt's GICv2):
 * a write of an SPI's INTID to the frame's MSI_SETSPI_NS register pulses
 * that SPI, so an MSI here is an SPI from the frame's range
 * (MSI_TYPER: first INTID and count), configured edge-triggered. Under a
 * GICv3 MSIs go to the ITS (gicv3_its*.c): an MSI there is an LPI, which
 * has no trigger or routing of its own (its collection chose the CPU), and
 * is masked and unmasked through its configuration byte.
 *
 * INTx lines come from the PCI host's interrupt-map as GIC specifiers
 * <type number flags>: type 0 (SPI) only, INTID = number + 32.
 *
 * Invariants: an MSI INTID is handed out to one owner at a time and lies
 * within both the frame's range and the lines the distributor has (a
 * frame claiming anything else is reported and not used); with an ITS
 * up, every MSI is an LPI (the GICv2m frame exists only under a GICv2).
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/gicv3_its.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"
#include "lib/fmt.h"

#define V2M_MSI_TYPER	  0x008
#define V2M_MSI_SETSPI_NS 0x040
#define V2M_MAX_SPIS	  128

static unsigned v2m_first, v2m_count; /* INTIDs [first, first + count); count 0: no MSI */
static bool v2m_used[V2M_MAX_SPIS];
static spinlock_t v2m_lock = SPINLOCK_INIT;

void gicv2m_init(void)
{
	if (fdt_platform.gic_version != 2 || !fdt_platform.v2m_base)
		return;
	uintptr_t frame = gic_map(fdt_platform.v2m_base, fdt_platform.v2m_size, 0x1000, "GICv2m");
	uint32_t typer = mmio_read32(frame + V2M_MSI_TYPER);
	unsigned first = typer >> 16 & 0x3FF, count = typer & 0x3FF;
	if (first < 32 || count == 0 || count > V2M_MAX_SPIS || first + count > gic_lines()) {
		printk("gicv2m: frame %#llx: MSI_TYPER %#x gives INTIDs %u+%u, not SPIs of this "
		       "GIC (%u lines); no MSI",
		       (unsigned long long)fdt_platform.v2m_base, typer, first, count, gic_lines());
		return;
	}
	v2m_first = first;
	v2m_count = count;
	printk("gicv2m: MSI frame %#llx, SPIs %u-%u", (unsigned long long)fdt_platform.v2m_base,
	       first, first + count - 1);
}

int arch_msi_alloc(uint16_t rid)
{
	if (its_present())
		return its_msi_alloc(rid);
	if (!v2m_count)
		return -ENODEV;
	irqflags_t flags = spin_lock_irqsave(&v2m_lock);
	int irq = -ENOSPC;
	for (unsigned i = 0; i < v2m_count; i++) {
		if (!v2m_used[i]) {
			v2m_used[i] = true;
			irq = (int)(v2m_first + i);
			break;
		}
	}
	spin_unlock_irqrestore(&v2m_lock, flags);
	return irq;
}

void arch_msi_free(unsigned irq)
{
	if (its_is_lpi(irq)) {
		its_msi_free(irq);
		return;
	}
	if (irq < v2m_first || irq - v2m_first >= v2m_count)
		return;
	irqflags_t flags = spin_lock_irqsave(&v2m_lock);
	v2m_used[irq - v2m_first] = false;
	spin_unlock_irqrestore(&v2m_lock, flags);
}

void arch_msi_compose(unsigned irq, uint64_t *addr, uint32_t *data)
{
	if (its_is_lpi(irq)) {
		its_msi_compose(irq, addr, data);
		return;
	}
	*addr = fdt_platform.v2m_base + V2M_MSI_SETSPI_NS;
	*data = irq;
}

bool arch_irq_from_fdt(const uint32_t *cells, unsigned n, unsigned *irq, bool *level, char *err,
		       size_t err_size)
{
	if (n != 3) {
		snprintf(err, err_size, "GIC interrupt specifier of %u cells, expected 3", n);
		return false;
	}
	if (cells[0] != 0) {
		snprintf(err, err_size, "GIC interrupt type %u is not an SPI (0)", cells[0]);
		return false;
	}
	if (cells[1] + 32 >= gic_lines()) {
		snprintf(err, err_size, "SPI %u is beyond the GIC's %u lines", cells[1],
			 gic_lines());
		return false;
	}
	*irq = cells[1] + 32;
	*level = cells[2] & 0xC; /* 4 level high, 8 level low; 1, 2 edges */
	return true;
}

void arch_irq_unmask(unsigned irq, bool level)
{
	if (its_is_lpi(irq))
		its_lpi_enable(irq, true); /* an LPI is edge-like: `level` does not apply */
	else
		gic_enable_spi(irq, level);
}

void arch_irq_mask(unsigned irq)
{
	if (its_is_lpi(irq))
		its_lpi_enable(irq, false);
	else
		gic_disable_spi(irq);
}

void arch_irq_describe(unsigned irq, char *buf, size_t size)
{
	uint32_t devid, event;
	if (its_lpi_owner(irq, &devid, &event))
		snprintf(buf, size, "GIC INTID %u (LPI, ITS device %#x event %u)", irq, devid,
			 event);
	else
		snprintf(buf, size, "GIC INTID %u (SPI %u)", irq, irq - 32);
}
