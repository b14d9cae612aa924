// SPDX-License-Identifier: BSD-2-Clause
/*
 * VT-d primary fault logging (spec 7.2.1, 10.4.14): the unit records a
 * DMA it could not translate in one of its fault recording registers
 * (CAP.NFR of them at CAP.FRO), 128 bits each: F (bit 127), T1 (126:
 * read), PASID value and present bit, the reason (103:96), the source id
 * (79:64) and the faulting page (63:12). A set F holds the register
 * until software writes 1 to it; meanwhile further faults only set
 * FSTS.PFO and are lost, so the records are drained promptly.
 *
 * Faults are polled (the fault event interrupt is masked): the tests
 * poll after each DMA, and a fault is printed on one line when read.
 * Invariant: each record is copied out before its F bit is cleared, so
 * the unit never overwrites one that was not read.
 */
#include "kernel/iommu/vtd_hw.h"
#include "kernel/printk.h"

#define FRCD_F	       (1ull << 63)
#define FRCD_T1	       (1ull << 62)
#define FRCD_PP	       (1ull << 31)
#define FRCD_REASON(h) ((uint8_t)((h) >> 32))
#define FRCD_PASID(h)  ((uint32_t)(((h) >> 40) & 0xfffff))

static spinlock_t fault_lock = SPINLOCK_INIT;
static struct vtd_fault last;
static uint64_t seen;

void vtd_fault_init(struct vtd_unit *u)
{
	vtd_write32(VTD_REG_FECTL, VTD_FECTL_IM);
	(void)u;
	vtd_poll_faults(); /* whatever firmware or a previous user left */
}

unsigned vtd_poll_faults(void)
{
	struct vtd_unit *u = &vtd_unit;
	if (!u->regs)
		return 0;
	unsigned found = 0;
	irqflags_t flags = spin_lock_irqsave(&fault_lock);
	for (unsigned i = 0; i < VTD_CAP_NFR(u->cap); i++) {
		unsigned off = VTD_CAP_FRO(u->cap) + 16 * i;
		uint64_t hi = vtd_read64(off + 8);
		if (!(hi & FRCD_F))
			continue;
		struct vtd_fault f = {
		    .sid = (uint16_t)hi,
		    .reason = FRCD_REASON(hi),
		    .write = !(hi & FRCD_T1),
		    .pasid_present = hi & FRCD_PP,
		    .pasid = FRCD_PASID(hi),
		    .addr = vtd_read64(off) & ~0xfffull,
		};
		vtd_write32(off + 12,
			    (uint32_t)(FRCD_F >> 32)); /* write 1 to F: the record is ours */
		printk("vtd: fault: %02x:%02x.%u %s %#llx: reason %#x%s", f.sid >> 8,
		       (f.sid >> 3) & 0x1f, f.sid & 7, f.write ? "write" : "read",
		       (unsigned long long)f.addr, f.reason,
		       f.pasid_present ? " (with PASID)" : "");
		last = f;
		seen++;
		found++;
	}
	uint32_t fsts = vtd_read32(VTD_REG_FSTS);
	if (fsts & VTD_FSTS_PFO) {
		printk("vtd: fault: records overflowed; some faults were lost");
		vtd_write32(VTD_REG_FSTS, VTD_FSTS_PFO);
	}
	spin_unlock_irqrestore(&fault_lock, flags);
	return found;
}

bool vtd_last_fault(struct vtd_fault *f)
{
	irqflags_t flags = spin_lock_irqsave(&fault_lock);
	bool any = seen != 0;
	*f = last;
	spin_unlock_irqrestore(&fault_lock, flags);
	return any;
}

uint64_t vtd_fault_count(void)
{
	irqflags_t flags = spin_lock_irqsave(&fault_lock);
	uint64_t n = seen;
	spin_unlock_irqrestore(&fault_lock, flags);
	return n;
}
