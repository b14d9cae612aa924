// SPDX-License-Identifier: BSD-2-Clause
/*
 * acpi_boot suite (aarch64): when the firmware gave ACPI tables and no
 * device tree, what the kernel runs on (CPUs, GIC, console, PSCI) is what
 * the tables say; skipped on a device-tree boot.
 */
#include "boot/fdt_platform.h"
#include "kernel/acpi/acpi_arm.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "tests/ktest.h"

/* Booted from ACPI alone: the MADT lists the CPUs that run and the GIC the kernel drives. */
static void acpi_boot_matches_the_machine(struct ktest *t)
{
	if (boot_info.dtb || !boot_info.acpi_rsdp)
		KTEST_SKIP(t, "booted from a device tree, not from ACPI alone");
	static struct acpi_madt_gic g;
	char err[160] = "";
	const struct acpi_sdt_header *madt = acpi_find_table("APIC");
	ASSERT_TRUE(t, madt != NULL);
	ASSERT_TRUE(t, acpi_madt_gic_walk(madt, &g, err, sizeof(err)));
	uint64_t want;
	if (cmdline_get_u64("test.cpus", &want))
		EXPECT_EQ(t, (uint64_t)g.nr_cpus, want);
	EXPECT_EQ(t, g.gicd_base, fdt_platform.gicd_base);
	EXPECT_EQ(t, g.gic_version >= 3 ? 3u : 2u, fdt_platform.gic_version);
	EXPECT_NE(t, fdt_platform.uart_base, 0u); /* the SPCR named the console */
	EXPECT_NE(t, (unsigned)fdt_platform.psci, (unsigned)PSCI_NONE);
}

static const struct ktest_case acpi_boot_cases[] = {
	KTEST_CASE(acpi_boot_matches_the_machine),
	KTEST_END,
};
KTEST_SUITE(acpi_boot_suite, "acpi_boot", acpi_boot_cases);
