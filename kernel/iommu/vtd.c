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
 * setting present last. Interrupt remapping is never enabled (no
 * GCMD.IRE): MSIs keep passing untranslated in compatibility format.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
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
	return registered && (vtd_unit.ecap & VTD_ECAP_FSTS);
}

bool vtd_second_stage(void)
{
	return registered && (vtd_unit.ecap & VTD_ECAP_SSTS);
}

enum vtd_break vtd_broken(void)
{
	return vtd_unit.broken;
}

static struct vtd_unit *to_unit(struct iommu *io)
{
	return (struct vtd_unit *)io;
}

/* ---- Tables ---------------------------------------------------------------------- */

static void store_present(uint64_t *slot, uint64_t v)
{
	/* Everything written before is visible to the unit's walk first. */
	__atomic_store_n(slot, v, __ATOMIC_RELEASE);
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
		if (!create || frame_alloc_zeroed(&ctx))
			return NULL;
		store_present(re, ctx | VTD_P);
	}
	uint64_t *ce = (uint64_t *)kva(VTD_ADDR(*re)) + 4 * (devfn % VTD_CTX_PER_TABLE);
	if (!(ce[0] & VTD_P)) {
		phys_addr_t dir, table;
		if (!create || frame_alloc_zeroed(&dir))
			return NULL;
		if (frame_alloc_zeroed(&table)) {
			frame_free(dir, 0);
			return NULL;
		}
		*(uint64_t *)kva(dir) = table | VTD_P;
		ce[1] = VTD_PASID_RID; /* RID_PASID: untagged requests use PASID 0 */
		/* PDTS 0: a directory of 128 entries; FPD clear: faults are recorded. */
		store_present(&ce[0], dir | VTD_P);
		/* Not-present entries are not cached (CAP.CM clear), but say so anyway. */
		struct vtd_desc cc = {{VTD_DESC_CC | VTD_DESC_G(VTD_CC_GLOBAL)}};
		vtd_qi_submit(u, &cc, 1);
	}
	uint64_t *dir = kva(VTD_ADDR(ce[0]));
	struct vtd_pasid_entry *table = kva(VTD_ADDR(dir[VTD_PASID_RID / VTD_PASID_PER_TABLE]));
	return &table[VTD_PASID_RID % VTD_PASID_PER_TABLE];
}

/* The IOTLB descriptor dropping everything domain `did` cached. */
static struct vtd_desc domain_flush(struct vtd_unit *u, unsigned did)
{
	if (u->did_pgtt[did] == VTD_PGTT_SECOND)
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
	u->io.stats.asid_invalidations++;
	vtd_qi_submit(u, d, 2);
}

static void detach_locked(struct vtd_unit *u, struct vtd_pasid_entry *pe)
{
	if (!(pe->qw[0] & VTD_P))
		return;
	unsigned did = (unsigned)(pe->qw[1] & 0xffff);
	store_present(&pe->qw[0], 0);
	flush_pasid(u, did);
}

static int attach(struct vtd_unit *u, unsigned stream, unsigned did, uint64_t pgtt,
		  phys_addr_t root)
{
	if (stream >= VTD_STREAMS || did == 0 || did >= IOMMU_ASIDS || (root & 0xfff))
		return -EINVAL;
	if (!(u->ecap & (pgtt == VTD_PGTT_FIRST ? VTD_ECAP_FSTS : VTD_ECAP_SSTS)))
		return -EINVAL; /* this stage is not offered: QEMU 10 has one or the other (x-flts)
				 */
	mutex_lock(&u->table_lock);
	struct vtd_pasid_entry *pe = rid_pasid_entry(u, (uint16_t)stream, true);
	if (!pe) {
		mutex_unlock(&u->table_lock);
		return -ENOMEM;
	}
	detach_locked(u, pe);
	struct vtd_pasid_entry e = {{0}};
	e.qw[1] = did;
	if (pgtt == VTD_PGTT_FIRST)
		e.qw[2] = root | VTD_PE_FSPM_4LEVEL; /* SRE clear: user requests only */
	else
		e.qw[0] = root | VTD_PE_AW_48;
	for (unsigned i = 1; i < 8; i++)
		pe->qw[i] = e.qw[i];
	u->did_pgtt[did] = (uint8_t)pgtt;
	store_present(&pe->qw[0], e.qw[0] | VTD_PE_PGTT(pgtt) | VTD_P);
	flush_pasid(u, did); /* nothing of an earlier user of the id may survive */
	mutex_unlock(&u->table_lock);
	return 0;
}

/* ---- iommu_ops ------------------------------------------------------------------- */

static int vtd_attach(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	return attach(to_unit(io), stream, asid, VTD_PGTT_FIRST, root);
}

int vtd_attach_second_stage(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	return attach(to_unit(io), stream, asid, VTD_PGTT_SECOND, root);
}

