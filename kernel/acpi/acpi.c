// SPDX-License-Identifier: BSD-2-Clause
/*
 * RSDP, XSDT/RSDT and table look-up. Tables are reached through
 * arch_phys_to_virt; a table outside what the kernel can reach is a named
 * panic rather than a wild pointer. A table is trusted only after its
 * length has been bounded (at least a header, at most 1 MiB) and its
 * checksum verified. A table handed out unchecked comes with the bytes
 * that may be read from it: to the end of the firmware memory-map region
 * holding it, at most 1 MiB, and never past what the boot tables map.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define ACPI_TABLE_MAX (1u << 20)

struct acpi_info acpi_info;
static const struct acpi_sdt_header *root; /* the XSDT or RSDT */
static bool root_is_xsdt;

struct rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt_address;
	/* ACPI 2.0+ */
	uint32_t length;
	uint64_t xsdt_address;
	uint8_t extended_checksum;
	uint8_t reserved[3];
} __packed;

uint8_t acpi_checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	while (len--)
		sum = (uint8_t)(sum + *b++);
	return sum;
}

/* Maps and validates the table at `pa`; `what` names it in messages. */
static const struct acpi_sdt_header *acpi_map_table(phys_addr_t pa, const char *what)
{
	const struct acpi_sdt_header *h = arch_phys_to_virt(pa);
	if (!h)
		panic("acpi: %s at %#lx: address not reachable", what, (unsigned long)pa);
	if (h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX)
		panic("acpi: %s (%.4s) at %#lx: length %u out of range [%u, %u]", what,
		      h->signature, (unsigned long)pa, h->length, (unsigned)sizeof(*h),
		      ACPI_TABLE_MAX);
	if (acpi_checksum(h, h->length) != 0)
		panic("acpi: %s (%.4s) at %#lx: checksum mismatch over %u bytes", what,
		      h->signature, (unsigned long)pa, h->length);
	return h;
}

const struct acpi_sdt_header *acpi_table_at(phys_addr_t pa)
{
	const struct acpi_sdt_header *h = pa ? arch_phys_to_virt(pa) : NULL;
	if (!h || h->length < sizeof(*h) || h->length > ACPI_TABLE_MAX ||
	    acpi_checksum(h, h->length) != 0)
		return NULL;
	return h;
}

static phys_addr_t root_entry(unsigned i)
{
	const uint8_t *entries = (const uint8_t *)(root + 1);
	if (root_is_xsdt) {
		uint64_t v;
		memcpy(&v, entries + 8 * i, 8); /* XSDT entries are only 4-byte aligned */
		return v;
	}
	uint32_t v;
	memcpy(&v, entries + 4 * i, 4);
	return v;
}

const struct acpi_sdt_header *acpi_find_table(const char signature[4])
{
	for (unsigned i = 0; root && i < acpi_info.nr_tables; i++) {
		const struct acpi_sdt_header *h = arch_phys_to_virt(root_entry(i));
		if (h && memcmp(h->signature, signature, 4) == 0)
			return acpi_map_table(root_entry(i), "table");
	}
	return NULL;
}

/* Bytes readable from `pa` on (see the top); 0 when not even a header is. */
static size_t acpi_readable(phys_addr_t pa)
{
	phys_addr_t limit = arch_mm_layout.boot_mapped_limit;
	uint64_t n = pa < limit ? MIN((uint64_t)ACPI_TABLE_MAX, limit - pa) : 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (pa >= r->base && pa - r->base < r->size)
			n = MIN(n, r->base + r->size - pa);
	}
	return n >= sizeof(struct acpi_sdt_header) ? (size_t)n : 0;
}

const struct acpi_sdt_header *acpi_find_table_unchecked(const char signature[4], size_t *avail)
{
	for (unsigned i = 0; root && i < acpi_info.nr_tables; i++) {
		size_t n = acpi_readable(root_entry(i));
		const struct acpi_sdt_header *h = n ? arch_phys_to_virt(root_entry(i)) : NULL;
		if (h && memcmp(h->signature, signature, 4) == 0) {
			*avail = n;
			return h;
		}
	}
	return NULL;
}

void acpi_tables_init(phys_addr_t rsdp_pa)
{
	if (!rsdp_pa)
		panic("acpi_tables_init: no RSDP from the boot loader (no ACPI tables)");
	const struct rsdp *r = arch_phys_to_virt(rsdp_pa);
	if (memcmp(r->signature, "RSD PTR ", 8) != 0)
		panic("acpi: RSDP at %#lx: signature is not \"RSD PTR \"", (unsigned long)rsdp_pa);
	if (acpi_checksum(r, 20) != 0)
		panic("acpi: RSDP at %#lx: checksum (first 20 bytes) mismatch",
		      (unsigned long)rsdp_pa);
	memcpy(acpi_info.oem_id, r->oem_id, 6);
	acpi_info.revision = r->revision;
	if (r->revision >= 2) {
		if (r->length < sizeof(*r) || r->length > 4096)
			panic("acpi: RSDP: length %u invalid for revision %u", r->length,
			      r->revision);
		if (acpi_checksum(r, r->length) != 0)
			panic("acpi: RSDP: extended_checksum mismatch over %u bytes", r->length);
		root = acpi_map_table(r->xsdt_address, "XSDT");
		root_is_xsdt = true;
	} else {
		root = acpi_map_table(r->rsdt_address, "RSDT");
	}
	if (memcmp(root->signature, root_is_xsdt ? "XSDT" : "RSDT", 4) != 0)
		panic("acpi: root table signature is \"%.4s\", expected %s", root->signature,
		      root_is_xsdt ? "XSDT" : "RSDT");
	acpi_info.nr_tables = (root->length - (unsigned)sizeof(*root)) / (root_is_xsdt ? 8 : 4);
}

void acpi_init(phys_addr_t rsdp_pa, uint32_t boot_apic_id)
{
	acpi_tables_init(rsdp_pa);

	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	if (!madt)
		panic("acpi: no MADT (signature APIC) among %u tables", acpi_info.nr_tables);
	static struct acpi_madt_result m;
	char err[160];
	if (!acpi_madt_walk(madt, &m, err, sizeof(err)))
		panic("acpi: MADT: %s", err);
	acpi_info.lapic_address = m.lapic_address;
	acpi_info.nr_lapic_entries = m.nr_lapic_entries;
	acpi_info.nr_x2apic_entries = m.nr_x2apic_entries;
	acpi_info.nr_ioapics = m.nr_ioapics;
	memcpy(acpi_info.ioapics, m.ioapics, sizeof(m.ioapics));
	for (unsigned i = 0; i < m.nr_cpus; i++)
		boot_info_add_cpu(m.apic_ids[i], m.apic_ids[i] == boot_apic_id);
	boot_info.nr_cpus_firmware += m.nr_cpus_unstored;
	printk("acpi: OEM %s, revision %u, %s with %u tables; %u CPUs (%u local APIC, %u x2APIC "
	       "entries), %u I/O APICs",
	       acpi_info.oem_id, acpi_info.revision, root_is_xsdt ? "XSDT" : "RSDT",
	       acpi_info.nr_tables, m.nr_cpus + m.nr_cpus_unstored, m.nr_lapic_entries,
	       m.nr_x2apic_entries, acpi_info.nr_ioapics);
}
