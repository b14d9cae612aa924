// SPDX-License-Identifier: BSD-2-Clause
/*
 * The kernel command line: the table of keys (the .cmdline_params linker
 * section, filled by CMDLINE_PARAM in each owner's file), the checker that
 * holds every word of a line against it, and the look-ups owners use.
 *
 * Invariants: a word is "key=value" or a bare "key"; the key ends at the
 * first '=' (a value may contain '='); the first occurrence of a key is
 * the one that counts; the checker and the look-ups share one parser
 * (cmdline_parse_value), so what the checker calls bad reads as absent and
 * the owner falls back to the default the message named. Every look-up of
 * a key missing from the table panics. Nothing here allocates: the
 * checker runs before the frame allocator exists.
 */
#include "kernel/cmdline.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/words.h"

extern const struct cmdline_param *const __cmdline_params_start[];
extern const struct cmdline_param *const __cmdline_params_end[];

CMDLINE_PARAM(strict_param, .key = "cmdline.strict", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "a bad or unknown word on the command line is a panic, not a warning");
CMDLINE_PARAM(help_param, .key = "help", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "print this table of keys at boot");

/* Longest word quoted in a message; a longer one is cut (the message stays one line). */
#define CMDLINE_WORD_MAX 96
/*
 * The longest list of an enum's words ('|'-separated) that its messages
 * and the help show whole (tlb.break's: ~490 bytes); check_table panics on
 * a longer one rather than let a message be cut.
 */
#define CMDLINE_VALUES_MAX 640
_Static_assert(CMDLINE_VALUES_MAX + CMDLINE_WORD_MAX + 192 < PRINTK_LINE_MAX,
	       "a bad-value report must fit one printk line");

const struct cmdline_table *cmdline_table_builtin(void)
{
	static struct cmdline_table table;
	table.params = __cmdline_params_start;
	table.count = (size_t)(__cmdline_params_end - __cmdline_params_start);
	return &table;
}

static const struct cmdline_param *find_n(const struct cmdline_table *table, const char *key,
					  size_t klen)
{
	for (size_t i = 0; i < table->count; i++) {
		const char *k = table->params[i]->key;
		if (strlen(k) == klen && strncmp(k, key, klen) == 0)
			return table->params[i];
	}
	return NULL;
}

const struct cmdline_param *cmdline_param_find(const struct cmdline_table *table, const char *key)
{
	return find_n(table, key, strlen(key));
}

/* One word of a line: [start, start + len), its key's length, its value (NULL when bare). */
struct word {
	const char *start;
	size_t len, klen;
	const char *value;
	size_t vlen;
};

/* Steps over the next word after *p; false at the end of the line. */
static bool next_word(const char **p, struct word *w)
{
	const char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return false;
	w->start = s;
	while (*s && *s != ' ')
		s++;
	w->len = (size_t)(s - w->start);
	w->klen = 0;
	while (w->klen < w->len && w->start[w->klen] != '=')
		w->klen++;
	w->value = w->klen < w->len ? w->start + w->klen + 1 : NULL;
	w->vlen = w->value ? w->len - w->klen - 1 : 0;
	*p = s;
	return true;
}

/* The first word of `line` whose key is `key`. */
static bool first_occurrence(const char *line, const char *key, struct word *out)
{
	size_t klen = strlen(key);
	struct word w;
	while (next_word(&line, &w))
		if (w.klen == klen && strncmp(w.start, key, klen) == 0) {
			*out = w;
			return true;
		}
	return false;
}

/* Parses len bytes as parse_u64 does (decimal or 0x-hex), with overflow refused. */
static bool parse_number(const char *s, size_t len, uint64_t *out)
{
	char buf[24]; /* 20 decimal digits, or "0x" and 16 hex digits, fit */
	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = 0;
	return parse_u64(buf, out);
}

static bool parse_size(const struct cmdline_param *p, const char *s, size_t len, uint64_t *out)
{
	if (len == 0)
		return false;
	uint64_t mult = p->unit ? p->unit : 1;
	switch (s[len - 1]) {
	case 'K':
	case 'k':
		mult = KiB(1);
		len--;
		break;
	case 'M':
	case 'm':
		mult = MiB(1);
		len--;
		break;
	case 'G':
	case 'g':
		mult = GiB(1);
		len--;
		break;
	}
	uint64_t v;
	if (!parse_number(s, len, &v) || v > UINT64_MAX / mult)
		return false;
	*out = v * mult;
	return true;
}

static bool in_range(const struct cmdline_param *p, uint64_t v)
{
	return v >= p->min && (p->max == 0 || v <= p->max);
}

