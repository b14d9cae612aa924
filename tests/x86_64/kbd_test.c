// SPDX-License-Identifier: BSD-2-Clause
/*
 * kbd suite: the PS/2 keyboard's probe (arch/x86_64/ps2kbd.c) on the
 * machine itself. QEMU's q35 has an i8042 and its FADT says so; the probe
 * must then have found it, and must agree with the FADT whichever way it
 * points. (The translation is host-tested: tests/host/kbd/; typing through
 * it is make screen-console-check.)
 */
#include "arch/x86_64/ps2kbd.h"
#include "kernel/acpi/acpi.h"
#include "tests/ktest.h"

static void probe_agrees_with_the_fadt(struct ktest *t)
{
	const struct acpi_sdt_header *h = acpi_find_table("FACP");
	struct acpi_fadt_info f;
	char err[128];
	if (!h || !acpi_fadt_parse(h, &f, err, sizeof(err)) || f.i8042 == ACPI_8042_UNSTATED)
		KTEST_SKIP(t, "the FADT does not say whether there is an 8042");
	EXPECT_EQ(t, ps2kbd_present(), f.i8042 == ACPI_8042_PRESENT);
	/* The keyboard's own queue: no key was pressed, so nothing is pending. */
	EXPECT_FALSE(t, ps2kbd_queued());
}

static const struct ktest_case kbd_cases[] = {
	KTEST_CASE(probe_agrees_with_the_fadt),
	KTEST_END,
};
KTEST_SUITE(kbd_suite, "kbd", kbd_cases);
