// SPDX-License-Identifier: BSD-2-Clause
/*
 * acpi_arm suite: the Arm ACPI parsers (MADT GIC entries, SPCR, GTDT, the
 * FADT's ARM_BOOT_ARCH, IORT) fed synthetic tables, well formed and
 * malformed, so that every rejection names the table and field instead of
 * reading out of bounds. Pure parsers: the suite runs on both arches.
 * tests/aarch64/acpi_boot_test.c checks a real ACPI-only boot.
 */
#include "kernel/acpi/acpi_arm.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* A synthetic table: a header with `sig`, then bytes appended little-endian. */
struct table {
	uint8_t b[512];
	uint32_t len;
};

static const struct acpi_sdt_header *table_begin(struct table *t, const char *sig, uint32_t body)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->b, sig, 4);
	t->len = sizeof(struct acpi_sdt_header) + body;
	memcpy(t->b + 4, &t->len, 4);
	return (const struct acpi_sdt_header *)t->b;
}

static void put(struct table *t, uint32_t off, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		t->b[off + i] = (uint8_t)(v >> (8 * i));
}

/* Appends an entry of `len` bytes of type `type`; returns its offset. */
static uint32_t entry(struct table *t, uint8_t type, uint8_t len)
{
	uint32_t off = t->len;
	t->b[off] = type;
	t->b[off + 1] = len;
	t->len += len;
	put(t, 4, t->len, 4);
	return off;
}

static void madt_gicc(struct table *t, uint64_t mpidr, uint64_t gicc, uint32_t flags)
{
	uint32_t e = entry(t, 0x0b, 80);
	put(t, e + 12, flags, 4);
	put(t, e + 32, gicc, 8);
	put(t, e + 68, mpidr, 8);
}

static void madt_gicd(struct table *t, uint64_t base, uint8_t version)
{
	uint32_t e = entry(t, 0x0c, 24);
	put(t, e + 8, base, 8);
	t->b[e + 20] = version;
}

static const struct acpi_sdt_header *madt_v3(struct table *t)
{
	const struct acpi_sdt_header *h = table_begin(t, "APIC", 8);
	madt_gicd(t, 0x08000000, 3);
	madt_gicc(t, 0, 0, 1);
	madt_gicc(t, 1, 0, 1);
	madt_gicc(t, 0x100, 0, 0); /* disabled */
	uint32_t e = entry(t, 0x0e, 16);
	put(t, e + 4, 0x080A0000, 8);
	put(t, e + 12, 0xF60000, 4);
	e = entry(t, 0x0f, 20);
	put(t, e + 4, 7, 4);
	put(t, e + 8, 0x08080000, 8);
	return h;
}

static void madt_gicv3_with_its(struct ktest *t)
{
	static struct table tb;
	static struct acpi_madt_gic g;
	char err[160] = "";
	ASSERT_TRUE(t, acpi_madt_gic_walk(madt_v3(&tb), &g, err, sizeof(err)));
	EXPECT_EQ(t, g.nr_cpus, 2u);
	EXPECT_EQ(t, g.nr_disabled, 1u);
	EXPECT_EQ(t, g.mpidrs[1], 1u);
	EXPECT_EQ(t, g.gic_version, 3u);
	EXPECT_EQ(t, g.gicd_base, 0x08000000u);
	EXPECT_EQ(t, g.gicr_base, 0x080A0000u);
	EXPECT_EQ(t, g.gicr_length, 0xF60000u);
	ASSERT_EQ(t, g.nr_its, 1u);
	EXPECT_EQ(t, g.its[0].id, 7u);
	EXPECT_EQ(t, g.its[0].base, 0x08080000u);
}

