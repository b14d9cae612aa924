// SPDX-License-Identifier: BSD-2-Clause
/*
 * vtd suite: QEMU's Intel VT-d (kernel/iommu/vtd*.c) between edu and
 * memory, kept coherent by the notifier.
 *
 * Shared mode (make test IOMMU=vtd): edu's DMA addresses are the user
 * virtual addresses of an mm whose own page tables the unit walks (first
 * stage). The device reads what the CPU wrote and writes where the CPU
 * reads; after vm_unmap the same DMA faults, with the fault record naming
 * the address, and the freed (poisoned) frame stays untouched; after an
 * unmap and a remap to another frame the device sees the new frame, and
 * under vtd.break=skip_iotlb (the invalidation loses its IOTLB
 * descriptor) it reads the old frame from its IOTLB and the case fails
 * (make iommu-negative). Shadow mode (IOMMU=vtd-ss: QEMU 10 has second
 * stage only without x-flts) does the same through tables the driver
 * writes. The DMAR parser is fed synthetic tables, malformed ones too,
 * and decides which unit translates a device from their scopes; the
 * capability check is fed QEMU's registers and made-up ones (coherence,
 * caching mode, domain ids). A stream has one owner: a second attach is
 * refused and the owner keeps working (vtd.break=steal_stream fails it);
 * a unit that does not snoop gets its tables cleaned (vtd.break=skip_clean
 * fails it). An invalidation-queue error is injected and must be reported
 * and recovered from.
 *
 * Cases that need the unit skip without it, so the default configs pass.
 * Each edu DMA takes 100 ms of virtual time: the cases do few.
 */
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/iommu/shadow.h"
#include "kernel/iommu/vtd.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* Below edu's 28-bit DMA mask, inside the user half. */
#define VA(off) (MiB(16) + (off))

static struct iommu *vtd_or_skip(struct ktest *t, bool second_stage)
{
	if (!vtd_present())
		KTEST_SKIP(t, "no VT-d (make test IOMMU=vtd or IOMMU=vtd-ss)");
	if (!edu_present())
		KTEST_SKIP(t, "no edu device");
	if (second_stage ? !vtd_second_stage() : !vtd_first_stage())
		KTEST_SKIP(t, second_stage ? "unit has no second stage (IOMMU=vtd-ss has)"
					   : "unit has no first stage (IOMMU=vtd has)");
	vtd_poll_faults(); /* start from empty records */
	return iommu_hw();
}

static uint16_t edu_rid(void)
{
	return pci_rid(edu_pci_dev());
}

static uint8_t *cpu_page(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q) ? kva(ALIGN_DOWN(q.pa, PAGE_SIZE)) : NULL;
}

static bool all_bytes(const uint8_t *p, uint8_t v)
{
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != v)
			return false;
	return true;
}

static struct mm *mm_with_pages(struct ktest *t, unsigned pages)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	EXPECT_EQ(t, vm_map_anon(mm, VA(0), (uint64_t)pages << PAGE_SHIFT, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, vm_populate(mm, VA(0), (uint64_t)pages << PAGE_SHIFT), 0);
	return mm;
}

/* The device reads page 0 (CPU-written) and writes it to page 1, where the CPU reads. */
static void check_round_trip(struct ktest *t, struct mm *mm)
{
	uint8_t *src = cpu_page(mm, VA(0)), *dst = cpu_page(mm, VA(PAGE_SIZE));
	ASSERT_TRUE(t, src && dst);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		src[i] = (uint8_t)(i * 13 + 7);
	memset(dst, 0, PAGE_SIZE);
	ASSERT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	ASSERT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(PAGE_SIZE), 0, EDU_BUF_SIZE), 0);
	EXPECT_EQ(t, memcmp(src, dst, PAGE_SIZE), 0);
	EXPECT_EQ(t, vtd_poll_faults(), 0u);
}

/*
 * After the unmap, a device write to the page faults at that address and
 * never reaches the freed frame (poisoned when freed).
 */
