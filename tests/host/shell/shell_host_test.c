// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host test of the console's pure parts (kernel/shell/line.c, parse.c,
 * complete.c, table.c) against stub handlers: tokens, numbers with their
 * suffixes and bounds, each one-line refusal, dispatch, Tab completion of
 * commands and fixed words, and the line editor's keys, history, escape
 * sequences cut short and overflow. Ends with a random-input run that
 * checks the editor's invariants after every byte. Built with ASan and
 * UBSan by tools/host_test.mk; the last line is "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/host/check.h"
#include "tests/host/shell/shell_stubs.h"

static void violation(const char *what)
{
	printf("FAIL handler contract: %s\n", what);
	abort();
}

static void test_tokenize(void)
{
	char line[] = "  map\t0x1000  4K rw ";
	char *argv[SHELL_ARGS_MAX];
	CHECK(shell_tokenize(line, argv, SHELL_ARGS_MAX) == 4);
	CHECK(strcmp(argv[0], "map") == 0 && strcmp(argv[3], "rw") == 0);
	char many[] = "a b c d e f g h i j";
	CHECK(shell_tokenize(many, argv, SHELL_ARGS_MAX) == 10);
	CHECK(strcmp(argv[7], "h") == 0);
	char blank[] = " \t ";
	CHECK(shell_tokenize(blank, argv, SHELL_ARGS_MAX) == 0);
}

static bool num(const char *s, uint64_t *v)
{
	char err[SHELL_ERR_MAX];
	return shell_parse_u64(s, "N", 0, UINT64_MAX, v, err, sizeof(err));
}

static void test_numbers(void)
{
	uint64_t v = 0;
	char err[SHELL_ERR_MAX];
	CHECK(num("0", &v) && v == 0);
	CHECK(num("4096", &v) && v == 4096);
	CHECK(num("0x400000", &v) && v == 0x400000);
	CHECK(num("0XfF", &v) && v == 255);
	CHECK(num("4K", &v) && v == 4096);
	CHECK(num("2m", &v) && v == 2u << 20);
	CHECK(num("0x1G", &v) && v == 1u << 30);
	CHECK(num("18446744073709551615", &v) && v == UINT64_MAX);
	CHECK(num("0xffffffffffffffff", &v) && v == UINT64_MAX);
	CHECK(!num("18446744073709551616", &v));
	CHECK(!num("0x10000000000000000", &v));
	CHECK(!num("17179869184G", &v)); /* 2^34 G = 2^64 */
	CHECK(num("17179869183G", &v) && v == 17179869183ull << 30);
	CHECK(!num("", &v));
	CHECK(!num("0x", &v));
	CHECK(!num("K", &v));
	CHECK(!num("12q", &v));
	CHECK(!num("4KK", &v));
	CHECK(!num("-1", &v));
	CHECK(!num("0x12g3", &v));
	CHECK(!shell_parse_u64("12", "CPU", 0, 7, &v, err, sizeof(err)));
	CHECK(strstr(err, "CPU: '12' is out of range (0..0x7)") != NULL);
	CHECK(!shell_parse_u64("zz", "ADDR", 0, 7, &v, err, sizeof(err)));
	CHECK(strstr(err, "ADDR: bad number 'zz'") != NULL);
	CHECK(!shell_parse_u64("0", "LEN", 1, 7, &v, err, sizeof(err)));
	/* A long word is cut in the message: the error stays one short line. */
	char longw[600];
	memset(longw, '9', sizeof(longw) - 1);
	longw[sizeof(longw) - 1] = 0;
	CHECK(!shell_parse_u64(longw, "N", 0, 7, &v, err, sizeof(err)));
	CHECK(strlen(err) < 100 && strstr(err, "...") && !strchr(err, '\n'));
}

static enum shell_status exec(const char *text, char *err)
{
	char line[SHELL_LINE_MAX];
	snprintf(line, sizeof(line), "%s", text);
	return shell_exec(line, err, SHELL_ERR_MAX);
}

