/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PS/2 keyboard (x86-64 only): the pure scancode translation
 * (ps2kbd_map.c, host-tested by tests/host/kbd/) and the polled i8042
 * driver (ps2kbd.c) that feeds it.
 *
 * The translation reads scancode set 1, which is what the i8042 hands
 * the CPU by default (it translates the keyboard's set 2), with a US
 * layout, and writes the bytes a serial terminal would send for the same
 * key, so the line editor (kernel/shell/line.c) needs to know nothing of
 * keyboards: arrows become ESC [ A..D, Home/End ESC [ H / ESC [ F, Delete
 * ESC [ 3 ~, Enter '\r', Backspace 0x7f, Ctrl-letter its control code.
 */
#ifndef PAGODA_ARCH_X86_64_PS2KBD_H
#define PAGODA_ARCH_X86_64_PS2KBD_H

#include "kernel/types.h"

#define PS2KBD_OUT_MAX 4 /* the most bytes one scancode byte turns into (ESC [ 3 ~) */

/* Modifier and prefix state between scancode bytes. Zero-initialised is "nothing held". */
struct ps2kbd_state {
	bool lshift, rshift, lctrl, rctrl, caps;
	bool e0;	   /* the previous byte was the 0xE0 prefix */
	uint8_t skip;	   /* bytes still to drop of an 0xE1 (Pause) sequence */
	bool ignore_shift; /* test-only (kbd.break=shift): Shift does nothing */
};

/*
 * Feeds one scancode byte. Writes the bytes it produces to out (at most
 * PS2KBD_OUT_MAX) and returns how many: 0 for a modifier, a release, a
 * prefix, a key with no byte (F-keys, Alt) or a byte that is no key
 * (controller replies such as 0xFA, 0xFE; an unknown code). Never fails:
 * junk only ever yields nothing or the bytes of some key.
 */
size_t ps2kbd_translate(struct ps2kbd_state *s, uint8_t code, char out[PS2KBD_OUT_MAX]);

/* Probes the i8042 (see ps2kbd.c) and, when a keyboard is there, enables reading it. */
void ps2kbd_init(void);
/* True when ps2kbd_init found a controller and will read it. */
bool ps2kbd_present(void);
/* True when translated bytes of a key wait (the mux hands them out first). */
bool ps2kbd_queued(void);
/* One byte typed on the keyboard, or -1 when none waits. Called by the console loop only. */
int ps2kbd_getc(void);

#endif
