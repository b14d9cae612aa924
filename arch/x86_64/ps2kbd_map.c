// SPDX-License-Identifier: BSD-2-Clause
/*
 * Scancode set 1 to terminal bytes, US layout (ps2kbd.h says why terminal
 * bytes). Pure: no kernel calls, so tests/host/kbd/ builds it on the host.
 *
 * Invariants: the modifier state changes only on the make or break code of
 * a modifier, so a release is never typed and a junk byte cannot leave a
 * modifier stuck that was not pressed; an 0xE0 prefix applies to the one
 * byte after it; the Pause key's 0xE1 sequence (0xE1 then two bytes, sent
 * for press and again for release) is dropped whole; 0xE0 0x2A / 0xE0 0xAA
 * (the "fake shifts" keyboards wrap around some gray keys) are ignored.
 */
#include "arch/x86_64/ps2kbd.h"

#define SC_BREAK      0x80
#define SC_LCTRL      0x1d
#define SC_LSHIFT     0x2a
#define SC_RSHIFT     0x36
#define SC_CAPS	      0x3a
#define SC_PREFIX_E0  0xe0
#define SC_PREFIX_E1  0xe1
#define KEY_BACKSPACE 0x7f /* what a terminal's Backspace sends; line.c takes 0x08 too */

/* Make codes 0x00..0x39 to their unshifted and shifted bytes, a keyboard row a line; 0: no byte. */
// clang-format off
static const char map_plain[] = {
	0,    0x1b, '1', '2', '3', '4', '5', '6', '7', '8', '9', '0', '-', '=', KEY_BACKSPACE, '\t',
	'q',  'w',  'e', 'r', 't', 'y', 'u', 'i', 'o', 'p', '[', ']', '\r', 0,
	'a',  's',  'd', 'f', 'g', 'h', 'j', 'k', 'l', ';', '\'', '`', 0,
	'\\', 'z',  'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/', 0,   '*', 0,   ' ',
};
static const char map_shift[] = {
	0,    0x1b, '!', '@', '#', '$', '%', '^', '&', '*', '(', ')', '_', '+', KEY_BACKSPACE, '\t',
	'Q',  'W',  'E', 'R', 'T', 'Y', 'U', 'I', 'O', 'P', '{', '}', '\r', 0,
	'A',  'S',  'D', 'F', 'G', 'H', 'J', 'K', 'L', ':', '"', '~', 0,
	'|',  'Z',  'X', 'C', 'V', 'B', 'N', 'M', '<', '>', '?', 0,   '*', 0,   ' ',
};
// clang-format on
/* The keypad, 0x47..0x53, as with Num Lock on (Pagoda never turns it off). */
static const char map_keypad[] = "789-456+1230.";
#define SC_KEYPAD_FIRST 0x47

_Static_assert(sizeof(map_plain) == 0x3a && sizeof(map_shift) == 0x3a, "set 1 rows 0x00..0x39");

static size_t put_seq(char out[PS2KBD_OUT_MAX], const char *seq)
{
	size_t n = 0;
	while (seq[n] && n < PS2KBD_OUT_MAX) {
		out[n] = seq[n];
		n++;
	}
	return n;
}

/* A key after 0xE0: the gray keys a terminal sends as escape sequences. */
static size_t extended_key(uint8_t code, char out[PS2KBD_OUT_MAX])
{
	switch (code) {
	case 0x48:
		return put_seq(out, "\x1b[A");
	case 0x50:
		return put_seq(out, "\x1b[B");
	case 0x4d:
		return put_seq(out, "\x1b[C");
	case 0x4b:
		return put_seq(out, "\x1b[D");
	case 0x47:
		return put_seq(out, "\x1b[H");
	case 0x4f:
		return put_seq(out, "\x1b[F");
	case 0x53:
		return put_seq(out, "\x1b[3~");
	case 0x1c:
		return put_seq(out, "\r"); /* keypad Enter */
	case 0x35:
		return put_seq(out, "/"); /* keypad / */
	default:
		return 0; /* Insert, Page Up/Down, Windows keys, ... */
	}
}

static bool is_letter(char c)
{
	return c >= 'a' && c <= 'z';
}

size_t ps2kbd_translate(struct ps2kbd_state *s, uint8_t code, char out[PS2KBD_OUT_MAX])
{
	if (s->skip) {
		s->skip--;
		return 0;
	}
	if (code == SC_PREFIX_E0) {
		s->e0 = true;
		return 0;
	}
	if (code == SC_PREFIX_E1) {
		s->e0 = false;
		s->skip = 2;
		return 0;
	}
	bool e0 = s->e0;
	s->e0 = false;
	bool make = !(code & SC_BREAK);
	uint8_t key = code & (uint8_t)~SC_BREAK;

	/* Modifiers: held state only; the right Ctrl is E0 1D, E0 2A/AA are fake shifts. */
	if (key == SC_LCTRL) {
		*(e0 ? &s->rctrl : &s->lctrl) = make;
		return 0;
	}
	if (key == SC_LSHIFT || key == SC_RSHIFT) {
		if (!e0)
			*(key == SC_LSHIFT ? &s->lshift : &s->rshift) = make;
		return 0;
	}
	if (!make)
		return 0;
	if (key == SC_CAPS && !e0) {
		s->caps = !s->caps;
		return 0;
	}
	if (e0)
		return extended_key(key, out);

	bool shift = (s->lshift || s->rshift) && !s->ignore_shift;
	char c = 0;
	if (key < sizeof(map_plain)) {
		c = map_plain[key];
		/* Caps Lock shifts letters only; with Shift held it unshifts them. */
		if (shift != (s->caps && is_letter(c)))
			c = map_shift[key];
	} else if (key >= SC_KEYPAD_FIRST && key < SC_KEYPAD_FIRST + sizeof(map_keypad) - 1) {
		c = map_keypad[key - SC_KEYPAD_FIRST];
	}
	if (!c)
		return 0;
	if (s->lctrl || s->rctrl) {
		/*
		 * Ctrl-letter is its control code (either case); Enter, Tab, Esc and
		 * Backspace stay themselves; Ctrl with a printable non-letter is dropped.
		 */
		char lower = c | 0x20;
		if (is_letter(lower))
			c = (char)(lower & 0x1f);
		else if (c >= 0x20 && c < 0x7f)
			return 0;
	}
	out[0] = c;
	return 1;
}
