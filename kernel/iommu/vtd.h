/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Intel VT-d (QEMU's `-device intel-iommu,x-scalable-mode=on,x-flts=on`),
 * what the rest of the kernel and the tests see of it (docs/iommu.md).
 *
 * The driver runs the unit in scalable mode. A device's untagged DMA
 * uses its context entry's RID_PASID, PASID 0, whose PASID entry is
 * either first-stage (the mm's own x86 page tables: shared, SVA) or
 * second-stage (tables the driver writes from a shadow domain). Every
 * invalidation goes through the invalidation queue and ends with one
 * wait descriptor that writes a status word, polled with a bound.
 *
 * Invariants:
 *  - The DMAR table is parsed by a pure function that reads nothing past
 *    the length it was given; a malformed one is named on one line and
 *    the machine goes on without the IOMMU, never half set up.
 *  - The IOMMU is registered (iommu_register_hw) only once translation
 *    is on and the queue answered a wait descriptor.
 *  - Interrupt remapping stays off (GCMD.IRE is never set), so MSIs keep
 *    passing in compatibility format.
 */
#ifndef PAGODA_KERNEL_IOMMU_VTD_H
#define PAGODA_KERNEL_IOMMU_VTD_H

#include "kernel/types.h"

/* ---- The ACPI DMAR table (pure: tests feed synthetic tables) ---------------------- */

#define VTD_DMAR_UNITS_MAX  4
#define VTD_DMAR_SCOPES_MAX 16
#define VTD_SCOPE_HOPS_MAX  4 /* path entries (device, function) of one scope */

/* Device-scope entry types (ACPI DMAR). */
enum vtd_scope_type {
	VTD_SCOPE_PCI_ENDPOINT = 1,
	VTD_SCOPE_PCI_SUBHIERARCHY = 2,
	VTD_SCOPE_IOAPIC = 3,
	VTD_SCOPE_HPET = 4,
	VTD_SCOPE_ACPI_NAMESPACE = 5,
};

struct vtd_dmar_scope {
	uint8_t type, enumeration_id, bus; /* bus: the path's start bus */
	uint8_t dev, fn;		   /* the path's last hop */
	uint8_t hops;			   /* path entries: bridges on the way, then the device */
	uint8_t path[VTD_SCOPE_HOPS_MAX][2]; /* (device, function) per hop */
};

struct vtd_dmar_unit {
	phys_addr_t reg_base;
	uint16_t segment;
	bool include_pci_all; /* every PCI device of the segment not listed elsewhere */
	unsigned nr_scopes;   /* stored, at most VTD_DMAR_SCOPES_MAX */
	struct vtd_dmar_scope scopes[VTD_DMAR_SCOPES_MAX];
	/* Well-formed scopes not stored (too many, or paths too long): coverage unknown. */
	unsigned nr_dropped;
};

struct vtd_dmar {
	unsigned host_address_width; /* bits: the table's field + 1 */
	uint8_t flags;		     /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT */
	unsigned nr_units;	     /* DRHDs stored */
	struct vtd_dmar_unit units[VTD_DMAR_UNITS_MAX];
	unsigned nr_other; /* RMRR, ATSR, RHSA, ... structures (skipped) */
};

/*
 * Decodes a DMAR table of which `avail` bytes may be read: header (its
 * length must fit in `avail`, its checksum must be zero), the remapping
 * structures (each with a length that fits), every DRHD (register base
 * non-zero and 4 KiB aligned, device scopes well formed). true with *out
 * filled; otherwise a one-line message naming the structure and field in
 * err. Never reads past min(avail, the table's length).
 */
bool vtd_dmar_parse(const void *table, size_t avail, struct vtd_dmar *out, char *err,
		    size_t err_size);

/*
 * The bus range behind the PCI-to-PCI bridge at bus:dev.fn: true with
 * *secondary and *subordinate, false when there is no bridge there.
 */
typedef bool vtd_bridge_fn(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *secondary,
			   uint8_t *subordinate, void *ctx);
/*
 * Which unit of `d` translates DMA from requester `rid` of PCI segment
 * `segment`: the unit with a PCI endpoint or sub-hierarchy scope naming
 * the device (paths followed through `bridge`), else the segment's
 * INCLUDE_PCI_ALL unit. -1 when none does, or when a unit whose scopes
 * were not all stored might list it (no guess). Pure.
 */
int vtd_dmar_unit_for(const struct vtd_dmar *d, unsigned segment, uint16_t rid,
		      vtd_bridge_fn *bridge, void *ctx);

/* ---- What a unit offers (pure: tests feed synthetic registers) ----------------- */

/* How the driver must use a unit, from its CAP and ECAP registers. */
struct vtd_caps {
	bool first_stage, second_stage; /* usable translation stages */
	/*
	 * No ECAP.C: the unit reads root, context and PASID tables without
	 * snooping, so every write to them is cleaned to memory
	 * (arch_dcache_clean_range) before the unit may look.
	 */
	bool clean_tables;
	/*
	 * No ECAP.SMPWC: walks through a PASID entry are not snooped either;
	 * the driver's second-stage tables are cleaned the same way. With
	 * SMPWC, PASID entries set PWSNP (snooped walks) instead.
	 */
	bool clean_sspt;
	bool pwsnp;
	/*
	 * First stage without SMPWC walks the CPU's own page tables, which
	 * the driver cannot clean: offered only when `emulated` (the unit is
	 * software under a hypervisor, reading memory coherently); then true.
	 */
	bool first_stage_unsnooped;
};
/*
 * Checks what the driver needs of a unit (queued invalidation, scalable
 * mode, a usable stage, 48-bit addresses, page-selective invalidation,
 * caching mode off, at least IOMMU_ASIDS domain ids) and how to keep its
 * walks coherent. true with *out; false with one line in err naming the
 * register field that rules the unit out. A first stage that cannot be
 * made coherent is dropped (note says why in one line, else note is
 * empty); the unit is refused only if no stage is left.
 */
bool vtd_caps_check(uint64_t cap, uint64_t ecap, bool emulated, struct vtd_caps *out, char *note,
		    char *err, size_t size);

/* ---- The running unit ------------------------------------------------------------ */

/* A fault the unit recorded, as its fault recording register said. */
struct vtd_fault {
	uint16_t sid;	/* requester id */
	uint8_t reason; /* VT-d fault reason (e.g. 0x71 first-stage entry not present) */
	bool write;
	bool pasid_present;
	uint32_t pasid;
	uint64_t addr; /* page of the faulting address */
};

/* The fault reasons the tests expect (VT-d spec, appendix; QEMU's numbers). */
#define VTD_FR_SS_WRITE		 0x05 /* second stage: no write permission (QEMU: a cleared leaf too) */
#define VTD_FR_PASID_ENTRY_INV	 0x5b /* PASID entry not present or invalid (detached) */
#define VTD_FR_FS_PAGING_ENTRY_P 0x71 /* first stage: entry not present */
#define VTD_FR_SM_WRITE		 0x85 /* scalable mode: write to a read-only page */

/* Is a VT-d unit driven (found, enabled, registered)? */
bool vtd_present(void);
/*
 * Can it translate with the mm's own tables (first stage: shared mode),
 * with tables of the driver (second stage: shadow mode)? QEMU 10 offers
 * one or the other: x-flts=on trades second stage for first stage.
 */
bool vtd_first_stage(void);
bool vtd_second_stage(void);
/*
 * Reads and clears the fault recording registers (and FSTS), logging one
 * line per fault; returns how many it found. Faults are polled: the
 * driver masks the fault event interrupt.
 */
unsigned vtd_poll_faults(void);
/* The last fault vtd_poll_faults found since boot: true and *f, or false. */
bool vtd_last_fault(struct vtd_fault *f);
/* Faults seen since boot (a test compares deltas). */
uint64_t vtd_fault_count(void);

/* Invalidation-queue errors met and recovered since boot, and the last failing descriptor. */
struct vtd_iqe_info {
	uint64_t count;
	unsigned index;	  /* its slot in the queue */
	uint64_t desc[2]; /* its first two quadwords */
};
void vtd_iqe_info(struct vtd_iqe_info *out);
/*
 * Test hook: queues a descriptor of an undefined type before a wait
 * descriptor and waits for it, so the unit stops with FSTS.IQE; the
 * driver must report it and recover. Returns 0, or -ENOENT without VT-d.
 */
int vtd_inject_bad_descriptor(void);

/*
 * Cache-line cleans of the driver's tables done so far (a unit without
 * ECAP.C or SMPWC needs them; a test compares deltas).
 */
uint64_t vtd_clean_count(void);
/* How the driven unit is used (vtd_caps_check's verdict); all false without VT-d. */
const struct vtd_caps *vtd_caps(void);
/* Did the probe find a unit, fail to bring it up and leave it off with nothing held? */
bool vtd_bring_up_undone(void);

/*
 * Test-only (command line vtd.break=): skip_iotlb makes the invalidate
 * op skip its IOTLB descriptor (the wait is still issued), so a device
 * keeps stale translations; corrupt_dmar makes the probe parse a copy
 * of the DMAR table with a wrong checksum (the boot must go on without
 * VT-d and say why); steal_stream makes attach take over a stream that
 * is already attached (detaching its owner) instead of refusing it;
 * skip_clean skips the cache cleans of the driver's tables; fail_enable
 * makes the probe see translation-enable never acknowledged, so the
 * unit must be turned off again and everything given back.
 */
enum vtd_break {
	VTD_BREAK_NONE,
	VTD_BREAK_SKIP_IOTLB,
	VTD_BREAK_CORRUPT_DMAR,
	VTD_BREAK_STEAL_STREAM,
	VTD_BREAK_SKIP_CLEAN,
	VTD_BREAK_FAIL_ENABLE,
};
enum vtd_break vtd_broken(void);

#endif