static bool globs_ok(const char *s, size_t len)
{
	size_t run = 0; /* length of the current glob */
	for (size_t i = 0; i < len; i++) {
		if (s[i] != ',') {
			run++;
			continue;
		}
		if (run == 0)
			return false;
		run = 0;
	}
	return run > 0;
}

bool cmdline_parse_value(const struct cmdline_param *p, const char *value, size_t len,
			 uint64_t *num)
{
	uint64_t scratch;
	if (!num)
		num = &scratch;
	*num = 0;
	if (!value)
		return p->kind == CMDLINE_FLAG || p->bare_ok;
	if (p->kind == CMDLINE_FLAG || len == 0)
		return false;
	switch (p->kind) {
	case CMDLINE_U64:
		return parse_number(value, len, num) && in_range(p, *num);
	case CMDLINE_SIZE:
		return parse_size(p, value, len, num) && in_range(p, *num);
	case CMDLINE_ENUM: {
		int i = words_index(p->values, value, len);
		*num = i < 0 ? 0 : (uint64_t)i;
		return i >= 0;
	}
	case CMDLINE_GLOBS:
		return globs_ok(value, len);
	case CMDLINE_STRING:
	case CMDLINE_FLAG:
		break;
	}
	return true;
}

/* "64M", "1G", "4K" or plain bytes: the largest unit that divides v exactly. */
static void format_size(char *buf, size_t size, uint64_t v)
{
	if (v && v % GiB(1) == 0)
		snprintf(buf, size, "%luG", (unsigned long)(v / GiB(1)));
	else if (v && v % MiB(1) == 0)
		snprintf(buf, size, "%luM", (unsigned long)(v / MiB(1)));
	else if (v && v % KiB(1) == 0)
		snprintf(buf, size, "%luK", (unsigned long)(v / KiB(1)));
	else
		snprintf(buf, size, "%lu", (unsigned long)v);
}

/* " from A to B", " of at least A" or "" for p's range, sizes printed as sizes. */
static void format_range(char *buf, size_t size, const struct cmdline_param *p)
{
	char lo[24], hi[24];
	if (p->kind == CMDLINE_SIZE) {
		format_size(lo, sizeof(lo), p->min);
		format_size(hi, sizeof(hi), p->max);
	} else {
		snprintf(lo, sizeof(lo), "%lu", (unsigned long)p->min);
		snprintf(hi, sizeof(hi), "%lu", (unsigned long)p->max);
	}
	if (p->max)
		snprintf(buf, size, " from %s to %s", lo, hi);
	else if (p->min)
		snprintf(buf, size, " of at least %s", lo);
	else
		buf[0] = 0;
}

/* What p accepts, as "expects ..." ends; `range_only`: the value parsed but is out of range. */
static void describe_expected(char *buf, size_t size, const struct cmdline_param *p,
			      bool range_only)
{
	char range[64];
	format_range(range, sizeof(range), p);
	switch (p->kind) {
	case CMDLINE_FLAG:
		snprintf(buf, size, "no value (it is a flag)");
		break;
	case CMDLINE_U64:
		snprintf(buf, size, "a number%s", range);
		break;
	case CMDLINE_SIZE:
		if (range_only)
			snprintf(buf, size, "a size%s", range);
		else if (p->unit == MiB(1))
			snprintf(buf, size, "a size (e.g. 64M, 1G; a bare number counts MiB)");
		else
			snprintf(buf, size, "a size (e.g. 64M, 1G)");
		break;
	case CMDLINE_ENUM:
		snprintf(buf, size, "one of %s", p->values);
		break;
	case CMDLINE_GLOBS:
		snprintf(buf, size, "a comma-separated list of globs (e.g. tlb,mm.stale_*)");
		break;
	case CMDLINE_STRING:
		snprintf(buf, size, "a value");
		break;
	}
}

static void describe_fallback(char *buf, size_t size, const struct cmdline_param *p)
{
	if (p->fallback)
		snprintf(buf, size, "%s", p->fallback);
	else
		snprintf(buf, size, "the default (%s)", p->def ? p->def : "none");
}

/*
 * The word as quoted in messages: at most CMDLINE_WORD_MAX bytes, "..."
 * marks a cut, and a control character (a newline or tab from the boot
 * loader's line) shows as '?', so the message stays one line.
 */
