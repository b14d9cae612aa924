// SPDX-License-Identifier: BSD-2-Clause
/*
 * acpi suite: the firmware's tables as parsed at boot (x86-64; skipped
 * where the firmware gave no RSDP), and the MADT walker fed synthetic
 * tables, well formed and malformed (local APIC and local x2APIC CPU
 * entries, alone and mixed), to show that a bad table is reported with the
 * entry and field named instead of being read out of bounds.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_arm.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "tests/ktest.h"

static void madt_cpus_match_smp(struct ktest *t)
{
	uint64_t want;
	if (!boot_info.acpi_rsdp)
		KTEST_SKIP(t, "firmware gave no ACPI tables (device-tree platform)");
	if (!cmdline_get_u64("test.cpus", &want))
		KTEST_SKIP(t, "no test.cpus= on the command line");
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	ASSERT_TRUE(t, madt != NULL);
	struct acpi_madt_result m;
	char err[128];
	ASSERT_TRUE(t, acpi_madt_walk(madt, &m, err, sizeof(err)));
	static struct acpi_madt_gic g;
	if (m.nr_cpus == 0 && acpi_madt_gic_walk(madt, &g, err, sizeof(err)) && g.nr_cpus)
		KTEST_SKIP(t, "a GIC machine: its CPUs are GICC entries (the acpi_boot suite's)");
	EXPECT_EQ(t, (uint64_t)m.nr_cpus, want);
	EXPECT_GE(t, m.nr_ioapics, 1u);
	EXPECT_NE(t, m.lapic_address, 0u);
}

static void tables_checksum_to_zero(struct ktest *t)
{
	if (!boot_info.acpi_rsdp)
		KTEST_SKIP(t, "firmware gave no ACPI tables (device-tree platform)");
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	ASSERT_TRUE(t, madt != NULL);
	EXPECT_EQ(t, acpi_checksum(madt, madt->length), 0);
	/* One flipped byte must show. */
	uint8_t copy[256];
	size_t n = MIN((size_t)madt->length, sizeof(copy));
	memcpy(copy, madt, n);
	if (n == madt->length) {
		copy[n - 1] ^= 0x40;
		EXPECT_NE(t, acpi_checksum(copy, n), 0);
	}
}

/* A synthetic MADT builder: header, fixed fields, then entries. */
struct madt_buf {
	uint8_t bytes[1280]; /* room for 67 x2APIC entries */
	uint32_t len;
};

static void madt_begin(struct madt_buf *b)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->bytes, "APIC", 4);
	b->len = sizeof(struct acpi_sdt_header);
	uint32_t lapic = 0xFEE00000;
	memcpy(b->bytes + b->len, &lapic, 4);
	b->len += 8;
}

static void madt_entry(struct madt_buf *b, const uint8_t *e, uint8_t len)
{
	if (b->len + len > sizeof(b->bytes))
		panic("madt_entry: synthetic MADT larger than its %u-byte buffer",
		      (unsigned)sizeof(b->bytes));
	memcpy(b->bytes + b->len, e, len);
	b->len += len;
}

static void madt_finish(struct madt_buf *b)
{
	memcpy(b->bytes + 4, &b->len, 4);
}

static void madt_lapic(struct madt_buf *b, uint8_t apic_id, uint32_t flags)
{
	uint8_t e[8] = {0, 8, apic_id, apic_id};
	memcpy(e + 4, &flags, 4);
	madt_entry(b, e, 8);
}

static void madt_x2apic(struct madt_buf *b, uint32_t id, uint32_t flags)
{
	uint8_t e[16] = {9, 16};
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	madt_entry(b, e, 16);
}

