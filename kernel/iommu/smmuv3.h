/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Driver for an Arm SMMUv3 (QEMU's `virt,iommu=smmuv3`; docs/iommu.md):
 * stage-1 translation of PCI devices through an mm's own page tables,
 * tagged with the mm's own (pinned) ASID, behind the generic IOMMU layer
 * (iommu.h; SVA bindings in sva.c).
 *
 * What it keeps:
 *  - A stream the kernel has not given an address space bypasses (DMA to
 *    physical addresses, as without an IOMMU); a bound stream translates
 *    through one context descriptor; a detached stream aborts until
 *    smmu_stream_bypass() gives it back.
 *  - Every configuration change is followed by CFGI_* and a CMD_SYNC, and
 *    every invalidation by a CMD_SYNC, and the caller returns only once
 *    the SMMU consumed the sync (bounded: a panic names the function if it
 *    never does).
 *  - Faults and command errors are reported, one line each, and the last
 *    ones kept for tests; a failed command is replaced by a CMD_SYNC so
 *    the queue goes on (GERROR acknowledged through GERRORN).
 *  - A malformed firmware description (the SMMU node or the PCI host's
 *    iommu-map) is one line naming the property, and no SMMU is used.
 */
#ifndef PAGODA_KERNEL_IOMMU_SMMUV3_H
#define PAGODA_KERNEL_IOMMU_SMMUV3_H

#include "kernel/types.h"
#include "lib/id_map.h"

struct pci_dev;

/* ---- Firmware description (pure: the smmu suite feeds synthetic bytes) ------------ */

#define SMMU_SID_MAPS ID_MAP_MAX

struct smmu_dt {
	phys_addr_t base; /* register frame (two 64 KiB pages) */
	uint64_t size;
	uint32_t phandle;
	struct id_map map; /* iommu-map: requester id -> stream id */
	char path[48];
};

/*
 * Decodes the SMMU node's `reg` (cells of its parent): the register frame
 * must be at least 128 KiB (page 0 and page 1) and 64 KiB aligned. True,
 * or false with a one-line message naming the property in err.
 */
bool smmu_dt_reg(const uint8_t *reg, uint32_t len, unsigned addr_cells, unsigned size_cells,
		 struct smmu_dt *out, char *err, size_t err_size);
/*
 * Decodes a PCI host's `iommu-map` (4-cell entries: rid-base, IOMMU
 * phandle, sid-base, length) into out->map, keeping the entries that name
 * `phandle` (id_map_decode says what is refused). True, or false with a
 * message in err.
 */
bool smmu_dt_iommu_map(const uint8_t *map, uint32_t len, uint32_t phandle, struct smmu_dt *out,
		       char *err, size_t err_size);
/* The stream id of requester `rid` through the map; false when no entry covers it. */
bool smmu_dt_sid(const struct smmu_dt *dt, uint16_t rid, uint32_t *sid);

/* ---- The running SMMU --------------------------------------------------------------- */

/* Is an SMMU enabled and registered (iommu_hw() is it)? */
bool smmu_present(void);
/*
 * The stream id of PCI device `d` (its requester id through iommu-map).
 * 0 and *sid, -ENOENT without an SMMU, -EINVAL when the map does not
 * cover the device or its stream lies beyond the stream table.
 */
int smmu_stream_of(const struct pci_dev *d, unsigned *sid);
/*
 * Gives a stream no address space owns back to bypass (DMA to physical
 * addresses), after an unbind left it aborting. The caller knows no
 * binding uses it. CFGI + SYNC before it returns.
 */
void smmu_stream_bypass(unsigned sid);

/* An event the SMMU recorded (fault or configuration error). */
struct smmu_event {
	uint8_t type; /* SMMU_EVT_* */
	uint32_t sid;
	uint64_t addr; /* input address, for translation-class faults */
	bool read;     /* RnW */
};
#define SMMU_EVT_C_BAD_STREAMID 0x02
#define SMMU_EVT_C_BAD_STE	0x04
#define SMMU_EVT_C_BAD_CD	0x0a
#define SMMU_EVT_F_TRANSLATION	0x10
#define SMMU_EVT_F_ACCESS	0x12
#define SMMU_EVT_F_PERMISSION	0x13
/*
 * Reads every new event from the queue (logging each), then returns how
 * many the SMMU has recorded since boot and, when there was one, copies
 * the newest into *last (may be NULL).
 */
uint64_t smmu_events(struct smmu_event *last);

/* A command the SMMU refused (GERROR.CMDQ_ERR). */
struct smmu_cmd_error {
	uint8_t opcode, cerror; /* CMDQ_CONS.ERR: 1 illegal, 2 abort, 3 ATC sync */
	uint64_t cmd[2];
};
/* Command errors reported and recovered since boot; the newest into *last (may be NULL). */
uint64_t smmu_cmd_errors(struct smmu_cmd_error *last);
/*
 * Test hook: queues the raw command {dw0, dw1} followed by a CMD_SYNC and
 * waits, recovering from a command error as the driver always does.
 */
void smmu_test_command(uint64_t dw0, uint64_t dw1);

/*
 * Test-only (command line smmu.break=): skip_tlbi drops every TLBI the
 * invalidation path would issue (its CMD_SYNC still goes), so the IOTLB
 * keeps stale translations: smmu.stale_translation_is_invalidated fails.
 */
enum smmu_break { SMMU_BREAK_NONE, SMMU_BREAK_SKIP_TLBI };

#endif
