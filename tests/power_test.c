// SPDX-License-Identifier: BSD-2-Clause
/*
 * power suite: the ACPI pieces a real PC is turned off, reset and timed
 * with (kernel/acpi/fadt.c), fed synthetic FADT, HPET and AML bytes, well
 * formed and malformed, so that a bad table is named rather than guessed
 * from; and, where the firmware gave ACPI tables, the machine's own FADT
 * and DSDT (QEMU's q35 declares \_S5 as a package of zeros).
 */
#include "kernel/acpi/acpi.h"
#include "kernel/boot_info.h"
#include "lib/string.h"
#include "tests/ktest.h"

struct table_buf {
	uint8_t bytes[276]; /* an ACPI 6 FADT */
};

static const struct acpi_sdt_header *table(struct table_buf *b, const char sig[4], uint32_t len)
{
	memcpy(b->bytes, sig, 4);
	memcpy(b->bytes + 4, &len, 4);
	return (const struct acpi_sdt_header *)b->bytes;
}

static void put32(struct table_buf *b, unsigned off, uint32_t v)
{
	memcpy(b->bytes + off, &v, 4);
}

static void put_gas(struct table_buf *b, unsigned off, uint8_t space, uint64_t addr)
{
	b->bytes[off] = space;
	memcpy(b->bytes + off + 4, &addr, 8);
}

static void fadt_reads_legacy_and_extended_fields(struct ktest *t)
{
	struct table_buf b = {0};
	const struct acpi_sdt_header *h = table(&b, "FACP", ACPI_FADT_MIN_LENGTH);
	put32(&b, 40, 0x7ffe0000); /* DSDT */
	put32(&b, 64, 0x604);	   /* PM1a_CNT_BLK */
	put32(&b, 76, 0x608);	   /* PM_TMR_BLK */
	b.bytes[91] = 4;	   /* PM_TMR_LEN */
	put32(&b, 112, 1u << 8);   /* TMR_VAL_EXT */
	struct acpi_fadt_info f;
	char err[128];
	ASSERT_TRUE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	EXPECT_EQ(t, f.dsdt, 0x7ffe0000u);
	EXPECT_EQ(t, f.pm1a_cnt, 0x604u);
	EXPECT_EQ(t, f.pm1b_cnt, 0u);
	EXPECT_EQ(t, f.pm_tmr, 0x608u);
	EXPECT_TRUE(t, f.pm_tmr_32bit);
	EXPECT_FALSE(t, f.reset_supported); /* a 1.0 table has no reset register */

	/* ACPI 2.0+: the 64-bit fields win where set, and the reset register is read. */
	h = table(&b, "FACP", sizeof(b.bytes));
	put32(&b, 112, 1u << 10); /* RESET_REG_SUP, 24-bit timer */
	put_gas(&b, 116, ACPI_GAS_IO, 0xcf9);
	b.bytes[128] = 0x0f;
	uint64_t x_dsdt = 0x17ffe0000ull;
	memcpy(b.bytes + 140, &x_dsdt, 8);
	put_gas(&b, 172, ACPI_GAS_IO, 0xb004);
	ASSERT_TRUE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	EXPECT_EQ(t, f.dsdt, x_dsdt);
	EXPECT_EQ(t, f.pm1a_cnt, 0xb004u);
	EXPECT_EQ(t, f.pm_tmr, 0x608u); /* X_PM_TMR_BLK unset: the legacy field */
	EXPECT_FALSE(t, f.pm_tmr_32bit);
	EXPECT_TRUE(t, f.reset_supported);
	EXPECT_EQ(t, f.reset_reg.address, 0xcf9u);
	EXPECT_EQ(t, f.reset_value, 0x0f);
}

