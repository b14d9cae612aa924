// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `acpi_table`: one ACPI table, given whole, to the pure
 * decoder its signature selects: APIC acpi_madt_walk, FACP acpi_fadt_parse,
 * HPET acpi_hpet_parse, MCFG pci_host_from_mcfg, DMAR vtd_dmar_parse (then
 * vtd_dmar_unit_for over a few requester ids and a fake bridge), DSDT or
 * SSDT acpi_aml_find_s5 on the body; the Arm tables too: APIC also
 * acpi_madt_gic_walk, FACP also acpi_fadt_arm_boot, SPCR acpi_spcr_parse,
 * GTDT acpi_gtdt_parse, IORT acpi_iort_parse. Where the kernel hands a decoder a
 * table acpi_map_table has bounded (length in [36, 1 MiB]), the table sits
 * in a heap block of exactly its header's length, so a read one byte past
 * the table is an ASan report; the DMAR is handed over unchecked in the
 * kernel, so it gets exactly the input's bytes as `avail`, and its checksum
 * is fixed here so that mutations reach the structures (the acpi target
 * covers the checksum itself). None may panic; a refusal is one line.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_arm.h"
#include "kernel/iommu/vtd.h"
#include "kernel/pci/pci.h"
#include "tests/fuzz/fuzz.h"

#define HDR	       ((uint32_t)sizeof(struct acpi_sdt_header))
#define ACPI_TABLE_MAX (1u << 20) /* kernel/acpi/acpi.c */

/* A bridge at every device 1 of bus 0 and every function 7, leading to bus dev+fn. */
static bool bridge(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t *secondary, uint8_t *subordinate,
		   void *ctx)
{
	(void)ctx;
	if ((bus != 0 || dev != 1) && fn != 7)
		return false;
	*secondary = (uint8_t)(bus + dev + fn + 1);
	*subordinate = (uint8_t)(*secondary + 2);
	return true;
}

static void dmar(uint8_t *t, size_t size)
{
	static struct vtd_dmar d;
	char err[160];
	uint32_t len;
	memcpy(&len, t + 4, 4);
	if (len >= HDR && len <= size) {
		t[9] = 0;
		t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
	}
	if (!vtd_dmar_parse(t, size, &d, err, sizeof(err))) {
		fuzz_check_message("vtd_dmar_parse", err);
		return;
	}
	if (d.nr_units == 0 || d.nr_units > VTD_DMAR_UNITS_MAX)
		fuzz_bug("vtd_dmar_parse: accepted with %u units", d.nr_units);
	for (unsigned i = 0; i < d.nr_units; i++)
		if (!d.units[i].reg_base || d.units[i].reg_base % 4096 ||
		    d.units[i].nr_scopes > VTD_DMAR_SCOPES_MAX)
			fuzz_bug("vtd_dmar_parse: unit %u kept base %#llx, %u scopes", i,
				 (unsigned long long)d.units[i].reg_base, d.units[i].nr_scopes);
	static const uint16_t rids[] = {0x0000, 0x0008, 0x0010, 0x00ff, 0x0100, 0x0318, 0xffff};
	for (unsigned i = 0; i < ARRAY_SIZE(rids); i++) {
		int u = vtd_dmar_unit_for(&d, 0, rids[i], bridge, NULL);
		if (u >= (int)d.nr_units)
			fuzz_bug("vtd_dmar_unit_for: unit %d of %u", u, d.nr_units);
	}
}