static void check_unmap_faults(struct ktest *t, struct mm *mm, uint8_t fault_reason)
{
	phys_addr_t pa = kva_to_pa(cpu_page(mm, VA(0)));
	uint64_t violations = frame_poison_violations;
	frame_poison_on_free(true);
	int err = vm_unmap(mm, VA(0), PAGE_SIZE);
	frame_poison_on_free(false);
	ASSERT_EQ(t, err, 0);
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	EXPECT_GE(t, vtd_poll_faults(), 1u);
	struct vtd_fault f;
	ASSERT_TRUE(t, vtd_last_fault(&f));
	EXPECT_EQ(t, f.addr, VA(0));
	EXPECT_EQ(t, f.reason, fault_reason);
	EXPECT_TRUE(t, f.write);
	EXPECT_EQ(t, f.sid, edu_rid());
	EXPECT_TRUE(t, all_bytes(kva(pa), FRAME_POISON));
	EXPECT_EQ(t, frame_poison_violations, violations);
}

/* An mm with `pages` populated pages at VA(0), edu bound to it (shared mode). */
static struct mm *bound_mm(struct ktest *t, struct iommu *io, unsigned pages,
			   struct iommu_sva *bond)
{
	struct mm *mm = mm_with_pages(t, pages);
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, iommu_sva_bind(bond, io, edu_rid(), mm), 0);
	return mm;
}

/* edu's stream given an address space by whichever stage the unit has. */
struct edu_owner {
	struct mm *mm;
	struct iommu_sva bond;	/* first stage: shared */
	struct iommu_shadow sh; /* second stage: shadow */
};

/* A fresh mm with two populated pages at VA(0), edu attached to it. */
static void edu_own(struct ktest *t, struct iommu *io, struct edu_owner *o)
{
	if (vtd_first_stage()) {
		o->mm = bound_mm(t, io, 2, &o->bond);
		return;
	}
	o->mm = mm_with_pages(t, 2);
	ASSERT_TRUE(t, o->mm != NULL);
	ASSERT_EQ(t, iommu_shadow_create(&o->sh, io, edu_rid(), o->mm, VA(0), 2 * PAGE_SIZE), 0);
	ASSERT_EQ(t, iommu_shadow_fault_in(&o->sh, VA(0), 2 * PAGE_SIZE), 0);
}

static void edu_disown(struct edu_owner *o)
{
	if (vtd_first_stage())
		iommu_sva_unbind(&o->bond);
	else
		iommu_shadow_destroy(&o->sh);
	mm_destroy(o->mm);
}

static void shared_device_sees_cpu_data(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, false);
	static struct iommu_sva bond;
	struct mm *mm = bound_mm(t, io, 2, &bond);
	check_round_trip(t, mm);
	iommu_sva_unbind(&bond);
	mm_destroy(mm);
}

static void shared_unmap_makes_dma_fault(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, false);
	static struct iommu_sva bond;
	struct mm *mm = bound_mm(t, io, 1, &bond);
	/* Warm the IOTLB: the unmap must take this translation away. */
	ASSERT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	uint64_t ranges = io->stats.range_invalidations;
	check_unmap_faults(t, mm, VTD_FR_FS_PAGING_ENTRY_P);
	EXPECT_EQ(t, io->stats.range_invalidations, ranges + 1); /* one descriptor for the gather */
	iommu_sva_unbind(&bond);
	/* Detached: the stream faults (PASID entry not present). */
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, 16), 0);
	EXPECT_GE(t, vtd_poll_faults(), 1u);
	struct vtd_fault f;
	ASSERT_TRUE(t, vtd_last_fault(&f));
	EXPECT_EQ(t, f.reason, VTD_FR_PASID_ENTRY_INV);
	EXPECT_EQ(t, f.addr, VA(0));
	mm_destroy(mm);
}

/*
 * VA -> frame A (0xAA), DMA (the IOTLB caches it), unmap, VA -> frame B
 * (0xBB), DMA again: the device must read B. Both frames stay allocated
 * (physical mappings), so B is never A reused.
 */
