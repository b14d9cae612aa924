// SPDX-License-Identifier: BSD-2-Clause
/*
 * boot_info suite: what the boot protocol told the kernel matches what the
 * host asked QEMU for. The runner passes `test.mem=<MEM>` and
 * `test.cpus=<CPUS>` on the command line, so these tests compare against
 * the real -m and -smp values rather than constants (the keys are declared
 * in tests/ktest.c; the command line's own rules are the cmdline suite's).
 */
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "tests/ktest.h"

static void memory_map_covers_ram(struct ktest *t)
{
	uint64_t expected;
	if (!cmdline_get_u64("test.mem", &expected))
		KTEST_SKIP(t, "no test.mem= on the command line");
	uint64_t usable = boot_info_usable_bytes();
	/* Firmware keeps a little (BIOS area, ACPI, EFI runtime): within 6%, never more. */
	EXPECT_LE(t, usable, expected);
	EXPECT_GE(t, usable, expected - expected * 6 / 100);
	ktest_log(t, "usable %lu KiB of %lu KiB", (unsigned long)(usable >> 10),
		  (unsigned long)(expected >> 10));
}

static void memory_map_sorted_and_disjoint(struct ktest *t)
{
	ASSERT_GT(t, boot_info.nr_mem, 0u);
	for (unsigned i = 1; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *a = &boot_info.mem[i - 1], *b = &boot_info.mem[i];
		EXPECT_LE(t, a->base, b->base);
		if (a->type == BOOT_MEM_USABLE && b->type == BOOT_MEM_USABLE)
			EXPECT_LE(t, a->base + a->size, b->base);
	}
}

static bool range_inside_usable(phys_addr_t base, uint64_t size)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type == BOOT_MEM_USABLE && base >= r->base && base + size <= r->base + r->size)
			return true;
	}
	return false;
}

static void kernel_image_reserved(struct ktest *t)
{
	ASSERT_LT(t, boot_info.kernel_start, boot_info.kernel_end);
	EXPECT_TRUE(t, range_inside_usable(boot_info.kernel_start,
					   boot_info.kernel_end - boot_info.kernel_start));
	bool found = false;
	for (unsigned i = 0; i < boot_info.nr_reserved; i++)
		if (boot_info.reserved[i].base <= boot_info.kernel_start &&
		    boot_info.reserved[i].base + boot_info.reserved[i].size >= boot_info.kernel_end)
			found = true;
	EXPECT_TRUE(t, found);
}

static const struct ktest_case boot_info_cases[] = {
	KTEST_CASE(memory_map_covers_ram),
	KTEST_CASE(memory_map_sorted_and_disjoint),
	KTEST_CASE(kernel_image_reserved),
	KTEST_END,
};
KTEST_SUITE(boot_info_suite, "boot_info", boot_info_cases);