/* IAPC_BOOT_ARCH (offset 109) is read from revision 3 (ACPI 2.0) on; before, it is reserved. */
static void fadt_8042_flag_only_from_revision_3(struct ktest *t)
{
	struct table_buf b = {0};
	const struct acpi_sdt_header *h = table(&b, "FACP", sizeof(b.bytes));
	struct acpi_fadt_info f;
	char err[128];
	b.bytes[8] = 1; /* revision */
	b.bytes[109] = 0xff;
	ASSERT_TRUE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	EXPECT_EQ(t, f.i8042, ACPI_8042_UNSTATED);
	b.bytes[8] = 3;
	b.bytes[109] = 1u << 1; /* 8042 */
	ASSERT_TRUE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	EXPECT_EQ(t, f.i8042, ACPI_8042_PRESENT);
	b.bytes[109] = 0xfd; /* every other flag (LEGACY_DEVICES, VGA not present, ...) */
	b.bytes[110] = 0xff;
	ASSERT_TRUE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	EXPECT_EQ(t, f.i8042, ACPI_8042_ABSENT);
}

static void expect_fadt_error(struct ktest *t, const struct acpi_sdt_header *h, const char *what)
{
	struct acpi_fadt_info f;
	char err[128] = "";
	EXPECT_FALSE(t, acpi_fadt_parse(h, &f, err, sizeof(err)));
	if (!strstr(err, what))
		ktest_fail_msg(t, __FILE__, __LINE__, "error \"%s\" does not name %s", err, what);
}

static void fadt_rejects_malformed(struct ktest *t)
{
	struct table_buf b = {0};
	expect_fadt_error(t, table(&b, "FACP", 100), "shorter than ACPI 1.0");
	expect_fadt_error(t, table(&b, "FACX", sizeof(b.bytes)), "signature");
	const struct acpi_sdt_header *h = table(&b, "FACP", sizeof(b.bytes));
	put32(&b, 76, 0x608);
	b.bytes[91] = 3;
	expect_fadt_error(t, h, "PM_TMR_LEN");
	b.bytes[91] = 4;
	put_gas(&b, 172, ACPI_GAS_MEMORY, 0xfee00000);
	expect_fadt_error(t, h, "memory space");
}

static void hpet_table_parsed_and_checked(struct ktest *t)
{
	struct table_buf b = {0};
	const struct acpi_sdt_header *h = table(&b, "HPET", 56);
	put_gas(&b, 40, ACPI_GAS_MEMORY, 0xfed00000);
	phys_addr_t base = 0;
	char err[128] = "";
	ASSERT_TRUE(t, acpi_hpet_parse(h, &base, err, sizeof(err)));
	EXPECT_EQ(t, base, 0xfed00000u);
	put_gas(&b, 40, ACPI_GAS_MEMORY, 0xfed00010);
	EXPECT_FALSE(t, acpi_hpet_parse(h, &base, err, sizeof(err)));
	EXPECT_TRUE(t, strstr(err, "1 KiB-aligned") != NULL);
	put_gas(&b, 40, ACPI_GAS_IO, 0xfed00000);
	EXPECT_FALSE(t, acpi_hpet_parse(h, &base, err, sizeof(err)));
	EXPECT_FALSE(t, acpi_hpet_parse(table(&b, "HPET", 40), &base, err, sizeof(err)));
}

/* Scans `aml` (n bytes) and returns the types packed as a << 8 | b, or -1 with err filled. */
static int s5_of(const uint8_t *aml, size_t n, char *err, size_t err_size)
{
	uint8_t a = 0xee, b = 0xee;
	if (!acpi_aml_find_s5(aml, n, &a, &b, err, err_size))
		return -1;
	return a << 8 | b;
}

static void s5_package_found_in_aml(struct ktest *t)
{
	char err[128];
	/* QEMU's: Name (_S5, Package (4) {Zero, Zero, Zero, Zero}), after other bytes. */
	static const uint8_t qemu[] = {0x10, 0x41, 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04,
				       0x00, 0x00, 0x00, 0x00};
	EXPECT_EQ(t, s5_of(qemu, sizeof(qemu), err, sizeof(err)), 0);
	/* A PC's: Name (\_S5, Package () {0x07, 0x07}) with byte prefixes. */
	static const uint8_t pc[] = {0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x02,
				     0x0a, 0x07, 0x0a, 0x07};
	EXPECT_EQ(t, s5_of(pc, sizeof(pc), err, sizeof(err)), 0x0707);
	/* A reference to _S5_ before the declaration is skipped; one element: b = a. */
	static const uint8_t ref[] = {0x70, '_', 'S', '5', '_', 0x60, 0x08, '_', 'S', '5', '_',
				      0x12, 0x04, 0x01, 0x0a, 0x05};
	EXPECT_EQ(t, s5_of(ref, sizeof(ref), err, sizeof(err)), 0x0505);
	/* A two-byte PkgLength. */
	static const uint8_t longpkg[] = {0x08, '_', 'S', '5', '_', 0x12, 0x40, 0x00, 0x02,
					  0x01, 0x0a, 0x03};
	EXPECT_EQ(t, s5_of(longpkg, sizeof(longpkg), err, sizeof(err)), 0x0103);
}