static void quote_word(char *buf, const struct word *w)
{
	size_t n = MIN(w->len, (size_t)CMDLINE_WORD_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)w->start[i];
		buf[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	strlcpy(buf + n, w->len > n ? "..." : "", 4);
}

unsigned cmdline_check_line(const struct cmdline_table *table, const char *line,
			    cmdline_report_fn report, void *ctx)
{
	unsigned findings = 0;
	const char *p = line;
	struct word w;
	while (next_word(&p, &w)) {
		char word[CMDLINE_WORD_MAX + 4], msg[CMDLINE_VALUES_MAX + CMDLINE_WORD_MAX + 192];
		quote_word(word, &w);
		const struct cmdline_param *param = find_n(table, w.start, w.klen);
		enum cmdline_problem problem;
		if (!param) {
			problem = CMDLINE_UNKNOWN_KEY;
			snprintf(msg, sizeof(msg),
				 "'%s': unknown key; ignored (boot with 'help' to list keys)",
				 word);
		} else {
			/* A repeat is reported as such, whatever its value: one finding a word. */
			const char *q = line;
			struct word first;
			while (next_word(&q, &first))
				if (first.klen == w.klen &&
				    strncmp(first.start, w.start, w.klen) == 0)
					break;
			uint64_t v;
			if (first.start != w.start) {
				char first_word[CMDLINE_WORD_MAX + 4];
				quote_word(first_word, &first);
				problem = CMDLINE_DUPLICATE;
				snprintf(msg, sizeof(msg),
					 "'%s': %s given again; ignored, the first ('%s') counts",
					 word, param->key, first_word);
			} else if (!cmdline_parse_value(param, w.value, w.vlen, &v)) {
				/* Parsed, yet refused: say only that the range is wrong. */
				bool range_only = w.value && w.vlen &&
						  ((param->kind == CMDLINE_SIZE &&
						    parse_size(param, w.value, w.vlen, &v)) ||
						   (param->kind == CMDLINE_U64 &&
						    parse_number(w.value, w.vlen, &v)));
				char expected[CMDLINE_VALUES_MAX + 16], fallback[96];
				describe_expected(expected, sizeof(expected), param, range_only);
				describe_fallback(fallback, sizeof(fallback), param);
				problem = CMDLINE_BAD_VALUE;
				snprintf(msg, sizeof(msg), "'%s': %s expects %s; using %s", word,
					 param->key, expected, fallback);
			} else {
				continue;
			}
		}
		findings++;
		if (report)
			report(ctx, problem, word, msg);
	}
	return findings;
}

static const struct cmdline_param *must_find(const struct cmdline_table *table, const char *key,
					     const char *who)
{
	const struct cmdline_param *p = cmdline_param_find(table, key);
	if (!p)
		panic("%s: key '%s' is not in the command-line table (declare it with "
		      "CMDLINE_PARAM)",
		      who, key);
	return p;
}

bool cmdline_lookup(const struct cmdline_table *table, const char *line, const char *key,
		    char *value, size_t value_size)
{
	const struct cmdline_param *p = must_find(table, key, "cmdline_lookup");
	struct word w;
	if (!first_occurrence(line, key, &w) || !cmdline_parse_value(p, w.value, w.vlen, NULL))
		return false;
	if (value_size) {
		size_t n = MIN(w.vlen, value_size - 1);
		if (n)
			memcpy(value, w.value, n);
		value[n] = 0;
	}
	return true;
}

static void boot_report(void *ctx, enum cmdline_problem problem, const char *word,
			const char *message)
{
	(void)problem;
	(void)word;
	if (*(const bool *)ctx)
		panic("cmdline_check: %s", message);
	printk("cmdline: %s", message);
}

/*
 * A key listed twice would make one owner's declaration shadow the
 * other's, and a default that is not a good value would be handed out
 * after a bad one (a key with a `fallback` says in words what happens
 * instead): both are programming errors, caught on every boot.
 */
static void check_table(const struct cmdline_table *table)
{
	for (size_t i = 0; i < table->count; i++) {
		const struct cmdline_param *p = table->params[i];
		for (size_t j = 0; j < i; j++)
			if (strcmp(table->params[j]->key, p->key) == 0)
				panic("cmdline_check: key '%s' is declared twice", p->key);
		if (p->values && strlen(p->values) >= CMDLINE_VALUES_MAX)
			panic("cmdline_check: key '%s': its words take %lu bytes, more than "
			      "CMDLINE_VALUES_MAX (%u) shows whole",
			      p->key, (unsigned long)strlen(p->values),
			      (unsigned)CMDLINE_VALUES_MAX);
		bool def_checked =
		    !p->fallback &&
		    (p->kind == CMDLINE_U64 || p->kind == CMDLINE_ENUM || p->kind == CMDLINE_GLOBS);
		if (def_checked &&
		    (!p->def || !cmdline_parse_value(p, p->def, strlen(p->def), NULL)))
			panic("cmdline_check: key '%s': default '%s' is not a good value", p->key,
			      p->def ? p->def : "(none)");
	}
}

void cmdline_check(void)
{
	const struct cmdline_table *table = cmdline_table_builtin();
	check_table(table);
	if (cmdline_has("help"))
		cmdline_print_help();
	bool strict = cmdline_has("cmdline.strict");
	cmdline_check_line(table, boot_info.cmdline, boot_report, &strict);
}

static void describe_kind(char *buf, size_t size, const struct cmdline_param *p)
{
	char range[64];
	format_range(range, sizeof(range), p);
	switch (p->kind) {
	case CMDLINE_FLAG:
		snprintf(buf, size, "flag");
		break;
	case CMDLINE_U64:
		snprintf(buf, size, "number%s", range);
		break;
	case CMDLINE_SIZE:
		snprintf(buf, size, "size (K/M/G)%s", range);
		break;
	case CMDLINE_ENUM:
		snprintf(buf, size, "%s", p->values);
		break;
	case CMDLINE_GLOBS:
		snprintf(buf, size, "globs, comma-separated");
		break;
	case CMDLINE_STRING:
		snprintf(buf, size, "text");
		break;
	}
	if (p->bare_ok && p->kind != CMDLINE_FLAG)
		strlcpy(buf + strlen(buf), ", or bare", size - strlen(buf));
}

void cmdline_print_help(void)
{
	const struct cmdline_table *table = cmdline_table_builtin();
	printk("cmdline: %zu keys (a bad word is reported, or a panic with cmdline.strict):",
	       table->count);
	printk("cmdline:   %-15s %-32s %-11s %s", "key", "accepts", "default", "meaning");
	/* In key order, by repeated selection: the section's order is the link order. */
	const char *last = "";
	for (size_t n = 0; n < table->count; n++) {
		const struct cmdline_param *next = NULL;
		for (size_t i = 0; i < table->count; i++) {
			const struct cmdline_param *p = table->params[i];
			if (strcmp(p->key, last) > 0 && (!next || strcmp(p->key, next->key) < 0))
				next = p;
		}
		if (!next)
			break;
		char kind[CMDLINE_VALUES_MAX + 16];
		describe_kind(kind, sizeof(kind), next);
		printk("cmdline:   %-15s %-32s %-11s %s", next->key, kind,
		       next->def ? next->def : "none", next->help);
		last = next->key;
	}
}

bool cmdline_get(const char *key, char *value, size_t value_size)
{
	return cmdline_lookup(cmdline_table_builtin(), boot_info.cmdline, key, value, value_size);
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key, NULL, 0);
}

