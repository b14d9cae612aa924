// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `console`: the `pagoda>` console's line editor and parser
 * (kernel/shell/line.c, parse.c, complete.c, table.c) on the input as
 * keystrokes, with the host stub handlers of tests/host/shell/. Every
 * line the editor completes is run through shell_exec, as the kernel's
 * loop does.
 *
 * Besides memory safety it checks the editor's invariants after every
 * byte (len < SHELL_LINE_MAX, cur <= len, buf[len] is NUL), that every
 * refusal is one non-empty line, that a handler only sees what its table
 * entry allows (the stubs abort otherwise), and that shell_parse_u64
 * agrees with a plain reference on the input's first line read as a
 * number.
 */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "tests/host/shell/shell_stubs.h"

static void sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	(void)s;
	(void)n;
}

static void violation(const char *what)
{
	fuzz_bug("console: %s", what);
}

/* The reference: digits in base 10 or 16 (after 0x), one K/M/G, no overflow. */
static bool reference_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	unsigned __int128 v = 0;
	size_t digits = 0;
	for (;; s++, digits++) {
		const char *hex = "0123456789abcdef";
		char c = (char)(*s >= 'A' && *s <= 'F' ? *s + 32 : *s);
		const char *d = c ? strchr(hex, c) : NULL;
		if (!d || (unsigned)(d - hex) >= base)
			break;
		v = v * base + (unsigned)(d - hex);
		if (v > UINT64_MAX)
			return false;
	}
	unsigned shift = 0;
	if (*s == 'k' || *s == 'K')
		shift = 10;
	else if (*s == 'm' || *s == 'M')
		shift = 20;
	else if (*s == 'g' || *s == 'G')
		shift = 30;
	if (shift)
		s++;
	v <<= shift;
	if (!digits || *s || v > UINT64_MAX)
		return false;
	*out = (uint64_t)v;
	return true;
}

static void check_number(const uint8_t *data, size_t size)
{
	char word[64];
	size_t n = 0;
	while (n < size && n < sizeof(word) - 1 && data[n] != '\n')
		n++;
	memcpy(word, data, n);
	word[n] = 0;
	uint64_t got = 0, want = 0;
	char err[SHELL_ERR_MAX];
	bool ok = shell_parse_u64(word, "N", 0, UINT64_MAX, &got, err, sizeof(err));
	bool ref = reference_u64(word, &want);
	if (ok != ref || (ok && got != want))
		fuzz_bug("shell_parse_u64(\"%s\"): %d %llu, reference %d %llu", word, ok,
			 (unsigned long long)got, ref, (unsigned long long)want);
	if (!ok)
		fuzz_check_message("shell_parse_u64", err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct line_ed ed;
	stub_violation = violation;
	check_number(data, size);
	line_init(&ed, "pagoda> ", sink, NULL, shell_complete);
	line_start(&ed);
	for (size_t i = 0; i < size; i++) {
		enum line_event ev = line_feed(&ed, data[i]);
		if (ed.len >= SHELL_LINE_MAX || ed.cur > ed.len || ed.buf[ed.len] != 0)
			fuzz_bug("line_feed: len %u, cur %u after byte %zu", ed.len, ed.cur, i);
		if (ev == LINE_MORE)
			continue;
		if (ev == LINE_DONE) {
			char err[SHELL_ERR_MAX];
			if (shell_exec(ed.buf, err, sizeof(err)) == SHELL_ERROR)
				fuzz_check_message("shell_exec", err);
		} else if (ev == LINE_TOOLONG && !ed.dropped) {
			fuzz_bug("line_feed: a line too long with nothing dropped");
		}
		line_start(&ed);
	}
	return 0;
}