static void madt_gicv2_with_msi_frame(struct ktest *t)
{
	static struct table tb;
	static struct acpi_madt_gic g;
	char err[160] = "";
	const struct acpi_sdt_header *h = table_begin(&tb, "APIC", 8);
	madt_gicd(&tb, 0x08000000, 2);
	madt_gicc(&tb, 0, 0x08010000, 1);
	madt_gicc(&tb, 1, 0x08010000, 1);
	uint32_t e = entry(&tb, 0x0d, 24);
	put(&tb, e + 8, 0x08020000, 8);
	ASSERT_TRUE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_EQ(t, g.gic_version, 2u);
	EXPECT_EQ(t, g.gicc_base, 0x08010000u);
	ASSERT_EQ(t, g.nr_msi, 1u);
	EXPECT_EQ(t, g.msi[0].base, 0x08020000u);
	EXPECT_FALSE(t, g.msi[0].spi_override);
}

/* Each malformed MADT is refused with a message naming what is wrong. */
static void madt_gic_rejects_malformed(struct ktest *t)
{
	static struct table tb;
	static struct acpi_madt_gic g;
	char err[160];
	const struct acpi_sdt_header *h;

	h = madt_v3(&tb);
	tb.b[sizeof(struct acpi_sdt_header) + 8 + 24 + 1] = 60; /* first GICC: 60 < 76 bytes */
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "type 0xb") && strstr(err, "minimum"));

	h = madt_v3(&tb);
	madt_gicc(&tb, 1, 0, 1); /* MPIDR 1 again */
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "MPIDR listed twice") != NULL);

	h = madt_v3(&tb);
	madt_gicc(&tb, 1ull << 60, 0, 1); /* outside the affinity fields */
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "affinity") != NULL);

	h = madt_v3(&tb);
	madt_gicd(&tb, 0x09000000, 3); /* a second distributor */
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "second distributor") != NULL);

	h = table_begin(&tb, "APIC", 8); /* GICv3 without a GICR range */
	madt_gicd(&tb, 0x08000000, 3);
	madt_gicc(&tb, 0, 0, 1);
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "redistributor") != NULL);

	h = table_begin(&tb, "APIC", 8); /* GICv2 interfaces that differ */
	madt_gicd(&tb, 0x08000000, 2);
	madt_gicc(&tb, 0, 0x08010000, 1);
	madt_gicc(&tb, 1, 0x08030000, 1);
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "differs") != NULL);

	h = table_begin(&tb, "APIC", 8); /* no distributor at all */
	madt_gicc(&tb, 0, 0x08010000, 1);
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "no GIC distributor") != NULL);

	h = madt_v3(&tb);
	tb.b[tb.len - 20 + 1] = 40; /* the ITS entry claims to run past the table */
	EXPECT_FALSE(t, acpi_madt_gic_walk(h, &g, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "runs past") != NULL);
}

static void spcr_gtdt_fadt(struct ktest *t)
{
	static struct table tb;
	char err[160];
	phys_addr_t uart = 0;
	uint8_t iface;
	const struct acpi_sdt_header *h = table_begin(&tb, "SPCR", 44);
	tb.b[36] = ACPI_SPCR_PL011;
	put(&tb, 44, 0x09000000, 8);
	EXPECT_TRUE(t, acpi_spcr_parse(h, &uart, &iface, err, sizeof(err)));
	EXPECT_EQ(t, uart, 0x09000000u);
	tb.b[40] = ACPI_GAS_IO; /* a port-I/O UART is not something an Arm machine has */
	EXPECT_FALSE(t, acpi_spcr_parse(h, &uart, &iface, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "memory address") != NULL);
	tb.b[40] = ACPI_GAS_MEMORY;
	tb.b[36] = 0x12; /* not a PL011 */
	EXPECT_FALSE(t, acpi_spcr_parse(h, &uart, &iface, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "interface type") != NULL);

	unsigned phys = 0, virt = 0;
	h = table_begin(&tb, "GTDT", 60);
	put(&tb, 56, 30, 4);
	put(&tb, 64, 27, 4);
	EXPECT_TRUE(t, acpi_gtdt_parse(h, &phys, &virt, err, sizeof(err)));
	EXPECT_EQ(t, phys, 14u);
	EXPECT_EQ(t, virt, 11u);
	put(&tb, 64, 40, 4); /* an SPI */
	EXPECT_FALSE(t, acpi_gtdt_parse(h, &phys, &virt, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "virtual timer GSIV 40") != NULL);
	put(&tb, 4, 60, 4); /* too short for the virtual timer */
	EXPECT_FALSE(t, acpi_gtdt_parse(h, &phys, &virt, err, sizeof(err)));

	uint16_t flags = 0;
	h = table_begin(&tb, "FACP", 276 - 36);
	put(&tb, 129, ACPI_ARM_PSCI_COMPLIANT | ACPI_ARM_PSCI_USE_HVC, 2);
	EXPECT_TRUE(t, acpi_fadt_arm_boot(h, &flags, err, sizeof(err)));
	EXPECT_EQ(t, flags, 3u);
	put(&tb, 4, 116, 4); /* an ACPI 1.0 FADT has no ARM_BOOT_ARCH */
	EXPECT_FALSE(t, acpi_fadt_arm_boot(h, &flags, err, sizeof(err)));
}

