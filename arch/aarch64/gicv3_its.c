// SPDX-License-Identifier: BSD-2-Clause
/*
 * GICv3 ITS bring-up (gicv3_its.h): finding it (device tree glue), its
 * device and collection tables, the command queue, and each CPU's
 * redistributor LPI tables. Events and LPIs are in gicv3_its_msi.c.
 *
 * Tables are ordinary cacheable memory the ITS and redistributors read
 * and write coherently (inner shareable, write-back); a unit that does
 * not keep those attributes (read back) is refused, since Pagoda does no
 * cache maintenance for them. The device table is flat and covers the
 * device ids msi-map can produce (2^Devbits at most); a map that would
 * need more than the 256 pages one GITS_BASER describes is refused (a
 * two-level table is not implemented).
 *
 * Invariants: the ITS is programmed only while disabled (GITS_CTLR.Enabled
 * clear and quiescent); `its.ready` is set only once every table is
 * valid, the ITS is enabled and the boot CPU's collection is mapped, so
 * its_msi_alloc never queues a command an ITS without tables would drop.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/gicv3_its.h"
#include "kernel/acpi/acpi_arm.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "lib/fdt.h"
#include "lib/string.h"

#define GITS_CTLR     0x0000
#define GITS_TYPER    0x0008
#define GITS_CBASER   0x0080
#define GITS_CWRITER  0x0088
#define GITS_CREADR   0x0090
#define GITS_BASER(n) (0x0100 + 8 * (n))
#define GITS_FRAMES   0x20000

#define CTLR_ENABLED   1u
#define CTLR_QUIESCENT (1u << 31)
#define CREADR_STALLED 1ull

#define TYPER_PHYSICAL	  1ull
#define TYPER_ITT_SIZE(t) ((unsigned)((t) >> 4 & 0xf) + 1)
#define TYPER_ID_BITS(t)  ((unsigned)((t) >> 8 & 0x1f) + 1)
#define TYPER_DEV_BITS(t) ((unsigned)((t) >> 13 & 0x1f) + 1)
#define TYPER_PTA	  (1ull << 19)
#define TYPER_HCC(t)	  ((unsigned)((t) >> 24 & 0xff))

/* GITS_BASER and GITS_CBASER share these fields. */
#define BASER_VALID	    (1ull << 63)
#define BASER_INDIRECT	    (1ull << 62)
#define BASER_CACHE_WB	    (7ull << 59) /* inner read/write-allocate write-back */
#define BASER_TYPE(v)	    ((unsigned)((v) >> 56 & 7))
#define BASER_ENTRY_SIZE(v) ((unsigned)((v) >> 48 & 0x1f) + 1)
#define BASER_SHARE_INNER   (1ull << 10)
#define BASER_SHARE_MASK    (3ull << 10)
#define BASER_PAGE_MASK	    (3ull << 8) /* 0: 4 KiB pages */
#define BASER_PA_MASK	    0x0000fffffffff000ull
#define BASER_TYPE_DEVICE   1
#define BASER_TYPE_COLL	    4
#define BASER_MAX_PAGES	    256

/* Redistributor LPI registers (RD_base frame). */
#define GICR_CTLR	      0x0000
#define GICR_TYPER	      0x0008
#define GICR_PROPBASER	      0x0070
#define GICR_PENDBASER	      0x0078
#define GICR_CTLR_LPIS	      1u
#define GICR_TYPER_PLPIS      1ull
#define GICR_TYPER_PROCNUM(t) ((uint32_t)((t) >> 8 & 0xffff))
#define GICR_CACHE_WB	      (7ull << 7)
#define GICR_SHARE_INNER      (1ull << 10)
#define GICR_SHARE_MASK	      (3ull << 10)
#define GICR_PENDBASER_PTZ    (1ull << 62)

#define LPI_ID_BITS 14 /* INTIDs below 16384: the smallest LPI space there is */
#define PROP_BYTES  ((1u << LPI_ID_BITS) - ITS_LPI_BASE)
#define PEND_ORDER  4 /* 64 KiB: the pending table's alignment (it needs 2 KiB) */
#define CMDQ_SLOTS  (PAGE_SIZE / sizeof(struct its_cmd))
#define CMD_WAIT_NS 100000000ull

struct its its;

CMDLINE_PARAM(its_break_param, .key = "its.break", .kind = CMDLINE_ENUM, .values = "none|no_mapti",
	      .def = "none",
	      .help = "test-only: break the GICv3 ITS driver (no_mapti: events are never mapped)");

static unsigned order_of(uint64_t pages)
{
	unsigned order = 0;
	while ((1ull << order) < pages)
		order++;
	return order;
}

