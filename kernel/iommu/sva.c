// SPDX-License-Identifier: BSD-2-Clause
/*
 * Shared address spaces (SVA): a device stream translating through an
 * mm's own page tables, kept coherent through the mm's notifier.
 *
 * The only callback that matters for correctness is
 * invalidate_secondary_tlbs: it runs at the gather's flush point, after
 * the entries were unhooked and before their frames are freed, and
 * returns only once the IOMMU completed the invalidation. Range start
 * and end are not used: a hardware walker may refill its TLB at any
 * moment between them, so only the flush point can make it forget.
 * Release (mm teardown, or unbind) makes the stream abort first, then
 * drops every cached translation of its id: from then on the device
 * reaches nothing, and the mm's tables may go.
 *
 * The id is the IOMMU's own (iommu_alloc_asid) or, for an IOMMU that
 * shares the CPU's ASID space (io->shares_cpu_asid: SMMUv3), the mm's own
 * ASID pinned for the binding's lifetime (asid_pin), so a CPU rollover
 * can neither move it nor hand it to another mm while the IOMMU tags the
 * mm's translations with it. The pin is dropped by id (asid_unpin_id),
 * never through the mm: release may run from an unbind that raced the
 * mm's teardown, after the mm was freed (asid.c says why that is safe).
 *
 * Attach and release of one binding are serialised by bond->lock, and
 * only a binding whose attach succeeded (bond->attached) ever detaches
 * the stream: a teardown that releases the binding between mn_register
 * and attach makes bind give up instead of attaching the stream to
 * tables about to be freed, and a bind refused by the driver (the stream
 * belongs to someone else: -EBUSY) leaves the stream as it was.
 */
#include "kernel/iommu/iommu.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/mm.h"
#include "kernel/printk.h"

enum iommu_break iommu_broken;

unsigned iommu_alloc_asid(struct iommu *io)
{
	/* The IOMMU tags by the CPU's ids: take one no mm has (and none gets). */
	if (io->shares_cpu_asid)
		return asid_reserve();
	unsigned found = 0;
	irqflags_t flags = spin_lock_irqsave(&io->asid_lock);
	for (unsigned id = 1; id < IOMMU_ASIDS && !found; id++) {
		if (!(io->asid_map[id / 64] & (1ull << (id % 64)))) {
			io->asid_map[id / 64] |= 1ull << (id % 64);
			found = id;
		}
	}
	spin_unlock_irqrestore(&io->asid_lock, flags);
	return found;
}

void iommu_free_asid(struct iommu *io, unsigned asid)
{
	if (io->shares_cpu_asid) {
		asid_unpin_id(asid); /* a reservation, or a bond's pin on its mm's id */
		return;
	}
	irqflags_t flags = spin_lock_irqsave(&io->asid_lock);
	io->asid_map[asid / 64] &= ~(1ull << (asid % 64));
	spin_unlock_irqrestore(&io->asid_lock, flags);
}

/*
 * The stream aborts, then nothing tagged with the bond's id stays cached.
 * Only if this binding attached it; under bond->lock.
 */
static void sva_stop_device(struct iommu_sva *bond)
{
	if (!bond->attached)
		return;
	bond->io->ops->detach(bond->io, bond->stream);
	bond->io->ops->invalidate(bond->io, bond->asid, 0, 0, true, true);
	bond->attached = false;
}

static void sva_invalidate(struct mn_subscription *sub, struct mm *mm, virt_addr_t start,
			   virt_addr_t end, bool freed_tables, bool full)
{
	(void)mm;
	struct iommu_sva *bond = (struct iommu_sva *)sub;
	bond->io->ops->invalidate(bond->io, bond->asid, start, end, freed_tables, full);
}

/*
 * `mm` may already be freed here (an unbind that raced the teardown):
 * only the bond is used. The id goes back after the invalidation that
 * dropped its last entries completed.
 */
static void sva_release(struct mn_subscription *sub, struct mm *mm)
{
	(void)mm;
	struct iommu_sva *bond = (struct iommu_sva *)sub;
	mutex_lock(&bond->lock);
	sva_stop_device(bond);
	bond->released = true;
	mutex_unlock(&bond->lock);
	iommu_free_asid(bond->io, bond->asid);
}

static const struct mn_ops sva_ops = {
	.release = sva_release,
	.invalidate_secondary_tlbs = sva_invalidate,
};

int iommu_sva_bind(struct iommu_sva *bond, struct iommu *io, unsigned stream, struct mm *mm)
{
	if (stream >= io->nr_streams)
		return -EINVAL;
	/*
	 * Sharing the CPU's ASID: pinned, so a rollover never gives it to
	 * another mm. Pinned before mn_register: a teardown in between
	 * orphans the pin (asid_release) and mn_register then refuses.
	 */
	unsigned asid = io->shares_cpu_asid ? asid_pin(mm) : iommu_alloc_asid(io);
	*bond = (struct iommu_sva){.io = io, .stream = stream, .asid = asid, .lock = MUTEX_INIT};
	if (!bond->asid)
		return -ENOSPC; /* all ids in use, or (shared) none on this arch or too many pins */
	bond->sub.ops = &sva_ops;
	/* Subscribed before the device may translate: no change can slip between. */
	int err = mn_register(&bond->sub, mm);
	if (err) {
		iommu_free_asid(io, bond->asid);
		return err;
	}
	/* From here the id is the subscription's: its release (exactly once) gives it back. */
	mutex_lock(&bond->lock);
	if (bond->released) {
		err = -EINVAL; /* the mm is being torn down: its tables are about to go */
	} else {
		/* The doorbell before the stream translates: no MSI is ever lost to a fault. */
		err = iommu_msi_map(io, mm);
		if (!err) {
			err = io->ops->attach(io, stream, mm->pt.root, bond->asid);
			if (err)
				iommu_msi_unmap(io, mm);
		}
	}
	bond->attached = err == 0;
	bond->mm = err ? NULL : mm;
	mutex_unlock(&bond->lock);
	if (err)
		mn_unregister(&bond->sub);
	return err;
}

void iommu_sva_unbind(struct iommu_sva *bond)
{
	/*
	 * Stop the device first: once unlinked, the gathers no longer tell it
	 * of unmaps, and until release runs it could reach freed frames.
	 */
	mutex_lock(&bond->lock);
	sva_stop_device(bond);
	/*
	 * Not released: the teardown has not passed this binding's release
	 * (which waits for bond->lock), so the mm is alive. Its doorbell goes
	 * after the stream stopped using it.
	 */
	if (!bond->released && bond->mm)
		iommu_msi_unmap(bond->io, bond->mm);
	bond->mm = NULL;
	mutex_unlock(&bond->lock);
	mn_unregister(&bond->sub); /* runs release (again harmless) unless the teardown did */
}

CMDLINE_PARAM(iommu_break_param, .key = "iommu.break", .kind = CMDLINE_ENUM,
	      .values = "none|drop_sync|no_msi_map", .def = "none",
	      .help = "test-only: break the IOMMU layer (drop_sync: do not wait for syncs; "
		      "no_msi_map: bindings leave the MSI doorbell unmapped)");

void iommu_setup(void)
{
	iommu_broken = (enum iommu_break)cmdline_enum("iommu.break");
	if (iommu_broken == IOMMU_BREAK_DROP_SYNC)
		printk("iommu: WARNING: syncs dropped on purpose (iommu.break=drop_sync): tests must fail");
}
