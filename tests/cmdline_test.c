// SPDX-License-Identifier: BSD-2-Clause
/*
 * cmdline suite: the command-line checker and look-ups, fed synthetic
 * lines, so every rule is tested without rebooting.
 *
 * Most cases use a private table of one key per kind (never registered:
 * it is not in the .cmdline_params section, so the kernel's own table is
 * untouched); a few hold the kernel's real table to the messages the
 * documentation promises (`tlb=bogus`, `mem=abc`) and check that every
 * key the kernel reads is declared once, with a default it can hand out.
 *
 * Invariant checked throughout: every word with a problem gives exactly
 * one finding, in line order, and a word reported as bad reads as absent.
 */
#include "kernel/cmdline.h"
#include "lib/string.h"
#include "tests/ktest.h"

static const struct cmdline_param p_flag = {
    .key = "f", .kind = CMDLINE_FLAG, .def = "off", .help = "a flag"};
static const struct cmdline_param p_num = {
    .key = "n", .kind = CMDLINE_U64, .min = 1, .max = 1000, .def = "5", .help = "a number"};
static const struct cmdline_param p_size = {.key = "s",
					    .kind = CMDLINE_SIZE,
					    .min = MiB(16),
					    .def = "all",
					    .fallback = "all memory",
					    .help = "a size"};
static const struct cmdline_param p_mib = {
    .key = "m", .kind = CMDLINE_SIZE, .unit = MiB(1), .def = "none", .help = "MiB by default"};
static const struct cmdline_param p_enum = {
    .key = "mode", .kind = CMDLINE_ENUM, .values = "gen|ipi|mmgen", .def = "gen", .help = "words"};
static const struct cmdline_param p_globs = {
    .key = "g", .kind = CMDLINE_GLOBS, .bare_ok = true, .def = "*", .help = "globs"};
static const struct cmdline_param p_str = {
    .key = "name", .kind = CMDLINE_STRING, .def = "none", .help = "text"};
/* For the look-up rules: "ab" is a prefix of a word that is not it. */
static const struct cmdline_param p_a = {.key = "a", .kind = CMDLINE_STRING, .help = "a"};
static const struct cmdline_param p_ab = {.key = "ab", .kind = CMDLINE_STRING, .help = "ab"};
static const struct cmdline_param p_b = {.key = "b", .kind = CMDLINE_STRING, .help = "b"};
static const struct cmdline_param p_empty = {.key = "empty", .kind = CMDLINE_STRING, .help = "e"};

static const struct cmdline_param *const test_params[] = {
    &p_flag, &p_num, &p_size, &p_mib, &p_enum, &p_globs, &p_str, &p_a, &p_ab, &p_b, &p_empty,
};
static const struct cmdline_table test_table = {test_params, ARRAY_SIZE(test_params)};

#define MAX_FINDINGS 8
static struct {
	unsigned n;
	int problem[MAX_FINDINGS]; /* enum cmdline_problem, as int to compare with its constants */
	char word[MAX_FINDINGS][128];
	char msg[MAX_FINDINGS][384];
} found;

static void collect(void *ctx, enum cmdline_problem problem, const char *word, const char *message)
{
	(void)ctx;
	if (found.n < MAX_FINDINGS) {
		found.problem[found.n] = (int)problem;
		strlcpy(found.word[found.n], word, sizeof(found.word[0]));
		strlcpy(found.msg[found.n], message, sizeof(found.msg[0]));
	}
	found.n++;
}

/* Checks `line` against `table`; the findings land in `found`. */
static unsigned check_with(const struct cmdline_table *table, const char *line)
{
	memset(&found, 0, sizeof(found));
	unsigned n = cmdline_check_line(table, line, collect, NULL);
	/* The count returned and the reports made must be the same findings. */
	return n == found.n ? n : ~0u;
}

static unsigned check(const char *line)
{
	return check_with(&test_table, line);
}

/* Parses `value` (NULL: the key bare) for p; *num gets the number when good. */
static bool good(const struct cmdline_param *p, const char *value, uint64_t *num)
{
	return cmdline_parse_value(p, value, value ? strlen(value) : 0, num);
}

