/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ACPI table discovery: RSDP -> XSDT (or RSDT for ACPI 1.0) -> MADT.
 * Every table's length is bounded and its checksum verified before any
 * field is used; a bad one panics naming the table and the field.
 * The MADT yields the CPUs (local APIC and x2APIC entries that are enabled
 * or online-capable) into boot_info, and the I/O APICs into acpi_info.
 */
#ifndef PAGODA_KERNEL_ACPI_ACPI_H
#define PAGODA_KERNEL_ACPI_ACPI_H

#include "kernel/types.h"

#define ACPI_IOAPIC_MAX 8

struct acpi_ioapic {
	uint8_t id;
	uint32_t address;
	uint32_t gsi_base;
};

struct acpi_info {
	char oem_id[7];
	unsigned revision; /* RSDP revision: 0 = ACPI 1.0, 2 = 2.0+ */
	unsigned nr_tables; /* entries in the XSDT/RSDT */
	phys_addr_t lapic_address;
	unsigned nr_lapic_entries; /* type 0 entries seen, including disabled */
	unsigned nr_x2apic_entries; /* type 9 entries seen */
	struct acpi_ioapic ioapics[ACPI_IOAPIC_MAX];
	unsigned nr_ioapics;
};

extern struct acpi_info acpi_info;

/* Little-endian fields at any alignment (tables pack 64-bit fields at 4-byte offsets). */
static inline uint16_t acpi_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t acpi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t acpi_get64(const uint8_t *p)
{
	return acpi_get32(p) | (uint64_t)acpi_get32(p + 4) << 32;
}

/* Header common to every system description table. */
struct acpi_sdt_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} __packed;

/*
 * Validates the RSDP at `rsdp_pa` and its XSDT (or RSDT), after which
 * acpi_find_table() works. Panics naming the field when either is bad.
 */
void acpi_tables_init(phys_addr_t rsdp_pa);
/*
 * x86-64: acpi_tables_init(), then the MADT's CPUs into boot_info;
 * `boot_apic_id` marks the boot CPU. Panics when the RSDP is absent or any
 * table is bad.
 */
void acpi_init(phys_addr_t rsdp_pa, uint32_t boot_apic_id);
/* Finds a table by signature ("APIC", "HPET", ...); NULL when absent. */
const struct acpi_sdt_header *acpi_find_table(const char signature[4]);
/*
 * The same without validating the table: for a table whose driver must
 * survive a malformed one (DMAR: the machine goes on without the
 * IOMMU). *avail is how many bytes from the header may be read: to the
 * end of the firmware memory-map region holding the table, at most
 * 1 MiB, within what the boot tables map; the caller checks the length
 * (against *avail) and checksum itself. NULL when absent.
 */
const struct acpi_sdt_header *acpi_find_table_unchecked(const char signature[4], size_t *avail);
/* Sum of `len` bytes modulo 256: zero for a valid ACPI structure. */
uint8_t acpi_checksum(const void *p, size_t len);
/* What a MADT describes, as acpi_madt_walk() found it. */
#define ACPI_MADT_BY_LAPIC  1u /* listed_by: a type 0 (local APIC) entry names the CPU */
#define ACPI_MADT_BY_X2APIC 2u /* listed_by: a type 9 (local x2APIC) entry names it */
struct acpi_madt_result {
	uint32_t apic_ids[64]; /* CPUs that are enabled or online-capable, in table order */
	uint8_t listed_by[64]; /* per CPU: which entry types named it (ACPI_MADT_BY_*) */
	unsigned nr_cpus;
	unsigned nr_cpus_unstored; /* enabled CPUs past the 64 stored (never started) */
	unsigned nr_lapic_entries, nr_x2apic_entries, nr_disabled;
	uint32_t lapic_address;
	struct acpi_ioapic ioapics[ACPI_IOAPIC_MAX];
	unsigned nr_ioapics;
};
/*
 * Walks a MADT of `madt->length` bytes (checksum not checked here) and
 * fills *out. Returns true when well formed; otherwise writes a message
 * naming the entry and field to err and returns false. Malformed: a bad
 * length, an enabled CPU with the broadcast id, an id repeated by entries
 * of one type (a type 0 and a type 9 entry for one id are one CPU). Never
 * reads past madt->length. Tests feed it synthetic tables.
 */
bool acpi_madt_walk(const struct acpi_sdt_header *madt, struct acpi_madt_result *out, char *err,
		    size_t err_size);

/* ---- Power management and timers (fadt.c; pure, tests feed synthetic input) ---- */

/* A Generic Address Structure: a register in some address space. */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO	1
struct acpi_gas {
	uint8_t space; /* ACPI_GAS_* */
	uint8_t bit_width, bit_offset, access_size;
	uint64_t address;
};

#define ACPI_FADT_MIN_LENGTH 116 /* ACPI 1.0's FADT, up to and including its flags */
struct acpi_fadt_info {
	uint64_t pm1a_cnt, pm1b_cnt; /* PM1 control I/O ports (0: absent) */
	uint64_t pm_tmr; /* ACPI PM timer I/O port (0: absent) */
	bool pm_tmr_32bit; /* TMR_VAL_EXT: 32 bits, else 24 */
	bool reset_supported; /* RESET_REG_SUP and a reset register given */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	phys_addr_t dsdt;
	uint8_t i8042; /* ACPI_8042_*: IAPC_BOOT_ARCH's 8042 flag, where the FADT has it */
};
#define ACPI_8042_UNSTATED 0 /* FADT revision < 3: IAPC_BOOT_ARCH is reserved there */
#define ACPI_8042_ABSENT   1
#define ACPI_8042_PRESENT  2
/*
 * Reads a FADT of fadt->length bytes (checksum already verified): the 64-bit
 * fields where the table has them and they are set, else the ACPI 1.0 ones.
 * False, with one line in err naming the field, when it is malformed.
 */
bool acpi_fadt_parse(const struct acpi_sdt_header *fadt, struct acpi_fadt_info *out, char *err,
		     size_t err_size);
/* The HPET's MMIO base from an HPET table; false (err set) when malformed. */
bool acpi_hpet_parse(const struct acpi_sdt_header *hpet, phys_addr_t *base, char *err,
		     size_t err_size);
/*
 * Finds `Name (_S5_, Package () {SLP_TYPa, SLP_TYPb, ...})` in `len` bytes
 * of AML (a DSDT's or SSDT's body) and returns the two sleep types (b = a
 * when the package has one element). False, err set, when there is no
 * such declaration or it is not a package of small integers.
 */
bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b,
		      char *err, size_t err_size);
/* Maps an ACPI table at `pa` (header, then its whole length); NULL when out of reach. */
const struct acpi_sdt_header *acpi_table_at(phys_addr_t pa);

#endif
