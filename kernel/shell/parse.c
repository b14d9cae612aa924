// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console's parser: words, numbers, argument checks and dispatch.
 * Pure C (no kernel calls) so the host test and the fuzz target run it as
 * the kernel does.
 *
 * Invariants: a command runs only with an argument count inside its
 * table entry's [min_args, max_args] and with every fixed-word argument
 * one of its words; every refusal is exactly one line in the caller's
 * buffer; nothing here reads past a NUL or writes past a size given.
 */
#include "kernel/shell/shell.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "lib/words.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

unsigned shell_tokenize(char *line, char **argv, unsigned max)
{
	unsigned n = 0;
	char *p = line;
	for (;;) {
		while (is_blank(*p))
			*p++ = 0;
		if (!*p)
			return n;
		if (n < max)
			argv[n] = p;
		n++;
		while (*p && !is_blank(*p))
			p++;
	}
}

const struct shell_cmd *shell_find(const char *name)
{
	for (unsigned i = 0; i < shell_cmd_count; i++)
		if (strcmp(shell_cmds[i].name, name) == 0)
			return &shell_cmds[i];
	return NULL;
}

/*
 * Error messages quote what the user typed; a 10 KiB word would not fit
 * one line, so quotes are cut (the "..." says so).
 */
#define QUOTE_MAX 24
static const char *quote(const char *s, char buf[QUOTE_MAX + 4])
{
	size_t n = strnlen(s, QUOTE_MAX + 1);
	if (n <= QUOTE_MAX)
		return s;
	memcpy(buf, s, QUOTE_MAX);
	memcpy(buf + QUOTE_MAX, "...", 4);
	return buf;
}

static int digit_value(char c, unsigned base)
{
	int v = -1;
	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	return v >= 0 && (unsigned)v < base ? v : -1;
}

static unsigned suffix_shift(char c)
{
	switch (c) {
	case 'k':
	case 'K':
		return 10;
	case 'm':
	case 'M':
		return 20;
	case 'g':
	case 'G':
		return 30;
	default:
		return 0;
	}
}

bool shell_parse_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *out,
		     char *err, size_t err_size)
{
	char q[QUOTE_MAX + 4];
	unsigned base = 10;
	const char *p = s;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	uint64_t v = 0;
	bool overflow = false, any = false;
	for (int d; (d = digit_value(*p, base)) >= 0; p++) {
		any = true;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			overflow = true;
		else
			v = v * base + (uint64_t)d;
	}
	unsigned shift = suffix_shift(*p);
	if (shift)
		p++;
	if (!any || *p) {
		snprintf(err, err_size, "%s: bad number '%s' (decimal or 0x-hex, K/M/G allowed)",
			 what, quote(s, q));
		return false;
	}
	if (shift && v > (UINT64_MAX >> shift))
		overflow = true;
	else
		v <<= shift;
	if (overflow || v < min || v > max) {
		snprintf(err, err_size, "%s: '%s' is out of range (%#llx..%#llx)", what,
			 quote(s, q), (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

bool shell_word_in(const char *word, const char *words)
{
	return words_index(words, word, strlen(word)) >= 0;
}

const char *shell_arg_words(const struct shell_cmd *cmd, unsigned arg)
{
	if (arg >= ARRAY_SIZE(cmd->words))
		return NULL;
	if (cmd->words_fn)
		return cmd->words_fn(arg);
	return cmd->words[arg];
}

static void count_error(const struct shell_cmd *c, unsigned got, char *err, size_t err_size)
{
	if (c->min_args == c->max_args)
		snprintf(err, err_size, "%s: expects %u argument%s, got %u (usage: %s)", c->name,
			 c->min_args, c->min_args == 1 ? "" : "s", got, c->usage);
	else
		snprintf(err, err_size, "%s: expects %u to %u arguments, got %u (usage: %s)",
			 c->name, c->min_args, c->max_args, got, c->usage);
}

enum shell_status shell_exec(char *line, char *err, size_t err_size)
{
	char *argv[SHELL_ARGS_MAX];
	char q[QUOTE_MAX + 4];
	unsigned argc = shell_tokenize(line, argv, SHELL_ARGS_MAX);
	err[0] = 0;
	if (argc == 0)
		return SHELL_EMPTY;
	const struct shell_cmd *c = shell_find(argv[0]);
	if (!c) {
		snprintf(err, err_size, "unknown command '%s' (try help)", quote(argv[0], q));
		return SHELL_ERROR;
	}
	if (argc - 1 < c->min_args || argc - 1 > c->max_args) {
		count_error(c, argc - 1, err, err_size);
		return SHELL_ERROR;
	}
	for (unsigned i = 1; i < argc; i++) {
		const char *words = shell_arg_words(c, i - 1);
		if (c->arg_is_command && i == 1 && !shell_find(argv[i])) {
			snprintf(err, err_size, "%s: unknown command '%s'", c->name,
				 quote(argv[i], q));
			return SHELL_ERROR;
		}
		if (words && !shell_word_in(argv[i], words)) {
			snprintf(err, err_size, "%s: '%s' is not one of %s", c->name,
				 quote(argv[i], q), words);
			return SHELL_ERROR;
		}
	}
	return c->run(argc, argv) ? SHELL_FAILED : SHELL_OK;
}