static void flag_takes_no_value(struct ktest *t)
{
	EXPECT_TRUE(t, good(&p_flag, NULL, NULL));
	EXPECT_FALSE(t, good(&p_flag, "1", NULL));
	EXPECT_FALSE(t, good(&p_flag, "", NULL));
	EXPECT_EQ(t, check("f"), 0u);
	ASSERT_EQ(t, check("f=1"), 1u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_BAD_VALUE);
	EXPECT_STREQ(t, found.word[0], "f=1");
	EXPECT_STREQ(t, found.msg[0],
		     "'f=1': f expects no value (it is a flag); using the default (off)");
	/* Reported as ignored, so it must read as off. */
	EXPECT_FALSE(t, cmdline_lookup(&test_table, "f=1", "f", NULL, 0));
	EXPECT_TRUE(t, cmdline_lookup(&test_table, "f", "f", NULL, 0));
}

static void number_in_range(struct ktest *t)
{
	uint64_t v = 0;
	EXPECT_TRUE(t, good(&p_num, "5", &v));
	EXPECT_EQ(t, v, 5u);
	EXPECT_TRUE(t, good(&p_num, "0x10", &v));
	EXPECT_EQ(t, v, 16u);
	EXPECT_TRUE(t, good(&p_num, "1000", &v));
	EXPECT_EQ(t, v, 1000u);
	EXPECT_TRUE(t, good(&p_num, "1", NULL));
	EXPECT_FALSE(t, good(&p_num, "0", NULL));    /* below min */
	EXPECT_FALSE(t, good(&p_num, "1001", NULL)); /* above max */
	EXPECT_FALSE(t, good(&p_num, "abc", NULL));
	EXPECT_FALSE(t, good(&p_num, "12a", NULL));
	EXPECT_FALSE(t, good(&p_num, "-1", NULL));
	EXPECT_FALSE(t, good(&p_num, "0x", NULL));
	EXPECT_FALSE(t, good(&p_num, "", NULL));   /* empty value */
	EXPECT_FALSE(t, good(&p_num, NULL, NULL)); /* bare */
	/* 2^64 overflows; 2^64 - 1 parses but is out of range. */
	EXPECT_FALSE(t, good(&p_num, "18446744073709551616", NULL));
	EXPECT_FALSE(t, good(&p_num, "18446744073709551615", NULL));
	EXPECT_FALSE(t, good(&p_num, "000000000000000000000000001", NULL));
	ASSERT_EQ(t, check("n=0"), 1u);
	EXPECT_STREQ(t, found.msg[0],
		     "'n=0': n expects a number from 1 to 1000; using the default (5)");
	ASSERT_EQ(t, check("n="), 1u);
	EXPECT_STREQ(t, found.msg[0],
		     "'n=': n expects a number from 1 to 1000; using the default (5)");
	ASSERT_EQ(t, check("n"), 1u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_BAD_VALUE);
	EXPECT_FALSE(t, cmdline_lookup(&test_table, "n=0", "n", NULL, 0));
}

static void size_suffixes(struct ktest *t)
{
	uint64_t v = 0;
	EXPECT_TRUE(t, good(&p_size, "64M", &v));
	EXPECT_EQ(t, v, MiB(64));
	EXPECT_TRUE(t, good(&p_size, "64m", &v));
	EXPECT_EQ(t, v, MiB(64));
	EXPECT_TRUE(t, good(&p_size, "1G", &v));
	EXPECT_EQ(t, v, GiB(1));
	EXPECT_TRUE(t, good(&p_size, "16384K", &v));
	EXPECT_EQ(t, v, MiB(16));
	EXPECT_TRUE(t, good(&p_size, "17179869184", &v)); /* bytes */
	EXPECT_EQ(t, v, GiB(16));
	EXPECT_TRUE(t, good(&p_size, "0x40000000", &v));
	EXPECT_EQ(t, v, GiB(1));
	/* The largest G count that fits in 64 bits, and the first that does not. */
	EXPECT_TRUE(t, good(&p_size, "17179869183G", &v));
	EXPECT_EQ(t, v, UINT64_MAX - GiB(1) + 1);
	EXPECT_FALSE(t, good(&p_size, "17179869184G", NULL));
	EXPECT_FALSE(t, good(&p_size, "99999999999999999999M", NULL));
	EXPECT_FALSE(t, good(&p_size, "1K", NULL)); /* below min */
	EXPECT_FALSE(t, good(&p_size, "M", NULL));
	EXPECT_FALSE(t, good(&p_size, "64MB", NULL));
	EXPECT_FALSE(t, good(&p_size, "1T", NULL));
	EXPECT_FALSE(t, good(&p_size, "abc", NULL));
	EXPECT_FALSE(t, good(&p_size, "", NULL));
	EXPECT_FALSE(t, good(&p_size, NULL, NULL));
	/* A key whose bare numbers count MiB (test.mem, like QEMU's -m). */
	EXPECT_TRUE(t, good(&p_mib, "256", &v));
	EXPECT_EQ(t, v, MiB(256));
	EXPECT_TRUE(t, good(&p_mib, "2G", &v));
	EXPECT_EQ(t, v, GiB(2));
	EXPECT_FALSE(t, good(&p_mib, "17592186044416", NULL)); /* 2^44 MiB = 2^64 bytes */

	ASSERT_EQ(t, check("s=abc"), 1u);
	EXPECT_STREQ(t, found.msg[0], "'s=abc': s expects a size (e.g. 64M, 1G); using all memory");
	/* A size that parses but is out of range says only what is wrong. */
	ASSERT_EQ(t, check("s=1K"), 1u);
	EXPECT_STREQ(t, found.msg[0], "'s=1K': s expects a size of at least 16M; using all memory");
	uint64_t got = 0;
	char buf[16];
	EXPECT_FALSE(t, cmdline_lookup(&test_table, "s=1K", "s", buf, sizeof(buf)));
	EXPECT_TRUE(t, cmdline_lookup(&test_table, "s=32M", "s", buf, sizeof(buf)));
	EXPECT_TRUE(t, good(&p_size, buf, &got));
	EXPECT_EQ(t, got, MiB(32));
}

