// SPDX-License-Identifier: BSD-2-Clause
/*
 * The VT-d invalidation queue (spec 6.5.2): a ring of 256-bit
 * descriptors in one page, a tail register the driver advances and a
 * head register the unit advances. Every batch ends with a wait
 * descriptor that writes a fresh sequence number to a status word; the
 * batch is complete when the word holds it. The unit executes the queue
 * in order, so that wait completing means everything before it did.
 *
 * Invariants: one batch at a time (qi_lock), the queue is empty between
 * batches (head == tail), a wait descriptor sets Status Write and never
 * Interrupt Flag (both at once abort QEMU 10), and every wait is bounded:
 * a unit that never answers is a panic naming vtd_qi_submit, not a hang.
 * An invalidation-queue error (FSTS.IQE: the unit stopped at a
 * descriptor it rejected) is reported with that descriptor, which is
 * replaced by a harmless wait, then IQE is cleared and the tail written
 * again so the unit resumes.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/iommu/vtd_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/mmio.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define QI_WAIT_NS     100000000ull /* 100 ms: QEMU completes a batch when the tail is written */
#define STATUS_SCRATCH 1   /* status word a replaced descriptor writes (slot 0 is the seq) */
#define BAD_DESC_TYPE  0xf /* defined by no VT-d version */

bool vtd_qi_enable(struct vtd_unit *u)
{
	if (frame_alloc_zeroed(&u->queue_pa) || frame_alloc_zeroed(&u->status_pa)) {
		printk("vtd: no memory for the invalidation queue; VT-d not used");
		return false;
	}
	u->queue = kva(u->queue_pa);
	u->status = kva(u->status_pa);
	u->tail = 0;
	vtd_write32(VTD_REG_IECTL, VTD_IECTL_IM); /* completion is polled */
	vtd_write64(VTD_REG_IQT, 0);
	vtd_write64(VTD_REG_IQA, u->queue_pa | VTD_IQA_DW); /* QS = 0: one page */
	return true;
}

void vtd_qi_disable(struct vtd_unit *u)
{
	vtd_write64(VTD_REG_IQA, 0); /* QIE is off: the unit no longer reads the queue */
	u->queue = NULL;
	u->status = NULL;
}

static struct vtd_desc wait_desc(phys_addr_t status, uint32_t value)
{
	return (struct vtd_desc){{VTD_DESC_WAIT | VTD_WAIT_SW | VTD_WAIT_DATA(value), status}};
}

static void post(struct vtd_unit *u, struct vtd_desc d)
{
	u->queue[u->tail] = d;
	u->tail = (u->tail + 1) % VTD_QUEUE_SLOTS;
}

static void ring(struct vtd_unit *u)
{
	mmio_wmb(); /* the descriptors before the tail that publishes them */
	vtd_write64(VTD_REG_IQT, (uint64_t)u->tail << VTD_DESC_SHIFT);
}

/* The unit stopped at the descriptor at IQH: report it, defuse it, resume. */
static void recover_iqe(struct vtd_unit *u)
{
	unsigned at = (unsigned)(vtd_read64(VTD_REG_IQH) >> VTD_DESC_SHIFT) % VTD_QUEUE_SLOTS;
	struct vtd_desc *bad = &u->queue[at];
	printk("vtd: invalidation queue error at descriptor %u (type %#llx): %016llx %016llx; "
	       "skipped",
	       at, (unsigned long long)(bad->qw[0] & 0xf), (unsigned long long)bad->qw[0],
	       (unsigned long long)bad->qw[1]);
	u->iqe.count++;
	u->iqe.index = at;
	u->iqe.desc[0] = bad->qw[0];
	u->iqe.desc[1] = bad->qw[1];
	*bad = wait_desc(u->status_pa + STATUS_SCRATCH * sizeof(uint32_t), 0);
	mmio_wmb();
	vtd_write32(VTD_REG_FSTS, VTD_FSTS_IQE);
	ring(u); /* the same tail: QEMU fetches again only when the tail is written */
}

void vtd_qi_submit(struct vtd_unit *u, const struct vtd_desc *d, unsigned n)
{
	/* A batch filling all slots would put the tail on the head: an empty-looking queue. */
	if (n + 1 >= VTD_QUEUE_SLOTS)
		panic("vtd_qi_submit: %u descriptors and a wait do not fit %u slots", n,
		      VTD_QUEUE_SLOTS);
	irqflags_t flags = spin_lock_irqsave(&u->qi_lock);
	for (unsigned i = 0; i < n; i++)
		post(u, d[i]);
	uint32_t seq = ++u->seq;
	post(u, wait_desc(u->status_pa, seq));
	atomic_fetch_add(&u->io.stats.syncs, 1);
	ring(u);
	uint64_t deadline = arch_time_ns() + QI_WAIT_NS;
	while (__atomic_load_n(&u->status[0], __ATOMIC_ACQUIRE) != seq) {
		if (vtd_read32(VTD_REG_FSTS) & VTD_FSTS_IQE)
			recover_iqe(u);
		else if (arch_time_ns() > deadline)
			panic("vtd_qi_submit: wait descriptor %u never completed (IQH %#llx, IQT "
			      "%#llx)",
			      seq, (unsigned long long)vtd_read64(VTD_REG_IQH),
			      (unsigned long long)vtd_read64(VTD_REG_IQT));
		else
			arch_cpu_relax();
	}
	spin_unlock_irqrestore(&u->qi_lock, flags);
}

void vtd_iqe_info(struct vtd_iqe_info *out)
{
	irqflags_t flags = spin_lock_irqsave(&vtd_unit.qi_lock);
	*out = vtd_unit.iqe;
	spin_unlock_irqrestore(&vtd_unit.qi_lock, flags);
}

int vtd_inject_bad_descriptor(void)
{
	if (!vtd_present())
		return -ENOENT;
	struct vtd_desc bad = {{BAD_DESC_TYPE | VTD_DESC_DID(1), 0xbad0000}};
	vtd_qi_submit(&vtd_unit, &bad, 1);
	return 0;
}
