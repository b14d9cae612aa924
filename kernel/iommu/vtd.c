// SPDX-License-Identifier: BSD-2-Clause
/*
 * The VT-d driver (vtd.h): finds the unit from the ACPI DMAR table,
 * checks what it can do, brings it up in scalable mode (root table,
 * invalidation queue, translation on, each step confirmed by its GSTS
 * bit within a bounded wait) and provides the generic layer's ops.
 *
 * Table chain for a device (requester id bus:devfn): root entry [bus]
 * -> context table half (devfn < 128 lower, else upper) -> 32-byte
 * scalable context entry (PASID directory pointer, RID_PASID 0) ->
 * PASID directory [0] -> PASID table [0] -> the 64-byte PASID entry:
 *  - first stage (SVA): FSPTPTR = the mm's own x86 root, 4-level, SRE
 *    clear, so the device's requests are user requests and reach only
 *    U/S=1 pages (every level of a user table has U/S set: pt.c);
 *  - second stage (shadow): SSPTPTR = tables vtd_sspt.c writes.
 * The domain id is the generic layer's id for the address space; the
 * IOTLB tags entries with it (and the PASID).
 *
 * Invariants: a PASID entry changes only while not present: detach
 * clears the present bit, then invalidates the PASID cache and every
 * IOTLB entry of the domain, and waits; attach fills every field before
 * setting present last, and refuses (-EBUSY) a stream whose entry is
 * present: one owner per stream, so an old owner never invalidates or
 * detaches a stream someone else now uses. Only devices the DMAR's
 * scopes put behind the driven unit are attached (-ENOENT otherwise).
 * On a unit that does not snoop its table reads (no ECAP.C; no SMPWC for
 * second-stage walks: vtd_caps.c) every table write is cleaned to memory
 * before the entry that makes it reachable is, and that entry before any
 * invalidation. A bring-up that fails part way turns off what it turned
 * on and frees what it allocated. Interrupt remapping is never enabled
 * (no GCMD.IRE): MSIs keep passing untranslated in compatibility format.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/iommu/vtd_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/mmio.h"
#include "kernel/pci/pci.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define GSTS_WAIT_NS	10000000ull /* 10 ms: QEMU answers at once */
#define RANGE_MAX_PAGES 64	    /* above this one PASID/domain-wide command is cheaper */
#define VTD_STREAMS	65536	    /* requester ids */
#define REGS_SIZE	4096
#define PCI_SUBORDINATE_BUS 0x1a /* type 1 header, next to PCI_SECONDARY_BUS */

struct vtd_unit vtd_unit;

uint32_t vtd_read32(unsigned off)
{
	return mmio_read32(vtd_unit.regs + off);
}
uint64_t vtd_read64(unsigned off)
{
	return mmio_read64(vtd_unit.regs + off);
}
void vtd_write32(unsigned off, uint32_t v)
{
	mmio_write32(vtd_unit.regs + off, v);
}
void vtd_write64(unsigned off, uint64_t v)
{
	mmio_write64(vtd_unit.regs + off, v);
}

static bool registered;

bool vtd_present(void)
{
	return registered;
}

bool vtd_first_stage(void)
{
	return registered && vtd_unit.caps.first_stage;
}

bool vtd_second_stage(void)
{
	return registered && vtd_unit.caps.second_stage;
}

uint64_t vtd_clean_count(void)
{
	return atomic_load_relaxed(&vtd_unit.cleans);
}

const struct vtd_caps *vtd_caps(void)
{
	static const struct vtd_caps none;
	return registered ? &vtd_unit.caps : &none;
}

bool vtd_bring_up_undone(void)
{
	return vtd_unit.undone;
}

enum vtd_break vtd_broken(void)
{
	return vtd_unit.broken;
}

/* ---- Tables ---------------------------------------------------------------------- */

void vtd_clean(struct vtd_unit *u, const void *p, size_t n, bool sspt)
{
	if (!(sspt ? u->caps.clean_sspt : u->caps.clean_tables) ||
	    u->broken == VTD_BREAK_SKIP_CLEAN)
		return;
	arch_dcache_clean_range(p, n);
	atomic_fetch_add(&u->cleans, 1);
}

static void store_present(struct vtd_unit *u, uint64_t *slot, uint64_t v)
{
	/* Everything written before is visible to the unit's walk first. */
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
	vtd_clean(u, slot, sizeof(*slot), false);
}