/* The IORT QEMU's virt builds: ITS group, SMMUv3 -> ITS, root complex -> SMMUv3. */
struct iort_offsets {
	uint32_t its, smmu, rc;
};

static uint32_t iort_node(struct table *t, uint8_t type, uint16_t len, uint32_t nr_maps,
			  uint32_t map_off)
{
	uint32_t off = t->len;
	t->b[off] = type;
	put(t, off + 1, len, 2);
	put(t, off + 8, nr_maps, 4);
	put(t, off + 12, map_off, 4);
	t->len += len;
	put(t, 4, t->len, 4);
	put(t, 36, t->b[36] + 1u, 4); /* node count */
	return off;
}

static void iort_map(struct table *t, uint32_t at, uint32_t in, uint32_t count_minus_1,
		     uint32_t out, uint32_t ref)
{
	put(t, at, in, 4);
	put(t, at + 4, count_minus_1, 4);
	put(t, at + 8, out, 4);
	put(t, at + 12, ref, 4);
}

static const struct acpi_sdt_header *iort_qemu(struct table *t, struct iort_offsets *o,
					       bool smmu)
{
	const struct acpi_sdt_header *h = table_begin(t, "IORT", 12);
	put(t, 40, 48, 4); /* nodes start right after the 12 bytes of IORT fields */
	o->its = iort_node(t, 0, 24, 0, 0);
	put(t, o->its + 16, 1, 4); /* one ITS, id 0 */
	if (smmu) {
		o->smmu = iort_node(t, 4, 68 + 20, 1, 68);
		put(t, o->smmu + 16, 0x09050000, 8);
		put(t, o->smmu + 44, 106, 4);
		put(t, o->smmu + 52, 108, 4);
		iort_map(t, o->smmu + 68, 0, 0xFFFF, 0, o->its);
	}
	o->rc = iort_node(t, 2, 36 + 20, 1, 36);
	iort_map(t, o->rc + 36, 0, 0xFFFF, 0, smmu ? o->smmu : o->its);
	return h;
}

