/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shadow domains: for a device that cannot walk the CPU's tables, the
 * driver builds tables of its own that mirror part of an mm, and keeps
 * them coherent with an interval subscription (notifier.h rule 6).
 *
 * Building follows the sequence protocol: read the interval's sequence,
 * look the pages up in the mm (populating them), then under the domain's
 * lock install them only if no invalidation ran since; otherwise start
 * again. An invalidation of the interval, under the same lock, records
 * its sequence, unmaps the mirror's range and invalidates the IOMMU
 * (synchronously) before the CPU side changes anything. The mirror's
 * emptied tables are kept until the domain is destroyed: the IOMMU walks
 * them with no flush protocol between. An IOMMU whose tables have a
 * format of their own (iommu_ops.iopt) gets the same protocol with its
 * driver writing them.
 */
#ifndef PAGODA_KERNEL_IOMMU_SHADOW_H
#define PAGODA_KERNEL_IOMMU_SHADOW_H

#include "kernel/iommu/iommu.h"
#include "kernel/mm/pt.h"

struct iommu_shadow {
	struct mn_interval iv; /* first: the notifier hands it back */
	struct iommu *io;
	unsigned stream, asid;
	struct mm *mm;
	struct pt pt; /* the device's tables (CPU format: io->ops->iopt is NULL) */
	phys_addr_t iopt_root; /* or the driver's own tables (io->ops->iopt) */
	struct mutex lock; /* installing vs invalidating */
	uint64_t builds, retries, invalidations;
};

/* Mirrors nothing yet; `stream` translates through the (empty) mirror. 0 or -errno. */
int iommu_shadow_create(struct iommu_shadow *sh, struct iommu *io, unsigned stream, struct mm *mm,
			virt_addr_t start, uint64_t len);
/*
 * Makes [va, va + len) (inside the interval) reachable by the device with
 * the mm's current pages and permissions, populating anonymous pages.
 * 0, -EINVAL (outside the interval or not mapped in the mm) or -ENOMEM.
 */
int iommu_shadow_fault_in(struct iommu_shadow *sh, virt_addr_t va, uint64_t len);
/* Detaches the stream, unsubscribes, frees the mirror. */
void iommu_shadow_destroy(struct iommu_shadow *sh);

#endif