/* A zeroed frame for a table, in memory (not only in the CPU's caches) before it is linked. */
static int table_alloc(struct vtd_unit *u, phys_addr_t *pa)
{
	int err = frame_alloc_zeroed(pa);
	if (!err)
		vtd_clean(u, kva(*pa), PAGE_SIZE, false);
	return err;
}

/*
 * The PASID entry untagged DMA from `rid` uses; with `create`, the
 * context table, context entry, PASID directory and table on the way are
 * made. NULL when absent (or out of memory). table_lock held.
 */
static struct vtd_pasid_entry *rid_pasid_entry(struct vtd_unit *u, uint16_t rid, bool create)
{
	uint64_t *root = kva(u->root_pa);
	unsigned devfn = rid & 0xff, half = devfn / VTD_CTX_PER_TABLE;
	uint64_t *re = &root[2 * (rid >> 8) + half]; /* lo: lower half, hi: upper half */
	if (!(*re & VTD_P)) {
		phys_addr_t ctx;
		if (!create || table_alloc(u, &ctx))
			return NULL;
		store_present(u, re, ctx | VTD_P);
	}
	uint64_t *ce = (uint64_t *)kva(VTD_ADDR(*re)) + 4 * (devfn % VTD_CTX_PER_TABLE);
	if (!(ce[0] & VTD_P)) {
		phys_addr_t dir, table;
		if (!create || frame_alloc_zeroed(&dir))
			return NULL;
		if (table_alloc(u, &table)) {
			frame_free(dir, 0);
			return NULL;
		}
		*(uint64_t *)kva(dir) = table | VTD_P;
		vtd_clean(u, kva(dir), PAGE_SIZE, false);
		ce[1] = VTD_PASID_RID; /* RID_PASID: untagged requests use PASID 0 */
		vtd_clean(u, &ce[1], sizeof(ce[1]), false);
		/* PDTS 0: a directory of 128 entries; FPD clear: faults are recorded. */
		store_present(u, &ce[0], dir | VTD_P);
		/* Not-present entries are not cached (CAP.CM clear), but say so anyway. */
		struct vtd_desc cc = {{VTD_DESC_CC | VTD_DESC_G(VTD_CC_GLOBAL)}};
		vtd_qi_submit(u, &cc, 1);
	}
	uint64_t *dir = kva(VTD_ADDR(ce[0]));
	struct vtd_pasid_entry *table = kva(VTD_ADDR(dir[VTD_PASID_RID / VTD_PASID_PER_TABLE]));
	return &table[VTD_PASID_RID % VTD_PASID_PER_TABLE];
}

/* What domain `did` translates with; read at flush points without table_lock. */
static bool did_second_stage(struct vtd_unit *u, unsigned did)
{
	return atomic_load_relaxed(&u->did_pgtt[did]) == VTD_PGTT_SECOND;
}

/* The IOTLB descriptor dropping everything domain `did` cached. */
static struct vtd_desc domain_flush(struct vtd_unit *u, unsigned did)
{
	if (did_second_stage(u, did))
		return (struct vtd_desc){
		    {VTD_DESC_IOTLB | VTD_DESC_G(VTD_IOTLB_DOMAIN) | VTD_DESC_DID(did)}};
	return (struct vtd_desc){{VTD_DESC_PIOTLB | VTD_DESC_G(VTD_PIOTLB_PASID) |
				  VTD_DESC_DID(did) | VTD_DESC_PASID(VTD_PASID_RID)}};
}

/* PASID cache and IOTLB of `did` flushed, then waited for. */
static void flush_pasid(struct vtd_unit *u, unsigned did)
{
	struct vtd_desc d[2] = {
	    {{VTD_DESC_PC | VTD_DESC_G(VTD_PC_PASID) | VTD_DESC_DID(did) |
	      VTD_DESC_PASID(VTD_PASID_RID)}},
	    domain_flush(u, did),
	};
	atomic_fetch_add(&u->io.stats.asid_invalidations, 1);
	vtd_qi_submit(u, d, 2);
}

static void detach_locked(struct vtd_unit *u, struct vtd_pasid_entry *pe)
{
	if (!(pe->qw[0] & VTD_P))
		return;
	unsigned did = (unsigned)(pe->qw[1] & 0xffff);
	store_present(u, &pe->qw[0], 0);
	flush_pasid(u, did);
}

/* Is `stream` a device the DMAR puts behind this unit? */
static bool stream_covered(const struct vtd_unit *u, unsigned stream)
{
	for (unsigned i = 0; i < u->nr_rids; i++)
		if (u->rids[i] == stream)
			return true;
	return false;
}