static void shared_remap_is_not_stale(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, false);
	phys_addr_t a, b;
	ASSERT_EQ(t, frame_alloc_zeroed(&a), 0);
	ASSERT_EQ(t, frame_alloc_zeroed(&b), 0);
	memset(kva(a), 0xAA, PAGE_SIZE);
	memset(kva(b), 0xBB, PAGE_SIZE);
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_phys(mm, VA(0), a, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_map_anon(mm, VA(PAGE_SIZE), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, VA(PAGE_SIZE), PAGE_SIZE), 0);
	static struct iommu_sva bond;
	ASSERT_EQ(t, iommu_sva_bind(&bond, io, edu_rid(), mm), 0);
	uint8_t *out = cpu_page(mm, VA(PAGE_SIZE));
	ASSERT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	ASSERT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(PAGE_SIZE), 0, EDU_BUF_SIZE), 0);
	EXPECT_TRUE(t, all_bytes(out, 0xAA));
	ASSERT_EQ(t, vm_unmap(mm, VA(0), PAGE_SIZE), 0);
	ASSERT_EQ(t, vm_map_phys(mm, VA(0), b, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	ASSERT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(PAGE_SIZE), 0, EDU_BUF_SIZE), 0);
	EXPECT_TRUE(t, all_bytes(out, 0xBB)); /* 0xAA: a stale IOTLB entry (vtd.break=skip_iotlb) */
	EXPECT_EQ(t, vtd_poll_faults(), 0u);
	iommu_sva_unbind(&bond);
	mm_destroy(mm);
	frame_free(a, 0);
	frame_free(b, 0);
}

static void second_stage_shadow_follows_the_mm(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, true);
	struct mm *mm = mm_with_pages(t, 2);
	ASSERT_TRUE(t, mm != NULL);
	static struct iommu_shadow sh;
	ASSERT_EQ(t, iommu_shadow_create(&sh, io, edu_rid(), mm, VA(0), 4 * PAGE_SIZE), 0);
	ASSERT_EQ(t, iommu_shadow_fault_in(&sh, VA(0), 2 * PAGE_SIZE), 0);
	check_round_trip(t, mm);
	uint64_t invalidations = sh.invalidations;
	check_unmap_faults(t, mm, VTD_FR_SS_WRITE);
	EXPECT_EQ(t, sh.invalidations, invalidations + 1);
	iommu_shadow_destroy(&sh);
	mm_destroy(mm);
}

/* ---- DMAR parser ------------------------------------------------------------------ */

/* A DMAR with one DRHD (base 0xfed90000, INCLUDE_PCI_ALL, scope: endpoint 00:02.0). */
static size_t build_dmar(uint8_t *t)
{
	static const uint8_t drhd[] = {
	    0,	  0,	24,   0,    1, 0, 0, 0, /* type 0, length 24, INCLUDE_PCI_ALL */
	    0x00, 0x00, 0xd9, 0xfe, 0, 0, 0, 0, /* register base */
	    1,	  8,	0,    0,    0, 0, 2, 0, /* endpoint, bus 0, path 02.0 */
	};
	memset(t, 0, 256);
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)t;
	memcpy(h->signature, "DMAR", 4);
	h->length = 48 + sizeof(drhd);
	t[36] = 47; /* host address width - 1 */
	memcpy(t + 48, drhd, sizeof(drhd));
	return h->length;
}

static void fix_checksum(uint8_t *t)
{
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)t;
	h->checksum = 0;
	h->checksum = (uint8_t)(0x100 - acpi_checksum(t, h->length));
}

static bool err_has(const char *err, const char *what)
{
	size_t n = strlen(what);
	for (const char *p = err; *p; p++)
		if (strncmp(p, what, n) == 0)
			return true;
	return false;
}

/* The parser refuses the table, naming `what`. */
static void expect_rejected(struct ktest *t, const uint8_t *tab, size_t avail, const char *what)
{
	static struct vtd_dmar d;
	char err[160] = "";
	EXPECT_FALSE(t, vtd_dmar_parse(tab, avail, &d, err, sizeof(err)));
	EXPECT_TRUE(t, err_has(err, what));
}

