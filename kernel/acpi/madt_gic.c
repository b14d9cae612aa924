// SPDX-License-Identifier: BSD-2-Clause
/*
 * The MADT of an Arm machine: GIC CPU interface entries (type 0xB, one per
 * CPU, naming its MPIDR and, on GICv2, the CPU interface), the distributor
 * (0xC, with the GIC version), MSI frames (0xD, GICv2m), redistributor
 * discovery ranges (0xE) and ITSs (0xF). Entries are checked against the
 * table end and their type's minimum length before any field is read; a
 * problem is one message naming the entry's offset, type and field.
 *
 * A CPU counts when its entry is enabled (flags bit 0) or online-capable
 * (bit 3 on Arm, ACPI 6.5); others are counted as disabled and never
 * started, as on x86.
 */
#include "kernel/acpi/acpi_arm.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define MADT_GICC      0x0b
#define MADT_GICD      0x0c
#define MADT_MSI_FRAME 0x0d
#define MADT_GICR      0x0e
#define MADT_ITS       0x0f
#define MADT_FIXED_FIELDS 8 /* local interrupt controller address, flags */

#define GICC_ENABLED	    (1u << 0)
#define GICC_ONLINE_CAPABLE (1u << 3)
#define MSI_FRAME_SPI_SELECT (1u << 0)
#define MPIDR_AFF_MASK	    0xff00ffffffull

/* Each type's shortest valid entry: GICC as ACPI 5.1 defined it (through the MPIDR). */
static const uint8_t gic_min_length[] = {[MADT_GICC] = 76, [MADT_GICD] = 24,
					 [MADT_MSI_FRAME] = 24, [MADT_GICR] = 16, [MADT_ITS] = 20};

static bool fail(char *err, size_t n, uint32_t off, uint8_t type, const char *what)
{
	snprintf(err, n, "MADT: entry type %#x at offset %u: %s", type, off, what);
	return false;
}

static bool add_cpu(struct acpi_madt_gic *out, const uint8_t *e, uint32_t off, phys_addr_t *gicc,
		    char *err, size_t n)
{
	uint32_t flags = acpi_get32(e + 12);
	uint64_t mpidr = acpi_get64(e + 68);
	if (!(flags & (GICC_ENABLED | GICC_ONLINE_CAPABLE))) {
		out->nr_disabled++;
		return true;
	}
	if (mpidr & ~MPIDR_AFF_MASK)
		return fail(err, n, off, MADT_GICC, "MPIDR has bits outside the affinity fields");
	for (unsigned i = 0; i < out->nr_cpus; i++)
		if (out->mpidrs[i] == mpidr)
			return fail(err, n, off, MADT_GICC, "MPIDR listed twice");
	/* GICv2: every CPU reaches its interface at one address (banked per CPU). */
	phys_addr_t base = acpi_get64(e + 32);
	if (out->nr_cpus + out->nr_cpus_unstored == 0)
		*gicc = base;
	else if (base != *gicc)
		return fail(err, n, off, MADT_GICC, "CPU interface address differs between CPUs");
	if (out->nr_cpus < ACPI_ARM_CPUS_MAX)
		out->mpidrs[out->nr_cpus++] = mpidr;
	else
		out->nr_cpus_unstored++;
	return true;
}

