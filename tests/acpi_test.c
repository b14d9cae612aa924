// SPDX-License-Identifier: BSD-2-Clause
/*
 * acpi suite: the firmware's tables as parsed at boot (x86-64; skipped
 * where the firmware gave no RSDP), and the MADT walker fed synthetic
 * tables, well formed and malformed, to show that a bad table is reported
 * with the entry and field named instead of being read out of bounds.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
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
	uint8_t bytes[256];
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
	EXPECT_EQ(t, m.nr_disabled, 1u);
	EXPECT_EQ(t, m.nr_lapic_entries, 3u);
	EXPECT_EQ(t, m.nr_x2apic_entries, 2u);
	ASSERT_EQ(t, m.nr_ioapics, 1u);
	EXPECT_EQ(t, m.ioapics[0].id, 7u);
	EXPECT_EQ(t, m.ioapics[0].address, 0xFEC00000u);
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

	madt_begin(&b);
	memcpy(b.bytes, "APIX", 4);
	madt_finish(&b);
	expect_madt_error(t, &b, "signature");
}

static const struct ktest_case acpi_cases[] = {
	KTEST_CASE(madt_cpus_match_smp),
	KTEST_CASE(tables_checksum_to_zero),
	KTEST_CASE(madt_synthetic_cpus),
	KTEST_CASE(madt_rejects_malformed),
	KTEST_END,
};
KTEST_SUITE(acpi_suite, "acpi", acpi_cases);