static void enum_words(struct ktest *t)
{
	uint64_t v = 9;
	EXPECT_TRUE(t, good(&p_enum, "gen", &v));
	EXPECT_EQ(t, v, 0u);
	EXPECT_TRUE(t, good(&p_enum, "mmgen", &v));
	EXPECT_EQ(t, v, 2u);
	EXPECT_FALSE(t, good(&p_enum, "mm", NULL)); /* a prefix of a word is not the word */
	EXPECT_FALSE(t, good(&p_enum, "genx", NULL));
	EXPECT_FALSE(t, good(&p_enum, "gen|ipi", NULL));
	EXPECT_FALSE(t, good(&p_enum, "GEN", NULL));
	EXPECT_FALSE(t, good(&p_enum, "", NULL));
	EXPECT_FALSE(t, good(&p_enum, NULL, NULL));
	ASSERT_EQ(t, check("mode=bogus"), 1u);
	EXPECT_STREQ(t, found.msg[0],
		     "'mode=bogus': mode expects one of gen|ipi|mmgen; using the default (gen)");
}

static void glob_lists(struct ktest *t)
{
	EXPECT_TRUE(t, good(&p_globs, "tlb", NULL));
	EXPECT_TRUE(t, good(&p_globs, "tlb.*,mm.gather_*", NULL));
	EXPECT_TRUE(t, good(&p_globs, "*", NULL));
	EXPECT_TRUE(t, good(&p_globs, NULL, NULL)); /* bare: allowed for this key */
	EXPECT_FALSE(t, good(&p_globs, "a,,b", NULL));
	EXPECT_FALSE(t, good(&p_globs, ",a", NULL));
	EXPECT_FALSE(t, good(&p_globs, "a,", NULL));
	EXPECT_FALSE(t, good(&p_globs, ",", NULL));
	EXPECT_FALSE(t, good(&p_globs, "", NULL));
	EXPECT_EQ(t, check("g"), 0u);
	ASSERT_EQ(t, check("g=a,,b"), 1u);
	EXPECT_STREQ(t, found.msg[0],
		     "'g=a,,b': g expects a comma-separated list of globs (e.g. tlb,mm.stale_*); "
		     "using the default (*)");
}

static void string_needs_text(struct ktest *t)
{
	EXPECT_TRUE(t, good(&p_str, "x", NULL));
	EXPECT_TRUE(t, good(&p_str, "a=b", NULL));
	EXPECT_FALSE(t, good(&p_str, "", NULL));
	EXPECT_FALSE(t, good(&p_str, NULL, NULL));
	ASSERT_EQ(t, check("name="), 1u);
	EXPECT_STREQ(t, found.msg[0], "'name=': name expects a value; using the default (none)");
}

