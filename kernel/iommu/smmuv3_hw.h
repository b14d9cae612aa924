/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The SMMUv3 driver's own view of the hardware, shared by its files only:
 * register offsets and fields, command, event, STE and CD encodings (Arm
 * IHI 0070, as QEMU's hw/arm/smmuv3 models them), and the one driver
 * instance.
 *
 * Invariants: the command queue is written only under `lock`, and every
 * batch ends with a CMD_SYNC the writer waits for, so the queue is empty
 * whenever the lock is free (a batch never needs to wait for space). The
 * stream table, the CDs and the queues are ordinary cacheable memory the
 * SMMU reads coherently (IDR0.COHACC is required at probe).
 */
#ifndef PAGODA_KERNEL_IOMMU_SMMUV3_HW_H
#define PAGODA_KERNEL_IOMMU_SMMUV3_HW_H

#include "kernel/arch.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/smmuv3.h"

/* Registers (page 0; the event queue's PROD/CONS live in page 1). */
#define SMMU_IDR0	     0x00
#define SMMU_IDR1	     0x04
#define SMMU_IDR3	     0x0c
#define SMMU_IDR5	     0x14
#define SMMU_CR0	     0x20
#define SMMU_CR0ACK	     0x24
#define SMMU_CR1	     0x28
#define SMMU_CR2	     0x2c
#define SMMU_IRQ_CTRL	     0x50
#define SMMU_IRQ_CTRLACK     0x54
#define SMMU_GERROR	     0x60
#define SMMU_GERRORN	     0x64
#define SMMU_STRTAB_BASE     0x80
#define SMMU_STRTAB_BASE_CFG 0x88
#define SMMU_CMDQ_BASE	     0x90
#define SMMU_CMDQ_PROD	     0x98
#define SMMU_CMDQ_CONS	     0x9c
#define SMMU_EVENTQ_BASE     0xa0
#define SMMU_EVENTQ_PROD     0x100a8
#define SMMU_EVENTQ_CONS     0x100ac
#define SMMU_REG_SIZE	     0x20000

#define IDR0_S1P	    (1u << 1)
#define IDR0_TTF_SHIFT	    2 /* 2: AArch64 tables, 3: both */
#define IDR0_COHACC	    (1u << 4)
#define IDR0_ASID16	    (1u << 12)
#define IDR0_TTENDIAN_SHIFT 21 /* 0 mixed, 2 little, 3 big */
#define IDR1_SIDSIZE(v)	    ((v)&0x3f)
#define IDR1_EVENTQS(v)	    (((v) >> 16) & 0x1f)
#define IDR1_CMDQS(v)	    (((v) >> 21) & 0x1f)
#define IDR3_RIL	    (1u << 10)
#define IDR5_OAS(v)	    ((v)&7)
#define IDR5_GRAN4K	    (1u << 4)

#define CR0_SMMUEN   (1u << 0)
#define CR0_EVENTQEN (1u << 2)
#define CR0_CMDQEN   (1u << 3)
/* CR1: tables and queues inner-shareable, inner and outer write-back. */
#define CR1_WB_INNER_SHAREABLE 0xd75u
#define CR2_RECINVSID	       (1u << 1) /* record C_BAD_STREAMID */
#define GERROR_CMDQ_ERR	       (1u << 0)
#define GERROR_EVENTQ_ABT      (1u << 2)  /* EVENTQ_ABT_ERR: an event queue access aborted */
#define EVTQ_OVFLG	       (1u << 31) /* EVENTQ_PROD.OVFLG, EVENTQ_CONS.OVACKFLG */
#define CMDQ_CONS_ERR(v)       (((v) >> 24) & 0x7f)
#define Q_BASE_RA	       (1ull << 62)
#define Q_ADDR_MASK	       0x000fffffffffffe0ull

/* Sizes Pagoda uses: one frame per queue; a linear table for SIDs below 2^8. */
#define SMMU_CMDQ_SHIFT	 8 /* 256 x 16 bytes */
#define SMMU_EVTQ_SHIFT	 7 /* 128 x 32 bytes */
#define SMMU_STREAM_BITS 8 /* 256 STEs x 64 bytes = 16 KiB; QEMU translates bus 0 only */
#define SMMU_TABLE_ORDER 2 /* frames for 256 STEs, and for 256 CDs */

/* Commands: two 64-bit words. */
#define CMD_CFGI_STE	  0x03
#define CMD_CFGI_ALL	  0x04 /* CFGI_STE_RANGE with range 31 */
#define CMD_CFGI_CD	  0x05
#define CMD_TLBI_NH_ASID  0x11
#define CMD_TLBI_NH_VA	  0x12
#define CMD_TLBI_NSNH_ALL 0x30
#define CMD_SYNC	  0x46
#define CMD_SID(sid)	  ((uint64_t)(sid) << 32)
#define CMD_ASID(asid)	  ((uint64_t)(asid) << 48)
#define CMD_LEAF	  1ull /* word 1: CFGI_STE/CD leaf, TLBI leaf only */

/* STE: eight 64-bit words; Pagoda writes the first two. */
#define STE_V		1ull
#define STE_CFG_ABORT	(0ull << 1)
#define STE_CFG_BYPASS	(4ull << 1)
#define STE_CFG_S1	(5ull << 1)
#define STE_CFG_MASK	(7ull << 1)
#define STE_CTXPTR_MASK 0x000fffffffffffc0ull
/*
 * Word 1: CD fetches write-back inner shareable; bypassed traffic keeps its
 * shareability; PRIVCFG = privileged, because the MSI doorbell is mapped
 * kernel-only in the mm and a PCIe write arrives unprivileged (QEMU checks
 * only write permission, a real SMMU would refuse it otherwise).
 */
#define STE_W1 ((1ull << 2) | (1ull << 4) | (3ull << 6) | (1ull << 44) | (3ull << 48))
/* CD word 0 flags (the TCR-like fields are built from the arch's description). */
#define CD_EPD1	       (1ull << 30)
#define CD_V	       (1ull << 31)
#define CD_AA64	       (1ull << 41)
#define CD_R	       (1ull << 45) /* record faults */
#define CD_A	       (1ull << 46) /* abort (not stall) faulting transactions */
#define CD_TTB_MASK    0x000ffffffffffff0ull
#define SMMU_STE_WORDS 8
#define SMMU_CD_WORDS  8

#define SMMU_EVENTS_KEPT 8

struct smmu_queue {
	uint64_t *entries; /* kernel mapping */
	phys_addr_t pa;
	unsigned shift;	     /* log2 of the entry count */
	unsigned words;	     /* 64-bit words per entry */
	uint32_t prod, cons; /* index with the wrap bit above it */
};

struct smmu {
	struct iommu io; /* first: the ops get it back */
	volatile uint8_t *regs;
	struct smmu_dt dt;
	uint32_t idr0, idr1, idr3, idr5;
	unsigned asid_bits, oas_bits;
	bool ril;
	struct arch_iommu_stage1 s1;
	uint64_t *strtab; /* SMMU_STE_WORDS per stream */
	phys_addr_t strtab_pa;
	uint64_t *cds; /* one CD per stream (S1CDMAX = 0) */
	phys_addr_t cds_pa;
	spinlock_t lock; /* command queue, event queue and the records below */
	struct smmu_queue cmdq, evtq;
	uint64_t nr_events, nr_cmd_errors, lost_events;
	uint32_t evtq_ovflg;   /* the OVFLG value last acknowledged (EVTQ_OVFLG or 0) */
	struct mutex cfg_lock; /* STE and CD changes (attach, detach, bypass) */
	struct smmu_event events[SMMU_EVENTS_KEPT]; /* ring, newest at (nr_events - 1) % KEPT */
	struct smmu_cmd_error last_cmd_error;
};

extern struct smmu smmu_dev;
extern enum smmu_break smmu_broken;

/* ---- smmuv3_queue.c ---- */
/*
 * Queues `n` commands (2 words each) and a CMD_SYNC, rings the doorbell
 * and waits until the SMMU consumed the sync, recovering from command
 * errors on the way; then reads new events. Panics when the SMMU stops
 * consuming. Takes s->lock; n + 1 must fit in the queue (asserted).
 */
void smmu_issue(struct smmu *s, const uint64_t (*cmds)[2], unsigned n);
/* The same, but 0 or -ETIMEDOUT (one line said why) when the sync is not consumed in time. */
int smmu_issue_bounded(struct smmu *s, const uint64_t (*cmds)[2], unsigned n);
/* Reads new events under s->lock (the caller holds it). */
void smmu_drain_events_locked(struct smmu *s);
/* Allocates both queues and programs their base registers (SMMU disabled). */
int smmu_queues_init(struct smmu *s);
/* Frees whatever queues are allocated (the SMMU acknowledged CR0 = 0: it reads none). */
void smmu_queues_free(struct smmu *s);

/* ---- smmuv3_ste.c ---- */
extern const struct iommu_ops smmu_ops;
/* Allocates the stream table (every stream bypassing) and the CDs; programs STRTAB_BASE*. */
int smmu_tables_init(struct smmu *s);
/* Frees the stream table and CDs if allocated (the SMMU acknowledged CR0 = 0). */
void smmu_tables_free(struct smmu *s);

/* ---- smmuv3_dt.c ---- */
/* Reads the boot DTB: 1 found (filled), 0 no SMMU node, -1 malformed (message in err). */
int smmu_dt_find(struct smmu_dt *out, char *err, size_t err_size);

/* ---- smmuv3_acpi.c ---- */
/* The same from the IORT (a machine booted from ACPI alone): 1 found, 0 none, -1 malformed. */
int smmu_acpi_find(struct smmu_dt *out, char *err, size_t err_size);

#endif
