// SPDX-License-Identifier: BSD-2-Clause
/*
 * MADT (Multiple APIC Description Table) parsing. Entries are walked with
 * their lengths checked against the table end and against the minimum
 * size of their type before any field is read.
 *
 * A CPU is started when its entry is enabled (flags bit 0) or
 * online-capable (bit 1, ACPI 6.3); others are counted but skipped. An
 * x2APIC entry for an id that also has a local APIC entry is the same CPU.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_X2APIC 9
#define MADT_FLAG_ENABLED 1u
#define MADT_FLAG_ONLINE_CAPABLE 2u

static const uint8_t madt_min_length[] = {[MADT_LAPIC] = 8, [MADT_IOAPIC] = 12,
					  [MADT_X2APIC] = 16};

static void madt_add_cpu(uint32_t apic_id, uint32_t flags, uint32_t boot_apic_id)
{
	if (!(flags & (MADT_FLAG_ENABLED | MADT_FLAG_ONLINE_CAPABLE)))
		return;
	for (unsigned i = 0; i < boot_info.nr_cpus; i++)
		if (boot_info.cpus[i].hw_id == apic_id)
			return;
	boot_info_add_cpu(apic_id, apic_id == boot_apic_id);
}

void acpi_parse_madt(const struct acpi_sdt_header *madt, uint32_t boot_apic_id)
{
	const uint8_t *base = (const uint8_t *)madt;
	if (madt->length < sizeof(*madt) + 8)
		panic("acpi: MADT: length %u too short for its fixed fields", madt->length);
	uint32_t lapic;
	memcpy(&lapic, base + sizeof(*madt), 4);
	acpi_info.lapic_address = lapic;

	uint32_t off = sizeof(*madt) + 8;
	while (off < madt->length) {
		if (madt->length - off < 2)
			panic("acpi: MADT: entry header at offset %u runs past length %u", off,
			      madt->length);
		uint8_t type = base[off], len = base[off + 1];
		if (len < 2 || len > madt->length - off)
			panic("acpi: MADT: entry type %u at offset %u: length %u invalid (table "
			      "length %u)",
			      type, off, len, madt->length);
		if (type < sizeof(madt_min_length) && madt_min_length[type] &&
		    len < madt_min_length[type])
			panic("acpi: MADT: entry type %u at offset %u: length %u < %u", type, off, len,
			      madt_min_length[type]);
		const uint8_t *e = base + off;
		uint32_t flags, id, addr, gsi;
		switch (type) {
		case MADT_LAPIC:
			acpi_info.nr_lapic_entries++;
			memcpy(&flags, e + 4, 4);
			madt_add_cpu(e[3], flags, boot_apic_id);
			break;
		case MADT_X2APIC:
			acpi_info.nr_x2apic_entries++;
			memcpy(&id, e + 4, 4);
			memcpy(&flags, e + 8, 4);
			madt_add_cpu(id, flags, boot_apic_id);
			break;
		case MADT_IOAPIC:
			if (acpi_info.nr_ioapics >= ACPI_IOAPIC_MAX)
				break;
			memcpy(&addr, e + 4, 4);
			memcpy(&gsi, e + 8, 4);
			acpi_info.ioapics[acpi_info.nr_ioapics++] =
				(struct acpi_ioapic){e[2], addr, gsi};
			break;
		default:
			break;
		}
		off += len;
	}
}