static void madt_synthetic_cpus(struct ktest *t)
{
	struct madt_buf b;
	madt_begin(&b);
	madt_lapic(&b, 0, 1); /* enabled */
	madt_lapic(&b, 1, 0); /* disabled: not started */
	madt_lapic(&b, 2, 2); /* online-capable: counted */
	madt_x2apic(&b, 0, 1); /* same CPU as APIC id 0: listed once */
	madt_x2apic(&b, 300, 1); /* an id only x2APIC can express */
	uint8_t ioapic[12] = {1, 12, 7, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0};
	madt_entry(&b, ioapic, 12);
	madt_finish(&b);
	struct acpi_madt_result m;
	char err[128];
	ASSERT_TRUE(t, acpi_madt_walk((const struct acpi_sdt_header *)b.bytes, &m, err,
				      sizeof(err)));
	ASSERT_EQ(t, m.nr_cpus, 3u);
	EXPECT_EQ(t, m.apic_ids[0], 0u);
	EXPECT_EQ(t, m.apic_ids[1], 2u);
	EXPECT_EQ(t, m.apic_ids[2], 300u);
	EXPECT_EQ(t, m.listed_by[0], ACPI_MADT_BY_LAPIC | ACPI_MADT_BY_X2APIC);
	EXPECT_EQ(t, m.listed_by[2], ACPI_MADT_BY_X2APIC);
	EXPECT_EQ(t, m.nr_disabled, 1u);
	EXPECT_EQ(t, m.nr_lapic_entries, 3u);
	EXPECT_EQ(t, m.nr_x2apic_entries, 2u);
	ASSERT_EQ(t, m.nr_ioapics, 1u);
	EXPECT_EQ(t, m.ioapics[0].id, 7u);
	EXPECT_EQ(t, m.ioapics[0].address, 0xFEC00000u);
}

/*
 * Processor Local x2APIC entries (type 9) alone, as firmware gives them
 * for ids past 254 (QEMU with many CPUs, x2APIC-only machines): every CPU
 * comes from them, disabled ones are skipped, ids are 32 bits, and a type
 * 0 entry listed after its type 9 twin adds nothing.
 */
static void madt_x2apic_only(struct ktest *t)
{
	struct madt_buf b;
	madt_begin(&b);
	madt_x2apic(&b, 0, 1);
	madt_x2apic(&b, 255, 1);	/* the first id an 8-bit entry cannot hold */
	madt_x2apic(&b, 256, 0);	/* disabled: skipped */
	madt_x2apic(&b, 0x12345678, 2); /* online-capable */
	madt_lapic(&b, 0, 1);		/* the twin of the first entry: same CPU */
	madt_finish(&b);
	struct acpi_madt_result m;
	char err[128];
	ASSERT_TRUE(t,
		    acpi_madt_walk((const struct acpi_sdt_header *)b.bytes, &m, err, sizeof(err)));
	ASSERT_EQ(t, m.nr_cpus, 3u);
	EXPECT_EQ(t, m.apic_ids[0], 0u);
	EXPECT_EQ(t, m.apic_ids[1], 255u);
	EXPECT_EQ(t, m.apic_ids[2], 0x12345678u);
	EXPECT_EQ(t, m.listed_by[0], ACPI_MADT_BY_LAPIC | ACPI_MADT_BY_X2APIC);
	EXPECT_EQ(t, m.listed_by[1], ACPI_MADT_BY_X2APIC);
	EXPECT_EQ(t, m.nr_disabled, 1u);
	EXPECT_EQ(t, m.nr_x2apic_entries, 4u);
	EXPECT_EQ(t, m.nr_lapic_entries, 1u);
	EXPECT_EQ(t, m.nr_cpus_unstored, 0u);
}

/* More enabled CPUs than the result stores: the rest are counted, not lost. */
static void madt_counts_cpus_past_the_array(struct ktest *t)
{
	struct madt_buf b;
	madt_begin(&b);
	enum { N = ARRAY_SIZE(((struct acpi_madt_result *)0)->apic_ids) + 3 };
	for (uint32_t id = 0; id < N; id++)
		madt_x2apic(&b, 1000 + id, 1);
	madt_finish(&b);
	static struct acpi_madt_result m;
	char err[128];
	ASSERT_TRUE(t,
		    acpi_madt_walk((const struct acpi_sdt_header *)b.bytes, &m, err, sizeof(err)));
	EXPECT_EQ(t, m.nr_cpus, (unsigned)ARRAY_SIZE(m.apic_ids));
	EXPECT_EQ(t, m.nr_cpus_unstored, 3u);
}