static void dmar_parser_names_malformed_tables(struct ktest *t)
{
	static uint8_t tab[256];
	static struct vtd_dmar d;
	char err[160];
	size_t len = build_dmar(tab);
	fix_checksum(tab);
	ASSERT_TRUE(t, vtd_dmar_parse(tab, sizeof(tab), &d, err, sizeof(err)));
	EXPECT_EQ(t, d.nr_units, 1u);
	EXPECT_EQ(t, d.host_address_width, 48u);
	EXPECT_EQ(t, d.units[0].reg_base, 0xfed90000ull);
	EXPECT_TRUE(t, d.units[0].include_pci_all);
	EXPECT_EQ(t, d.units[0].nr_scopes, 1u);
	EXPECT_EQ(t, d.units[0].scopes[0].type, VTD_SCOPE_PCI_ENDPOINT);
	EXPECT_EQ(t, d.units[0].scopes[0].dev, 2u);

	/* The table claims more bytes than there are; a byte changed behind the checksum. */
	expect_rejected(t, tab, len - 1, "length");
	tab[60] ^= 1;
	expect_rejected(t, tab, sizeof(tab), "checksum");
	expect_rejected(t, tab, 20, "header");
	/* Structures made malformed, the checksum fixed after: each is named. */
	static const struct {
		const char *named;
		unsigned at[2];
		uint8_t value[2];
	} bad[] = {
	    {"truncated", {50, 4}, {12, 60}},	  /* a DRHD (and table) cut to 12 bytes */
	    {"runs past", {50, 50}, {40, 40}},	  /* a DRHD longer than the table */
	    {"register base", {58, 59}, {0, 0}},  /* base 0 */
	    {"device scope", {65, 65}, {10, 10}}, /* a scope longer than its DRHD */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		build_dmar(tab);
		for (unsigned j = 0; j < 2; j++)
			tab[bad[i].at[j]] = bad[i].value[j];
		fix_checksum(tab);
		expect_rejected(t, tab, sizeof(tab), bad[i].named);
	}
}

/* ---- Invalidation queue errors ------------------------------------------------------ */

static void queue_error_reported_and_recovered(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, !vtd_first_stage());
	struct vtd_iqe_info before, after;
	vtd_iqe_info(&before);
	uint64_t syncs = io->stats.syncs;
	ASSERT_EQ(t, vtd_inject_bad_descriptor(), 0);
	vtd_iqe_info(&after);
	EXPECT_EQ(t, after.count, before.count + 1);
	EXPECT_EQ(t, after.desc[0] & 0xf, 0xfull);
	EXPECT_EQ(t, io->stats.syncs, syncs + 1); /* the wait behind it completed */
	/* The queue still works: attach, DMA, unmap and fault go through it. */
	static struct edu_owner o;
	edu_own(t, io, &o);
	check_round_trip(t, o.mm);
	edu_disown(&o);
	vtd_iqe_info(&after);
	EXPECT_EQ(t, after.count, before.count + 1);
}

/* ---- One owner per stream, and only the unit's own devices ------------------------- */

/*
 * edu attached, then another domain's attach of the same stream is
 * refused (-EBUSY) and the owner still works (the old driver detached
 * the owner quietly; vtd.break=steal_stream does). A requester id no
 * DMAR scope puts behind the unit is refused (-ENOENT).
 */
static void stream_has_one_owner(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, !vtd_first_stage());
	static struct edu_owner o;
	edu_own(t, io, &o);
	struct mm *other = mm_create();
	ASSERT_TRUE(t, other != NULL);
	phys_addr_t root = other->pt.root;
	int (*attach)(struct iommu *, unsigned, phys_addr_t, unsigned) = io->ops->attach;
	if (!vtd_first_stage()) {
		ASSERT_EQ(t, io->ops->iopt->alloc(io, &root), 0);
		attach = io->ops->iopt->attach;
	}
	unsigned asid = iommu_alloc_asid(io);
	ASSERT_NE(t, asid, 0u);
	EXPECT_EQ(t, attach(io, edu_rid(), root, asid), -EBUSY);
	EXPECT_EQ(t, attach(io, 0xffff, root, asid), -ENOENT); /* 255:1f.7: no such device */
	/* Whatever happened, nothing of `asid` stays cached when it goes back. */
	io->ops->invalidate(io, asid, 0, 0, true, true);
	iommu_free_asid(io, asid);
	check_round_trip(t, o.mm); /* under steal_stream: faults, edu reads nothing */
	edu_disown(&o);
	if (!vtd_first_stage())
		io->ops->iopt->free(io, root);
	mm_destroy(other);
}