/* A zeroed, naturally aligned block of 2^order pages; its physical address in *pa. */
static void *table_alloc(unsigned order, phys_addr_t *pa)
{
	if (frame_alloc(order, pa) != 0)
		return NULL;
	void *p = kva(*pa);
	memset(p, 0, PAGE_SIZE << order);
	dsb(ishst); /* zeroes before the unit may read the table */
	return p;
}

/*
 * Gives GITS_BASER<n> a flat table of `entries` entries. 0; -ENOMEM;
 * -EINVAL with the reason printed (too large, attributes not kept).
 */
static int baser_setup(unsigned n, uint64_t entries, const char *what)
{
	uint64_t v = mmio_read64(its.regs + GITS_BASER(n));
	uint64_t pages = (entries * BASER_ENTRY_SIZE(v) + PAGE_SIZE - 1) / PAGE_SIZE;
	if (pages > BASER_MAX_PAGES) {
		printk("gicv3-its: %s table of %llu entries needs %llu pages, more than one "
		       "GITS_BASER%u describes (a two-level table is not implemented); no ITS",
		       what, (unsigned long long)entries, (unsigned long long)pages, n);
		return -EINVAL;
	}
	phys_addr_t pa;
	if (!table_alloc(order_of(pages), &pa))
		return -ENOMEM;
	uint64_t want =
	    BASER_VALID | BASER_CACHE_WB | BASER_SHARE_INNER | (pa & BASER_PA_MASK) | (pages - 1);
	mmio_write64(its.regs + GITS_BASER(n),
		     (v & ~(BASER_VALID | BASER_INDIRECT | BASER_CACHE_WB | BASER_SHARE_MASK |
			    BASER_PAGE_MASK | BASER_PA_MASK | 0xff)) |
			 want);
	uint64_t got = mmio_read64(its.regs + GITS_BASER(n));
	if ((got & (BASER_SHARE_MASK | BASER_PAGE_MASK | BASER_PA_MASK | BASER_VALID)) !=
	    (want & (BASER_SHARE_MASK | BASER_PAGE_MASK | BASER_PA_MASK | BASER_VALID))) {
		printk("gicv3-its: GITS_BASER%u (%s) reads %#llx after %#llx: 4 KiB pages, "
		       "inner-shareable tables not kept; no ITS",
		       n, what, (unsigned long long)got, (unsigned long long)want);
		frame_free(pa, order_of(pages));
		return -EINVAL;
	}
	return 0;
}

/* The device table, and the collection table unless the ITS holds collections itself. */
static int tables_setup(uint64_t typer)
{
	uint64_t devices = (uint64_t)id_map_max(&its.map) + 1;
	if (devices > (1ull << TYPER_DEV_BITS(typer))) {
		printk("gicv3-its: msi-map gives device ids up to %#llx, the ITS has %u bits; "
		       "no ITS",
		       (unsigned long long)devices - 1, TYPER_DEV_BITS(typer));
		return -EINVAL;
	}
	bool dev_done = false, coll_done = TYPER_HCC(typer) > 0;
	for (unsigned n = 0; n < 8; n++) {
		unsigned type = BASER_TYPE(mmio_read64(its.regs + GITS_BASER(n)));
		int err = 0;
		if (type == BASER_TYPE_DEVICE && !dev_done) {
			err = baser_setup(n, devices, "device");
			dev_done = true;
		} else if (type == BASER_TYPE_COLL && !coll_done) {
			err = baser_setup(n, CPU_MAX, "collection");
			coll_done = true;
		}
		if (err)
			return err;
	}
	if (!dev_done || !coll_done) {
		printk("gicv3-its: no GITS_BASER for the %s table; no ITS",
		       dev_done ? "collection" : "device");
		return -EINVAL;
	}
	return 0;
}

/* Clears GITS_CTLR.Enabled and waits (bounded) for quiescence; false if it never comes. */
static bool disable_quiescent(void)
{
	mmio_write32(its.regs + GITS_CTLR, mmio_read32(its.regs + GITS_CTLR) & ~CTLR_ENABLED);
	uint64_t deadline = arch_time_ns() + CMD_WAIT_NS;
	while (!(mmio_read32(its.regs + GITS_CTLR) & CTLR_QUIESCENT))
		if (arch_time_ns() > deadline)
			return false;
	return true;
}

void its_disable(void)
{
	disable_quiescent();
}

/* The command queue at its first slot; the ITS is disabled and quiescent. */
static void queue_start(void)
{
	mmio_write64(its.regs + GITS_CBASER,
		     BASER_VALID | BASER_CACHE_WB | BASER_SHARE_INNER | its.cmdq_pa); /* 1 page */
	mmio_write64(its.regs + GITS_CWRITER, 0);
	its.cmd_next = 0;
	its.queue_failed = false;
	mmio_write32(its.regs + GITS_CTLR, CTLR_ENABLED);
}

