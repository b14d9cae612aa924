// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib suite: the freestanding helpers every other part relies on:
 * formatting (bounded, always terminated), glob matching (the suite filter)
 * and number parsing (the command line).
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"

static void snprintf_formats(struct ktest *t)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%d|%u|%x|%#lx|%5s|%-3d|%03u", -42, 7u, 255u, 0xabcUL, "ab", 1, 9u);
	EXPECT_STREQ(t, buf, "-42|7|ff|0xabc|   ab|1  |009");
	snprintf(buf, sizeof(buf), "%ld %lu %c %%", (long)INT64_MIN, (unsigned long)UINT64_MAX, 'z');
	EXPECT_STREQ(t, buf, "-9223372036854775808 18446744073709551615 z %");
	const char *volatile null_string = NULL; /* volatile: hide it from the format checker */
	snprintf(buf, sizeof(buf), "%.3s|%s", "abcdef", null_string);
	EXPECT_STREQ(t, buf, "abc|(null)");
}

static void snprintf_truncates(struct ktest *t)
{
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	int n = snprintf(buf, 5, "%s", "123456789");
	EXPECT_EQ(t, n, 9); /* the length it would have had */
	EXPECT_STREQ(t, buf, "1234");
	EXPECT_EQ(t, buf[5], 'X'); /* nothing written past size */
}

static void glob_matches(struct ktest *t)
{
	EXPECT_TRUE(t, glob_match("*", "anything"));
	EXPECT_TRUE(t, glob_match("*", ""));
	EXPECT_TRUE(t, glob_match("ip?", "ipi"));
	EXPECT_TRUE(t, glob_match("a*c*e", "abcde"));
	EXPECT_TRUE(t, glob_match("*_test", "boot_info_test"));
	EXPECT_FALSE(t, glob_match("ipi", "ipis"));
	EXPECT_FALSE(t, glob_match("a*c", "abd"));
	EXPECT_FALSE(t, glob_match("?", ""));
	/* The suite filter takes a comma-separated list of globs. */
	EXPECT_TRUE(t, glob_match_list("acpi,tlb", "tlb"));
	EXPECT_TRUE(t, glob_match_list("acpi,t*", "tlb"));
	EXPECT_TRUE(t, glob_match_list("acpi", "acpi"));
	EXPECT_FALSE(t, glob_match_list("acpi,tlb", "acpi,tlb"));
	EXPECT_FALSE(t, glob_match_list("acpi,tl", "tlb"));
	EXPECT_FALSE(t, glob_match_list("acp,", "acpi"));
	EXPECT_TRUE(t, glob_match_list("ipi,", ""));
}

static void parse_numbers(struct ktest *t)
{
	uint64_t v = 0;
	EXPECT_TRUE(t, parse_u64("0", &v));
	EXPECT_EQ(t, v, 0u);
	EXPECT_TRUE(t, parse_u64("0x1F", &v));
	EXPECT_EQ(t, v, 31u);
	EXPECT_TRUE(t, parse_u64("18446744073709551615", &v));
	EXPECT_EQ(t, v, UINT64_MAX);
	EXPECT_FALSE(t, parse_u64("18446744073709551616", &v)); /* overflow */
	EXPECT_FALSE(t, parse_u64("12a", &v));
	EXPECT_FALSE(t, parse_u64("", &v));
	EXPECT_FALSE(t, parse_u64("0x", &v));
}

static void memmove_overlaps(struct ktest *t)
{
	char s[] = "abcdef";
	memmove(s + 1, s, 4);
	EXPECT_STREQ(t, s, "aabcdf");
	char u[] = "abcdef";
	memmove(u, u + 2, 4);
	EXPECT_STREQ(t, u, "cdefef");
}

static const struct ktest_case lib_cases[] = {
	KTEST_CASE(snprintf_formats), KTEST_CASE(snprintf_truncates), KTEST_CASE(glob_matches),
	KTEST_CASE(parse_numbers),    KTEST_CASE(memmove_overlaps),   KTEST_END,
};
KTEST_SUITE(lib_suite, "lib", lib_cases);