static void vtd_detach(struct iommu *io, unsigned stream)
{
	struct vtd_unit *u = to_unit(io);
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
	struct vtd_unit *u = to_unit(io);
	uint64_t first = start >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
	unsigned am = 0;
	while (!full && (first >> am) != (last >> am))
		am++;
	struct vtd_desc d;
	if (full || am > VTD_CAP_MAMV(u->cap) || (1ull << am) > RANGE_MAX_PAGES) {
		d = domain_flush(u, asid);
		io->stats.asid_invalidations++;
	} else {
		bool second = u->did_pgtt[asid] == VTD_PGTT_SECOND;
		uint64_t addr = ((first >> am) << am) << PAGE_SHIFT;
		d = (struct vtd_desc){
		    {second ? VTD_DESC_IOTLB | VTD_DESC_G(VTD_IOTLB_PAGE) | VTD_DESC_DID(asid)
			    : VTD_DESC_PIOTLB | VTD_DESC_G(VTD_PIOTLB_PAGE) | VTD_DESC_DID(asid) |
				  VTD_DESC_PASID(VTD_PASID_RID),
		     addr | am}};
		io->stats.range_invalidations++;
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
	      .values = "none|skip_iotlb|corrupt_dmar", .def = "none",
	      .help = "test-only: break the VT-d driver (skip_iotlb: invalidations issue only "
		      "their wait; corrupt_dmar: parse a copy of DMAR with a wrong checksum)");

/* Sets `bit` in GCMD (keeping the enables already set) and waits for GSTS to show it. */
static bool gcmd_set(struct vtd_unit *u, uint32_t bit, bool persistent, const char *name)
{
	vtd_write32(VTD_REG_GCMD, u->gcmd | bit);
	uint64_t deadline = arch_time_ns() + GSTS_WAIT_NS;
	while (!(vtd_read32(VTD_REG_GSTS) & bit)) {
		if (arch_time_ns() > deadline) {
			printk("vtd: GSTS never showed %s after GCMD; VT-d not used", name);
			return false;
		}
		arch_cpu_relax();
	}
	if (persistent)
		u->gcmd |= bit;
	return true;
}

/* What the driver needs of the unit; false (named) when something is missing. */
static bool capable(struct vtd_unit *u)
{
	const char *missing = !(u->ecap & VTD_ECAP_QI)	   ? "queued invalidation (ECAP.QI)"
			      : !(u->ecap & VTD_ECAP_SMTS) ? "scalable mode (ECAP.SMTS)"
			      : !(u->ecap & (VTD_ECAP_FSTS | VTD_ECAP_SSTS))
				  ? "first- or second-stage translation (ECAP.FSTS, ECAP.SSTS)"
			      : VTD_CAP_MGAW(u->cap) < 48 ? "48-bit guest addresses (CAP.MGAW)"
			      : !(u->cap & VTD_CAP_PSI)	  ? "page-selective invalidation (CAP.PSI)"
							  : NULL;
	if (missing)
		printk("vtd: unit lacks %s (CAP %#llx ECAP %#llx); VT-d not used", missing,
		       (unsigned long long)u->cap, (unsigned long long)u->ecap);
	return !missing;
}

static bool bring_up(struct vtd_unit *u)
{
	if (frame_alloc_zeroed(&u->root_pa)) {
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
	 * Every device's context entry and PASID tables now, with the PASID
	 * entry not present (its DMA faults until attach): attaching later
	 * allocates nothing, and detaching frees nothing.
	 */
	mutex_lock(&u->table_lock);
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		if (!rid_pasid_entry(u, pci_rid(pci_dev_at(i)), true)) {
			mutex_unlock(&u->table_lock);
			printk("vtd: no memory for context and PASID tables; VT-d not used");
			return false;
		}
	}
	mutex_unlock(&u->table_lock);
	return gcmd_set(u, VTD_GCMD_TE, true, "TES (translation enable)");
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

static void log_unit(const struct vtd_unit *u, const struct vtd_dmar_unit *du)
{
	uint32_t ver = vtd_read32(VTD_REG_VER);
	char pasid[24];
	if (u->ecap & VTD_ECAP_PASID)
		snprintf(pasid, sizeof(pasid), "PASID %u bits", VTD_ECAP_PSS(u->ecap));
	else
		snprintf(pasid, sizeof(pasid), "no PASID");
	printk("vtd: %s at %#llx (%s, %u device scopes), version %u.%u: scalable mode, %s, %s, "
	       "%s, queued invalidation, %u-bit, %u fault record(s), MAMV %u; translating "
	       "(interrupt remapping off)",
	       u->io.name, (unsigned long long)du->reg_base,
	       du->include_pci_all ? "all PCI devices" : "listed devices", du->nr_scopes,
	       (ver >> 4) & 0xf, ver & 0xf,
	       (u->ecap & VTD_ECAP_FSTS) ? "first stage" : "no first stage",
	       (u->ecap & VTD_ECAP_SSTS) ? "second stage" : "no second stage", pasid,
	       VTD_CAP_MGAW(u->cap), VTD_CAP_NFR(u->cap), VTD_CAP_MAMV(u->cap));
}

void vtd_probe(void)
{
	struct vtd_unit *u = &vtd_unit;
	u->broken = (enum vtd_break)cmdline_enum("vtd.break");
	if (u->broken == VTD_BREAK_SKIP_IOTLB)
		printk("vtd: WARNING: invalidations skip their IOTLB descriptor on purpose "
		       "(vtd.break=skip_iotlb): tests must fail");
	size_t avail;
	const void *table = dmar_table(&avail);
	if (!table)
		return; /* no VT-d on this machine */
	static struct vtd_dmar dmar;
	char err[160];
	if (!vtd_dmar_parse(table, avail, &dmar, err, sizeof(err))) {
		printk("vtd: %s; VT-d not used", err);
		return;
	}
	const struct vtd_dmar_unit *du = &dmar.units[0];
	if (dmar.nr_units > 1)
		printk("vtd: DMAR lists %u units; only the first (%#llx) is driven", dmar.nr_units,
		       (unsigned long long)du->reg_base);
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
	if (!capable(u) || !bring_up(u))
		return;
	log_unit(u, du);
	registered = true;
	iommu_register_hw(&u->io);
}