bool cmdline_present(const char *key)
{
	must_find(cmdline_table_builtin(), key, "cmdline_present");
	struct word w;
	return first_occurrence(boot_info.cmdline, key, &w);
}

bool cmdline_get_u64(const char *key, uint64_t *value)
{
	const struct cmdline_param *p = must_find(cmdline_table_builtin(), key, "cmdline_get_u64");
	if (p->kind != CMDLINE_U64 && p->kind != CMDLINE_SIZE)
		panic("cmdline_get_u64: key '%s' is not a number or a size", key);
	struct word w;
	uint64_t v;
	if (!first_occurrence(boot_info.cmdline, key, &w) || !w.value ||
	    !cmdline_parse_value(p, w.value, w.vlen, &v))
		return false;
	*value = v;
	return true;
}

/* A U64 or ENUM key's parsed value, or its default's; the kind must match. */
static uint64_t value_or_default(const char *key, enum cmdline_kind kind, const char *who)
{
	const struct cmdline_param *p = must_find(cmdline_table_builtin(), key, who);
	if (p->kind != kind)
		panic("%s: key '%s' has another kind", who, key);
	struct word w;
	uint64_t v;
	/* A bare key that is allowed bare means its default too. */
	if (first_occurrence(boot_info.cmdline, key, &w) && w.value &&
	    cmdline_parse_value(p, w.value, w.vlen, &v))
		return v;
	if (!p->def || !cmdline_parse_value(p, p->def, strlen(p->def), &v))
		panic("%s: key '%s' has no usable default", who, key);
	return v;
}

uint64_t cmdline_u64(const char *key)
{
	return value_or_default(key, CMDLINE_U64, "cmdline_u64");
}

unsigned cmdline_enum(const char *key)
{
	return (unsigned)value_or_default(key, CMDLINE_ENUM, "cmdline_enum");
}
