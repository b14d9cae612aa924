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
 * writes. The DMAR parser is fed synthetic tables, malformed ones too;
 * an invalidation-queue error is injected and must be reported and
 * recovered from.
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
	struct mm *mm;
	if (vtd_first_stage()) {
		static struct iommu_sva bond;
		mm = bound_mm(t, io, 2, &bond);
		check_round_trip(t, mm);
		iommu_sva_unbind(&bond);
	} else {
		mm = mm_with_pages(t, 2);
		ASSERT_TRUE(t, mm != NULL);
		static struct iommu_shadow sh;
		ASSERT_EQ(t, iommu_shadow_create(&sh, io, edu_rid(), mm, VA(0), 2 * PAGE_SIZE), 0);
		ASSERT_EQ(t, iommu_shadow_fault_in(&sh, VA(0), 2 * PAGE_SIZE), 0);
		check_round_trip(t, mm);
		iommu_shadow_destroy(&sh);
	}
	vtd_iqe_info(&after);
	EXPECT_EQ(t, after.count, before.count + 1);
	mm_destroy(mm);
}

static const struct ktest_case vtd_cases[] = {
    KTEST_CASE(dmar_parser_names_malformed_tables),
    KTEST_CASE(shared_device_sees_cpu_data),
    KTEST_CASE(shared_unmap_makes_dma_fault),
    KTEST_CASE(shared_remap_is_not_stale),
    KTEST_CASE(second_stage_shadow_follows_the_mm),
    KTEST_CASE(queue_error_reported_and_recovered),
    KTEST_END,
};
KTEST_SUITE(vtd_suite, "vtd", vtd_cases);
