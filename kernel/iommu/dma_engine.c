// SPDX-License-Identifier: BSD-2-Clause
/*
 * DMA engines (dma_engine.h). Each access is a separate device
 * transaction; the engine yields between pages so that, sharing a CPU
 * with the IOMMU's command thread, it never delays an invalidation for
 * more than one access.
 */
#include "kernel/iommu/dma_engine.h"
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/sched/thread.h"

static void engine_thread(void *arg)
{
	struct dma_engine *e = arg;
	uint32_t mark[4] = {0xD3A0D3A0u, 0, 0, 0};
	while (!atomic_load_acquire(&e->stop)) {
		for (unsigned i = 0; i < e->pages && !atomic_load_relaxed(&e->stop); i++) {
			virt_addr_t page = e->iova + ((uint64_t)i << PAGE_SHIFT);
			uint32_t word;
			if (emu_iommu_access(e->hw, e->stream, page, &word, sizeof(word), false)) {
				e->faults++;
			} else {
				e->reads++;
				if (word != 0 && word != DMA_TAG(i)) {
					e->stale_reads++;
					e->last_stale = word;
				}
			}
			mark[1] = i;
			if (emu_iommu_access(e->hw, e->stream, page + DMA_MARK_OFFSET, mark,
					     sizeof(mark), true))
				e->faults++;
			else
				e->writes++;
			thread_yield();
		}
		e->sweeps++;
	}
}

int dma_engine_start(struct dma_engine *e, unsigned cpu)
{
	e->stop = false;
	e->thread = thread_create("dma-engine", cpu, engine_thread, e);
	return e->thread ? 0 : -ENOMEM;
}

void dma_engine_stop(struct dma_engine *e)
{
	atomic_store_release(&e->stop, true);
	thread_join(e->thread);
}