static void iort_smmu_and_its(struct ktest *t)
{
	static struct table tb;
	static struct acpi_iort r;
	struct iort_offsets o;
	char err[160] = "";
	ASSERT_TRUE(t, acpi_iort_parse(iort_qemu(&tb, &o, true), 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, r.has_smmu);
	EXPECT_EQ(t, r.smmu_base, 0x09050000u);
	EXPECT_EQ(t, r.smmu_event_gsiv, 106u);
	EXPECT_EQ(t, r.smmu_gerr_gsiv, 108u);
	ASSERT_EQ(t, r.nr_rid_to_sid, 1u);
	EXPECT_EQ(t, r.rid_to_sid[0].count, 0x10000u);
	EXPECT_TRUE(t, r.has_its);
	ASSERT_EQ(t, r.nr_rid_to_devid, 1u);
	EXPECT_EQ(t, r.rid_to_devid[0].count, 0x10000u);

	/* An offset stream-id window composes through both hops. */
	put(&tb, o.rc + 36, 0x100, 4);	      /* rids 0x100.. */
	put(&tb, o.rc + 36 + 4, 0xFF, 4);     /* 256 of them */
	put(&tb, o.rc + 36 + 8, 0x2000, 4);   /* -> sids 0x2000.. */
	put(&tb, o.smmu + 68, 0x2080, 4);     /* sids 0x2080.. */
	put(&tb, o.smmu + 68 + 4, 0xFFF, 4);  /* 4096 of them */
	put(&tb, o.smmu + 68 + 8, 0x50000, 4); /* -> device ids 0x50000.. */
	ASSERT_TRUE(t, acpi_iort_parse((const struct acpi_sdt_header *)tb.b, 0, &r, err,
				       sizeof(err)));
	EXPECT_EQ(t, r.rid_to_sid[0].rid_base, 0x100u);
	EXPECT_EQ(t, r.rid_to_sid[0].out_base, 0x2000u);
	ASSERT_EQ(t, r.nr_rid_to_devid, 1u);
	EXPECT_EQ(t, r.rid_to_devid[0].rid_base, 0x180u); /* sid 0x2080 */
	EXPECT_EQ(t, r.rid_to_devid[0].count, 0x80u);
	EXPECT_EQ(t, r.rid_to_devid[0].out_base, 0x50000u);
}

static void iort_its_only(struct ktest *t)
{
	static struct table tb;
	static struct acpi_iort r;
	struct iort_offsets o;
	char err[160] = "";
	ASSERT_TRUE(t, acpi_iort_parse(iort_qemu(&tb, &o, false), 0, &r, err, sizeof(err)));
	EXPECT_FALSE(t, r.has_smmu);
	EXPECT_TRUE(t, r.has_its);
	EXPECT_EQ(t, r.nr_rid_to_devid, 1u);
	EXPECT_FALSE(t, acpi_iort_parse((const struct acpi_sdt_header *)tb.b, 1, &r, err,
					sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "no root complex node for PCI segment 1") != NULL);
}

static void iort_rejects_malformed(struct ktest *t)
{
	static struct table tb;
	static struct acpi_iort r;
	struct iort_offsets o;
	char err[160];
	const struct acpi_sdt_header *h;

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.rc + 36 + 12, o.smmu + 4, 4); /* output reference into the middle of a node */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "output reference is not a node") != NULL);

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.rc + 1, 400, 2); /* the root complex runs past the table */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "runs past") != NULL);

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.rc + 36 + 8, 0xFFFFFF00u, 4); /* output ids wrap */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "wraps") != NULL);

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.rc + 8, 3, 4); /* three mappings in room for one */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "run past the node") != NULL);

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.smmu + 16, 0x09050100, 8); /* SMMU registers not 64 KiB aligned */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "64 KiB") != NULL);

	h = iort_qemu(&tb, &o, true);
	put(&tb, o.rc + 36 + 12, o.rc, 4); /* the root complex maps to itself */
	EXPECT_FALSE(t, acpi_iort_parse(h, 0, &r, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "neither an SMMUv3") != NULL);
}

static const struct ktest_case acpi_arm_cases[] = {
	KTEST_CASE(madt_gicv3_with_its),
	KTEST_CASE(madt_gicv2_with_msi_frame),
	KTEST_CASE(madt_gic_rejects_malformed),
	KTEST_CASE(spcr_gtdt_fadt),
	KTEST_CASE(iort_smmu_and_its),
	KTEST_CASE(iort_its_only),
	KTEST_CASE(iort_rejects_malformed),
	KTEST_END,
};
KTEST_SUITE(acpi_arm_suite, "acpi_arm", acpi_arm_cases);
