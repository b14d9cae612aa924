/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel command line: one table of every key the kernel accepts, and
 * the look-ups its owners use.
 *
 * The line is a space-separated list of "key=value" or bare "key" words
 * (no quoting: a value cannot hold a space). Each subsystem declares its
 * own keys with CMDLINE_PARAM() in the file that reads them; the macro
 * puts a pointer in the .cmdline_params linker section, so the table is
 * complete without a central list to forget to update.
 *
 * Invariants:
 *  - Every look-up is of a key in the table: asking for any other key
 *    panics, so no key can be read without being listed, checked at boot
 *    and shown by `help`.
 *  - The first occurrence of a key is the one that counts.
 *  - A look-up and the boot-time check agree: a value the check reported
 *    as bad reads as absent, so the owner applies the default the message
 *    promised.
 *  - cmdline_check() reports every word that is not a listed key with a
 *    good value, a bad value or a repeated key on exactly one line each,
 *    or panics on the first of them under `cmdline.strict`.
 */
#ifndef PAGODA_KERNEL_CMDLINE_H
#define PAGODA_KERNEL_CMDLINE_H

#include "kernel/types.h"

enum cmdline_kind {
	CMDLINE_FLAG,	/* bare "key" only: present means on */
	CMDLINE_U64,	/* decimal or 0x-hex, within [min, max] */
	CMDLINE_SIZE,	/* a number with an optional K/M/G suffix, in bytes within [min, max] */
	CMDLINE_ENUM,	/* one of the words in `values` ("a|b|c") */
	CMDLINE_GLOBS,	/* a comma-separated list of non-empty globs */
	CMDLINE_STRING, /* any non-empty text */
};

struct cmdline_param {
	const char *key;
	enum cmdline_kind kind;
	uint64_t min, max;  /* CMDLINE_U64 and CMDLINE_SIZE (max 0: no limit) */
	uint64_t unit;	    /* CMDLINE_SIZE: what a number without suffix counts (0: bytes) */
	const char *values; /* CMDLINE_ENUM: the accepted words, '|'-separated */
	bool bare_ok;	    /* a non-flag key may also appear bare, meaning its default */
	/*
	 * The default, as `help` shows it. For U64, ENUM and GLOBS keys it
	 * must be a good value (cmdline_u64 and cmdline_enum hand it out)
	 * unless `fallback` says in words what a missing or bad value gives.
	 */
	const char *def;
	const char *fallback; /* what a bad value gives, when not "the default (<def>)" */
	const char *help;     /* one line */
};

/*
 * Registers a key: `CMDLINE_PARAM(var, .key = "tlb", .kind = CMDLINE_ENUM,
 * ...)`, at file scope in the file that owns the key.
 */
#define CMDLINE_PARAM(var, ...)                                                                    \
	static const struct cmdline_param var = {__VA_ARGS__};                                     \
	static const struct cmdline_param *const var##_ptr __section(".cmdline_params") __used =   \
	    &var

/* A set of keys: the kernel's own (cmdline_table_builtin) or a test's. */
struct cmdline_table {
	const struct cmdline_param *const *params;
	size_t count;
};
const struct cmdline_table *cmdline_table_builtin(void);
/* The entry for `key` in `table`, or NULL. */
const struct cmdline_param *cmdline_param_find(const struct cmdline_table *table, const char *key);

/*
 * Checks one value (`len` bytes at `value`; NULL for a bare key) against
 * p's kind. Returns true when it is good; for U64 and SIZE *num is then
 * the number, for ENUM the index of the word in `values`, else 0. `num`
 * may be NULL.
 */
bool cmdline_parse_value(const struct cmdline_param *p, const char *value, size_t len,
			 uint64_t *num);

enum cmdline_problem {
	CMDLINE_UNKNOWN_KEY,
	CMDLINE_BAD_VALUE,
	CMDLINE_DUPLICATE,
};
/* Receives one finding: the word's text (NUL-terminated copy) and the one-line message. */
typedef void (*cmdline_report_fn)(void *ctx, enum cmdline_problem problem, const char *word,
				  const char *message);
/*
 * Checks every word of `line` against `table` and calls `report` once per
 * finding, in line order; the message names the word, what was expected
 * and what is used instead. Returns the number of findings.
 */
unsigned cmdline_check_line(const struct cmdline_table *table, const char *line,
			    cmdline_report_fn report, void *ctx);

/*
 * Looks up `key` (which must be in `table`, else panic) in `line`. True
 * when present with a good value, which is copied (empty for a bare key;
 * truncated to fit, always terminated; value_size may be 0). Absent or
 * bad: false.
 */
bool cmdline_lookup(const struct cmdline_table *table, const char *line, const char *key,
		    char *value, size_t value_size);

/*
 * Boot: checks the kernel's command line against the table (one line per
 * finding, or a panic under `cmdline.strict`) and prints the table first
 * when the line has `help`. Call once the console works.
 */
void cmdline_check(void);
/* Prints every key: name, kind or values, default, help. */
void cmdline_print_help(void);

/*
 * Look-ups in the kernel's command line; each key must be in the table.
 * cmdline_get: true when `key` is there with a good value, copied as by
 * cmdline_lookup. cmdline_has: the same without the copy (for a flag: it
 * is on).
 */
bool cmdline_get(const char *key, char *value, size_t value_size);
bool cmdline_has(const char *key);
/* The key is there in any form, even with a bad value (already reported). */
bool cmdline_present(const char *key);
/* A U64 or SIZE key's number when present and good; else false, *value untouched. */
bool cmdline_get_u64(const char *key, uint64_t *value);
/* A U64 key's number, or its default from the table. */
uint64_t cmdline_u64(const char *key);
/* An ENUM key: the index in `values` of its word, or of the default's. */
unsigned cmdline_enum(const char *key);

#endif
