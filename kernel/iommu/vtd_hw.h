/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The VT-d driver's own view of the hardware: register offsets and bits,
 * the scalable-mode table and descriptor formats (VT-d spec chapters 9,
 * 10 and 6.5), the state of the one unit Pagoda drives, and the calls
 * between the driver's files (vtd.c: probe, enable, attach/detach;
 * vtd_qi.c: invalidation queue; vtd_fault.c: fault records; vtd_sspt.c:
 * second-stage tables). Only kernel/iommu/vtd*.c include it.
 *
 * Invariants: descriptors are posted only under qi_lock and every batch
 * ends with a wait descriptor with Status Write and without Interrupt
 * Flag (QEMU 10 aborts on both); table updates (root, context, PASID)
 * happen under table_lock, fields first and the present bit last.
 */
#ifndef PAGODA_KERNEL_IOMMU_VTD_HW_H
#define PAGODA_KERNEL_IOMMU_VTD_HW_H

#include "kernel/iommu/iommu.h"
#include "kernel/iommu/vtd.h"
#include "kernel/pci/pci.h"
#include "kernel/sync/wait.h"

/* Registers (offsets from the DRHD's register base). */
#define VTD_REG_VER    0x00
#define VTD_REG_CAP    0x08
#define VTD_REG_ECAP   0x10
#define VTD_REG_GCMD   0x18
#define VTD_REG_GSTS   0x1c
#define VTD_REG_RTADDR 0x20
#define VTD_REG_FSTS   0x34
#define VTD_REG_FECTL  0x38
#define VTD_REG_IQH    0x80
#define VTD_REG_IQT    0x88
#define VTD_REG_IQA    0x90
#define VTD_REG_ICS    0x9c
#define VTD_REG_IECTL  0xa0

/* GCMD / GSTS bits (IRE, bit 25, is deliberately absent: interrupt remapping stays off). */
#define VTD_GCMD_TE   (1u << 31)
#define VTD_GCMD_SRTP (1u << 30)
#define VTD_GCMD_QIE  (1u << 26)

#define VTD_RTADDR_SMT (1ull << 10) /* scalable-mode root table */

#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FECTL_IM (1u << 31)
#define VTD_IECTL_IM (1u << 31)

/* CAP fields. */
#define VTD_CAP_CM	 (1ull << 7) /* caching mode: not-present entries may be cached */
#define VTD_CAP_SAGAW(c) (((c) >> 8) & 0x1f)
#define VTD_SAGAW_4LEVEL (1u << 2)
#define VTD_CAP_MGAW(c)	 ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c)	 ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_PSI	 (1ull << 39)
#define VTD_CAP_NFR(c)	 ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_MAMV(c)	 ((unsigned)(((c) >> 48) & 0x3f))
#define VTD_CAP_ND(c)	 ((unsigned)((c)&7))

/* ECAP bits. */
#define VTD_ECAP_C	(1ull << 0) /* root, context and PASID table reads are snooped */
#define VTD_ECAP_QI	(1ull << 1)
#define VTD_ECAP_IR	(1ull << 3)
#define VTD_ECAP_PT	(1ull << 6)
#define VTD_ECAP_SRS	(1ull << 31)
#define VTD_ECAP_PASID	(1ull << 40)
#define VTD_ECAP_SMTS	(1ull << 43)
#define VTD_ECAP_SSTS	(1ull << 46)
#define VTD_ECAP_FSTS	(1ull << 47)
#define VTD_ECAP_SMPWC	(1ull << 48) /* walks through a PASID entry snoop when it sets PWSNP */
#define VTD_ECAP_PSS(e) ((unsigned)(((e) >> 35) & 0x1f) + 1)

/* Invalidation descriptors: 256 bits (IQA.DW = 1, as scalable mode wants). */
struct vtd_desc {
	uint64_t qw[4];
};
#define VTD_IQA_DW	  (1ull << 11)
#define VTD_QUEUE_SLOTS	  128 /* one 4 KiB page of 32-byte descriptors (IQA.QS = 0) */
#define VTD_DESC_SHIFT	  5   /* IQH/IQT hold the byte offset */
#define VTD_DESC_CC	  0x1 /* context-cache */
#define VTD_DESC_IOTLB	  0x2 /* IOTLB (second stage, by domain) */
#define VTD_DESC_WAIT	  0x5
#define VTD_DESC_PIOTLB	  0x6 /* PASID-based IOTLB (first stage) */
#define VTD_DESC_PC	  0x7 /* PASID cache */
#define VTD_DESC_G(g)	  ((uint64_t)(g) << 4)
#define VTD_DESC_DID(d)	  ((uint64_t)(d) << 16)
#define VTD_DESC_PASID(p) ((uint64_t)(p) << 32)
#define VTD_WAIT_SW	  (1ull << 5)
#define VTD_WAIT_DATA(v)  ((uint64_t)(v) << 32)
/* Granularities. */
#define VTD_CC_GLOBAL	 1
#define VTD_IOTLB_DOMAIN 2
#define VTD_IOTLB_PAGE	 3
#define VTD_PIOTLB_PASID 2
#define VTD_PIOTLB_PAGE	 3
#define VTD_PC_PASID	 1

