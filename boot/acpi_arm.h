/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ACPI-only boot on aarch64 (UEFI firmware that gives ACPI tables and no
 * device tree, e.g. QEMU virt with acpi=on): the tables that replace the
 * device tree's description of the platform. The parsers live in
 * boot/acpi_arm.c; when that file is not part of the tree the build says
 * so (ACPI_ARM_BUILT is 0) and the boot stops with a named panic instead.
 */
#ifndef PAGODA_BOOT_ACPI_ARM_H
#define PAGODA_BOOT_ACPI_ARM_H

#include "kernel/types.h"

#ifndef ACPI_ARM_BUILT
#define ACPI_ARM_BUILT 0
#endif

/*
 * Reads the ACPI tables reached from the RSDP at `rsdp` (physical, ACPI
 * 2.0+, reachable with arch_phys_to_virt) and fills what fdt_boot_parse
 * fills from a device tree: boot_info's CPUs (MADT GICC entries; the one
 * whose MPIDR is `boot_mpidr` is the boot CPU) and struct fdt_platform
 * (GIC distributor, CPU interface or redistributors and GICv2m frame from
 * the MADT, the console PL011 from the SPCR, the timer PPIs from the GTDT,
 * the PSCI conduit from the FADT's ARM boot flags; the SMMUv3 from the
 * IORT). Memory is not its business: under UEFI it comes from the EFI
 * memory map. Runs once on the boot CPU before any other CPU starts. A
 * malformed table gives a one-line message naming the table and field;
 * one the boot cannot go on without (no MADT, no GIC) panics the same way.
 */
void acpi_arm_boot_parse(phys_addr_t rsdp, uint64_t boot_mpidr);

#endif