/* The Arm decoders (kernel/acpi/acpi_arm.h), and what an accepted table must hold. */
static void arm_table(const struct acpi_sdt_header *h)
{
	char err[160];
	bool ok = true;
	const char *who = "";
	if (!memcmp(h->signature, "APIC", 4)) {
		static struct acpi_madt_gic g;
		who = "acpi_madt_gic_walk";
		ok = acpi_madt_gic_walk(h, &g, err, sizeof(err));
		if (ok && (g.nr_cpus == 0 || g.nr_cpus > ACPI_ARM_CPUS_MAX || !g.gicd_base ||
			   g.gic_version < 1 || g.gic_version > 4 ||
			   g.nr_its > ACPI_GIC_ITS_MAX || g.nr_msi > ACPI_GIC_MSI_MAX))
			fuzz_bug("acpi_madt_gic_walk: accepted %u CPUs, GICv%u at %#llx", g.nr_cpus,
				 g.gic_version, (unsigned long long)g.gicd_base);
	} else if (!memcmp(h->signature, "FACP", 4)) {
		uint16_t flags;
		who = "acpi_fadt_arm_boot";
		ok = acpi_fadt_arm_boot(h, &flags, err, sizeof(err));
	} else if (!memcmp(h->signature, "SPCR", 4)) {
		phys_addr_t uart;
		uint8_t iface;
		who = "acpi_spcr_parse";
		ok = acpi_spcr_parse(h, &uart, &iface, err, sizeof(err));
		if (ok && (!uart || uart % 4096))
			fuzz_bug("acpi_spcr_parse: accepted UART %#llx", (unsigned long long)uart);
	} else if (!memcmp(h->signature, "GTDT", 4)) {
		unsigned phys, virt;
		who = "acpi_gtdt_parse";
		ok = acpi_gtdt_parse(h, &phys, &virt, err, sizeof(err));
		if (ok && (phys > 15 || virt > 15))
			fuzz_bug("acpi_gtdt_parse: accepted PPIs %u/%u", phys, virt);
	} else if (!memcmp(h->signature, "IORT", 4)) {
		static struct acpi_iort r;
		who = "acpi_iort_parse";
		ok = acpi_iort_parse(h, 0, &r, err, sizeof(err));
		for (unsigned i = 0; ok && i < r.nr_rid_to_sid; i++)
			if (!r.rid_to_sid[i].count || r.rid_to_sid[i].rid_base + r.rid_to_sid[i].count > 0x10000)
				fuzz_bug("acpi_iort_parse: kept requester ids %#x+%#x",
					 r.rid_to_sid[i].rid_base, r.rid_to_sid[i].count);
		if (ok && r.has_smmu && (!r.smmu_base || r.smmu_base % 65536))
			fuzz_bug("acpi_iort_parse: accepted SMMU base %#llx",
				 (unsigned long long)r.smmu_base);
	}
	if (!ok)
		fuzz_check_message(who, err);
}

static void checked_table(const struct acpi_sdt_header *h)
{
	char err[160];
	bool ok = true;
	const char *who = "";
	if (!memcmp(h->signature, "APIC", 4)) {
		static struct acpi_madt_result m;
		who = "acpi_madt_walk";
		ok = acpi_madt_walk(h, &m, err, sizeof(err));
		if (ok && (m.nr_cpus > ARRAY_SIZE(m.apic_ids) || m.nr_ioapics > ACPI_IOAPIC_MAX))
			fuzz_bug("acpi_madt_walk: %u CPUs, %u I/O APICs stored", m.nr_cpus,
				 m.nr_ioapics);
	} else if (!memcmp(h->signature, "FACP", 4)) {
		struct acpi_fadt_info f;
		who = "acpi_fadt_parse";
		ok = acpi_fadt_parse(h, &f, err, sizeof(err));
	} else if (!memcmp(h->signature, "HPET", 4)) {
		phys_addr_t base;
		who = "acpi_hpet_parse";
		ok = acpi_hpet_parse(h, &base, err, sizeof(err));
		if (ok && (!base || base & 0x3ff))
			fuzz_bug("acpi_hpet_parse: accepted base %#llx", (unsigned long long)base);
	} else if (!memcmp(h->signature, "MCFG", 4)) {
		struct pci_host host;
		who = "pci_host_from_mcfg";
		ok = pci_host_from_mcfg(h, &host, err, sizeof(err));
		if (ok && (host.bus_start > host.bus_end || host.bus_end > 255 || !host.ecam ||
			   host.ecam % MiB(1)))
			fuzz_bug("pci_host_from_mcfg: accepted ECAM %#llx buses %u-%u",
				 (unsigned long long)host.ecam, host.bus_start, host.bus_end);
	} else if (!memcmp(h->signature, "DSDT", 4) || !memcmp(h->signature, "SSDT", 4)) {
		uint8_t a, b;
		who = "acpi_aml_find_s5";
		ok = acpi_aml_find_s5((const uint8_t *)(h + 1), h->length - HDR, &a, &b, err,
				      sizeof(err));
		if (ok && (a > 7 || b > 7))
			fuzz_bug("acpi_aml_find_s5: SLP_TYP %u/%u past 7", a, b);
	}
	if (!ok)
		fuzz_check_message(who, err);
	arm_table(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < HDR)
		return 0;
	if (!memcmp(data, "DMAR", 4)) {
		uint8_t *t = malloc(size);
		if (!t)
			abort();
		memcpy(t, data, size);
		dmar(t, size);
		free(t);
		return 0;
	}
	uint32_t len;
	memcpy(&len, data + 4, 4);
	if (len < HDR || len > ACPI_TABLE_MAX)
		return 0; /* acpi_map_table refuses it before any decoder sees it */
	uint8_t *t = calloc(1, len);
	if (!t)
		abort();
	memcpy(t, data, MIN((size_t)len, size));
	checked_table((const struct acpi_sdt_header *)t);
	free(t);
	return 0;
}