/* ---- Coherence on a unit that does not snoop ------------------------------------- */

/*
 * QEMU 10 reports neither ECAP.C nor ECAP.SMPWC: attaching edu (PASID
 * entry) and, in shadow mode, mapping its pages (second-stage entries)
 * must clean what was written to memory (vtd.break=skip_clean skips it).
 * QEMU reads memory coherently anyway, so only the count can show it.
 */
static void tables_cleaned_for_a_non_snooping_unit(struct ktest *t)
{
	struct iommu *io = vtd_or_skip(t, !vtd_first_stage());
	const struct vtd_caps *caps = vtd_caps();
	if (!caps->clean_tables && !caps->clean_sspt)
		KTEST_SKIP(t, "the unit snoops every table walk (ECAP.C and SMPWC)");
	uint64_t before = vtd_clean_count();
	static struct edu_owner o;
	edu_own(t, io, &o);
	uint64_t cleans = vtd_clean_count() - before;
	/* The PASID entry: its fields, then its present bit (and the shadow's leaves). */
	EXPECT_GE(t, cleans, caps->clean_tables ? 2u : 0u);
	if (caps->second_stage && caps->clean_sspt)
		EXPECT_GE(t, cleans, 2u + 2u); /* + one per leaf mapped */
	check_round_trip(t, o.mm);
	before = vtd_clean_count();
	edu_disown(&o);
	EXPECT_GE(t, vtd_clean_count() - before, caps->clean_tables ? 1u : 0u); /* not present */
}

/* ---- What a unit offers (pure) ------------------------------------------------------ */

#define QEMU_CAP_FLTS  0x1d2008c222f0606ull /* QEMU 10, x-scalable-mode=on,x-flts=on */
#define QEMU_ECAP_FLTS 0x880000f00f4aull
#define QEMU_CAP_SS    0xd2008c222f0606ull /* the same without x-flts */
#define QEMU_ECAP_SS   0x480080f00f4aull
#define ECAP_C	       (1ull << 0)
#define ECAP_QI	       (1ull << 1)
#define ECAP_SMPWC     (1ull << 48)
#define CAP_CM	       (1ull << 7)

/* vtd_caps_check refuses, naming `what` in its line. */
static void expect_caps_refused(struct ktest *t, uint64_t cap, uint64_t ecap, bool emulated,
				const char *what)
{
	struct vtd_caps c;
	char note[160], err[160] = "";
	EXPECT_FALSE(t, vtd_caps_check(cap, ecap, emulated, &c, note, err, sizeof(err)));
	EXPECT_TRUE(t, err_has(err, what));
}

