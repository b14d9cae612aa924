// SPDX-License-Identifier: BSD-2-Clause
/*
 * efi suite: the aarch64 boot took the path the configuration asked for,
 * and under UEFI the EFI stub's hand-over holds. The Makefile passes
 * `test.boot=uefi` (FIRMWARE=uefi: edk2, GRUB, the stub) or `test.boot=image`
 * (QEMU -kernel); under UEFI that word reaches the kernel only through the
 * stub (GRUB's LoadOptions into the boot block; /chosen/bootargs is
 * ignored), so reading it proves the block's command line was used.
 *
 * Guarded by `efi.break=runtime_usable` (the stub lists the firmware's
 * runtime-services RAM as usable: firmware_ram_never_usable must fail) and
 * by `efi.break=magic|version` (a named panic before any test runs).
 */
#include "boot/efi_block.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "lib/string.h"
#include "tests/ktest.h"

CMDLINE_PARAM(test_boot_param, .key = "test.boot", .kind = CMDLINE_ENUM, .values = "image|uefi",
	      .def = "none", .fallback = "none (the efi suite's path check skips)",
	      .help = "tests: how the aarch64 kernel was booted (QEMU -kernel Image, or UEFI)");

/* 1: booted through UEFI, 0: as a raw Image; skips the case when the key is absent. */
static bool booted_uefi(struct ktest *t)
{
	char how[8];
	if (!cmdline_get("test.boot", how, sizeof(how)))
		KTEST_SKIP(t, "no test.boot= on the command line");
	return strcmp(how, "uefi") == 0;
}

static void boot_path_matches_the_configuration(struct ktest *t)
{
	if (!booted_uefi(t)) {
		EXPECT_FALSE(t, boot_info.efi_memory_map);
		EXPECT_EQ(t, boot_info.efi_system_table, 0ul);
		return;
	}
	EXPECT_TRUE(t, boot_info.efi_memory_map);
	EXPECT_NE(t, boot_info.efi_system_table, 0ul);
	EXPECT_STREQ(t, boot_info.loader_name, "UEFI (Pagoda EFI stub)");
	/* GRUB's BOOT_IMAGE=/pagoda word was dropped by the stub */
	EXPECT_EQ(t, strstr(boot_info.cmdline, "BOOT_IMAGE") == NULL, true);
	EXPECT_NE(t, boot_info.nr_mem, 0u);
	ktest_log(t, "%u usable ranges from the EFI map; cmdline '%s'", boot_info.nr_mem,
		  boot_info.cmdline);
}

static void firmware_ram_never_usable(struct ktest *t)
{
	unsigned n, overlaps = 0;
	const struct efi_block_range *kept;

	if (!booted_uefi(t))
		KTEST_SKIP(t, "booted as a raw Image: no EFI memory map");
	kept = efi_boot_kept(&n);
	/* edk2 always keeps runtime-services code and data in RAM */
	ASSERT_GT(t, n, 0u);
	for (unsigned k = 0; k < n; k++)
		for (unsigned i = 0; i < boot_info.nr_mem; i++) {
			const struct boot_mem_region *r = &boot_info.mem[i];
			if (r->type == BOOT_MEM_USABLE && r->base < kept[k].base + kept[k].size &&
			    kept[k].base < r->base + r->size) {
				ktest_log(t, "usable %#lx+%#lx overlaps firmware RAM %#lx+%#lx",
					  (unsigned long)r->base, (unsigned long)r->size,
					  (unsigned long)kept[k].base, (unsigned long)kept[k].size);
				overlaps++;
			}
		}
	EXPECT_EQ(t, overlaps, 0u);
}

static const struct ktest_case efi_cases[] = {
    KTEST_CASE(boot_path_matches_the_configuration),
    KTEST_CASE(firmware_ram_never_usable),
    KTEST_END,
};
KTEST_SUITE(efi_suite, "efi", efi_cases);