void its_queue_reset(void)
{
	if (!disable_quiescent())
		printk("gicv3-its: never went quiescent; resetting the command queue anyway");
	queue_start();
}

int its_init(phys_addr_t base, const struct id_map *map)
{
	its.broken = (enum its_break)cmdline_enum("its.break");
	its.base = base;
	its.map = *map;
	its.regs = gic_map(base, GITS_FRAMES, GITS_FRAMES, "GICv3 ITS");
	if (!disable_quiescent()) {
		printk("gicv3-its: %#llx never went quiescent after disabling; no ITS",
		       (unsigned long long)base);
		return -EIO;
	}
	uint64_t typer = mmio_read64(its.regs + GITS_TYPER);
	if (!(typer & TYPER_PHYSICAL) || TYPER_ID_BITS(typer) < ITS_EVENT_BITS) {
		printk("gicv3-its: GITS_TYPER %#llx: no physical LPIs or fewer than %u event id "
		       "bits; no ITS",
		       (unsigned long long)typer, ITS_EVENT_BITS);
		return -EINVAL;
	}
	its.itt_entry_size = TYPER_ITT_SIZE(typer);
	its.pta = typer & TYPER_PTA;
	int err = tables_setup(typer);
	if (!err && (!(its.cmdq = table_alloc(0, &its.cmdq_pa)) ||
		     !(its.prop = table_alloc(order_of(PROP_BYTES / PAGE_SIZE), &its.prop_pa))))
		err = -ENOMEM;
	if (err) {
		if (err == -ENOMEM)
			printk("gicv3-its: out of memory for its tables; no ITS");
		return err;
	}
	queue_start();
	printk("gicv3-its: %#llx: %u device id bits (table for %u), %u event id bits, ITT "
	       "entries of %u bytes, %u msi-map entries; MSI doorbell GITS_TRANSLATER %#llx%s",
	       (unsigned long long)base, TYPER_DEV_BITS(typer), id_map_max(&its.map) + 1,
	       TYPER_ID_BITS(typer), its.itt_entry_size, its.map.n,
	       (unsigned long long)(base + ITS_TRANSLATER),
	       its.broken ? "; WARNING: events left unmapped on purpose (its.break=no_mapti): "
			    "tests must fail"
			  : "");
	return 0;
}

void its_init_cpu(uintptr_t rd, phys_addr_t rd_pa)
{
	if (!its.prop)
		return; /* no ITS: LPIs stay off */
	uint64_t typer = mmio_read64(rd + GICR_TYPER);
	if (!(typer & GICR_TYPER_PLPIS)) {
		printk("gicv3-its: redistributor %#llx has no physical LPIs (GICR_TYPER.PLPIS)",
		       (unsigned long long)rd_pa);
		return;
	}
	phys_addr_t pend;
	if (!table_alloc(PEND_ORDER, &pend)) {
		printk("gicv3-its: no memory for the LPI pending table of %#llx",
		       (unsigned long long)rd_pa);
		return;
	}
	mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) & ~GICR_CTLR_LPIS);
	uint64_t prop = its.prop_pa | GICR_CACHE_WB | GICR_SHARE_INNER | (LPI_ID_BITS - 1);
	mmio_write64(rd + GICR_PROPBASER, prop);
	mmio_write64(rd + GICR_PENDBASER,
		     pend | GICR_CACHE_WB | GICR_SHARE_INNER | GICR_PENDBASER_PTZ);
	if ((mmio_read64(rd + GICR_PROPBASER) & GICR_SHARE_MASK) != GICR_SHARE_INNER) {
		printk("gicv3-its: redistributor %#llx does not keep inner-shareable LPI tables",
		       (unsigned long long)rd_pa);
		return;
	}
	dsb(sy);
	mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) | GICR_CTLR_LPIS);
	if (arch_cpu_id() != 0)
		return;
	/* Every device interrupt goes to the boot CPU: collection 0 is its redistributor. */
	its.sync_rdbase = (its.pta ? rd_pa >> 16 : GICR_TYPER_PROCNUM(typer)) << 16;
	struct its_cmd mapc = {{ITS_CMD_MAPC, 0, BASER_VALID | its.sync_rdbase | 0, 0}};
	const struct its_cmd cmds[2] = {mapc, its_cmd_sync()};
	its.ready = its_issue(cmds, 2, "MAPC of the boot CPU's collection") == 0;
}

bool its_present(void)
{
	return its.ready;
}

struct its_cmd its_cmd_sync(void)
{
	return (struct its_cmd){{ITS_CMD_SYNC, 0, its.sync_rdbase, 0}};
}

struct its_cmd its_cmd_event(unsigned op, uint32_t devid, uint32_t event, uint32_t lpi)
{
	return (struct its_cmd){{op | (uint64_t)devid << 32, event | (uint64_t)lpi << 32, 0, 0}};
}