static void s5_malformed_is_named(struct ktest *t)
{
	char err[128] = "";
	static const uint8_t none[] = {0x08, '_', 'S', '4', '_', 0x12, 0x04, 0x01, 0x00};
	EXPECT_EQ(t, s5_of(none, sizeof(none), err, sizeof(err)), -1);
	EXPECT_TRUE(t, strstr(err, "no _S5_") != NULL);
	static const uint8_t method[] = {0x08, '_', 'S', '5', '_', 0x14, 0x05};
	EXPECT_EQ(t, s5_of(method, sizeof(method), err, sizeof(err)), -1);
	EXPECT_TRUE(t, strstr(err, "not a Package") != NULL);
	static const uint8_t cut[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x0a};
	EXPECT_EQ(t, s5_of(cut, sizeof(cut), err, sizeof(err)), -1);
	EXPECT_TRUE(t, strstr(err, "SLP_TYPa") != NULL);
	static const uint8_t big[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x09,
				      0x00};
	EXPECT_EQ(t, s5_of(big, sizeof(big), err, sizeof(err)), -1);
	static const uint8_t empty[] = {0x08, '_', 'S', '5', '_', 0x12, 0x02, 0x00};
	EXPECT_EQ(t, s5_of(empty, sizeof(empty), err, sizeof(err)), -1);
	EXPECT_TRUE(t, strstr(err, "no elements") != NULL);
}

static void machine_tables_give_power_methods(struct ktest *t)
{
	if (!boot_info.acpi_rsdp)
		KTEST_SKIP(t, "firmware gave no ACPI tables (device-tree platform)");
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
	ASSERT_TRUE(t, fadt != NULL);
	/* FADT Flags (offset 112), HW_REDUCED_ACPI (bit 20): no PM1 blocks, no PM timer (Arm) */
	uint32_t flags = 0;
	if (fadt->length >= 116)
		memcpy(&flags, (const uint8_t *)fadt + 112, sizeof(flags));
	if (flags & (1u << 20))
		KTEST_SKIP(t, "hardware-reduced ACPI: no PM1 control block or PM timer");
	struct acpi_fadt_info f;
	char err[128] = "";
	ASSERT_TRUE(t, acpi_fadt_parse(fadt, &f, err, sizeof(err)));
	EXPECT_NE(t, f.pm1a_cnt, 0u);
	EXPECT_NE(t, f.pm_tmr, 0u);
	const struct acpi_sdt_header *dsdt = acpi_table_at(f.dsdt);
	ASSERT_TRUE(t, dsdt != NULL);
	EXPECT_EQ(t, memcmp(dsdt->signature, "DSDT", 4), 0);
	uint8_t a, b;
	EXPECT_TRUE(t, acpi_aml_find_s5((const uint8_t *)(dsdt + 1), dsdt->length - sizeof(*dsdt),
					&a, &b, err, sizeof(err)));
}

static const struct ktest_case power_cases[] = {
	KTEST_CASE(fadt_reads_legacy_and_extended_fields),
	KTEST_CASE(fadt_rejects_malformed),
	KTEST_CASE(fadt_8042_flag_only_from_revision_3),
	KTEST_CASE(hpet_table_parsed_and_checked),
	KTEST_CASE(s5_package_found_in_aml),
	KTEST_CASE(s5_malformed_is_named),
	KTEST_CASE(machine_tables_give_power_methods),
	KTEST_END,
};
KTEST_SUITE(power_suite, "power", power_cases);
