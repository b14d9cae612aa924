/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The GICv3 Interrupt Translation Service: MSIs under a GICv3. A device
 * writes its event id to GITS_TRANSLATER; the ITS knows the device by
 * its device id (the PCI host's msi-map applied to the requester id,
 * carried with the write), looks the event up in the device's interrupt
 * translation table and makes the LPI it names pending at the
 * collection's redistributor. Only arch/aarch64/ (and the its suite)
 * use this header.
 *
 * What Pagoda keeps: flat device and collection tables sized from
 * GITS_TYPER/GITS_BASER, a one-page command queue, one collection (ICID 0)
 * on the boot CPU (every device interrupt goes there, kernel/arch.h), one
 * LPI configuration table shared by every redistributor and a pending
 * table per CPU. LPIs are handed out from ITS_LPI_BASE, one per
 * (device, event), and are delivered through kernel/irq.c like any
 * other interrupt number.
 *
 * Invariants:
 *  - An LPI is enabled in the configuration table only while its event
 *    is mapped (MAPTI before the enable, DISCARD after the disable), and
 *    every change to the ITS's tables or to a configuration byte is
 *    followed by the command that makes the ITS see it (MAPD/MAPTI/INV)
 *    and a SYNC, waited for, before the call returns.
 *  - The command queue is waited on with a bound: a queue the ITS stops
 *    consuming is reported by name (register values and the command) and
 *    the call fails instead of hanging.
 *  - its_init takes values, not a firmware description: the DTB glue
 *    (its_probe_dt) and the ACPI one (its_probe_acpi: MADT ITS entry +
 *    IORT) call it alike.
 */
#ifndef PAGODA_ARCH_AARCH64_GICV3_ITS_H
#define PAGODA_ARCH_AARCH64_GICV3_ITS_H

#include "kernel/types.h"
#include "lib/id_map.h"

#define ITS_LPI_BASE	8192u	/* the first LPI INTID */
#define ITS_LPIS	64u	/* LPIs Pagoda hands out: ITS_LPI_BASE.. */
#define ITS_EVENT_BITS	5u	/* events per device: 32 */
#define ITS_DEVICES_MAX 8u	/* devices with mapped events at once */
#define ITS_TRANSLATER	0x10040 /* GITS_TRANSLATER: in the translation frame, 64 KiB up */

/*
 * Brings up the ITS whose 128 KiB register frames start at `base`
 * (physical), translating requester ids to device ids through `map`
 * (copied). Allocates and programs the device and collection tables and
 * the command queue, enables the ITS and allocates the LPI configuration
 * table; the redistributors follow in its_init_cpu. 0, or a negative
 * errno with one line naming what is wrong (then there is no ITS and
 * PCI devices use INTx). Boot CPU, once, after the distributor is set up
 * and before the first its_init_cpu.
 */
int its_init(phys_addr_t base, const struct id_map *map);
/*
 * Finds the ITS in the device tree (fdt_platform.its_*) and the PCI
 * host's msi-map, and calls its_init; a malformed msi-map is one line and
 * no ITS. Quiet without an ITS node.
 */
void its_probe_dt(void);
/*
 * The same on a machine booted from ACPI alone: the MADT's first ITS
 * (struct fdt_platform) and the IORT's requester-id -> device-id ranges
 * of PCI segment 0. A missing or malformed IORT is one line and no ITS.
 */
void its_probe_acpi(void);
/*
 * LPIs on the calling CPU's redistributor (RD_base `rd`, physical address
 * `rd_pa`): configuration and pending tables, GICR_CTLR.EnableLPIs; on
 * the boot CPU also MAPC of the collection. Nothing without an ITS.
 * Every CPU, from gic_init_cpu.
 */
void its_init_cpu(uintptr_t rd, phys_addr_t rd_pa);
/* Is the ITS up (its_msi_alloc can succeed)? */
bool its_present(void);
/* Is `irq` an LPI number this driver hands out? */
bool its_is_lpi(unsigned irq);

/*
 * An LPI for the next free event of requester `rid`'s device: MAPD (first
 * event of the device), MAPTI, SYNC; the LPI stays disabled until
 * its_lpi_enable. The LPI's INTID, or -ENODEV (no ITS, or msi-map covers
 * no such requester), -ENOSPC, -EIO (the command queue failed).
 */
