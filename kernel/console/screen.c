// SPDX-License-Identifier: BSD-2-Clause
/*
 * The screen console's bring-up: the loader's screen description
 * (boot_info.framebuffer) is checked, the screen mapped uncached with
 * vm_map_mmio, cleared, and its writer handed to printk, which replays
 * the boot log so far and from then on sends it every byte the serial
 * port gets, under the console lock (console.h).
 *
 * Invariants: a description that fails console_fb_check is reported on one
 * line and never mapped or drawn; the writer only touches the grid and the
 * mapped screen (no printk, no lock of its own).
 */
#include "kernel/console/console.h"
#include "kernel/cmdline.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

CMDLINE_PARAM(console_break_param, .key = "console.break", .kind = CMDLINE_ENUM,
	      .values = "none|glyph|escapes", .def = "none",
	      .help = "test-only: draw one glyph wrong ('a': a pixel row flipped; VGA text: shown "
		      "as a backquote) so make screen-check fails, or show escape sequences as text");

static uint8_t cells_want[CONSOLE_COLS_MAX * CONSOLE_ROWS_MAX];
static uint8_t cells_shown[CONSOLE_COLS_MAX * CONSOLE_ROWS_MAX];
static struct console_text screen;
static struct console_fb screen_fb;
static struct console_vga screen_vga;

bool console_break_glyph(void)
{
	return cmdline_enum("console.break") == 1;
}

bool console_break_escapes(void)
{
	return cmdline_enum("console.break") == 2;
}

static void screen_write(const char *s, size_t len)
{
	console_text_write(&screen, s, len);
}

static unsigned at_most(unsigned v, unsigned max)
{
	return v < max ? v : max;
}

void console_screen_init(void)
{
	const struct boot_framebuffer *d = &boot_info.framebuffer;
	if (d->kind == BOOT_FB_NONE) {
		printk("console: no screen from the boot loader; serial only");
		return;
	}
	char why[128];
	if (!console_fb_check(d, &console_font, why, sizeof(why))) {
		printk("console: framebuffer: %s; no screen console", why);
		return;
	}
	void *base = vm_map_mmio(d->addr, console_fb_bytes(d), "screen");
	bool broken = console_break_glyph();
	unsigned cols, rows;
	if (d->kind == BOOT_FB_EGA_TEXT) {
		screen_vga =
		    (struct console_vga){.base = base, .pitch = d->pitch, .break_glyph = broken};
		cols = at_most(d->width, CONSOLE_COLS_MAX);
		rows = at_most(d->height, CONSOLE_ROWS_MAX);
		console_vga_clear(&screen_vga, cols, rows);
		console_text_init(&screen, cols, rows, cells_want, cells_shown, console_vga_draw,
				  &screen_vga);
		printk("console: VGA text mode %ux%u at %#lx", cols, rows, (unsigned long)d->addr);
	} else {
		console_fb_setup(&screen_fb, d, base, &console_font);
		screen_fb.break_glyph = broken;
		cols = at_most(d->width / console_font.width, CONSOLE_COLS_MAX);
		rows = at_most(d->height / console_font.height, CONSOLE_ROWS_MAX);
		console_fb_clear(&screen_fb);
		console_text_init(&screen, cols, rows, cells_want, cells_shown, console_fb_draw,
				  &screen_fb);
		printk("console: framebuffer %ux%u, %u bpp, at %#lx: %ux%u cells of %s %ux%u",
		       d->width, d->height, d->bpp, (unsigned long)d->addr, cols, rows,
		       console_font.name, console_font.width, console_font.height);
	}
	screen.break_escapes = console_break_escapes();
	console_add_screen(screen_write);
}
