// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host test of the PS/2 scancode translation (arch/x86_64/ps2kbd_map.c):
 * plain keys, both Shifts, Caps Lock alone and with Shift, Ctrl-letters,
 * the 0xE0 gray keys as the escape sequences the line editor decodes,
 * releases that type nothing, fake shifts, the Pause sequence, controller
 * replies, the kbd.break=shift switch, and a million random bytes after
 * which a clean press still types right. Built with ASan and UBSan by
 * tools/host_test.mk; the last line is "N passed, N failed".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86_64/ps2kbd.h"
#include "tests/host/check.h"

/* Feeds `n` scancode bytes; returns everything they typed, NUL-terminated. */
static const char *feed(struct ps2kbd_state *s, const uint8_t *codes, size_t n)
{
	static char typed[256];
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		char out[PS2KBD_OUT_MAX];
		size_t k = ps2kbd_translate(s, codes[i], out);
		if (k > PS2KBD_OUT_MAX) {
			printf("FAIL translate returned %zu bytes\n", k);
			abort();
		}
		memcpy(typed + len, out, k);
		len += k;
	}
	typed[len] = 0;
	return typed;
}

#define FEED(s, ...)                                                                               \
	feed((s), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))
#define TYPES(s, want, ...) CHECK(strcmp(FEED((s), __VA_ARGS__), (want)) == 0)

static void test_plain(void)
{
	struct ps2kbd_state s = {0};
	/* h e l p Enter, each pressed and released */
	TYPES(&s, "help\r", 0x23, 0xa3, 0x12, 0x92, 0x26, 0xa6, 0x19, 0x99, 0x1c, 0x9c);
	TYPES(&s, "0x4 rw", 0x0b, 0x8b, 0x2d, 0xad, 0x05, 0x85, 0x39, 0xb9, 0x13, 0x93, 0x11, 0x91);
	TYPES(&s, "\x7f\t\x1b", 0x0e, 0x8e, 0x0f, 0x8f, 0x01, 0x81);
	TYPES(&s, "-=[];'`\\,./", 0x0c, 0x0d, 0x1a, 0x1b, 0x27, 0x28, 0x29, 0x2b, 0x33, 0x34, 0x35);
	TYPES(&s, "789-456+1230.", 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51,
	      0x52, 0x53);
	TYPES(&s, "", 0x3b, 0xbb, 0x38, 0xb8, 0x57, 0x58); /* F1, Alt, F11, F12: nothing */
}

static void test_shift_and_caps(void)
{
	struct ps2kbd_state s = {0};
	TYPES(&s, "A!", 0x2a, 0x1e, 0x9e, 0x02, 0x82, 0xaa); /* left Shift: A ! */
	TYPES(&s, "a", 0x1e, 0x9e);			     /* released: a */
	TYPES(&s, "Z)", 0x36, 0x2c, 0x0b, 0xb6);	     /* right Shift: Z ) */
	TYPES(&s, "_+{}:\"~|<>?@", 0x2a, 0x0c, 0x0d, 0x1a, 0x1b, 0x27, 0x28, 0x29, 0x2b, 0x33, 0x34,
	      0x35, 0x03, 0xaa);
	/* one Shift released while the other is held still shifts */
	TYPES(&s, "Q", 0x2a, 0x36, 0xaa, 0x10, 0x90, 0xb6);
	/* Caps Lock toggles on press only, shifts letters only; Shift undoes it */
	TYPES(&s, "Q1", 0x3a, 0xba, 0x10, 0x90, 0x02, 0x82);
	TYPES(&s, "q!", 0x2a, 0x10, 0x90, 0x02, 0x82, 0xaa);
	TYPES(&s, "q", 0x3a, 0xba, 0x10, 0x90);
}