static void test_exec(void)
{
	char err[SHELL_ERR_MAX];
	unsigned calls = stub_last.calls;
	CHECK(exec("   ", err) == SHELL_EMPTY);
	CHECK(exec("frobnicate 12", err) == SHELL_ERROR);
	CHECK(strcmp(err, "unknown command 'frobnicate' (try help)") == 0);
	CHECK(exec("map 0x400000 12K", err) == SHELL_ERROR);
	CHECK(strstr(err, "map: expects 3 arguments, got 2 (usage: map ADDR LEN rw|r|rx)") == err);
	CHECK(exec("touch 1", err) == SHELL_ERROR);
	CHECK(strstr(err, "touch: expects 2 to 4 arguments, got 1") == err);
	CHECK(exec("map 0 0 rwx", err) == SHELL_ERROR);
	CHECK(strcmp(err, "map: 'rwx' is not one of rw|r|rx") == 0);
	CHECK(exec("mm create", err) == SHELL_ERROR);
	CHECK(exec("help nosuch", err) == SHELL_ERROR);
	CHECK(strcmp(err, "help: unknown command 'nosuch'") == 0);
	CHECK(exec("mutant bogus", err) == SHELL_ERROR);
	CHECK(exec("a b c d e f g h i", err) == SHELL_ERROR);
	CHECK(stub_last.calls == calls); /* nothing refused ever ran */
	CHECK(exec("map 0x400000 0x4000 rw", err) == SHELL_OK);
	CHECK(stub_last.calls == calls + 1 && strcmp(stub_last.name, "map") == 0);
	CHECK(stub_last.argc == 4 && strcmp(stub_last.argv[3], "rw") == 0);
	CHECK(exec("  touch 0 4K on 3 ", err) == SHELL_OK && stub_last.argc == 5);
	CHECK(exec("mutant free_before_flush", err) == SHELL_OK);
	CHECK(exec("help walk", err) == SHELL_OK);
	CHECK(exec("tlb mode mmgen", err) == SHELL_OK);
	for (unsigned i = 0; i < shell_cmd_count; i++)
		CHECK(shell_find(shell_cmds[i].name) == &shell_cmds[i]);
}

static unsigned complete(const char *line, char *ext, char *list)
{
	unsigned len = (unsigned)strlen(line);
	return shell_complete(line, len, len, ext, 64, list, SHELL_LINE_MAX);
}

static void test_complete(void)
{
	char ext[64], list[SHELL_LINE_MAX];
	CHECK(complete("wa", ext, list) == 1 && strcmp(ext, "lk ") == 0 && !list[0]);
	CHECK(complete("m", ext, list) == 4 && !ext[0]);
	CHECK(strcmp(list, "mm map mutant mem") == 0);
	CHECK(complete("mu", ext, list) == 1 && strcmp(ext, "tant ") == 0);
	CHECK(complete("po", ext, list) == 1 && strcmp(ext, "weroff ") == 0);
	CHECK(complete("map 0 0 r", ext, list) == 3 && !ext[0]);
	CHECK(strcmp(list, "rw r rx") == 0);
	CHECK(complete("map 0 0 rx", ext, list) == 1 && strcmp(ext, " ") == 0);
	CHECK(complete("protect 0 0 ", ext, list) == 2 && strcmp(ext, "r") == 0);
	CHECK(complete("tlb mode mm", ext, list) == 1 && strcmp(ext, "gen ") == 0);
	CHECK(complete("tlb m", ext, list) == 1 && strcmp(ext, "ode ") == 0);
	CHECK(complete("mm f", ext, list) == 1 && strcmp(ext, "ree ") == 0);
	CHECK(complete("help wa", ext, list) == 1 && strcmp(ext, "lk ") == 0);
	CHECK(complete("mutant no", ext, list) == 2 && !ext[0]);
	CHECK(complete("touch 0 0 ", ext, list) == 1 && strcmp(ext, "on ") == 0);
	CHECK(complete("map 0 ", ext, list) == 0); /* LEN is free: nothing to offer */
	CHECK(complete("frob x", ext, list) == 0);
	CHECK(complete("walkx", ext, list) == 0);
	/* In the middle of a line: only the word up to the cursor counts. */
	CHECK(shell_complete("wa 0x1000", 9, 2, ext, 64, list, sizeof(list)) == 1);
	CHECK(strcmp(ext, "lk ") == 0);
	/* Tiny outputs: terminated, never overrun (ASan watches). */
	char small[2], tiny[1];
	CHECK(shell_complete("m", 1, 1, small, sizeof(small), tiny, sizeof(tiny)) == 4);
	CHECK(small[0] == 0 && tiny[0] == 0);
	CHECK(shell_complete("m", 1, 2, ext, 64, list, sizeof(list)) == 0); /* cursor past end */
}

/* ---- The line editor ----------------------------------------------------- */

static char screen[1 << 16];
static size_t screen_len;

static void out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	if (screen_len + n < sizeof(screen)) {
		memcpy(screen + screen_len, s, n);
		screen_len += n;
	}
}

static struct line_ed ed;

static enum line_event feed(const char *s, size_t n)
{
	enum line_event ev = LINE_MORE;
	for (size_t i = 0; i < n; i++)
		ev = line_feed(&ed, (uint8_t)s[i]);
	return ev;
}
#define FEED(lit) feed(lit, sizeof(lit) - 1)

static void fresh(void)
{
	line_start(&ed);
	screen_len = 0;
}

