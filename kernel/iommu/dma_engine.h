/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * DMA engines for the emulated IOMMU: threads that act as a device
 * copying through its stream, on a CPU of their own, until stopped.
 *
 * An engine sweeps pages [iova, iova + pages * PAGE_SIZE) over and over.
 * On each page it reads the first word (a page's owner keeps a tag
 * there: DMA_TAG(page index), or 0 before it wrote one) and then writes
 * the engine's mark into the page's second half. Every access goes
 * through emu_iommu_access, so faults are events, not data. A read that
 * returns anything but the page's own tag or 0 came through a stale
 * translation (a freed frame's poison, or another page's data) and is
 * counted in `stale_reads`.
 */
#ifndef PAGODA_KERNEL_IOMMU_DMA_ENGINE_H
#define PAGODA_KERNEL_IOMMU_DMA_ENGINE_H

#include "kernel/iommu/emu.h"

#define DMA_TAG(index) (0x7A600000u | (uint32_t)(index))
#define DMA_MARK_OFFSET 2048u

struct dma_engine {
	struct emu_iommu *hw;
	unsigned stream;
	virt_addr_t iova;
	unsigned pages;
	bool stop;
	struct thread *thread;
	uint64_t sweeps, reads, writes, faults, stale_reads;
	uint32_t last_stale; /* the last wrong word read */
};

/* Starts `e` (fields above the thread set by the caller) on `cpu`. 0 or -ENOMEM. */
int dma_engine_start(struct dma_engine *e, unsigned cpu);
/* Stops it and waits for its thread. */
void dma_engine_stop(struct dma_engine *e);

#endif