static int attach(struct vtd_unit *u, unsigned stream, unsigned did, uint64_t pgtt,
		  phys_addr_t root)
{
	if (stream >= VTD_STREAMS || did == 0 || did >= IOMMU_ASIDS || (root & 0xfff))
		return -EINVAL;
	if (!(pgtt == VTD_PGTT_FIRST ? u->caps.first_stage : u->caps.second_stage))
		return -EINVAL; /* not offered (QEMU 10: one or the other), or not coherent */
	if (!stream_covered(u, stream))
		return -ENOENT; /* another unit (or none) translates it */
	mutex_lock(&u->table_lock);
	struct vtd_pasid_entry *pe = rid_pasid_entry(u, (uint16_t)stream, true);
	if (!pe) {
		mutex_unlock(&u->table_lock);
		return -ENOMEM;
	}
	if (pe->qw[0] & VTD_P) {
		if (u->broken != VTD_BREAK_STEAL_STREAM) {
			mutex_unlock(&u->table_lock);
			return -EBUSY; /* its owner detaches it first */
		}
		detach_locked(u, pe); /* vtd.break=steal_stream: the owner is not told */
	}
	struct vtd_pasid_entry e = {{0}};
	e.qw[1] = did | (u->caps.pwsnp ? VTD_PE_PWSNP : 0);
	if (pgtt == VTD_PGTT_FIRST)
		e.qw[2] = root | VTD_PE_FSPM_4LEVEL; /* SRE clear: user requests only */
	else
		e.qw[0] = root | VTD_PE_AW_48;
	for (unsigned i = 1; i < 8; i++)
		pe->qw[i] = e.qw[i];
	vtd_clean(u, pe, sizeof(*pe), false);
	atomic_store_relaxed(&u->did_pgtt[did], (uint8_t)pgtt);
	store_present(u, &pe->qw[0], e.qw[0] | VTD_PE_PGTT(pgtt) | VTD_P);
	flush_pasid(u, did); /* nothing of an earlier user of the id may survive */
	mutex_unlock(&u->table_lock);
	return 0;
}

/* ---- iommu_ops ------------------------------------------------------------------- */

static int vtd_attach(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	return attach(vtd_to_unit(io), stream, asid, VTD_PGTT_FIRST, root);
}

int vtd_attach_second_stage(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	return attach(vtd_to_unit(io), stream, asid, VTD_PGTT_SECOND, root);
}

static void vtd_detach(struct iommu *io, unsigned stream)
{
	struct vtd_unit *u = vtd_to_unit(io);
	if (stream >= VTD_STREAMS)
		return;
	mutex_lock(&u->table_lock);
	struct vtd_pasid_entry *pe = rid_pasid_entry(u, (uint16_t)stream, false);
	if (pe)
		detach_locked(u, pe);
	mutex_unlock(&u->table_lock);
}

/*
 * One descriptor for [start, end) of domain `asid`: page-selective with
 * the smallest naturally aligned power-of-two block covering the range
 * (address mask AM), or domain/PASID-wide when that block is large.
 */
static void vtd_invalidate(struct iommu *io, unsigned asid, virt_addr_t start, virt_addr_t end,
			   bool walks, bool full)
{
	(void)walks; /* IH stays clear: paging-structure caches go with the entries */
	struct vtd_unit *u = vtd_to_unit(io);
	uint64_t first = start >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
	unsigned am = 0;
	while (!full && (first >> am) != (last >> am))
		am++;
	struct vtd_desc d;
	if (full || am > VTD_CAP_MAMV(u->cap) || (1ull << am) > RANGE_MAX_PAGES) {
		d = domain_flush(u, asid);
		atomic_fetch_add(&io->stats.asid_invalidations, 1);
	} else {
		bool second = did_second_stage(u, asid);
		uint64_t addr = ((first >> am) << am) << PAGE_SHIFT;
		d = (struct vtd_desc){
		    {second ? VTD_DESC_IOTLB | VTD_DESC_G(VTD_IOTLB_PAGE) | VTD_DESC_DID(asid)
			    : VTD_DESC_PIOTLB | VTD_DESC_G(VTD_PIOTLB_PAGE) | VTD_DESC_DID(asid) |
				  VTD_DESC_PASID(VTD_PASID_RID),
		     addr | am}};
		atomic_fetch_add(&io->stats.range_invalidations, 1);
	}
	/* vtd.break=skip_iotlb: the wait alone, as a driver that forgot the IOTLB would. */
	vtd_qi_submit(u, &d, u->broken == VTD_BREAK_SKIP_IOTLB ? 0 : 1);
}