/* Scalable-mode tables. */
#define VTD_P		    1ull /* present, in every entry below */
#define VTD_PASID_RID	    0	 /* the PASID untagged requests use (context RID_PASID = 0) */
#define VTD_PGTT_FIRST	    1ull
#define VTD_PGTT_SECOND	    2ull
#define VTD_PE_PGTT(t)	    ((t) << 6)
#define VTD_PE_AW_48	    (2ull << 2) /* second stage: 4-level, 48-bit */
#define VTD_PE_FSPM_4LEVEL  (0ull << 2) /* in qw2 */
#define VTD_PE_PWSNP	    (1ull << 23) /* in qw1 (entry bit 87): snooped page walks */
#define VTD_CTX_PER_TABLE   128		/* 32-byte context entries per 4 KiB half */
#define VTD_PASID_PER_TABLE 64		/* 64-byte PASID entries per 4 KiB table */

struct vtd_pasid_entry {
	uint64_t qw[8];
};

/* Second-stage entries: read, write, address 51:12. */
#define VTD_SS_R    (1ull << 0)
#define VTD_SS_W    (1ull << 1)
#define VTD_ADDR(e) ((e)&0x000ffffffffff000ull)

/* The unit Pagoda drives (at most one). */
struct vtd_unit {
	struct iommu io; /* first: the ops get it back */
	volatile uint8_t *regs;
	uint64_t cap, ecap;
	struct vtd_caps caps;
	/* Requester ids of the scanned PCI devices this unit translates (DMAR scopes). */
	uint16_t rids[PCI_DEV_MAX];
	unsigned nr_rids;
	uint64_t cleans; /* cache-line cleans of tables (atomic: sspt runs per domain) */
	bool undone;	 /* bring-up failed and was rolled back */
	uint32_t gcmd; /* enables set so far (GCMD is written whole) */
	phys_addr_t root_pa;
	struct mutex table_lock;
	/* Per domain id: what its PASID entry translates with (atomic bytes: read unlocked). */
	uint8_t did_pgtt[IOMMU_ASIDS];
	/* Invalidation queue. */
	spinlock_t qi_lock;
	struct vtd_desc *queue;
	phys_addr_t queue_pa;
	unsigned tail;
	volatile uint32_t *status; /* wait descriptors write here */
	phys_addr_t status_pa;
	uint32_t seq;
	struct vtd_iqe_info iqe;
	enum vtd_break broken;
};

extern struct vtd_unit vtd_unit;

/* The unit behind an iommu the ops were handed (io is its first member). */
static inline struct vtd_unit *vtd_to_unit(struct iommu *io)
{
	return (struct vtd_unit *)io;
}

uint32_t vtd_read32(unsigned off);
uint64_t vtd_read64(unsigned off);
void vtd_write32(unsigned off, uint32_t v);
void vtd_write64(unsigned off, uint64_t v);

/* vtd_qi.c */
/* Allocates the queue and enables queued invalidation; false (reported) if it did not come up. */
bool vtd_qi_enable(struct vtd_unit *u);
/*
 * Posts `n` descriptors (n + 1 < VTD_QUEUE_SLOTS: with the wait they must
 * not fill the ring, whose full state looks empty) and one wait descriptor,
 * and returns when the unit wrote the wait's status, recovering from
 * invalidation-queue errors on the way. Panics naming the function if
 * the wait never completes.
 */
void vtd_qi_submit(struct vtd_unit *u, const struct vtd_desc *d, unsigned n);
/* Queued invalidation off again (bring-up failed) and its frames given back. */
void vtd_qi_disable(struct vtd_unit *u);

/* vtd_fault.c */
/* Masks the fault event interrupt (faults are polled) and clears stale records. */
void vtd_fault_init(struct vtd_unit *u);

/* vtd.c */
/*
 * The unit may read [p, p + n) without snooping (caps.clean_tables, or
 * `sspt` and caps.clean_sspt): written back to memory before it looks.
 */
void vtd_clean(struct vtd_unit *u, const void *p, size_t n, bool sspt);

/* vtd_sspt.c */
extern const struct iommu_iopt_ops vtd_iopt_ops;
/* vtd.c, for vtd_sspt.c: the PASID entry of `stream` becomes second-stage over `root`. */
int vtd_attach_second_stage(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid);

#endif