static bool walk_entry(struct acpi_madt_gic *out, const uint8_t *e, uint32_t off, unsigned *nr_gicd,
		       phys_addr_t *gicc, char *err, size_t n)
{
	uint8_t type = e[0];
	phys_addr_t base;
	switch (type) {
	case MADT_GICC:
		return add_cpu(out, e, off, gicc, err, n);
	case MADT_GICD:
		if (++*nr_gicd > 1)
			return fail(err, n, off, type, "a second distributor");
		out->gicd_base = acpi_get64(e + 8);
		out->gic_version = e[20];
		if (out->gic_version > 4)
			return fail(err, n, off, type, "GIC version above 4");
		if (!out->gicd_base || out->gicd_base % 4096)
			return fail(err, n, off, type, "base is not a non-zero multiple of 4 KiB");
		return true;
	case MADT_MSI_FRAME:
		base = acpi_get64(e + 8);
		if (!base || base % 4096)
			return fail(err, n, off, type, "base is not a non-zero multiple of 4 KiB");
		if (out->nr_msi == ACPI_GIC_MSI_MAX)
			return fail(err, n, off, type, "more MSI frames than Pagoda keeps");
		out->msi[out->nr_msi++] = (struct acpi_gic_msi_frame){
			.id = acpi_get32(e + 4), .base = base,
			.spi_override = acpi_get32(e + 16) & MSI_FRAME_SPI_SELECT,
			.spi_count = acpi_get16(e + 20), .spi_base = acpi_get16(e + 22)};
		return true;
	case MADT_GICR:
		base = acpi_get64(e + 4);
		if (!base || base % 65536 || acpi_get32(e + 12) == 0)
			return fail(err, n, off, type,
				    "range is empty or its base is not a multiple of 64 KiB");
		if (out->nr_gicr_ranges++ == 0) {
			out->gicr_base = base;
			out->gicr_length = acpi_get32(e + 12);
		}
		return true;
	case MADT_ITS:
		base = acpi_get64(e + 8);
		if (!base || base % 65536)
			return fail(err, n, off, type, "base is not a non-zero multiple of 64 KiB");
		if (out->nr_its == ACPI_GIC_ITS_MAX)
			return fail(err, n, off, type, "more ITSs than Pagoda keeps");
		out->its[out->nr_its++] = (struct acpi_gic_its){acpi_get32(e + 4), base};
		return true;
	default:
		return true;
	}
}

bool acpi_madt_gic_walk(const struct acpi_sdt_header *madt, struct acpi_madt_gic *out, char *err,
			size_t err_size)
{
	const uint8_t *t = (const uint8_t *)madt;
	unsigned nr_gicd = 0;
	phys_addr_t gicc = 0;
	memset(out, 0, sizeof(*out));
	if (memcmp(madt->signature, "APIC", 4) != 0 ||
	    madt->length < sizeof(*madt) + MADT_FIXED_FIELDS) {
		snprintf(err, err_size, "MADT: signature \"%.4s\" or length %u is wrong",
			 madt->signature, madt->length);
		return false;
	}
	for (uint32_t off = sizeof(*madt) + MADT_FIXED_FIELDS; off < madt->length;) {
		if (madt->length - off < 2) {
			snprintf(err, err_size, "MADT: entry header at offset %u runs past length %u",
				 off, madt->length);
			return false;
		}
		uint8_t type = t[off], len = t[off + 1];
		if (len < 2 || len > madt->length - off)
			return fail(err, err_size, off, type, "length runs past the table");
		if (type < sizeof(gic_min_length) && len < gic_min_length[type])
			return fail(err, err_size, off, type, "shorter than its type's minimum");
		if (!walk_entry(out, t + off, off, &nr_gicd, &gicc, err, err_size))
			return false;
		off += len;
	}
	if (nr_gicd == 0) {
		snprintf(err, err_size, "MADT: no GIC distributor entry (type 0xc)");
		return false;
	}
	if (out->gic_version == 0) /* "not specified": a GICR range means GICv3 */
		out->gic_version = out->nr_gicr_ranges ? 3 : 2;
	if (out->gic_version >= 3 && out->nr_gicr_ranges == 0) {
		snprintf(err, err_size,
			 "MADT: GICv%u with no redistributor range (type 0xe); per-CPU GICR "
			 "addresses are not supported", out->gic_version);
		return false;
	}
	if (out->gic_version <= 2 && (!gicc || gicc % 4096)) { /* GICv1 is driven as a GICv2 */
		snprintf(err, err_size, "MADT: GICv%u CPU interface address %#llx is not a non-zero "
			 "multiple of 4 KiB", out->gic_version, (unsigned long long)gicc);
		return false;
	}
	if (out->nr_cpus == 0) {
		snprintf(err, err_size, "MADT: no enabled CPU (type 0xb entries)");
		return false;
	}
	out->gicc_base = out->gic_version <= 2 ? gicc : 0;
	return true;
}
