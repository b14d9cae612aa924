// SPDX-License-Identifier: BSD-2-Clause
/*
 * MADT (Multiple APIC Description Table) walking. Entries are checked
 * against the table end and the minimum size of their type before any
 * field is read, and a problem is reported as a message naming the entry's
 * offset, type and field, never as a wild read.
 *
 * CPUs come from Processor Local APIC entries (type 0, 8-bit ids) and
 * Processor Local x2APIC entries (type 9, 32-bit ids; firmware uses them
 * for ids the 8-bit field cannot hold, and some list every CPU in both).
 * A CPU counts when its entry is enabled (flags bit 0) or online-capable
 * (bit 1, ACPI 6.3); others are counted as disabled and never started. An
 * id given by both a type 0 and a type 9 entry is one CPU, listed once; an
 * id given twice by entries of the same type, or an enabled entry naming
 * the broadcast id (0xff, 0xffffffff), is malformed and fails the walk.
 */
#include "kernel/acpi/acpi.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_X2APIC 9
#define MADT_FLAG_ENABLED 1u
#define MADT_FLAG_ONLINE_CAPABLE 2u
#define MADT_FIXED_FIELDS 8 /* local APIC address, flags */

static const uint8_t madt_min_length[] = {[MADT_LAPIC] = 8, [MADT_IOAPIC] = 12,
					  [MADT_X2APIC] = 16};

/* Adds an enabled CPU; returns false (message in err) for a repeat within one type. */
static bool madt_add_cpu(struct acpi_madt_result *out, uint8_t type, uint32_t off, uint32_t apic_id,
			 uint32_t flags, char *err, size_t err_size)
{
	if (!(flags & (MADT_FLAG_ENABLED | MADT_FLAG_ONLINE_CAPABLE))) {
		out->nr_disabled++;
		return true;
	}
	if (apic_id == (type == MADT_LAPIC ? 0xFFu : 0xFFFFFFFFu)) {
		snprintf(err, err_size,
			 "entry type %u at offset %u: enabled CPU with the broadcast APIC id %#x",
			 type, off, apic_id);
		return false;
	}
	uint8_t by = type == MADT_LAPIC ? ACPI_MADT_BY_LAPIC : ACPI_MADT_BY_X2APIC;
	for (unsigned i = 0; i < out->nr_cpus; i++) {
		if (out->apic_ids[i] != apic_id)
			continue;
		if (out->listed_by[i] & by) {
			snprintf(err, err_size,
				 "entry type %u at offset %u: APIC id %#x listed twice", type, off,
				 apic_id);
			return false;
		}
		out->listed_by[i] |= by; /* the same CPU in both forms */
		return true;
	}
	if (out->nr_cpus < ARRAY_SIZE(out->apic_ids)) {
		out->listed_by[out->nr_cpus] = by;
		out->apic_ids[out->nr_cpus++] = apic_id;
	} else {
		out->nr_cpus_unstored++; /* counted, neither stored nor checked for repeats */
	}
	return true;
}

bool acpi_madt_walk(const struct acpi_sdt_header *madt, struct acpi_madt_result *out, char *err,
		    size_t err_size)
{
	const uint8_t *base = (const uint8_t *)madt;
	memset(out, 0, sizeof(*out));
	if (memcmp(madt->signature, "APIC", 4) != 0) {
		snprintf(err, err_size, "signature \"%.4s\" is not \"APIC\"", madt->signature);
		return false;
	}
	if (madt->length < sizeof(*madt) + MADT_FIXED_FIELDS) {
		snprintf(err, err_size, "length %u too short for the header and fixed fields (%u)",
			 madt->length, (unsigned)(sizeof(*madt) + MADT_FIXED_FIELDS));
		return false;
	}
	memcpy(&out->lapic_address, base + sizeof(*madt), 4);

	uint32_t off = sizeof(*madt) + MADT_FIXED_FIELDS;
	while (off < madt->length) {
		if (madt->length - off < 2) {
			snprintf(err, err_size, "entry header at offset %u runs past length %u", off,
				 madt->length);
			return false;
		}
		uint8_t type = base[off], len = base[off + 1];
#ifdef FUZZ_BREAK_MADT /* test-only: make fuzz-negative must catch an entry past the end */
		if (len < 2) {
#else
		if (len < 2 || len > madt->length - off) {
#endif
			snprintf(err, err_size,
				 "entry type %u at offset %u: length %u invalid (table length %u)",
				 type, off, len, madt->length);
			return false;
		}
		if (type < sizeof(madt_min_length) && madt_min_length[type] &&
		    len < madt_min_length[type]) {
			snprintf(err, err_size, "entry type %u at offset %u: length %u < %u", type,
				 off, len, madt_min_length[type]);
			return false;
		}
		const uint8_t *e = base + off;
		uint32_t flags, id, addr, gsi;
		switch (type) {
		case MADT_LAPIC:
			out->nr_lapic_entries++;
			memcpy(&flags, e + 4, 4);
			if (!madt_add_cpu(out, type, off, e[3], flags, err, err_size))
				return false;
			break;
		case MADT_X2APIC:
			out->nr_x2apic_entries++;
			memcpy(&id, e + 4, 4);
			memcpy(&flags, e + 8, 4);
			if (!madt_add_cpu(out, type, off, id, flags, err, err_size))
				return false;
			break;
		case MADT_IOAPIC:
			if (out->nr_ioapics >= ACPI_IOAPIC_MAX)
				break;
			memcpy(&addr, e + 4, 4);
			memcpy(&gsi, e + 8, 4);
			out->ioapics[out->nr_ioapics++] = (struct acpi_ioapic){e[2], addr, gsi};
			break;
		default:
			break;
		}
		off += len;
	}
	return true;
}
