/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The driver for Pagoda's emulated IOMMU (emu.h): the iommu_ops of the
 * generic layer (iommu.h) done with the model's stream table, command
 * queue and event queue, as a driver for real hardware would.
 *
 * Invariants: commands are posted under cmd_lock in the order their
 * callers took it, and every posting that must complete ends with a SYNC
 * whose value is a fresh sequence number; the hardware stores them in
 * order, so `sync_done` >= n means every command posted before SYNC n has
 * taken effect. Waiting sleeps on the sync interrupt, never spins.
 */
#ifndef PAGODA_KERNEL_IOMMU_EMU_DRV_H
#define PAGODA_KERNEL_IOMMU_EMU_DRV_H

#include "kernel/iommu/emu.h"
#include "kernel/iommu/iommu.h"

struct emu_drv {
	struct iommu io; /* first: the ops get it back */
	struct emu_iommu hw;
	struct mutex cmd_lock;
	uint64_t sync_seq; /* last value posted in a SYNC (under cmd_lock) */
	uint64_t sync_done; /* written by the hardware */
};

/*
 * Starts the model (IOTLB of `iotlb_entries`, command thread on `cpu`) and
 * its driver. 0, -EINVAL or -ENOMEM.
 */
int emu_drv_start(struct emu_drv *d, unsigned iotlb_entries, unsigned cpu);
/* The IOTLB size the command line asks for (`iommu.iotlb=`, default 256). */
unsigned emu_drv_iotlb_entries(void);
/* Stops both; every stream must have been detached. */
void emu_drv_stop(struct emu_drv *d);
/* Copies up to `max` pending fault events to `out` and consumes them; returns how many. */
unsigned emu_drv_events(struct emu_drv *d, struct emu_event *out, unsigned max);

#endif