static void unknown_key_reported(struct ktest *t)
{
	ASSERT_EQ(t, check("frob=1 n=5"), 1u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_UNKNOWN_KEY);
	EXPECT_STREQ(t, found.msg[0],
		     "'frob=1': unknown key; ignored (boot with 'help' to list keys)");
	/* A word that extends a key, or a key that is a prefix of one, is not that key. */
	ASSERT_EQ(t, check("nn=5 na f.x =5"), 4u);
	for (unsigned i = 0; i < 4; i++)
		EXPECT_EQ(t, found.problem[i], CMDLINE_UNKNOWN_KEY);
	EXPECT_STREQ(t, found.word[3], "=5");
}

static void duplicate_key_reported(struct ktest *t)
{
	char value[8];
	ASSERT_EQ(t, check("n=5 f n=6"), 1u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_DUPLICATE);
	EXPECT_STREQ(t, found.msg[0], "'n=6': n given again; ignored, the first ('n=5') counts");
	EXPECT_TRUE(t, cmdline_lookup(&test_table, "n=5 f n=6", "n", value, sizeof(value)));
	EXPECT_STREQ(t, value, "5");
	/* The first counts even when it is the bad one: the key then reads as absent. */
	ASSERT_EQ(t, check("n=bad n=6"), 2u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_BAD_VALUE);
	EXPECT_EQ(t, found.problem[1], CMDLINE_DUPLICATE);
	EXPECT_FALSE(t, cmdline_lookup(&test_table, "n=bad n=6", "n", NULL, 0));
	/* A flag given twice is a duplicate too. */
	ASSERT_EQ(t, check("f f"), 1u);
	EXPECT_EQ(t, found.problem[0], CMDLINE_DUPLICATE);
}

static void one_finding_per_word_in_order(struct ktest *t)
{
	EXPECT_EQ(t, check(""), 0u);
	EXPECT_EQ(t, check("    "), 0u);
	EXPECT_EQ(t, check("  f n=7  s=64M mode=ipi g=tlb,mm.* name=x m=512  "), 0u);
	ASSERT_EQ(t, check("f=on n=7 zz mode=x n=8 s=1G"), 4u);
	EXPECT_STREQ(t, found.word[0], "f=on");
	EXPECT_STREQ(t, found.word[1], "zz");
	EXPECT_STREQ(t, found.word[2], "mode=x");
	EXPECT_STREQ(t, found.word[3], "n=8");
	EXPECT_EQ(t, found.problem[0], CMDLINE_BAD_VALUE);
	EXPECT_EQ(t, found.problem[1], CMDLINE_UNKNOWN_KEY);
	EXPECT_EQ(t, found.problem[2], CMDLINE_BAD_VALUE);
	EXPECT_EQ(t, found.problem[3], CMDLINE_DUPLICATE);
	/* Each message is one line and names its word. */
	for (unsigned i = 0; i < 4; i++) {
		EXPECT_TRUE(t, strchr(found.msg[i], '\n') == NULL);
		EXPECT_EQ(t, strncmp(found.msg[i] + 1, found.word[i], strlen(found.word[i])), 0);
	}
	/* A very long word is cut in the message, which stays whole. */
	char line[200];
	memset(line, 'x', 150);
	strlcpy(line + 150, "=1", sizeof(line) - 150);
	ASSERT_EQ(t, check(line), 1u);
	EXPECT_EQ(t, strlen(found.word[0]), 99u); /* 96 bytes and "..." */
	EXPECT_EQ(t, strncmp(found.msg[0] + 1 + 99, "': unknown key;", 15), 0);
}

static void lookup_rules(struct ktest *t)
{
	const char *line = "  a=1 bare  b=two=2 a=3 empty= abc=4 ";
	char value[32];
	EXPECT_TRUE(t, cmdline_lookup(&test_table, line, "a", value, sizeof(value)));
	EXPECT_STREQ(t, value, "1"); /* first occurrence wins */
	EXPECT_TRUE(t, cmdline_lookup(&test_table, line, "b", value, sizeof(value)));
	EXPECT_STREQ(t, value, "two=2"); /* the key ends at the first '=' */
	EXPECT_FALSE(t, cmdline_lookup(&test_table, line, "empty", value, sizeof(value)));
	EXPECT_FALSE(t, cmdline_lookup(&test_table, line, "ab", value, sizeof(value)));
	/* A truncated copy is still terminated. */
	char tiny[3];
	EXPECT_TRUE(t, cmdline_lookup(&test_table, "b=abcdef", "b", tiny, sizeof(tiny)));
	EXPECT_STREQ(t, tiny, "ab");
	EXPECT_TRUE(t, cmdline_param_find(&test_table, "mode") == &p_enum);
	EXPECT_TRUE(t, cmdline_param_find(&test_table, "mod") == NULL);
}

