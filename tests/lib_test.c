// SPDX-License-Identifier: BSD-2-Clause
/*
 * lib suite: the freestanding helpers every other part relies on:
 * formatting (bounded, always terminated), glob matching (the suite filter),
 * number parsing (the command line), and memset/memcpy, which move words
 * between byte edges (lib/string.c): every length and alignment is checked.
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

#define MEM_GUARD 16
#define MEM_LEN	  72 /* past several words at every alignment */
static unsigned char mem_buf[MEM_GUARD + 8 + MEM_LEN + MEM_GUARD] __attribute__((aligned(8)));
static unsigned char mem_src[8 + MEM_LEN] __attribute__((aligned(8)));

/* The byte mem_buf[i] should hold: `fill` in [at, at + n), its index's pattern elsewhere. */
static unsigned char mem_want(size_t i, size_t at, size_t n, int src_off, bool copy)
{
	if (i < at || i >= at + n)
		return (unsigned char)(0xa0 ^ i);
	return copy ? mem_src[src_off + (i - at)] : 0x5c;
}

/* Returns the number of wrong bytes after one memset (copy false) or memcpy. */
static unsigned mem_one(size_t at, size_t n, int src_off, bool copy)
{
	for (size_t i = 0; i < sizeof(mem_buf); i++)
		mem_buf[i] = (unsigned char)(0xa0 ^ i);
	void *ret =
	    copy ? memcpy(mem_buf + at, mem_src + src_off, n) : memset(mem_buf + at, 0x5c, n);
	unsigned wrong = ret != mem_buf + at;
	for (size_t i = 0; i < sizeof(mem_buf); i++)
		wrong += mem_buf[i] != mem_want(i, at, n, src_off, copy);
	return wrong;
}

static void memset_memcpy_every_length_and_alignment(struct ktest *t)
{
	for (size_t i = 0; i < sizeof(mem_src); i++)
		mem_src[i] = (unsigned char)(i * 7 + 1);
	unsigned bad = 0, cases = 0;
	for (size_t n = 0; n <= MEM_LEN; n++)
		for (size_t d = 0; d < 8; d++) {
			bad += mem_one(MEM_GUARD + d, n, 0, false);
			cases++;
			for (int s = 0; s < 8; s++, cases++)
				bad += mem_one(MEM_GUARD + d, n, s, true);
		}
	EXPECT_EQ(t, bad, 0u);
	ktest_log(t, "%u memset/memcpy cases, every length 0-%u at every alignment", cases,
		  MEM_LEN);
}

static const struct ktest_case lib_cases[] = {
    KTEST_CASE(snprintf_formats),
    KTEST_CASE(snprintf_truncates),
    KTEST_CASE(glob_matches),
    KTEST_CASE(parse_numbers),
    KTEST_CASE(memmove_overlaps),
    KTEST_CASE(memset_memcpy_every_length_and_alignment),
    KTEST_END,
};
KTEST_SUITE(lib_suite, "lib", lib_cases);
