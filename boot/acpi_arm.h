/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Booting an Arm machine from ACPI alone (UEFI with no device tree): the
 * tables fill the same boot_info and struct fdt_platform a DTB would, so
 * everything after boot does not care which one the firmware gave.
 */
#ifndef PAGODA_BOOT_ACPI_ARM_H
#define PAGODA_BOOT_ACPI_ARM_H

#include "kernel/types.h"

/*
 * Reads the tables from the RSDP at `rsdp` (physical): CPUs (by MPIDR) and
 * the GIC from the MADT, PSCI from the FADT, the console UART from the
 * SPCR, the timer's PPIs from the GTDT. `boot_mpidr` marks the boot CPU.
 * Memory and the command line are not in ACPI: the caller fills them
 * (from the EFI memory map and LoadOptions). Panics naming the table and
 * field when a table the machine cannot run without (MADT, GTDT) is
 * missing or malformed; a malformed SPCR keeps the early console, a FADT
 * without PSCI leaves the secondary CPUs off, each with one line.
 */
void acpi_arm_boot_parse(phys_addr_t rsdp, uint64_t boot_mpidr);

#endif
