// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `cmdline`: the command-line checker and look-ups of
 * kernel/cmdline.c on the input as a command line (cut at the first NUL and
 * at BOOT_CMDLINE_MAX - 1 bytes, as boot_info.cmdline holds it).
 *
 * The kernel's own table is a linker section; the host build has none, so
 * the target uses a table with a key of every kind and option the kernel's
 * keys use (values and ranges copied from real keys: tlb=, mem=, ktest=,
 * tlb.break= ...). Besides memory safety it checks the header's
 * invariants: every finding is one line naming its word; a key whose first
 * occurrence has a good value (cmdline_parse_value, the checker's own
 * judge) reads as present with that value, any other key as absent; and
 * the count of findings equals the reports made. Neither function may panic here:
 * every key looked up is in the table.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "tests/fuzz/fuzz.h"

static const struct cmdline_param params[] = {
    {.key = "cmdline.strict", .kind = CMDLINE_FLAG, .def = "off"},
    {.key = "tlb", .kind = CMDLINE_ENUM, .values = "gen|mmgen|ipi|broadcast", .def = "gen"},
    {.key = "mem", .kind = CMDLINE_SIZE, .min = MiB(16), .unit = MiB(1)},
    {.key = "cpus", .kind = CMDLINE_U64, .min = 1, .max = 64, .def = "64"},
    {.key = "seed", .kind = CMDLINE_U64, .def = "0"},
    {.key = "ktest", .kind = CMDLINE_GLOBS, .bare_ok = true, .def = "*"},
    {.key = "tlb.break",
     .kind = CMDLINE_ENUM,
     .values = "skip_flush|free_before_flush",
     .def = "none",
     .fallback = "no breakage"},
    {.key = "name", .kind = CMDLINE_STRING},
    {.key = "x", .kind = CMDLINE_FLAG},
};
static const struct cmdline_param *const param_ptrs[] = {
    &params[0], &params[1], &params[2], &params[3], &params[4],
    &params[5], &params[6], &params[7], &params[8],
};
static const struct cmdline_table table = {param_ptrs, ARRAY_SIZE(param_ptrs)};

/*
 * The bounds of the kernel's .cmdline_params section, which the linker
 * script provides in the kernel: here an empty table (start == end), for
 * cmdline_table_builtin(), which this target never uses.
 */
const struct cmdline_param *const __cmdline_params_start[1] = {NULL};
extern const struct cmdline_param *const __cmdline_params_end[1]
    __attribute__((alias("__cmdline_params_start")));

struct seen {
	unsigned reports;
	const char *line;
};

static void report(void *ctx, enum cmdline_problem problem, const char *word, const char *message)
{
	struct seen *s = ctx;
	(void)problem;
	s->reports++;
	fuzz_check_message("cmdline_check_line", message);
	if (!strstr(message, word))
		fuzz_bug("cmdline_check_line: message \"%s\" does not name the word \"%s\"",
			 message, word);
}

/* The first word of `line` whose key is `key`: its value (NULL when bare), or false. */
static bool first_word(const char *line, const char *key, const char **value, size_t *vlen,
		       bool *found)
{
	size_t klen = strlen(key);
	*found = false;
	for (const char *p = line; *p;) {
		while (*p == ' ')
			p++;
		const char *w = p;
		while (*p && *p != ' ')
			p++;
		size_t len = (size_t)(p - w), k = 0;
		while (k < len && w[k] != '=')
			k++;
		if (len && k == klen && strncmp(w, key, klen) == 0) {
			*found = true;
			*value = k < len ? w + k + 1 : NULL;
			*vlen = k < len ? len - k - 1 : 0;
			return true;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t n = MIN(size, (size_t)BOOT_CMDLINE_MAX - 1);
	char *line = malloc(n + 1); /* exactly the line: a read past its NUL is reported */
	if (!line)
		abort();
	memcpy(line, data, n);
	line[n] = 0;

	struct seen s = {0, line};
	unsigned findings = cmdline_check_line(&table, line, report, &s);
	if (findings != s.reports)
		fuzz_bug("cmdline_check_line: returned %u findings, reported %u", findings,
			 s.reports);

	for (size_t i = 0; i < ARRAY_SIZE(params); i++) {
		char value[32];
		const char *v;
		size_t vlen;
		bool found;
		bool got = cmdline_lookup(&table, line, params[i].key, value, sizeof(value));
		first_word(line, params[i].key, &v, &vlen, &found);
		bool good = found && cmdline_parse_value(&params[i], v, vlen, NULL);
		if (got != good)
			fuzz_bug("cmdline_lookup(%s): %d, but its first occurrence is %s",
				 params[i].key, got, good ? "good" : "absent or bad");
		if (got && strlen(value) != MIN(vlen, sizeof(value) - 1))
			fuzz_bug("cmdline_lookup(%s): copied %zu bytes of a %zu-byte value",
				 params[i].key, strlen(value), vlen);
	}
	free(line);
	return 0;
}
