// SPDX-License-Identifier: BSD-2-Clause
/*
 * boot_info suite: what the boot protocol told the kernel matches what the
 * host asked QEMU for. The runner passes `test.mem=<MEM>` and
 * `test.cpus=<CPUS>` on the command line, so these tests compare against
 * the real -m and -smp values rather than constants.
 */
#include "kernel/boot_info.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* Parses QEMU-style sizes: 128M, 2G, 512 (MiB). */
static bool parse_mem_size(const char *s, uint64_t *bytes)
{
	char num[32];
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof(num))
		return false;
	memcpy(num, s, n + 1);
	uint64_t shift = 20;
	char last = num[n - 1];
	if (last == 'M' || last == 'm' || last == 'G' || last == 'g') {
		shift = (last == 'G' || last == 'g') ? 30 : 20;
		num[n - 1] = 0;
	}
	uint64_t v;
	if (!parse_u64(num, &v))
		return false;
	*bytes = v << shift;
	return true;
}

static void memory_map_covers_ram(struct ktest *t)
{
	char mem[32];
	uint64_t expected;
	if (!cmdline_get("test.mem", mem, sizeof(mem)))
		KTEST_SKIP(t, "no test.mem= on the command line");
	ASSERT_TRUE(t, parse_mem_size(mem, &expected));
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

static void cmdline_roundtrip(struct ktest *t)
{
	char value[64];
	uint64_t cpus;
	/* The runner put these there: each must come back exactly. */
	ASSERT_TRUE(t, cmdline_get("test.cpus", value, sizeof(value)));
	EXPECT_TRUE(t, parse_u64(value, &cpus));
	EXPECT_TRUE(t, cmdline_get_u64("test.cpus", &cpus));
	EXPECT_GE(t, cpus, 1u);
	EXPECT_TRUE(t, cmdline_has("ktest"));
	/* A key that is a prefix of another must not match it. */
	EXPECT_FALSE(t, cmdline_has("test.cpu"));
	EXPECT_FALSE(t, cmdline_has("no.such.key"));
	/* A truncated copy is still terminated. */
	char tiny[3];
	ASSERT_TRUE(t, cmdline_get("test.mem", tiny, sizeof(tiny)));
	EXPECT_LE(t, strlen(tiny), 2u);
}

static void cmdline_parsing_rules(struct ktest *t)
{
	char saved[BOOT_CMDLINE_MAX];
	char value[32];
	memcpy(saved, boot_info.cmdline, sizeof(saved));
	strlcpy(boot_info.cmdline, "  a=1 bare  b=two=2 a=3 empty= ", sizeof(boot_info.cmdline));
	EXPECT_TRUE(t, cmdline_get("a", value, sizeof(value)));
	EXPECT_STREQ(t, value, "1"); /* first occurrence wins */
	EXPECT_TRUE(t, cmdline_get("bare", value, sizeof(value)));
	EXPECT_STREQ(t, value, "");
	EXPECT_TRUE(t, cmdline_get("b", value, sizeof(value)));
	EXPECT_STREQ(t, value, "two=2");
	EXPECT_TRUE(t, cmdline_get("empty", value, sizeof(value)));
	EXPECT_STREQ(t, value, "");
	EXPECT_FALSE(t, cmdline_has("two"));
	memcpy(boot_info.cmdline, saved, sizeof(saved));
}

static const struct ktest_case boot_info_cases[] = {
	KTEST_CASE(memory_map_covers_ram),
	KTEST_CASE(memory_map_sorted_and_disjoint),
	KTEST_CASE(kernel_image_reserved),
	KTEST_CASE(cmdline_roundtrip),
	KTEST_CASE(cmdline_parsing_rules),
	KTEST_END,
};
KTEST_SUITE(boot_info_suite, "boot_info", boot_info_cases);
