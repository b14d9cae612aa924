// SPDX-License-Identifier: BSD-2-Clause
/*
 * Probing and enabling the SMMUv3 (the driver's entry point; its tables
 * are in smmuv3_ste.c, its queues in smmuv3_queue.c, the firmware
 * description in smmuv3_dt.c).
 *
 * smmuv3_probe() finds the `arm,smmu-v3` node and the PCI host's
 * iommu-map, reads IDR0/1/3/5 and refuses, in one line, an SMMU without
 * what Pagoda relies on: stage 1 with AArch64 tables and a 4 KiB granule,
 * coherent table walks (the tables are ordinary cacheable memory),
 * little-endian tables, ASIDs at least as wide as the CPU's (the CD
 * carries the mm's own ASID), queues as large as the driver's, and a CPU
 * whose walk the SMMU can copy (arch_mm_iommu_stage1). It then enables,
 * in the architecture's order: command queue, configuration and TLB
 * invalidation of anything cached, event queue, then SMMUEN; every
 * stream bypasses until a binding takes it. Errors and events are polled
 * (at every sync and when a test asks); no interrupt is used.
 *
 * Invariant (probe.c's): the SMMU is registered with the IOMMU layer only
 * once enabled with its queues working; a failure on the way (no CR0
 * acknowledgement, no memory, the initial CMD_SYNC never consumed) leaves
 * it disabled (CR0 = 0: traffic passes untranslated, as with no SMMU),
 * frees its tables and queues once it acknowledged CR0 = 0 (until then it
 * may still read them: they are left), and says why in one line.
 */
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "kernel/mm/vm.h"
#include "kernel/mmio.h"
#include "kernel/pci/pci.h"
#include "kernel/printk.h"

#define CR0_WAIT_NS 100000000ull

struct smmu smmu_dev;
enum smmu_break smmu_broken;
static bool enabled;

CMDLINE_PARAM(smmu_break_param, .key = "smmu.break", .kind = CMDLINE_ENUM,
	      .values = "none|skip_tlbi", .def = "none",
	      .help = "test-only: break the SMMUv3 driver (skip_tlbi: invalidations send no TLBI)");

/* Writes CR0 and waits for CR0ACK to agree (bounded). */
static bool cr0_set(struct smmu *s, uint32_t v)
{
	mmio_write32(s->regs + SMMU_CR0, v);
	uint64_t deadline = arch_time_ns() + CR0_WAIT_NS;
	while (mmio_read32(s->regs + SMMU_CR0ACK) != v)
		if (arch_time_ns() > deadline)
			return false;
	return true;
}

static unsigned oas_bits(unsigned code)
{
	static const unsigned bits[] = {32, 36, 40, 42, 44, 48, 52};
	return code < ARRAY_SIZE(bits) ? bits[code] : 0;
}

/* Why this SMMU cannot be driven, or NULL. */
static const char *missing_caps(struct smmu *s)
{
	unsigned ttf = (s->idr0 >> IDR0_TTF_SHIFT) & 3,
		 endian = (s->idr0 >> IDR0_TTENDIAN_SHIFT) & 3;
	if (!(s->idr0 & IDR0_S1P))
		return "no stage-1 translation (IDR0.S1P)";
	if (!(ttf & 2))
		return "no AArch64 translation tables (IDR0.TTF)";
	if (!(s->idr0 & IDR0_COHACC))
		return "table walks are not coherent (IDR0.COHACC)";
	if (endian == 3)
		return "big-endian tables only (IDR0.TTENDIAN)";
	if (!(s->idr5 & IDR5_GRAN4K))
		return "no 4 KiB granule (IDR5.GRAN4K)";
	if (IDR1_SIDSIZE(s->idr1) < SMMU_STREAM_BITS)
		return "fewer stream id bits than the linear table needs (IDR1.SIDSIZE)";
	if (IDR1_CMDQS(s->idr1) < SMMU_CMDQ_SHIFT || IDR1_EVENTQS(s->idr1) < SMMU_EVTQ_SHIFT)
		return "queues smaller than the driver's (IDR1.CMDQS/EVENTQS)";
	if (s->asid_bits < arch_tlb_caps()->asid_bits)
		return "ASIDs narrower than the CPU's (IDR0.ASID16): cannot share them";
	if (!arch_mm_iommu_stage1(&s->s1) || s->s1.granule_shift != 12 || s->s1.va_bits < 25 ||
	    s->s1.va_bits > 48)
		return "the CPU's walk cannot be described to the SMMU (arch_mm_iommu_stage1)";
	return NULL;
}