static void test_editor(void)
{
	line_init(&ed, "pagoda> ", out, NULL, shell_complete);
	fresh();
	CHECK(FEED("abc\x7f") == LINE_MORE && strcmp(ed.buf, "ab") == 0);
	CHECK(FEED("\x1b[D\x1b[DX") == LINE_MORE && strcmp(ed.buf, "Xab") == 0 && ed.cur == 1);
	CHECK(FEED("\x05Y\x01Z") == LINE_MORE && strcmp(ed.buf, "ZXabY") == 0 && ed.cur == 1);
	CHECK(FEED("\x1b[C\x1b[3~") == LINE_MORE && strcmp(ed.buf, "ZXbY") == 0);
	CHECK(FEED("\x1b[F\x15") == LINE_MORE && ed.len == 0);
	CHECK(FEED("map 0x1000 4K\x17") == LINE_MORE && strcmp(ed.buf, "map 0x1000 ") == 0);
	CHECK(FEED("\x17\x17") == LINE_MORE && ed.len == 0);
	CHECK(FEED("\x1b[HQ\x1bOFq") == LINE_MORE && strcmp(ed.buf, "Qq") == 0);
	CHECK(FEED("\r") == LINE_DONE && strcmp(ed.buf, "Qq") == 0);
	/* "\r\n" is one Enter: the '\n' must not end the next (empty) line. */
	fresh();
	CHECK(FEED("\n") == LINE_MORE);
	CHECK(FEED("one\n") == LINE_DONE);
	fresh();
	CHECK(FEED("two\r") == LINE_DONE);
	fresh();
	CHECK(FEED("\n") == LINE_MORE && ed.len == 0);
	CHECK(FEED("\x1b[A") == LINE_MORE && strcmp(ed.buf, "two") == 0);
	CHECK(FEED("\x1b[A\x10") == LINE_MORE && strcmp(ed.buf, "Qq") == 0);
	CHECK(FEED("\x1b[A") == LINE_MORE && strcmp(ed.buf, "Qq") == 0); /* oldest: stays */
	CHECK(FEED("\x1b[B\x0e") == LINE_MORE && strcmp(ed.buf, "two") == 0);
	fresh();
	CHECK(FEED("draft\x1b[A\x1b[B") == LINE_MORE && strcmp(ed.buf, "draft") == 0);
	CHECK(FEED("\x03") == LINE_CANCEL);
	/* Escape sequences cut short: the cutting byte is ordinary input. */
	fresh();
	CHECK(FEED("a\x1b[1\r") == LINE_DONE && strcmp(ed.buf, "a") == 0);
	fresh();
	CHECK(FEED("\x1b\x1b[Db") == LINE_MORE && strcmp(ed.buf, "b") == 0);
	CHECK(FEED("\x1b[123456789012345678Dc") == LINE_MORE); /* too long: abandoned */
	CHECK(ed.len <= 20 && ed.buf[ed.len - 1] == 'c');
	fresh();
	CHECK(feed("x\0y\x80\xff\x02", 6) == LINE_MORE && strcmp(ed.buf, "xy") == 0 && ed.cur == 1);
	/* Tab. */
	fresh();
	CHECK(FEED("ma\t0 0 r") == LINE_MORE && strcmp(ed.buf, "map 0 0 r") == 0);
	screen_len = 0;
	CHECK(FEED("\t") == LINE_MORE && strstr(screen, "rw r rx") != NULL);
	CHECK(FEED("x\t") == LINE_MORE && strcmp(ed.buf, "map 0 0 rx ") == 0);
	/* Overflow: refused once, on Enter; the next line is whole again. */
	fresh();
	char big[10240];
	memset(big, 'a', sizeof(big));
	CHECK(feed(big, sizeof(big)) == LINE_MORE && ed.len == SHELL_LINE_MAX - 1);
	CHECK(FEED("\r") == LINE_TOOLONG && ed.dropped == sizeof(big) - (SHELL_LINE_MAX - 1));
	fresh();
	CHECK(FEED("help\r") == LINE_DONE && strcmp(ed.buf, "help") == 0);
	/* The overlong line is not in the history. */
	fresh();
	CHECK(FEED("\x1b[A") == LINE_MORE && strcmp(ed.buf, "help") == 0);
}

static void test_random(void)
{
	unsigned bad = 0;
	srand(17);
	line_init(&ed, "> ", out, NULL, shell_complete);
	fresh();
	for (unsigned i = 0; i < 2000000; i++) {
		/* Bias toward the bytes the editor treats specially. */
		static const char special[] =
		    "\x1b[O~ABCDHF13\r\n\t\x7f\x01\x05\x15\x17\x03\x10\x0e";
		uint8_t c =
		    rand() % 3 ? (uint8_t)special[rand() % (sizeof(special) - 1)] : (uint8_t)rand();
		enum line_event ev = line_feed(&ed, c);
		if (ed.len >= SHELL_LINE_MAX || ed.cur > ed.len || ed.buf[ed.len] != 0)
			bad++;
		if (ev == LINE_DONE) {
			char err[SHELL_ERR_MAX];
			shell_exec(ed.buf, err, sizeof(err));
			if (strchr(err, '\n'))
				bad++;
		}
		if (ev != LINE_MORE || screen_len > sizeof(screen) / 2)
			fresh();
	}
	CHECK(bad == 0);
}

int main(void)
{
	stub_violation = violation;
	test_tokenize();
	test_numbers();
	test_exec();
	test_complete();
	test_editor();
	test_random();
	printf("shell host test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
