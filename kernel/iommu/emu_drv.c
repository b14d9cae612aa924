// SPDX-License-Identifier: BSD-2-Clause
/*
 * Driver for the emulated IOMMU (emu_drv.h): stream-table entries, the
 * command queue with syncs, the event queue.
 */
#include "kernel/iommu/emu_drv.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"

static struct emu_drv *to_drv(struct iommu *io)
{
	return (struct emu_drv *)io;
}

struct space_arg {
	struct emu_iommu *hw;
};

static bool queue_has_room(void *arg)
{
	struct emu_iommu *hw = arg;
	return hw->cmdq_prod - atomic_load_acquire(&hw->cmdq_cons) < EMU_CMDQ_SIZE;
}

/* cmd_lock held. Writes one command, waiting for room; not yet visible to the hardware. */
static void post(struct emu_drv *d, struct emu_cmd c)
{
	struct emu_iommu *hw = &d->hw;
	if (!queue_has_room(hw)) {
		/* Publish what is written so the hardware can make room. */
		emu_iommu_doorbell(hw);
		wait_queue_wait(&hw->cmdq_space, queue_has_room, hw);
	}
	hw->cmdq[hw->cmdq_prod % EMU_CMDQ_SIZE] = c;
	atomic_store_release(&hw->cmdq_prod, hw->cmdq_prod + 1);
}

struct sync_arg {
	struct emu_drv *d;
	uint64_t seq;
};

static bool sync_reached(void *arg)
{
	struct sync_arg *a = arg;
	return atomic_load_acquire(&a->d->sync_done) >= a->seq;
}

#define SYNC_POLL_NS 50000

/* cmd_lock held: ends the posting with a SYNC, rings, unlocks, and waits for it. */
static void sync_and_unlock(struct emu_drv *d)
{
	uint64_t seq = ++d->sync_seq;
	post(d, (struct emu_cmd){.op = EMU_CMD_SYNC, .value = seq, .sync_word = &d->sync_done});
	iommu_stat_add(&d->io.stats.syncs, 1);
	mutex_unlock(&d->cmd_lock);
	emu_iommu_doorbell(&d->hw);
	if (iommu_broken == IOMMU_BREAK_DROP_SYNC)
		return; /* broken on purpose: the caller goes on before the IOMMU forgot */
	/* Poll a little, as drivers for real IOMMUs do, then sleep on the sync interrupt. */
	struct sync_arg a = {d, seq};
	uint64_t until = arch_time_ns() + SYNC_POLL_NS;
	while (!sync_reached(&a) && arch_time_ns() < until)
		thread_yield(); /* the command thread may share this CPU */
	wait_queue_wait(&d->hw.sync_irq, sync_reached, &a);
}

static int emu_attach(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	struct emu_drv *d = to_drv(io);
	mutex_lock(&d->cmd_lock);
	/* Fields first, mode last: a device reading the entry uncached never sees it torn. */
	struct emu_ste *ste = &d->hw.strtab[stream];
	ste->asid = (uint16_t)asid;
	ste->root = root;
	atomic_store_release(&ste->mode, (uint32_t)EMU_STE_TRANSLATE);
	post(d, (struct emu_cmd){.op = EMU_CMD_CFGI_STE, .stream = stream});
	sync_and_unlock(d);
	return 0;
}

static void emu_detach(struct iommu *io, unsigned stream)
{
	struct emu_drv *d = to_drv(io);
	mutex_lock(&d->cmd_lock);
	atomic_store_release(&d->hw.strtab[stream].mode, (uint32_t)EMU_STE_ABORT);
	post(d, (struct emu_cmd){.op = EMU_CMD_CFGI_STE, .stream = stream});
	sync_and_unlock(d);
}

static void emu_invalidate(struct iommu *io, unsigned asid, virt_addr_t start, virt_addr_t end,
			   bool walks, bool full)
{
	(void)walks; /* the model caches no walks: a range command is enough */
	struct emu_drv *d = to_drv(io);
	mutex_lock(&d->cmd_lock);
	if (full) {
		post(d, (struct emu_cmd){.op = EMU_CMD_INV_ASID, .asid = (uint16_t)asid});
		iommu_stat_add(&io->stats.asid_invalidations, 1);
	} else {
		post(d, (struct emu_cmd){.op = EMU_CMD_INV_RANGE, .asid = (uint16_t)asid,
					 .start = start, .end = end});
		iommu_stat_add(&io->stats.range_invalidations, 1);
	}
	sync_and_unlock(d);
}

CMDLINE_PARAM(emu_iotlb_param, .key = "iommu.iotlb", .kind = CMDLINE_U64, .min = 4, .max = 1024,
	      .def = "256", .help = "emulated IOMMU: IOTLB entries (4 ways; the set count follows)");

unsigned emu_drv_iotlb_entries(void)
{
	return (unsigned)cmdline_u64("iommu.iotlb");
}

static const struct iommu_ops emu_ops = {
	.attach = emu_attach,
	.detach = emu_detach,
	.invalidate = emu_invalidate,
};

int emu_drv_start(struct emu_drv *d, unsigned iotlb_entries, unsigned cpu)
{
	memset(d, 0, sizeof(*d));
	d->io = (struct iommu){.name = "emu-iommu", .ops = &emu_ops, .nr_streams = EMU_STREAMS,
			       .asid_lock = SPINLOCK_INIT};
	d->cmd_lock = (struct mutex)MUTEX_INIT;
	int err = emu_iommu_start(&d->hw, iotlb_entries, cpu);
	/* No stream is attached, no device can access yet: every stream aborts. */
	for (unsigned s = 0; s < EMU_STREAMS; s++)
		d->hw.strtab[s].mode = EMU_STE_ABORT;
	return err;
}

void emu_drv_stop(struct emu_drv *d)
{
	emu_iommu_stop(&d->hw);
}

unsigned emu_drv_events(struct emu_drv *d, struct emu_event *out, unsigned max)
{
	struct emu_iommu *hw = &d->hw;
	unsigned n = 0;
	uint32_t prod = atomic_load_acquire(&hw->evtq_prod);
	while (hw->evtq_cons != prod && n < max) {
		out[n++] = hw->evtq[hw->evtq_cons % EMU_EVTQ_SIZE];
		atomic_store_release(&hw->evtq_cons, hw->evtq_cons + 1);
	}
	return n;
}
