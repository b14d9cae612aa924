// SPDX-License-Identifier: BSD-2-Clause
/*
 * Finding the machine's IOMMU: each hardware driver looks for its own
 * firmware description (the DTB's SMMUv3 node and the PCI host's
 * iommu-map on aarch64, the ACPI DMAR table on x86-64) and registers
 * itself when it finds one it can drive. At most one hardware IOMMU is
 * used; without one, the emulated IOMMU (emu_hw.c) is what the tests
 * use, and the boot log says so.
 *
 * Invariant: a driver registers only after its hardware is enabled and
 * its queues work; a malformed description is reported in one line and
 * leaves the machine without that IOMMU, never half set up.
 */
#include "kernel/iommu/iommu.h"
#include "kernel/printk.h"

static struct iommu *hw_iommu;

void iommu_register_hw(struct iommu *io)
{
	if (hw_iommu) {
		printk("iommu: %s ignored: %s is already in use", io->name, hw_iommu->name);
		return;
	}
	hw_iommu = io;
}

struct iommu *iommu_hw(void)
{
	return hw_iommu;
}

void iommu_init(void)
{
	smmuv3_probe();
	vtd_probe();
	if (!hw_iommu)
		printk("iommu: no hardware IOMMU; devices DMA to physical addresses, and the "
		       "emulated IOMMU (kernel/iommu/emu_hw.c) serves the iommu suite");
}