static const struct iommu_ops vtd_ops = {
    .attach = vtd_attach,
    .detach = vtd_detach,
    .invalidate = vtd_invalidate,
    .iopt = &vtd_iopt_ops,
};

/* ---- Bring-up -------------------------------------------------------------------- */

CMDLINE_PARAM(vtd_break_param, .key = "vtd.break", .kind = CMDLINE_ENUM,
	      .values = "none|skip_iotlb|corrupt_dmar|steal_stream|skip_clean|fail_enable",
	      .def = "none",
	      .help = "test-only: break the VT-d driver (skip_iotlb: invalidations issue only "
		      "their wait; corrupt_dmar: parse a copy of DMAR with a wrong checksum; "
		      "steal_stream: attach takes over an attached stream; skip_clean: table "
		      "writes are not cleaned to memory; fail_enable: translation enable is "
		      "never acknowledged)");

/* GSTS shows `bits` all set (`set`) or all clear within the bound. */
static bool gsts_wait(uint32_t bits, bool set)
{
	uint64_t deadline = arch_time_ns() + GSTS_WAIT_NS;
	while ((vtd_read32(VTD_REG_GSTS) & bits) != (set ? bits : 0)) {
		if (arch_time_ns() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

/* Sets `bit` in GCMD (keeping the enables already set) and waits for GSTS to show it. */
static bool gcmd_set(struct vtd_unit *u, uint32_t bit, bool persistent, const char *name)
{
	/* vtd.break=fail_enable: TE is never written, so its status never comes. */
	if (u->broken != VTD_BREAK_FAIL_ENABLE || bit != VTD_GCMD_TE)
		vtd_write32(VTD_REG_GCMD, u->gcmd | bit);
	if (!gsts_wait(bit, true)) {
		printk("vtd: GSTS never showed %s after GCMD; VT-d not used", name);
		return false;
	}
	if (persistent)
		u->gcmd |= bit;
	return true;
}

/* Frees the frame at `pa` (if any) and counts it. */
static void give_back(phys_addr_t pa, unsigned *freed)
{
	if (pa) {
		frame_free(pa, 0);
		++*freed;
	}
}

/* Every context table, PASID directory and PASID table below the root, and the root. */
static void tables_free(struct vtd_unit *u, unsigned *freed)
{
	if (!u->root_pa)
		return;
	uint64_t *root = kva(u->root_pa);
	for (unsigned r = 0; r < PAGE_SIZE / sizeof(uint64_t); r++) {
		if (!(root[r] & VTD_P))
			continue;
		uint64_t *ctx = kva(VTD_ADDR(root[r]));
		for (unsigned c = 0; c < VTD_CTX_PER_TABLE; c++) {
			if (!(ctx[4 * c] & VTD_P))
				continue;
			uint64_t *dir = kva(VTD_ADDR(ctx[4 * c]));
			for (unsigned d = 0; d < PAGE_SIZE / sizeof(uint64_t); d++)
				if (dir[d] & VTD_P)
					give_back(VTD_ADDR(dir[d]), freed);
			give_back(VTD_ADDR(ctx[4 * c]), freed);
		}
		give_back(VTD_ADDR(root[r]), freed);
	}
	give_back(u->root_pa, freed);
	u->root_pa = 0;
}

/*
 * Bring-up failed part way: translation and queued invalidation off
 * again (GCMD written whole: SRTP is a one-shot command, nothing to undo),
 * then every frame given back. Nothing was attached, so no DMA used them.
 */
static void bring_up_undo(struct vtd_unit *u)
{
	vtd_write32(VTD_REG_GCMD, 0);
	u->gcmd = 0;
	bool off = gsts_wait(VTD_GCMD_TE | VTD_GCMD_QIE, false);
	unsigned freed = 0;
	if (off) {
		vtd_qi_disable(u);
		give_back(u->queue_pa, &freed);
		give_back(u->status_pa, &freed);
		u->queue_pa = u->status_pa = 0;
		tables_free(u, &freed);
		u->undone = true;
		printk("vtd: bring-up undone: translation and queued invalidation off, %u "
		       "frames given back",
		       freed);
	} else {
		/* The unit may still read them: leaking is the safe choice. */
		printk("vtd: bring-up failed and the unit did not turn off (GSTS %#x); its "
		       "tables stay allocated",
		       vtd_read32(VTD_REG_GSTS));
	}
}

static bool bring_up_steps(struct vtd_unit *u)
{
	if (table_alloc(u, &u->root_pa)) {
		printk("vtd: no memory for the root table; VT-d not used");
		return false;
	}
	vtd_write64(VTD_REG_RTADDR, u->root_pa | VTD_RTADDR_SMT);
	if (!gcmd_set(u, VTD_GCMD_SRTP, false, "RTPS (root table pointer)"))
		return false;
	vtd_fault_init(u);
	if (!vtd_qi_enable(u) || !gcmd_set(u, VTD_GCMD_QIE, true, "QIES (queued invalidation)"))
		return false;
	/* Nothing cached from before this root table may be used. */
	struct vtd_desc d[2] = {
	    {{VTD_DESC_CC | VTD_DESC_G(VTD_CC_GLOBAL)}},
	    {{VTD_DESC_IOTLB | VTD_DESC_G(1)}}, /* global */
	};
	vtd_qi_submit(u, d, 2);
	/*
	 * Every covered device's context entry and PASID tables now, with the
	 * PASID entry not present (its DMA faults until attach): attaching
	 * later allocates nothing, and detaching frees nothing.
	 */
	mutex_lock(&u->table_lock);
	for (unsigned i = 0; i < u->nr_rids; i++) {
		if (!rid_pasid_entry(u, u->rids[i], true)) {
			mutex_unlock(&u->table_lock);
			printk("vtd: no memory for context and PASID tables; VT-d not used");
			return false;
		}
	}
	mutex_unlock(&u->table_lock);
	return gcmd_set(u, VTD_GCMD_TE, true, "TES (translation enable)");
}

static bool bring_up(struct vtd_unit *u)
{
	if (bring_up_steps(u))
		return true;
	bring_up_undo(u);
	return false;
}

/* The DMAR table to use: the firmware's, or a corrupted copy (vtd.break=corrupt_dmar). */
static const void *dmar_table(size_t *avail)
{
	static uint8_t copy[4096];
	const struct acpi_sdt_header *h = acpi_find_table_unchecked("DMAR", avail);
	if (!h || vtd_unit.broken != VTD_BREAK_CORRUPT_DMAR || h->length > sizeof(copy))
		return h;
	memcpy(copy, h, h->length);
	copy[9]++; /* the checksum byte */
	*avail = sizeof(copy);
	printk(
	    "vtd: WARNING: parsing a corrupted copy of DMAR on purpose (vtd.break=corrupt_dmar)");
	return copy;
}

/* vtd_bridge_fn over the PCI scan. */
static bool pci_bridge_range(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *secondary,
			     uint8_t *subordinate, void *ctx)
{
	(void)ctx;
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		const struct pci_dev *d = pci_dev_at(i);
		if (d->bus == bus && d->dev == dev && d->fn == fn && (d->header_type & 0x7f) == 1) {
			*secondary = pci_cfg_read8(d, PCI_SECONDARY_BUS);
			*subordinate = pci_cfg_read8(d, PCI_SUBORDINATE_BUS);
			return true;
		}
	}
	return false;
}

/*
 * The unit translating the most scanned PCI devices (ties: the first
 * listed), its devices' requester ids in u->rids; -1 when no unit has any.
 * Pagoda drives one unit: the others' devices are never attached.
 */
static int choose_unit(const struct vtd_dmar *dmar, struct vtd_unit *u)
{
	const struct pci_host *host = pci_host();
	unsigned segment = host ? host->segment : 0, count[VTD_DMAR_UNITS_MAX] = {0};
	int best = -1;
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		int unit = vtd_dmar_unit_for(dmar, segment, pci_rid(pci_dev_at(i)),
					     pci_bridge_range, NULL);
		if (unit >= 0 && ++count[unit] > (best < 0 ? 0 : count[best]))
			best = unit;
	}
	for (unsigned i = 0; best >= 0 && i < pci_dev_count(); i++) {
		uint16_t rid = pci_rid(pci_dev_at(i));
		if (vtd_dmar_unit_for(dmar, segment, rid, pci_bridge_range, NULL) == best)
			u->rids[u->nr_rids++] = rid;
	}
	return best;
}

static void log_unit(const struct vtd_unit *u, const struct vtd_dmar_unit *du)
{
	uint32_t ver = vtd_read32(VTD_REG_VER);
	char pasid[24];
	if (u->ecap & VTD_ECAP_PASID)
		snprintf(pasid, sizeof(pasid), "PASID %u bits", VTD_ECAP_PSS(u->ecap));
	else
		snprintf(pasid, sizeof(pasid), "no PASID");
	printk("vtd: %s at %#llx (%s, %u device scopes, %u PCI devices), version %u.%u: "
	       "scalable mode, %s, %s, %s, queued invalidation, %u-bit, %u fault record(s), "
	       "MAMV %u, %s (CAP %#llx ECAP %#llx); translating (interrupt remapping off)",
	       u->io.name, (unsigned long long)du->reg_base,
	       du->include_pci_all ? "all PCI devices" : "listed devices", du->nr_scopes,
	       u->nr_rids, (ver >> 4) & 0xf, ver & 0xf,
	       u->caps.first_stage ? "first stage" : "no first stage",
	       u->caps.second_stage ? "second stage" : "no second stage", pasid,
	       VTD_CAP_MGAW(u->cap), VTD_CAP_NFR(u->cap), VTD_CAP_MAMV(u->cap),
	       u->caps.pwsnp	      ? "snooped walks (PWSNP)"
	       : u->caps.clean_tables ? "tables cleaned to memory (no ECAP.C, no SMPWC)"
				      : "second-stage tables cleaned to memory (no SMPWC)",
	       (unsigned long long)u->cap, (unsigned long long)u->ecap);
}

void vtd_probe(void)
{
	struct vtd_unit *u = &vtd_unit;
	u->broken = (enum vtd_break)cmdline_enum("vtd.break");
	static const char *const broken_names[] = {
	    [VTD_BREAK_SKIP_IOTLB] = "skip_iotlb: invalidations skip their IOTLB descriptor",
	    [VTD_BREAK_STEAL_STREAM] = "steal_stream: attach takes attached streams over",
	    [VTD_BREAK_SKIP_CLEAN] = "skip_clean: table writes stay in the CPU's caches",
	    [VTD_BREAK_FAIL_ENABLE] = "fail_enable: translation enable never acknowledged",
	};
	if (u->broken < ARRAY_SIZE(broken_names) && broken_names[u->broken])
		printk("vtd: WARNING: driver broken on purpose (vtd.break=%s): tests must fail",
		       broken_names[u->broken]);
	size_t avail;
	const void *table = dmar_table(&avail);
	if (!table)
		return; /* no VT-d on this machine */
	static struct vtd_dmar dmar;
	char err[160], note[160];
	if (!vtd_dmar_parse(table, avail, &dmar, err, sizeof(err))) {
		printk("vtd: %s; VT-d not used", err);
		return;
	}
	int which = choose_unit(&dmar, u);
	if (which < 0) {
		printk("vtd: none of the DMAR's %u unit(s) translates a PCI device found; VT-d "
		       "not used",
		       dmar.nr_units);
		return;
	}
	const struct vtd_dmar_unit *du = &dmar.units[which];
	if (dmar.nr_units > 1)
		printk("vtd: DMAR lists %u units; driving the one at %#llx (%u PCI devices behind "
		       "it); the others' devices are never attached",
		       dmar.nr_units, (unsigned long long)du->reg_base, u->nr_rids);
	u->io = (struct iommu){.name = "intel-vtd",
			       .ops = &vtd_ops,
			       .nr_streams = VTD_STREAMS,
			       .asid_lock = SPINLOCK_INIT};
	u->table_lock = (struct mutex)MUTEX_INIT;
	u->qi_lock = (spinlock_t)SPINLOCK_INIT;
	u->regs = vm_map_mmio(du->reg_base, REGS_SIZE, "VT-d registers");
	if (!u->regs) {
		printk("vtd: registers at %#llx could not be mapped; VT-d not used",
		       (unsigned long long)du->reg_base);
		return;
	}
	u->cap = vtd_read64(VTD_REG_CAP);
	u->ecap = vtd_read64(VTD_REG_ECAP);
	bool usable = vtd_caps_check(u->cap, u->ecap, arch_cpu_hypervisor(), &u->caps, note, err,
				     sizeof(err));
	if (note[0])
		printk("%s", note);
	if (!usable) {
		printk("%s", err);
		return;
	}
	if (!bring_up(u))
		return;
	log_unit(u, du);
	registered = true;
	iommu_register_hw(&u->io);
}
