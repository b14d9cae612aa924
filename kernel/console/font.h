/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The screen console's bitmap font. It is generated at build time by
 * tools/psf_font.py from a Debian console font (console-setup's
 * /usr/share/consolefonts), into build/<arch>/console_font.c: never
 * committed, so the kernel draws exactly the pixels the host-side screen
 * check renders from the same file.
 *
 * Glyphs cover code points [first, first + count); each is `height` rows
 * of `row_bytes` bytes, the most significant bit the leftmost pixel.
 */
#ifndef PAGODA_KERNEL_CONSOLE_FONT_H
#define PAGODA_KERNEL_CONSOLE_FONT_H

#include "kernel/types.h"

struct console_font {
	const char *name;
	unsigned width, height, row_bytes;
	unsigned first, count;
	const uint8_t *bits;
};

extern const struct console_font console_font;

/* The rows of `ch`'s glyph; a character the font lacks is drawn as '?'. */
static inline const uint8_t *console_font_glyph(const struct console_font *f, uint8_t ch)
{
	if (ch < f->first || ch >= f->first + f->count)
		ch = '?';
	return f->bits + (size_t)(ch - f->first) * f->height * f->row_bytes;
}

#endif