static void caps_check_decides_coherence(struct ktest *t)
{
	struct vtd_caps c;
	char note[160], err[160];
	/* QEMU's first-stage unit: no C, no SMPWC; usable only because it is emulated. */
	ASSERT_TRUE(t, vtd_caps_check(QEMU_CAP_FLTS, QEMU_ECAP_FLTS, true, &c, note, err, 160));
	EXPECT_TRUE(t, c.first_stage && !c.second_stage && c.first_stage_unsnooped);
	EXPECT_TRUE(t, c.clean_tables && c.clean_sspt && !c.pwsnp);
	EXPECT_TRUE(t, err_has(note, "SMPWC"));
	/* On hardware the same registers leave no stage: refused, one line each. */
	expect_caps_refused(t, QEMU_CAP_FLTS, QEMU_ECAP_FLTS, false, "ECAP.FSTS");
	ASSERT_FALSE(t, vtd_caps_check(QEMU_CAP_FLTS, QEMU_ECAP_FLTS, false, &c, note, err, 160));
	EXPECT_TRUE(t, err_has(note, "first stage not used"));
	/* QEMU's second-stage unit: the driver cleans its own tables; nothing to note. */
	ASSERT_TRUE(t, vtd_caps_check(QEMU_CAP_SS, QEMU_ECAP_SS, false, &c, note, err, 160));
	EXPECT_TRUE(t, c.second_stage && !c.first_stage && c.clean_tables && c.clean_sspt);
	EXPECT_EQ(t, note[0], '\0');
	/* A coherent unit: PWSNP set in PASID entries, nothing cleaned. */
	ASSERT_TRUE(t, vtd_caps_check(QEMU_CAP_FLTS, QEMU_ECAP_FLTS | ECAP_C | ECAP_SMPWC, false,
				      &c, note, err, 160));
	EXPECT_TRUE(t, c.first_stage && c.pwsnp && !c.clean_tables && !c.clean_sspt);
	EXPECT_FALSE(t, c.first_stage_unsnooped);
	/* Caching mode, too few domain ids (ND 3: 1024), no queue. */
	expect_caps_refused(t, QEMU_CAP_SS | CAP_CM, QEMU_ECAP_SS, false, "CAP.CM");
	expect_caps_refused(t, (QEMU_CAP_SS & ~7ull) | 3, QEMU_ECAP_SS, false, "CAP.ND");
	expect_caps_refused(t, QEMU_CAP_SS, QEMU_ECAP_SS & ~ECAP_QI, false, "ECAP.QI");
}

/* ---- Which unit translates a device (pure) ------------------------------------------ */

/* Bridges of the made-up machine: 00:1c.0 -> buses 2-3, 00:1d.0 -> bus 5. */
static bool fake_bridge(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *secondary,
			uint8_t *subordinate, void *ctx)
{
	(void)ctx;
	if (bus != 0 || fn != 0 || (dev != 0x1c && dev != 0x1d))
		return false;
	*secondary = dev == 0x1c ? 2 : 5;
	*subordinate = dev == 0x1c ? 3 : 5;
	return true;
}

/*
 * Unit 0 lists 00:02.0 (endpoint), the bridge 00:1c.0 (sub-hierarchy)
 * and 05:00.0 through the bridge 00:1d.0 (a two-hop endpoint); unit 1
 * is INCLUDE_PCI_ALL with an I/O APIC scope, as real PCs have them
 * (graphics unit first, the catch-all last); unit 2 is segment 1's.
 */
static size_t build_two_unit_dmar(uint8_t *t)
{
	/* clang-format off */
	static const uint8_t units[] = {
	    0, 0, 42, 0, 0, 0, 0, 0, 0x00, 0x00, 0xd9, 0xfe, 0, 0, 0, 0, /* unit 0 */
	    1, 8, 0, 0, 0, 0, 0x02, 0,					 /* endpoint 00:02.0 */
	    2, 8, 0, 0, 0, 0, 0x1c, 0,					 /* bridge 00:1c.0 */
	    1, 10, 0, 0, 0, 0, 0x1d, 0, 0, 0, /* 00:1d.0, then 00.0 behind it */
	    0, 0, 24, 0, 1, 0, 0, 0, 0x00, 0x10, 0xd9, 0xfe, 0, 0, 0, 0, /* unit 1: all */
	    3, 8, 0, 0, 2, 0xf0, 0x1f, 0,				  /* I/O APIC */
	    0, 0, 16, 0, 1, 0, 1, 0, 0x00, 0x20, 0xd9, 0xfe, 0, 0, 0, 0, /* unit 2: segment 1 */
	};
	/* clang-format on */
	memset(t, 0, 256);
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)t;
	memcpy(h->signature, "DMAR", 4);
	h->length = 48 + sizeof(units);
	t[36] = 47;
	memcpy(t + 48, units, sizeof(units));
	fix_checksum(t);
	return h->length;
}

