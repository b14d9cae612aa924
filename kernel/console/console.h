/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The screen console: what printk writes to the serial port is also
 * drawn on the screen the boot loader (x86-64) or the board code (the
 * Pi 3's VideoCore, docs/boards.md) set up (boot_info.framebuffer):
 * a linear RGB framebuffer drawn with the build-time font (font.h), or VGA
 * text mode when the loader handed that. docs/boot.md, "Screen console".
 *
 * Layers, one file each:
 *  - text.c: the grid of character cells: cursor, wrap, newline, tab,
 *    scrolling. It keeps the text the screen should show and the text it
 *    does show, and redraws only the cells that differ, so scrolling costs
 *    the changed cells, never a read of the framebuffer.
 *  - fb.c / vga_text.c: draw one cell (a glyph in pixels, or a character
 *    and attribute in text memory).
 *  - screen.c: checks the loader's description, maps the screen and hands
 *    the writer to printk (console_add_screen), which calls it under its
 *    lock: the console path never prints and never takes another lock.
 *
 * Invariant: a cell is only ever drawn inside the screen's rows and
 * columns, whatever the cursor says (a panicking CPU may write without the
 * lock while another CPU was in the middle of a line).
 */
#ifndef PAGODA_KERNEL_CONSOLE_CONSOLE_H
#define PAGODA_KERNEL_CONSOLE_CONSOLE_H

#include "kernel/boot_info.h"
#include "kernel/console/font.h"

#define CONSOLE_COLS_MAX 256
#define CONSOLE_ROWS_MAX 128
#define CONSOLE_TAB	 8

struct console_text;
typedef void (*console_draw_fn)(struct console_text *t, unsigned row, unsigned col, uint8_t ch);

struct console_text {
	unsigned cols, rows;
	unsigned col, row; /* col == cols: the line is full, the next character wraps */
	uint8_t *want;	   /* rows * cols: the text the screen should show */
	uint8_t *shown;	   /* rows * cols: what draw() has put there */
	unsigned dirty_first, dirty_last; /* rows that may differ; first > last: none */
	console_draw_fn draw;
	void *backend;
	uint8_t esc;	    /* where in an escape sequence the last write stopped (text.c) */
	unsigned esc_arg;   /* its number so far (0: none given) */
	bool break_escapes; /* console.break=escapes: sequences shown as text, as before */
};

/*
 * Starts an empty grid of cols x rows (each at least 1 and at most the
 * _MAX above) over the caller's two arrays of cols * rows bytes; `draw`
 * puts one character in one cell. The screen is taken to be blank
 * (spaces) already: the back-end clears it first.
 */
void console_text_init(struct console_text *t, unsigned cols, unsigned rows, uint8_t *want,
		       uint8_t *shown, console_draw_fn draw, void *backend);
/*
 * Writes `len` bytes: printable ASCII goes in the cell under the cursor,
 * '\n' starts a new line, '\r' returns to column 0, '\t' moves to the next
 * multiple of CONSOLE_TAB; the line editor's escape sequences (kernel/
 * shell/line.c) act: ESC [ K erases to the end of the line, ESC [ n D and
 * ESC [ n C move the cursor n left or right within the line; any other
 * ESC [ ... sequence, or ESC and one byte, is dropped, and a control byte
 * ends a sequence and then acts itself; other bytes show as '?'. A character past the
 * last column wraps to the next line; a new line past the last row
 * scrolls everything up by one. Then every cell that changed is drawn.
 */
void console_text_write(struct console_text *t, const char *s, size_t len);

/* A framebuffer back-end: where the pixels are and how one is packed. */
struct console_fb {
	uint8_t *base;
	uint32_t pitch, width, height;
	unsigned bytes_pp; /* 2, 3 or 4 */
	uint32_t fg, bg;   /* packed pixel values */
	const struct console_font *font;
	bool break_glyph; /* console.break=glyph: 'a' drawn with one row flipped */
};
/* Fills `fb` from a checked description mapped at `base` (fg light grey on black). */
void console_fb_setup(struct console_fb *fb, const struct boot_framebuffer *desc, void *base,
		      const struct console_font *font);
/* Paints the whole framebuffer (margins too) with the background. */
void console_fb_clear(struct console_fb *fb);
/* console_draw_fn for a console_text whose backend is a struct console_fb. */
void console_fb_draw(struct console_text *t, unsigned row, unsigned col, uint8_t ch);

/* A VGA text-mode back-end (character and attribute bytes). */
struct console_vga {
	uint8_t *base;
	uint32_t pitch;
	bool break_glyph; /* console.break=glyph: 'a' shown as '`' */
};
void console_vga_clear(struct console_vga *v, unsigned cols, unsigned rows);
void console_vga_draw(struct console_text *t, unsigned row, unsigned col, uint8_t ch);

/*
 * Checks a loader's screen description for use with `font`: a supported
 * kind and depth (RGB at 16, 24 or 32 bpp; EGA text at 16), room for at
 * least one cell, a pitch that holds a line, colour fields inside the
 * pixel, and a size that neither wraps nor exceeds 256 MiB. False with a
 * one-line reason naming the field in `why` when it is unusable.
 */
bool console_fb_check(const struct boot_framebuffer *fb, const struct console_font *font, char *why,
		      size_t why_size);
/* Bytes the screen spans: pitch * height. */
uint64_t console_fb_bytes(const struct boot_framebuffer *fb);

/* console.break=glyph (test-only): back-ends must draw 'a' wrong. */
bool console_break_glyph(void);
/* console.break=escapes: the grid shows escape sequences as text (make test-negative). */
bool console_break_escapes(void);

/*
 * Boot CPU, once the kernel's page tables are live (vm_map_mmio works):
 * checks boot_info.framebuffer, maps it uncached, clears it and registers
 * the screen with printk, which replays the boot log so far. Without a
 * usable screen it says why on one line and does nothing else.
 */
void console_screen_init(void);

#endif
