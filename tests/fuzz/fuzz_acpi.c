// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `acpi`: the x86-64 boot's ACPI walk as the kernel runs it:
 * acpi_init() (RSDP, XSDT or RSDT, every table's length and checksum, the
 * MADT), then what the rest of the boot reads through it: the FADT and
 * the DSDT's \_S5 package (arch/x86_64/power.c), the HPET table
 * (arch/x86_64/time.c), the MCFG (kernel/pci/pci.c) and the DMAR, looked
 * up unchecked (kernel/iommu/vtd.c).
 *
 * Fake physical memory is 64 KiB just below 4 GiB. Input: byte 0 flags,
 * byte 1 the boot CPU's APIC id, then
 *  - with FLAG_RAW: the memory image itself, the RSDP at its first byte;
 *  - else a run of tables, each as long as its header's length (cut at the
 *    input's end; at least a header): the harness lays them out 16-byte
 *    aligned and writes the RSDP and an XSDT (FLAG_RSDT: an RSDT and an
 *    ACPI 1.0 RSDP) listing them. FLAG_LINK_DSDT points the FADT's DSDT
 *    fields at the first DSDT; FLAG_SUMS fixes every checksum, so mutations
 *    get past them to the fields behind.
 * acpi_init and acpi_find_table panic on a bad table by contract (clean);
 * the decoders after them must not panic and must explain a refusal in one
 * line.
 */
#include <string.h>

#include "kernel/acpi/acpi.h"
#include "kernel/boot_info.h"
#include "kernel/iommu/vtd.h"
#include "kernel/pci/pci.h"
#include "tests/fuzz/fuzz.h"

#define ACPI_FUZZ_MEM  KiB(64)
#define FLAG_RAW       1u
#define FLAG_RSDT      2u
#define FLAG_SUMS      4u
#define FLAG_LINK_DSDT 8u
#define RSDP_LEN       36
#define ROOT_AT	       64
#define TABLES_AT      512
#define TABLES_MAX     32
#define HDR	       ((uint32_t)sizeof(struct acpi_sdt_header))

static uint8_t image[ACPI_FUZZ_MEM];

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Sets the checksum byte at `sum` so that `len` bytes at p add up to zero. */
static void fix_sum(uint8_t *p, size_t len, uint8_t *sum)
{
	*sum = 0;
	*sum = (uint8_t)(0x100 - acpi_checksum(p, len));
}

/* Lays the tables of `data` out behind a generated RSDP and root table. */
static void build(const uint8_t *data, size_t size, unsigned flags, phys_addr_t base)
{
	uint32_t at[TABLES_MAX], n = 0, pos = TABLES_AT;
	bool xsdt = !(flags & FLAG_RSDT);
	memset(image, 0, sizeof(image));
	for (size_t off = 0; size - off >= HDR && n < TABLES_MAX;) {
		uint32_t take =
		    (uint32_t)MAX(MIN((size_t)le32(data + off + 4), size - off), (size_t)HDR);
		if (take > ACPI_FUZZ_MEM - pos)
			break;
		memcpy(image + pos, data + off, take);
		at[n++] = pos;
		pos = ALIGN_UP(pos + take, 16u);
		off += take;
	}
	if (flags & FLAG_LINK_DSDT) {
		int fadt = -1, dsdt = -1;
		for (uint32_t i = 0; i < n; i++) {
			if (fadt < 0 && !memcmp(image + at[i], "FACP", 4))
				fadt = (int)i;
			if (dsdt < 0 && !memcmp(image + at[i], "DSDT", 4))
				dsdt = (int)i;
		}
		if (fadt >= 0 && dsdt >= 0) {
			uint8_t *f = image + at[fadt];
			uint64_t pa = base + at[dsdt];
			put32(f + 40, (uint32_t)pa);
			if (le32(f + 4) >= 148)
				memcpy(f + 140, &pa, 8);
		}
	}
	uint8_t *root = image + ROOT_AT;
	memcpy(root, xsdt ? "XSDT" : "RSDT", 4);
	put32(root + 4, HDR + n * (xsdt ? 8 : 4));
	root[8] = 1;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t pa = base + at[i];
		memcpy(root + HDR + i * (xsdt ? 8 : 4), &pa, xsdt ? 8 : 4);
	}
	memcpy(image, "RSD PTR ", 8);
	memcpy(image + 9, "FUZZ  ", 6);
	image[15] = xsdt ? 2 : 0;
	put32(image + 16, (uint32_t)(base + ROOT_AT));
	put32(image + 20, RSDP_LEN);
	uint64_t root_pa = base + ROOT_AT;
	memcpy(image + 24, &root_pa, 8);
	if (!(flags & FLAG_SUMS))
		return;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t len = le32(image + at[i] + 4);
		if (len >= HDR && len <= ACPI_FUZZ_MEM - at[i])
			fix_sum(image + at[i], len, image + at[i] + 9);
	}
	fix_sum(root, le32(root + 4), root + 9);
	fix_sum(image, 20, image + 8);
	fix_sum(image, RSDP_LEN, image + 32);
}

