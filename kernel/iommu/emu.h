/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pagoda's emulated IOMMU: a device model written as if it were hardware
 * (docs/iommu.md). Software on the CPU side talks to it only the way a
 * driver talks to an SMMU: through tables and queues in memory and a
 * doorbell. Its own "hardware" thread consumes the command queue; DMA
 * engines (emu_dma.c) translate through it on whatever CPU they run.
 *
 * What it keeps, like the real thing:
 *  - a stream table in memory, one entry per device (stream id): abort,
 *    or translate through the page tables at `root` tagged with `asid`
 *    (an mm's own tables: shared address space; or a driver's shadow
 *    tables). Entries are cached per stream until CMD_CFGI_STE;
 *  - an IOTLB, set-associative, tagged by (asid, page), that keeps every
 *    translation until a command invalidates it. No walk caches: a walk
 *    reads the tables in memory every time it misses;
 *  - a command queue (invalidate a range of an asid, an asid, everything,
 *    a stream's configuration; sync) consumed in order; a SYNC completes
 *    when every command before it has taken effect, writes its value to
 *    memory and raises the sync interrupt (a wake-up);
 *  - an event queue: translation, permission and bad-configuration faults,
 *    each with stream, address and direction. A faulting access moves no
 *    data.
 * An access is translated and performed under the model's lock, and a
 * command takes effect under it too: once a SYNC after an invalidation
 * completes, no access can still use what was invalidated (the guarantee
 * real hardware gives for completed invalidations).
 */
#ifndef PAGODA_KERNEL_IOMMU_EMU_H
#define PAGODA_KERNEL_IOMMU_EMU_H

#include "kernel/spinlock.h"
#include "kernel/sync/wait.h"

#define EMU_STREAMS 16
#define EMU_CMDQ_SIZE 64 /* entries, a power of two */
#define EMU_EVTQ_SIZE 64

enum emu_ste_mode { EMU_STE_INVALID, EMU_STE_ABORT, EMU_STE_TRANSLATE };

struct emu_ste {
	uint32_t mode; /* enum emu_ste_mode */
	uint16_t asid;
	phys_addr_t root; /* page-table root, the CPU's descriptor format */
};

enum emu_cmd_op {
	EMU_CMD_INV_RANGE, /* entries of `asid` for pages in [start, end) */
	EMU_CMD_INV_ASID, /* every entry of `asid` */
	EMU_CMD_INV_ALL,
	EMU_CMD_CFGI_STE, /* forget the cached entry of `stream` */
	EMU_CMD_SYNC, /* store `value` at `sync_word` once everything before is done */
	EMU_CMD_COUNT,
};

struct emu_cmd {
	uint32_t op;
	uint32_t stream;
	uint16_t asid;
	virt_addr_t start, end;
	uint64_t value;
	uint64_t *sync_word;
};

enum emu_event_kind {
	EMU_EVT_TRANSLATION, /* no valid leaf (or not reachable from user mode) */
	EMU_EVT_PERMISSION, /* a write to a read-only page */
	EMU_EVT_ABORT, /* the stream's entry says abort */
	EMU_EVT_BAD_STE, /* no valid entry for the stream */
};

struct emu_event {
	uint32_t kind;
	uint32_t stream;
	virt_addr_t iova;
	bool write;
};

struct emu_iotlb_entry {
	bool valid;
	bool writable;
	uint16_t asid;
	uint64_t vpn;
	phys_addr_t pa; /* the page's frame */
	uint64_t lru;
};

struct emu_stats {
	uint64_t cmds[EMU_CMD_COUNT];
	uint64_t iotlb_hits, iotlb_misses, walks, entries_invalidated;
	uint64_t faults, events_lost;
	uint64_t accesses; /* page-sized (or smaller) pieces moved */
};

struct emu_iommu {
	/* "Registers" and the memory they point to, shared with the driver. */
	struct emu_ste strtab[EMU_STREAMS];
	struct emu_cmd cmdq[EMU_CMDQ_SIZE];
	uint32_t cmdq_prod; /* written by the driver, then the doorbell */
	uint32_t cmdq_cons; /* written by the hardware */
	struct emu_event evtq[EMU_EVTQ_SIZE];
	uint32_t evtq_prod; /* hardware */
	uint32_t evtq_cons; /* driver */
	struct wait_queue sync_irq; /* a SYNC completed */
	struct wait_queue cmdq_space; /* the hardware consumed commands */
	/* Inside the model. */
	spinlock_t lock;
	struct wait_queue doorbell;
	struct emu_ste ste_cache[EMU_STREAMS];
	bool ste_cached[EMU_STREAMS];
	unsigned iotlb_sets, iotlb_ways;
	struct emu_iotlb_entry *iotlb; /* sets * ways */
	uint64_t lru_clock;
	bool stop;
	struct thread *thread;
	struct emu_stats stats;
};

/*
 * Powers the model on: empty tables, an IOTLB of `entries` (rounded to a
 * multiple of 4 ways), its command thread on CPU `cpu`. 0 or -ENOMEM.
 */
int emu_iommu_start(struct emu_iommu *hw, unsigned entries, unsigned cpu);
/* Stops the command thread (after it drained the queue) and frees the IOTLB. */
void emu_iommu_stop(struct emu_iommu *hw);
/* The doorbell: the driver wrote commands up to cmdq_prod. */
void emu_iommu_doorbell(struct emu_iommu *hw);
/*
 * A device access of `len` bytes at `iova` by `stream`: translated page by
 * page, each piece under the model's lock. Returns 0, or -EFAULT at the
 * first piece that faults (an event is queued; that piece and the rest
 * move nothing).
 */
int emu_iommu_access(struct emu_iommu *hw, unsigned stream, virt_addr_t iova, void *buf,
		     uint64_t len, bool write);

#endif