static void test_ctrl(void)
{
	struct ps2kbd_state s = {0};
	TYPES(&s, "\x01\x05\x15\x17", 0x1d, 0x1e, 0x12, 0x16, 0x11, 0x9d); /* Ctrl-A E U W */
	TYPES(&s, "\x03", 0xe0, 0x1d, 0x2e, 0xe0, 0x9d);		   /* right Ctrl-C */
	TYPES(&s, "\x01", 0x1d, 0x2a, 0x1e, 0xaa, 0x9d);		   /* Ctrl-Shift-A */
	TYPES(&s, "\r", 0x1d, 0x02, 0x1c, 0x9d); /* Ctrl-1 is nothing; Ctrl-Enter is Enter */
	TYPES(&s, "c", 0x2e);			 /* released: a plain c again */
	/* a right-Ctrl release must not release the left one */
	TYPES(&s, "\x0c", 0x1d, 0xe0, 0x1d, 0xe0, 0x9d, 0x26, 0x9d);
}

static void test_extended(void)
{
	struct ps2kbd_state s = {0};
	TYPES(&s, "\x1b[A\x1b[B\x1b[C\x1b[D", 0xe0, 0x48, 0xe0, 0xc8, 0xe0, 0x50, 0xe0, 0xd0, 0xe0,
	      0x4d, 0xe0, 0xcd, 0xe0, 0x4b, 0xe0, 0xcb);
	TYPES(&s, "\x1b[H\x1b[F\x1b[3~", 0xe0, 0x47, 0xe0, 0x4f, 0xe0, 0x53);
	TYPES(&s, "\r/", 0xe0, 0x1c, 0xe0, 0x35);
	/* the prefix holds for one byte only: E0 48 is Up, a bare 48 is keypad 8 */
	TYPES(&s, "\x1b[A8", 0xe0, 0x48, 0x48);
	/* fake shifts around a gray key neither shift nor type */
	TYPES(&s, "\x1b[Fk", 0xe0, 0x2a, 0xe0, 0x4f, 0xe0, 0xcf, 0xe0, 0xaa, 0x25);
	/* Insert, Page Up/Down, the Windows keys: nothing */
	TYPES(&s, "", 0xe0, 0x52, 0xe0, 0x49, 0xe0, 0x51, 0xe0, 0x5b);
	/* Pause (E1 1D 45 E1 9D C5) is dropped whole: no Ctrl left held, no NumLock */
	TYPES(&s, "a", 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0x1e);
}

static void test_junk(void)
{
	struct ps2kbd_state s = {0};
	/* controller replies and unknown codes type nothing and leave no modifier held */
	TYPES(&s, "", 0xfa, 0xfe, 0xee, 0x00, 0xff, 0x59, 0x7f, 0xd9);
	TYPES(&s, "x", 0x2d);
	CHECK(!s.lshift && !s.rshift && !s.lctrl && !s.rctrl && !s.caps && !s.e0 && !s.skip);
	/* releases of keys never pressed type nothing */
	TYPES(&s, "", 0x9e, 0x9c, 0xe0, 0xc8);

	srand(17);
	size_t bytes = 0;
	for (unsigned i = 0; i < 1000000; i++) {
		char out[PS2KBD_OUT_MAX];
		size_t k = ps2kbd_translate(&s, (uint8_t)rand(), out);
		bytes += k;
		if (k > PS2KBD_OUT_MAX) {
			failed++;
			printf("FAIL random: %zu bytes from one scancode\n", k);
			break;
		}
		for (size_t j = 0; j < k; j++) {
			if ((unsigned char)out[j] >= 0x80 || out[j] == 0) {
				failed++;
				printf("FAIL random: typed byte %#x\n", (unsigned char)out[j]);
				return;
			}
		}
	}
	CHECK(bytes > 0);
	/* whatever the junk left, releasing every modifier and Caps off gives a plain key */
	s.caps = false;
	TYPES(&s, "m", 0x00, 0x00, 0x00, 0xaa, 0xb6, 0x9d, 0xe0, 0x9d, 0x32);
}

static void test_break_shift(void)
{
	struct ps2kbd_state s = {.ignore_shift = true};
	TYPES(&s, "a1", 0x2a, 0x1e, 0x02, 0xaa);
	TYPES(&s, "A", 0x3a, 0xba, 0x1e); /* Caps Lock still works */
}

int main(void)
{
	test_plain();
	test_shift_and_caps();
	test_ctrl();
	test_extended();
	test_junk();
	test_break_shift();
	printf("kbd host test: %u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
