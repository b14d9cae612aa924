// SPDX-License-Identifier: BSD-2-Clause
/*
 * PCI interrupts for drivers: the capability list, MSI programming, and
 * the choice between MSI and legacy INTx (pci_irq_setup, see pci.h).
 *
 * MSI is preferred: a device's interrupt is then a memory write of a
 * message the arch composed (arch_msi_compose) to a target of its own, so
 * it is edge-triggered, never shared, and needs no routing table. INTx is
 * the fallback where the platform has no MSI target this kernel drives
 * (no GICv2m frame, no usable ITS or msi-map, a doorbell an IOMMU in front
 * cannot reach: iommu_msi_prepare) or `pci.msi=off` asks for it: a level-triggered
 * line whose GIC SPI the host's interrupt-map names (intx.c). x86-64 has
 * no INTx (no I/O APIC driver, no ACPI _PRT). MSI-X capabilities are
 * found and logged but not programmed: no device here has only MSI-X.
 *
 * Invariants: MSI is enabled only after its address and data are written
 * (and its vector unmasked where the capability has mask bits), and with
 * one vector (multiple-message enable 0); while MSI is on, INTx is
 * disabled in the command register, and while INTx is used, MSI is off
 * and INTx enabled: the device signals in exactly one way. The handler is
 * installed before the device can signal, and removed after it stopped.
 * Behind an IOMMU that translates MSI writes, the message is programmed
 * only once its doorbell was prepared there (iommu_msi_prepare).
 */
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/iommu/iommu.h"
#include "kernel/pci/pci.h"

CMDLINE_PARAM(pci_msi_param, .key = "pci.msi", .kind = CMDLINE_ENUM, .values = "on|off",
	      .def = "on", .help = "pci: off forces legacy INTx where the host routes it");
CMDLINE_PARAM(pci_break_param, .key = "pci.break", .kind = CMDLINE_ENUM,
	      .values = "none|msi_wrong_vector", .def = "none",
	      .help = "pci: test only: msi_wrong_vector programs MSI data for another vector");

#define CAP_HOPS_MAX 48 /* (256 - 64) / 4: more hops than that is a loop */

bool pci_msi_wanted(void)
{
	return cmdline_enum("pci.msi") == 0;
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned pos = pci_cfg_read8(d, PCI_CAP_PTR) & ~3u;
	for (unsigned hops = 0; pos >= 0x40 && hops < CAP_HOPS_MAX; hops++) {
		uint16_t head = pci_cfg_read16(d, pos); /* id, then the next pointer */
		if ((head & 0xff) == id)
			return pos;
		pos = (head >> 8) & ~3u;
	}
	return 0;
}

/* Programs d's MSI capability with the message {addr, data} and enables it, INTx off. */
static void msi_enable(struct pci_dev *d, uint64_t addr, uint32_t data)
{
	unsigned cap = d->msi_cap;
	uint16_t flags = pci_cfg_read16(d, cap + PCI_MSI_FLAGS);
	bool is64 = flags & PCI_MSI_FLAGS_64BIT;
	if (cmdline_enum("pci.break") == 1)
		data += 1; /* test only: the device raises an interrupt nobody handles */
	/* Off while the message changes: a half-written one must not be sent. */
	pci_cfg_write16(d, cap + PCI_MSI_FLAGS,
			flags & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
	pci_cfg_write32(d, cap + PCI_MSI_ADDR_LO, (uint32_t)addr);
	if (is64)
		pci_cfg_write32(d, cap + PCI_MSI_ADDR_HI, (uint32_t)(addr >> 32));
	pci_cfg_write16(d, cap + (is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32), (uint16_t)data);
	if (flags & PCI_MSI_FLAGS_MASKBIT)
		pci_cfg_write32(d, cap + (is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32), 0);
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	pci_cfg_write16(d, cap + PCI_MSI_FLAGS,
			(flags & ~PCI_MSI_FLAGS_QSIZE) | PCI_MSI_FLAGS_ENABLE);
}

static void msi_disable(struct pci_dev *d)
{
	unsigned cap = d->msi_cap;
	pci_cfg_write16(d, cap + PCI_MSI_FLAGS,
			pci_cfg_read16(d, cap + PCI_MSI_FLAGS) & ~PCI_MSI_FLAGS_ENABLE);
}

/* MSI for d, or a negative errno (-ENODEV: no capability or no platform target). */
static int setup_msi(struct pci_dev *d, irq_handler_t fn, void *arg, struct pci_irq *out)
{
	if (!d->msi_cap || !pci_msi_wanted())
		return -ENODEV;
	int irq = arch_msi_alloc(pci_rid(d));
	if (irq < 0)
		return irq;
	/* Behind an IOMMU that translates MSI writes the doorbell must be reachable first. */
	uint64_t addr;
	uint32_t data;
	arch_msi_compose((unsigned)irq, &addr, &data);
	int err = iommu_msi_prepare(&addr);
	if (err) {
		arch_msi_free((unsigned)irq);
		return -ENODEV; /* no usable MSI target: INTx if routed */
	}
	err = irq_request((unsigned)irq, fn, arg);
	if (err) {
		arch_msi_free((unsigned)irq);
		return err;
	}
	arch_irq_unmask((unsigned)irq, false);
	msi_enable(d, addr, data);
	*out = (struct pci_irq){.kind = PCI_IRQ_MSI, .irq = (unsigned)irq, .level = false};
	return 0;
}

int pci_irq_setup(struct pci_dev *d, irq_handler_t fn, void *arg, struct pci_irq *out)
{
	*out = (struct pci_irq){.kind = PCI_IRQ_NONE};
	int err = setup_msi(d, fn, arg, out);
	if (err != -ENODEV)
		return err;
	if (!d->intx_routed)
		return -ENODEV;
	/* -EBUSY when another device's pin shares the line: INTx lines are not shared here. */
	err = irq_request(d->intx_irq, fn, arg);
	if (err)
		return err;
	if (d->msi_cap)
		msi_disable(d);
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) & ~PCI_COMMAND_INTX_DISABLE);
	arch_irq_unmask(d->intx_irq, d->intx_level);
	*out = (struct pci_irq){.kind = PCI_IRQ_INTX, .irq = d->intx_irq, .level = d->intx_level};
	return 0;
}

void pci_irq_release(struct pci_dev *d, struct pci_irq *irq)
{
	if (irq->kind == PCI_IRQ_MSI) {
		msi_disable(d);
		arch_irq_mask(irq->irq);
		irq_free(irq->irq); /* returns once no CPU runs the handler: only then reuse */
		arch_msi_free(irq->irq);
	} else if (irq->kind == PCI_IRQ_INTX) {
		pci_cfg_write16(d, PCI_COMMAND,
				pci_cfg_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
		arch_irq_mask(irq->irq);
		irq_free(irq->irq);
	}
	irq->kind = PCI_IRQ_NONE;
}