static int unit_for(const struct vtd_dmar *d, unsigned segment, uint8_t bus, uint8_t dev,
		    uint8_t fn)
{
	return vtd_dmar_unit_for(d, segment, (uint16_t)(bus << 8 | dev << 3 | fn), fake_bridge,
				 NULL);
}

static void dmar_scopes_pick_the_unit(struct ktest *t)
{
	static uint8_t tab[256];
	static struct vtd_dmar d;
	char err[160];
	build_two_unit_dmar(tab);
	ASSERT_TRUE(t, vtd_dmar_parse(tab, sizeof(tab), &d, err, sizeof(err)));
	ASSERT_EQ(t, d.nr_units, 3u);
	EXPECT_EQ(t, d.units[0].nr_scopes, 3u);
	EXPECT_EQ(t, d.units[0].scopes[2].hops, 2u);
	EXPECT_EQ(t, unit_for(&d, 0, 0, 2, 0), 0);    /* listed */
	EXPECT_EQ(t, unit_for(&d, 0, 0, 3, 0), 1);    /* not listed: the catch-all */
	EXPECT_EQ(t, unit_for(&d, 0, 0, 0x1c, 0), 0); /* the bridge itself */
	EXPECT_EQ(t, unit_for(&d, 0, 2, 0, 0), 0);    /* behind it: buses 2-3 */
	EXPECT_EQ(t, unit_for(&d, 0, 3, 5, 1), 0);
	EXPECT_EQ(t, unit_for(&d, 0, 4, 0, 0), 1);
	EXPECT_EQ(t, unit_for(&d, 0, 5, 0, 0), 0); /* the two-hop endpoint */
	EXPECT_EQ(t, unit_for(&d, 0, 5, 1, 0), 1);
	EXPECT_EQ(t, unit_for(&d, 1, 0, 2, 0), 2); /* segment 1 */
	EXPECT_EQ(t, unit_for(&d, 2, 0, 2, 0), -1);
	/* A scope unit 0 could not keep may name any unlisted device: no guess. */
	d.units[0].nr_dropped = 1;
	EXPECT_EQ(t, unit_for(&d, 0, 0, 3, 0), -1);
	EXPECT_EQ(t, unit_for(&d, 0, 0, 2, 0), 0);
}

/* The DMAR is read no further than its memory-map region (and at most 1 MiB). */
static void dmar_reads_stay_in_its_region(struct ktest *t)
{
	size_t avail = 0;
	const struct acpi_sdt_header *h = acpi_find_table_unchecked("DMAR", &avail);
	if (!h)
		KTEST_SKIP(t, "no DMAR (make test IOMMU=vtd or IOMMU=vtd-ss)");
	phys_addr_t pa = kva_to_pa(h);
	EXPECT_GE(t, avail, (size_t)h->length);
	EXPECT_LE(t, avail, (size_t)MiB(1));
	EXPECT_LE(t, pa + avail, arch_mm_layout.boot_mapped_limit);
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (pa >= r->base && pa - r->base < r->size)
			EXPECT_LE(t, pa + avail, r->base + r->size);
	}
}

static const struct ktest_case vtd_cases[] = {
    KTEST_CASE(dmar_parser_names_malformed_tables),
    KTEST_CASE(dmar_scopes_pick_the_unit),
    KTEST_CASE(dmar_reads_stay_in_its_region),
    KTEST_CASE(caps_check_decides_coherence),
    KTEST_CASE(shared_device_sees_cpu_data),
    KTEST_CASE(shared_unmap_makes_dma_fault),
    KTEST_CASE(shared_remap_is_not_stale),
    KTEST_CASE(second_stage_shadow_follows_the_mm),
    KTEST_CASE(queue_error_reported_and_recovered),
    KTEST_CASE(stream_has_one_owner),
    KTEST_CASE(tables_cleaned_for_a_non_snooping_unit),
    KTEST_END,
};
KTEST_SUITE(vtd_suite, "vtd", vtd_cases);