int its_msi_alloc(uint16_t rid);
/* DISCARD of the LPI's event and SYNC; the LPI is free again. */
void its_msi_free(unsigned lpi);
/* The message that raises `lpi`: GITS_TRANSLATER and the event id. */
void its_msi_compose(unsigned lpi, uint64_t *addr, uint32_t *data);
/* Sets or clears the LPI's enable bit in the configuration table, INV and SYNC. */
void its_lpi_enable(unsigned lpi, bool on);
/* The device id and event id behind `lpi`; false when it is not handed out. */
bool its_lpi_owner(unsigned lpi, uint32_t *devid, uint32_t *event);

/* ---- For tests ------------------------------------------------------------------------ */

struct its_stats {
	uint64_t commands; /* queued, SYNCs included */
	uint64_t syncs;
	uint64_t stuck; /* waits that ran out (the queue was reported) */
};
struct its_stats its_stats(void);
/*
 * Queues INT(devid, event) and a SYNC: the ITS translates the pair as if
 * the device had written the event, so a mapped event raises its LPI and
 * an unmapped one raises nothing. 0 or -EIO/-ENODEV.
 */
int its_test_int(uint32_t devid, uint32_t event);

/*
 * Disables the ITS, queues a SYNC it cannot consume (its_issue must
 * report the stuck queue and fail), then resets the queue and enables the
 * ITS again (its tables are memory: every mapping survives). What
 * its_issue returned: -EIO.
 */
int its_test_stuck_queue(void);

/* Test-only (command line its.break=): no_mapti leaves allocated events unmapped. */
enum its_break { ITS_BREAK_NONE, ITS_BREAK_NO_MAPTI };

/* ---- Inside the driver (gicv3_its*.c) -------------------------------------------------- */

struct its_cmd {
	uint64_t dw[4];
};
/*
 * Queues `n` commands and waits (bounded) until the ITS consumed them.
 * 0, or -EIO after reporting a stalled or stuck queue with `what`.
 * Callers serialise (its_lock).
 */
int its_issue(const struct its_cmd *cmds, unsigned n, const char *what);
/*
 * Empties the command queue: the ITS is disabled (waiting for quiescence,
 * bounded), CBASER rewritten (which zeroes CREADR), CWRITER and the next
 * slot set to 0, and the ITS enabled again. Unconsumed commands are
 * dropped. its_lock held.
 */
void its_queue_reset(void);
/* Disables the ITS (it consumes no command and translates no write until reset). */
void its_disable(void);
/* A SYNC to the collection's redistributor. */
struct its_cmd its_cmd_sync(void);
/* Builders for the commands with a device id and an event id (INT, INV, DISCARD, MAPTI). */
struct its_cmd its_cmd_event(unsigned op, uint32_t devid, uint32_t event, uint32_t lpi);

#define ITS_CMD_INT	0x03
#define ITS_CMD_SYNC	0x05
#define ITS_CMD_MAPD	0x08
#define ITS_CMD_MAPC	0x09
#define ITS_CMD_MAPTI	0x0a
#define ITS_CMD_INV	0x0c
#define ITS_CMD_DISCARD 0x0f

/* What its_init found, shared by the driver's files. */
struct its {
	uintptr_t regs;	   /* the control frame, mapped */
	phys_addr_t base;  /* physical */
	struct id_map map; /* requester id -> device id */
	uint8_t *prop;	   /* LPI configuration table (kernel address) */
	phys_addr_t prop_pa;
	uint64_t *cmdq; /* the command queue page */
	phys_addr_t cmdq_pa;
	unsigned cmd_next; /* index of the next command slot */
	unsigned itt_entry_size;
	bool pta;	      /* RDbase is a physical address (else a processor number) */
	uint64_t sync_rdbase; /* RDbase field of the boot CPU's redistributor, shifted */
	bool ready;	      /* enabled, tables valid, boot CPU's collection mapped */
	bool queue_failed;    /* a command went unconsumed: nothing more is written until a reset */
	enum its_break broken;
	struct its_stats stats;
};
extern struct its its;

#endif