int its_issue(const struct its_cmd *cmds, unsigned n, const char *what)
{
	/*
	 * After a command went unconsumed the ITS may still run it (or the
	 * ones after it) at any time, and the queue may be full of them:
	 * writing more could overwrite unconsumed slots, and waiting again
	 * costs the bound each time. Only its_queue_reset starts over.
	 */
	if (its.queue_failed)
		return -EIO;
	unsigned start = its.cmd_next;
	for (unsigned i = 0; i < n; i++) {
		memcpy(&its.cmdq[4 * its.cmd_next], cmds[i].dw, sizeof(cmds[i].dw));
		its.cmd_next = (its.cmd_next + 1) % CMDQ_SLOTS;
		its.stats.commands++;
		its.stats.syncs += (cmds[i].dw[0] & 0xff) == ITS_CMD_SYNC;
	}
	dsb(ishst); /* the commands before the ITS is told of them */
	uint64_t want = (uint64_t)its.cmd_next * sizeof(struct its_cmd);
	mmio_write64(its.regs + GITS_CWRITER, want);
	uint64_t deadline = arch_time_ns() + CMD_WAIT_NS, creadr;
	for (;;) {
		creadr = mmio_read64(its.regs + GITS_CREADR);
		if ((creadr & ~CREADR_STALLED) == want)
			return 0;
		if (creadr & CREADR_STALLED || arch_time_ns() > deadline)
			break;
		arch_cpu_relax();
	}
	its.stats.stuck++;
	its.queue_failed = true;
	unsigned at = (unsigned)((creadr & ~CREADR_STALLED) / sizeof(struct its_cmd));
	printk("gicv3-its: command queue %s at slot %u (CREADR %#llx, CWRITER %#llx, command "
	       "%#llx queued from slot %u) during %s",
	       creadr & CREADR_STALLED ? "stalled" : "stuck", at, (unsigned long long)creadr,
	       (unsigned long long)want, (unsigned long long)its.cmdq[4 * at], start, what);
	return -EIO;
}

struct its_stats its_stats(void)
{
	return its.stats;
}

/* ---- Device tree glue ---------------------------------------------------------------- */

void its_probe_dt(void)
{
	static struct fdt f;
	struct fdt_error fe;
	struct fdt_prop p;
	struct id_map map;
	char msg[160], host_path[64] = "(no PCI host)";
	if (fdt_platform.gic_version != 3 || !fdt_platform.its_base || !boot_info.dtb)
		return;
	if (fdt_init(&f, kva(boot_info.dtb), boot_info.dtb_size, &fe) != FDT_OK) {
		printk("gicv3-its: %s; no ITS", fe.message);
		return;
	}
	int host = fdt_find_compatible(&f, -1, "pci-host-ecam-generic");
	while (host >= 0 && !fdt_node_okay(&f, host))
		host = fdt_find_compatible(&f, host, "pci-host-ecam-generic");
	if (host >= 0)
		fdt_node_path(&f, host, host_path, sizeof(host_path));
	bool have = host >= 0 && fdt_get_prop(&f, host, "msi-map", &p) == FDT_OK;
	if (!id_map_decode(have ? p.data : NULL, have ? p.len : 0, "msi-map",
			   fdt_platform.its_phandle, "the ITS", &map, msg, sizeof(msg))) {
		printk("gicv3-its: fdt: node %s: %s; no ITS (PCI devices use INTx)", host_path,
		       msg);
		return;
	}
	its_init(fdt_platform.its_base, &map);
}

/* ---- ACPI glue ------------------------------------------------------------------------ */

void its_probe_acpi(void)
{
	static struct acpi_iort r;
	struct id_map map = {0};
	char msg[160];
	if (fdt_platform.gic_version != 3 || !fdt_platform.its_base || boot_info.dtb)
		return;
	int found = acpi_iort_read(0, &r, msg, sizeof(msg));
	if (found <= 0 || !r.has_its || r.its_id != fdt_platform.its_phandle) {
		printk("gicv3-its: %s; no ITS (PCI devices have no MSI)",
		       found < 0    ? msg
		       : found == 0 ? "acpi: no IORT to give PCI device ids"
				    : "acpi: IORT: the root complex reaches no ITS group of this ITS");
		return;
	}
	_Static_assert(ACPI_IORT_MAPS_MAX <= ID_MAP_MAX, "every IORT mapping fits the id map");
	for (unsigned i = 0; i < r.nr_rid_to_devid; i++)
		map.e[i] = (struct id_map_entry){r.rid_to_devid[i].rid_base,
						 r.rid_to_devid[i].out_base, r.rid_to_devid[i].count};
	map.n = r.nr_rid_to_devid;
	its_init(fdt_platform.its_base, &map);
}

