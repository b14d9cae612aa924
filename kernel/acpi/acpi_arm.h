/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ACPI tables an Arm machine describes itself with when it has no
 * device tree (UEFI with `-machine virt,acpi=on`, Arm servers): the MADT's
 * GIC entries (CPUs by MPIDR, distributor, redistributors, CPU interface,
 * MSI frames, ITSs), the SPCR (console UART), the GTDT (generic timer
 * interrupts), the FADT's ARM_BOOT_ARCH (PSCI and its conduit) and the
 * IORT (which PCI requester ids reach which SMMUv3 stream ids and ITS
 * device ids).
 *
 * Invariant: every function here is pure over the bytes it is given,
 * never reads past the table's length, and reports a malformed table as
 * false plus one line in err naming the table, the entry (by offset) and
 * the field. boot/acpi_arm.c turns the results into boot_info and
 * struct fdt_platform; the tests feed synthetic tables.
 */
#ifndef PAGODA_KERNEL_ACPI_ACPI_ARM_H
#define PAGODA_KERNEL_ACPI_ACPI_ARM_H

#include "kernel/acpi/acpi.h"

#define ACPI_ARM_CPUS_MAX 64
#define ACPI_GIC_ITS_MAX  4
#define ACPI_GIC_MSI_MAX  4

struct acpi_gic_its {
	uint32_t id; /* the ITS id an IORT ITS group names */
	phys_addr_t base;
};

struct acpi_gic_msi_frame {
	uint32_t id;
	phys_addr_t base;
	bool spi_override; /* spi_base/spi_count replace the frame's MSI_TYPER */
	uint16_t spi_count, spi_base;
};

/* What acpi_madt_gic_walk() found. */
struct acpi_madt_gic {
	uint64_t mpidrs[ACPI_ARM_CPUS_MAX]; /* enabled or online-capable CPUs, table order */
	unsigned nr_cpus;
	unsigned nr_cpus_unstored; /* enabled past ACPI_ARM_CPUS_MAX: counted, never started */
	unsigned nr_disabled;
	unsigned gic_version; /* 1-4 (a GICD that says 0 is decided by GICR entries) */
	phys_addr_t gicd_base;
	phys_addr_t gicc_base; /* GICv2: the CPU interface every GICC entry names */
	phys_addr_t gicr_base; /* GICv3: the first redistributor discovery range */
	uint64_t gicr_length;
	unsigned nr_gicr_ranges;
	struct acpi_gic_its its[ACPI_GIC_ITS_MAX];
	unsigned nr_its;
	struct acpi_gic_msi_frame msi[ACPI_GIC_MSI_MAX];
	unsigned nr_msi;
};

/*
 * Walks the GIC entries of a MADT (types 0xB-0xF; others are skipped).
 * Malformed: an entry shorter than its type's minimum or running past the
 * table, no GICD or two, a GIC version above 4, an MPIDR with bits outside
 * the affinity fields or listed twice, GICv2 CPU interfaces at different
 * addresses, a GICv3 with no GICR range (per-CPU GICR addresses are not
 * supported), a zero or misaligned base, more ITSs or MSI frames than kept.
 */
bool acpi_madt_gic_walk(const struct acpi_sdt_header *madt, struct acpi_madt_gic *out, char *err,
			size_t err_size);

#define ACPI_SPCR_PL011	    0x03
#define ACPI_SPCR_SBSA_UART 0x0e
/* The console UART of an SPCR: a PL011 (or SBSA generic UART) in memory space. */
bool acpi_spcr_parse(const struct acpi_sdt_header *spcr, phys_addr_t *uart, uint8_t *interface,
		     char *err, size_t err_size);

/* The generic timer's non-secure EL1 physical and EL1 virtual PPIs (INTID - 16). */
bool acpi_gtdt_parse(const struct acpi_sdt_header *gtdt, unsigned *ppi_phys, unsigned *ppi_virt,
		     char *err, size_t err_size);

#define ACPI_ARM_PSCI_COMPLIANT 1u
#define ACPI_ARM_PSCI_USE_HVC	2u
/* The FADT's ARM_BOOT_ARCH flags (ACPI 5.1+); false when the FADT is too short to have them. */
bool acpi_fadt_arm_boot(const struct acpi_sdt_header *fadt, uint16_t *flags, char *err,
			size_t err_size);

/* ---- IORT ----------------------------------------------------------------------------- */

#define ACPI_IORT_MAPS_MAX 8

/* Requester ids [rid_base, rid_base + count) -> out_base + (rid - rid_base). */
struct acpi_iort_map {
	uint32_t rid_base, count, out_base;
};

/* What acpi_iort_parse() found for PCI segment `segment`. */
struct acpi_iort {
	bool has_smmu; /* a root-complex mapping leads to an SMMUv3 node */
	phys_addr_t smmu_base;
	uint32_t smmu_event_gsiv, smmu_gerr_gsiv;
	unsigned smmu_node_offset;
	struct acpi_iort_map rid_to_sid[ACPI_IORT_MAPS_MAX]; /* through the SMMUv3 */
	unsigned nr_rid_to_sid;
	/* Requester id -> ITS device id (straight, or through the SMMU's own mapping). */
	struct acpi_iort_map rid_to_devid[ACPI_IORT_MAPS_MAX];
	unsigned nr_rid_to_devid;
	uint32_t its_id; /* the first ITS of the group the device ids go to */
	bool has_its;
};

/*
 * Decodes an IORT for the root complex of PCI segment `segment`: every node
 * header is bounds-checked, every output reference must land on a node
 * start, and a mapping must not wrap or point at a node of the wrong type.
 * Only the root complex's mappings (and, behind an SMMUv3, that node's
 * mappings to an ITS group) are followed. False, err set, when malformed
 * or when the root complex of `segment` is not there.
 */
bool acpi_iort_parse(const struct acpi_sdt_header *iort, uint32_t segment, struct acpi_iort *out,
		     char *err, size_t err_size);
/*
 * The firmware's IORT, decoded for PCI segment `segment`: 1 when there is
 * one (*out filled), 0 when the machine has no ACPI or no IORT, -1 when it
 * is malformed (its length past what the firmware maps there, a bad
 * checksum, or acpi_iort_parse's reasons; one line in err). Used by the
 * SMMUv3 and ITS drivers, which then go on without the IORT's ids.
 */
int acpi_iort_read(uint32_t segment, struct acpi_iort *out, char *err, size_t err_size);

#endif