struct init_args {
	phys_addr_t rsdp;
	uint32_t apic_id;
};

static void init(void *arg)
{
	struct init_args *a = arg;
	acpi_init(a->rsdp, a->apic_id);
}

struct find_args {
	const char *sig;
	const struct acpi_sdt_header *table;
};

static void find(void *arg)
{
	struct find_args *a = arg;
	a->table = acpi_find_table(a->sig);
}

/* acpi_find_table, whose panic on a bad table is the documented outcome. */
static const struct acpi_sdt_header *find_table(const char *sig)
{
	struct find_args a = {sig, NULL};
	return fuzz_try(find, &a) ? a.table : NULL;
}

/* What arch/x86_64/power.c and time.c read. */
static void consume_power(void)
{
	char err[160];
	const struct acpi_sdt_header *t = find_table("FACP");
	struct acpi_fadt_info f;
	if (t && !acpi_fadt_parse(t, &f, err, sizeof(err)))
		fuzz_check_message("acpi_fadt_parse", err);
	else if (t) {
		const struct acpi_sdt_header *dsdt = acpi_table_at(f.dsdt);
		uint8_t a, b;
		if (dsdt && !acpi_aml_find_s5((const uint8_t *)(dsdt + 1), dsdt->length - HDR, &a,
					      &b, err, sizeof(err)))
			fuzz_check_message("acpi_aml_find_s5", err);
		else if (dsdt && (a > 7 || b > 7))
			fuzz_bug("acpi_aml_find_s5: SLP_TYP %u/%u past 7", a, b);
	}
	phys_addr_t hpet;
	t = find_table("HPET");
	if (t && !acpi_hpet_parse(t, &hpet, err, sizeof(err)))
		fuzz_check_message("acpi_hpet_parse", err);
}

/* What kernel/pci/pci.c and kernel/iommu/vtd.c read. */
static void consume_devices(void)
{
	char err[160];
	struct pci_host host;
	const struct acpi_sdt_header *t = find_table("MCFG");
	if (t && !pci_host_from_mcfg(t, &host, err, sizeof(err)))
		fuzz_check_message("pci_host_from_mcfg", err);
	size_t avail;
	static struct vtd_dmar dmar;
	const void *d = acpi_find_table_unchecked("DMAR", &avail);
	if (d && !vtd_dmar_parse(d, avail, &dmar, err, sizeof(err)))
		fuzz_check_message("vtd_dmar_parse", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	unsigned flags = data[0];
	phys_addr_t base = FUZZ_PHYS_LIMIT - ACPI_FUZZ_MEM;
	if (flags & FLAG_RAW) {
		memset(image, 0, sizeof(image));
		memcpy(image, data + 2, MIN(size - 2, sizeof(image)));
	} else {
		build(data + 2, size - 2, flags, base);
	}
	struct init_args a = {fuzz_phys_place(image, sizeof(image), sizeof(image)), data[1]};

	fuzz_reset_boot_info();
	memset(&acpi_info, 0, sizeof(acpi_info));
	/* The firmware's memory map: the tables sit in an ACPI region. */
	boot_info_add_mem(base, ACPI_FUZZ_MEM, BOOT_MEM_ACPI_RECLAIM, "fuzz");
	if (!fuzz_try(init, &a))
		return 0;
	consume_power();
	consume_devices();
	return 0;
}