/* Enables the SMMU; false (left disabled) with the failing step in *why. */
static bool enable(struct smmu *s, const char **why)
{
	if (!cr0_set(s, 0)) {
		*why = "CR0ACK never acknowledged disabling";
		return false;
	}
	mmio_write32(s->regs + SMMU_CR1, CR1_WB_INNER_SHAREABLE);
	mmio_write32(s->regs + SMMU_CR2, CR2_RECINVSID);
	mmio_write32(s->regs + SMMU_IRQ_CTRL, 0); /* polled */
	/* Errors whoever ran before left pending: acknowledged (GERRORN = GERROR). */
	mmio_write32(s->regs + SMMU_GERRORN, mmio_read32(s->regs + SMMU_GERROR));
	/* Whatever firmware or a previous kernel left cached goes. */
	static const uint64_t flush[2][2] = {{CMD_CFGI_ALL, 31}, {CMD_TLBI_NSNH_ALL, 0}};
	if (smmu_tables_init(s) || smmu_queues_init(s))
		*why = "out of memory for the stream table or queues";
	else if (!cr0_set(s, CR0_CMDQEN))
		*why = "CR0ACK never acknowledged the command queue";
	else if (smmu_issue_bounded(s, flush, 2))
		*why = "the initial CFGI_ALL and TLBI_NSNH_ALL never completed";
	else if (!cr0_set(s, CR0_CMDQEN | CR0_EVENTQEN) ||
		 !cr0_set(s, CR0_CMDQEN | CR0_EVENTQEN | CR0_SMMUEN))
		*why = "CR0ACK never acknowledged the event queue or SMMUEN";
	else
		return true;
	/* Off again; only once it says so does it stop reading the tables and queues. */
	if (cr0_set(s, 0)) {
		smmu_queues_free(s);
		smmu_tables_free(s);
	}
	return false;
}

void smmuv3_probe(void)
{
	struct smmu *s = &smmu_dev;
	char err[200];
	const char *why;

	smmu_broken = (enum smmu_break)cmdline_enum("smmu.break");
	s->cfg_lock = (struct mutex)MUTEX_INIT;
	int found = boot_info.dtb ? smmu_dt_find(&s->dt, err, sizeof(err))
				  : smmu_acpi_find(&s->dt, err, sizeof(err));
	if (found < 0)
		printk("smmuv3: %s; not using the SMMU", err);
	if (found <= 0)
		return;
	s->regs = vm_map_mmio(s->dt.base, SMMU_REG_SIZE, "SMMUv3");
	s->idr0 = mmio_read32(s->regs + SMMU_IDR0);
	s->idr1 = mmio_read32(s->regs + SMMU_IDR1);
	s->idr3 = mmio_read32(s->regs + SMMU_IDR3);
	s->idr5 = mmio_read32(s->regs + SMMU_IDR5);
	s->asid_bits = s->idr0 & IDR0_ASID16 ? 16 : 8;
	s->oas_bits = oas_bits(IDR5_OAS(s->idr5));
	s->ril = s->idr3 & IDR3_RIL;
	why = missing_caps(s);
	if (!why)
		enable(s, &why);
	if (why) {
		printk("smmuv3: %s at %#llx: %s; not using the SMMU", s->dt.path,
		       (unsigned long long)s->dt.base, why);
		return;
	}
	s->io.name = "smmuv3";
	s->io.ops = &smmu_ops;
	s->io.shares_cpu_asid = true;
	s->io.translates_msi = true; /* an MSI is a write through the stream like any DMA */
	enabled = true;
	printk("smmuv3: %s at %#llx: stage 1, AArch64 tables, 4K granule, %u-bit ASIDs "
	       "(shared with the CPU), OAS %u bits, %s, coherent, linear stream table of %u "
	       "streams (default bypass), %u iommu-map entries%s",
	       s->dt.path, (unsigned long long)s->dt.base, s->asid_bits, s->oas_bits,
	       s->ril ? "range TLBI" : "TLBI per page", s->io.nr_streams, s->dt.map.n,
	       smmu_broken == SMMU_BREAK_SKIP_TLBI
		   ? "; WARNING: TLBIs skipped on purpose (smmu.break=skip_tlbi): tests must fail"
		   : "");
	iommu_register_hw(&s->io);
}

bool smmu_present(void)
{
	return enabled;
}

int smmu_stream_of(const struct pci_dev *d, unsigned *sid)
{
	uint32_t id;
	if (!enabled)
		return -ENOENT;
	if (!smmu_dt_sid(&smmu_dev.dt, pci_rid(d), &id) || id >= smmu_dev.io.nr_streams)
		return -EINVAL;
	*sid = id;
	return 0;
}

uint64_t smmu_events(struct smmu_event *last)
{
	struct smmu *s = &smmu_dev;
	if (!enabled)
		return 0;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	smmu_drain_events_locked(s);
	uint64_t n = s->nr_events;
	if (n && last)
		*last = s->events[(n - 1) % SMMU_EVENTS_KEPT];
	spin_unlock_irqrestore(&s->lock, f);
	return n;
}

uint64_t smmu_cmd_errors(struct smmu_cmd_error *last)
{
	struct smmu *s = &smmu_dev;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	uint64_t n = s->nr_cmd_errors;
	if (n && last)
		*last = s->last_cmd_error;
	spin_unlock_irqrestore(&s->lock, f);
	return n;
}

void smmu_test_command(uint64_t dw0, uint64_t dw1)
{
	const uint64_t cmd[1][2] = {{dw0, dw1}};
	if (enabled)
		smmu_issue(&smmu_dev, cmd, 1);
}