/* The kernel's table, with the messages docs/cmdline.md shows. */
static void builtin_messages(struct ktest *t)
{
	const struct cmdline_table *table = cmdline_table_builtin();
	ASSERT_EQ(t, check_with(table, "tlb=bogus mem=abc frob=1 tlb=ipi"), 4u);
	EXPECT_STREQ(t, found.msg[0],
		     "'tlb=bogus': tlb expects one of gen|ipi|mmgen|broadcast; "
		     "using the default (broadcast)");
	EXPECT_STREQ(t, found.msg[1],
		     "'mem=abc': mem expects a size (e.g. 64M, 1G); using all memory");
	EXPECT_STREQ(t, found.msg[2],
		     "'frob=1': unknown key; ignored (boot with 'help' to list keys)");
	EXPECT_STREQ(t, found.msg[3],
		     "'tlb=ipi': tlb given again; ignored, the first ('tlb=bogus') counts");
	EXPECT_EQ(t,
		  check_with(table, "ktest ktest.fail cmdline.strict mem=64M tlb.break=none "
				    "bench.reps=3 test.mem=256 test.cpus=4 help"),
		  0u);
}

/* Every key some part of the kernel reads is declared, once, in good order. */
static void builtin_table_well_formed(struct ktest *t)
{
	static const char *const expected[] = {
		"tlb", "tlb.break", "tlb.skip_flush", "bench", "bench.scale", "bench.spin",
		"bench.reps", "ktest", "ktest.fail", "ktest.hang", "ktest.panic", "ktest.fault",
		"test.cpus", "test.mem", "mem", "cmdline.strict", "help"
	};
	const struct cmdline_table *table = cmdline_table_builtin();
	for (unsigned i = 0; i < ARRAY_SIZE(expected); i++)
		if (!cmdline_param_find(table, expected[i]))
			ktest_fail_msg(t, __FILE__, __LINE__, "key '%s' is not declared",
				       expected[i]);
	for (size_t i = 0; i < table->count; i++) {
		const struct cmdline_param *p = table->params[i];
		EXPECT_TRUE(t, p->key[0] != 0);
		EXPECT_TRUE(t, strchr(p->key, '=') == NULL && strchr(p->key, ' ') == NULL);
		EXPECT_TRUE(t, p->help && p->help[0]);
		EXPECT_TRUE(t, p->def != NULL);
		EXPECT_TRUE(t, p->kind != CMDLINE_ENUM || (p->values && p->values[0]));
		EXPECT_TRUE(t, cmdline_param_find(table, p->key) == p); /* declared once */
	}
}

/* The real line, as the runner wrote it. */
static void boot_line_roundtrip(struct ktest *t)
{
	uint64_t cpus = 0;
	if (!cmdline_get_u64("test.cpus", &cpus))
		KTEST_SKIP(t, "no test.cpus= on the command line");
	char value[24];
	ASSERT_TRUE(t, cmdline_get("test.cpus", value, sizeof(value)));
	uint64_t again = 0;
	EXPECT_TRUE(t, parse_u64(value, &again));
	EXPECT_EQ(t, again, cpus);
	EXPECT_GE(t, cpus, 1u);
	EXPECT_TRUE(t, cmdline_present("ktest"));
	EXPECT_TRUE(t, cmdline_has("ktest"));
}

static const struct ktest_case cmdline_cases[] = {
	KTEST_CASE(flag_takes_no_value),
	KTEST_CASE(number_in_range),
	KTEST_CASE(size_suffixes),
	KTEST_CASE(enum_words),
	KTEST_CASE(glob_lists),
	KTEST_CASE(string_needs_text),
	KTEST_CASE(unknown_key_reported),
	KTEST_CASE(duplicate_key_reported),
	KTEST_CASE(one_finding_per_word_in_order),
	KTEST_CASE(lookup_rules),
	KTEST_CASE(builtin_messages),
	KTEST_CASE(builtin_table_well_formed),
	KTEST_CASE(boot_line_roundtrip),
	KTEST_END,
};
KTEST_SUITE(cmdline_suite, "cmdline", cmdline_cases);