/* Expects the walk to fail with a message containing `needle`. */
static void expect_madt_error(struct ktest *t, struct madt_buf *b, const char *needle)
{
	struct acpi_madt_result m;
	char err[160] = "";
	bool ok = acpi_madt_walk((const struct acpi_sdt_header *)b->bytes, &m, err, sizeof(err));
	EXPECT_FALSE(t, ok);
	size_t nl = strlen(needle);
	bool found = false;
	for (const char *p = err; *p && !found; p++)
		found = strncmp(p, needle, nl) == 0;
	if (!found)
		ktest_fail_msg(t, __FILE__, __LINE__, "error \"%s\" does not mention \"%s\"", err,
			       needle);
}

static void madt_rejects_malformed(struct ktest *t)
{
	struct madt_buf b;

	madt_begin(&b); /* an entry claiming more bytes than the table has */
	madt_lapic(&b, 0, 1);
	b.bytes[b.len - 7] = 40;
	madt_finish(&b);
	expect_madt_error(t, &b, "length 40 invalid");

	madt_begin(&b); /* a zero-length entry would loop forever */
	madt_lapic(&b, 0, 1);
	b.bytes[b.len - 7] = 0;
	madt_finish(&b);
	expect_madt_error(t, &b, "length 0 invalid");

	madt_begin(&b); /* an x2APIC entry shorter than its fields */
	uint8_t short_x2[8] = {9, 8};
	madt_entry(&b, short_x2, 8);
	madt_finish(&b);
	expect_madt_error(t, &b, "length 8 < 16");

	madt_begin(&b); /* a lone byte after the last entry */
	madt_lapic(&b, 0, 1);
	b.len += 1;
	madt_finish(&b);
	expect_madt_error(t, &b, "runs past length");

	madt_begin(&b); /* shorter than the fixed fields */
	b.len = sizeof(struct acpi_sdt_header) + 4;
	madt_finish(&b);
	expect_madt_error(t, &b, "too short");

	madt_begin(&b); /* one CPU twice in the same form */
	madt_x2apic(&b, 300, 1);
	madt_x2apic(&b, 300, 1);
	madt_finish(&b);
	expect_madt_error(t, &b, "entry type 9 at offset 60: APIC id 0x12c listed twice");

	madt_begin(&b);
	madt_lapic(&b, 4, 1);
	madt_x2apic(&b, 4, 1); /* the same CPU in both forms is fine ... */
	madt_lapic(&b, 4, 1);  /* ... but not a second local APIC entry for it */
	madt_finish(&b);
	expect_madt_error(t, &b, "entry type 0 at offset 68: APIC id 0x4 listed twice");

	madt_begin(&b); /* an enabled CPU cannot have the broadcast id */
	madt_x2apic(&b, 0xFFFFFFFF, 1);
	madt_finish(&b);
	expect_madt_error(t, &b, "entry type 9 at offset 44: enabled CPU with the broadcast");
	madt_begin(&b);
	madt_lapic(&b, 0xFF, 1);
	madt_finish(&b);
	expect_madt_error(t, &b, "entry type 0 at offset 44: enabled CPU with the broadcast");
	madt_begin(&b); /* a disabled placeholder with it is fine */
	madt_lapic(&b, 0, 1);
	madt_lapic(&b, 0xFF, 0);
	madt_x2apic(&b, 0xFFFFFFFF, 0);
	madt_finish(&b);
	struct acpi_madt_result m;
	char err[160];
	EXPECT_TRUE(t,
		    acpi_madt_walk((const struct acpi_sdt_header *)b.bytes, &m, err, sizeof(err)));
	EXPECT_EQ(t, m.nr_cpus, 1u);
	EXPECT_EQ(t, m.nr_disabled, 2u);

	madt_begin(&b);
	memcpy(b.bytes, "APIX", 4);
	madt_finish(&b);
	expect_madt_error(t, &b, "signature");
}

static const struct ktest_case acpi_cases[] = {
	KTEST_CASE(madt_cpus_match_smp),
	KTEST_CASE(tables_checksum_to_zero),
	KTEST_CASE(madt_synthetic_cpus),
	KTEST_CASE(madt_x2apic_only),
	KTEST_CASE(madt_counts_cpus_past_the_array),
	KTEST_CASE(madt_rejects_malformed),
	KTEST_END,
};
KTEST_SUITE(acpi_suite, "acpi", acpi_cases);
