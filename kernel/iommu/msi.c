// SPDX-License-Identifier: BSD-2-Clause
/*
 * MSI through a translating IOMMU (iommu.h, "MSI doorbell"; docs/iommu.md,
 * "MSI through the IOMMU"). On an SMMUv3 a device's MSI is a write like
 * any DMA: its address is translated by the stream's configuration. A
 * bound stream translates through the mm's own tables, so the doorbell
 * (the GICv2m frame's MSI_SETSPI_NS page, or the ITS's GITS_TRANSLATER
 * page) must be mapped there, at the address the device writes; Linux
 * does the same with its "MSI cookie" (iommu_dma_prepare_msi), which
 * maps the doorbell into the device's domain at a software-chosen IOVA.
 *
 * The IOVA chosen here is the doorbell's own physical address, because a
 * stream is not always translated: one no address space owns bypasses,
 * and its MSIs go to the physical address. The same message then works
 * in both states, and the device's MSI capability is programmed once.
 * That page is the reserved window of every address space (mm.h: user
 * mappings there are refused); a binding maps it kernel-only with device
 * attributes (vm_map_reserved) before the stream translates, and unbind
 * unmaps it (the ordinary gather: the CPU and every subscriber are told)
 * after the stream stopped. A shadow domain maps it into its mirror.
 *
 * Invariants: one doorbell page per platform (a second, different one is
 * refused); a stream bound through iommu_sva_bind never translates
 * without the doorbell mapped (unless iommu.break=no_msi_map, test only).
 */
#include "kernel/errno.h"
#include "kernel/iommu/iommu.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/printk.h"

#define DOORBELL_ATTRS (PT_READ | PT_WRITE | PT_DEVICE)

static phys_addr_t doorbell; /* the page; 0: none reserved */
static spinlock_t doorbell_lock = SPINLOCK_INIT;

/* Does the hardware IOMMU translate MSI writes, with a doorbell to map? */
static bool mapping_needed(const struct iommu *io)
{
	return io && io->translates_msi && atomic_load_acquire(&doorbell) &&
	       iommu_broken != IOMMU_BREAK_NO_MSI_MAP;
}

int iommu_msi_prepare(uint64_t *addr)
{
	const struct iommu *io = iommu_hw();
	if (!io || !io->translates_msi)
		return 0; /* the write reaches the doorbell as it is */
	phys_addr_t page = ALIGN_DOWN(*addr, PAGE_SIZE);
	irqflags_t flags = spin_lock_irqsave(&doorbell_lock);
	int err = doorbell && doorbell != page ? -EBUSY : vm_reserve_window(page, PAGE_SIZE);
	bool first = !err && !doorbell;
	if (first)
		atomic_store_release(&doorbell, page);
	spin_unlock_irqrestore(&doorbell_lock, flags);
	if (first)
		printk("iommu: MSI doorbell %#llx: the same IOVA, reserved in every address "
		       "space, mapped at each %s binding%s",
		       (unsigned long long)page, io->name,
		       iommu_broken == IOMMU_BREAK_NO_MSI_MAP
			   ? "; WARNING: not mapped on purpose (iommu.break=no_msi_map): tests "
			     "must fail"
			   : "");
	else if (err)
		printk("iommu: MSI doorbell %#llx cannot be reserved in every address space "
		       "(error %d): no MSI behind %s",
		       (unsigned long long)page, err, io->name);
	return err; /* the IOVA is the physical address: *addr stays */
}

phys_addr_t iommu_msi_doorbell(void)
{
	return atomic_load_acquire(&doorbell);
}

int iommu_msi_map(struct iommu *io, struct mm *mm)
{
	return mapping_needed(io) ? vm_map_reserved(mm, doorbell, DOORBELL_ATTRS) : 0;
}

void iommu_msi_unmap(struct iommu *io, struct mm *mm)
{
	if (mapping_needed(io))
		vm_unmap_reserved(mm);
}

int iommu_msi_map_pt(struct iommu *io, struct pt *pt)
{
	if (!mapping_needed(io))
		return 0;
	return pt_map(pt, doorbell, doorbell, PAGE_SIZE, DOORBELL_ATTRS | PT_PAGES_ONLY);
}
