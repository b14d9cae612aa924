// SPDX-License-Identifier: BSD-2-Clause
/*
 * edu's stream on the machine's hardware IOMMU, bound to a benchmark's mm
 * (bench.h: struct bench_hw_bond), for the hwiommu_unmap_N scenarios
 * (secondary.c) and the DMA plot (dma_plot.c).
 *
 * Which binding: the SMMUv3 and VT-d with first-stage translation walk
 * the mm's own tables (iommu_sva_bind); VT-d with second stage only
 * (QEMU 10 without x-flts: `IOMMU=vtd-ss`) cannot, so it gets a shadow
 * domain over the benchmark's range, through the same iommu_ops (their
 * iopt tables). Either way every unmap in the mm reaches the IOMMU as one
 * invalidation plus one sync: shared from the gather's flush point,
 * shadow from the interval's invalidate.
 *
 * Invariants: the stream id is the one the firmware gives edu (the SMMU's
 * iommu-map; VT-d: the requester id); an unbound SMMU stream goes back to
 * bypass, so edu DMAs to physical addresses afterwards as it did before;
 * nothing here changes how a driver invalidates.
 */
#include "kernel/bench/bench.h"
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/iommu/smmuv3.h"
#include "kernel/iommu/vtd.h"
#include "kernel/pci/pci.h"

#ifndef PAGODA_NO_NOTIFIER

/* edu's stream id on the hardware IOMMU. */
static int edu_stream(unsigned *sid)
{
	struct pci_dev *d = edu_pci_dev();
	if (!d || !edu_present())
		return -ENOENT;
	if (smmu_present())
		return smmu_stream_of(d, sid);
	*sid = pci_rid(d);
	return 0;
}

int bench_hw_bind(struct bench_hw_bond *b, struct mm *mm, virt_addr_t start, uint64_t len)
{
	b->io = iommu_hw();
	if (!b->io)
		return -ENOENT;
	int err = edu_stream(&b->sid);
	if (err)
		return err;
	/* VT-d without first stage cannot walk the mm's tables: mirror them instead. */
	b->shadow = vtd_present() && !vtd_first_stage();
	if (b->shadow)
		return iommu_shadow_create(&b->sh, b->io, b->sid, mm, start, len);
	return iommu_sva_bind(&b->sva, b->io, b->sid, mm);
}

int bench_hw_use(struct bench_hw_bond *b, virt_addr_t va, uint64_t len)
{
	return b->shadow ? iommu_shadow_fault_in(&b->sh, va, len) : 0;
}

void bench_hw_unbind(struct bench_hw_bond *b)
{
	if (b->shadow) {
		iommu_shadow_destroy(&b->sh);
		return;
	}
	iommu_sva_unbind(&b->sva);
	if (smmu_present())
		smmu_stream_bypass(b->sid); /* nothing owns it now: DMA as without the SMMU */
}

uint64_t bench_hw_faults(void)
{
	if (smmu_present())
		return smmu_events(NULL);
	if (vtd_present()) {
		vtd_poll_faults(); /* the driver polls: read the records out first */
		return vtd_fault_count();
	}
	return 0;
}

#endif /* PAGODA_NO_NOTIFIER */
