// SPDX-License-Identifier: BSD-2-Clause
/*
 * The screen console's VGA text-mode back-end, for a loader that left the
 * PC in EGA text mode (Multiboot2 framebuffer type 2, normally 80x25 at
 * 0xB8000): each cell is a character byte and an attribute byte, here
 * light grey on black (0x07), the VGA default. The card's own font draws
 * it, so the build-time font plays no part.
 *
 * Invariant: only cells inside the checked width x height are written.
 */
#include "kernel/console/console.h"

#define VGA_ATTR 0x07

static inline void vga_put(struct console_vga *v, unsigned row, unsigned col, uint8_t ch)
{
	volatile uint16_t *cell = (volatile uint16_t *)(v->base + (size_t)row * v->pitch) + col;
	*cell = (uint16_t)(VGA_ATTR << 8 | ch);
}

void console_vga_clear(struct console_vga *v, unsigned cols, unsigned rows)
{
	for (unsigned r = 0; r < rows; r++)
		for (unsigned c = 0; c < cols; c++)
			vga_put(v, r, c, ' ');
}

void console_vga_draw(struct console_text *t, unsigned row, unsigned col, uint8_t ch)
{
	struct console_vga *v = t->backend;
	/* The test-only corruption the screen check must catch: 'a' shown as its neighbour. */
	if (v->break_glyph && ch == 'a')
		ch = '`';
	vga_put(v, row, col, ch);
}
