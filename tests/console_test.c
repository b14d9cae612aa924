// SPDX-License-Identifier: BSD-2-Clause
/*
 * console suite: the screen console's layers (kernel/console/) on small
 * framebuffers in RAM, and the checker of the loader's screen description.
 *
 * The glyph case draws through console_fb_draw at each depth and compares
 * every pixel with the font's own bits, so a wrong glyph (the test-only
 * console.break=glyph, which the negative check turns on) fails it; the
 * grid case counts draw() calls to prove a scroll redraws only the cells
 * that changed. The pixels the real screen shows are checked from the
 * host by make screen-check.
 *
 * Invariants: the cases never touch the real screen or its grid; each
 * builds its own struct console_text over static arrays.
 */
#include "kernel/console/console.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define T_COLS 4
#define T_ROWS 3
static uint8_t want[T_COLS * T_ROWS], shown[T_COLS * T_ROWS];
/* 4 x 3 cells of at most 16 x 32 pixels at 4 bytes each. */
static uint8_t pixels[T_ROWS * 32][T_COLS * 16 * 4];

static struct boot_framebuffer desc(uint8_t bpp)
{
	struct boot_framebuffer d = {
	    .kind = BOOT_FB_RGB,
	    .addr = 0x80000000,
	    .pitch = sizeof(pixels[0]),
	    .width = T_COLS * console_font.width,
	    .height = T_ROWS * console_font.height,
	    .bpp = bpp,
	};
	if (bpp == 16) {
		d.red_pos = 11, d.red_size = 5, d.green_pos = 5, d.green_size = 6;
		d.blue_pos = 0, d.blue_size = 5;
	} else {
		d.red_pos = 16, d.red_size = 8, d.green_pos = 8, d.green_size = 8;
		d.blue_pos = 0, d.blue_size = 8;
	}
	return d;
}

static uint32_t pixel_at(const struct console_fb *fb, unsigned x, unsigned y)
{
	const uint8_t *p = fb->base + (size_t)y * fb->pitch + (size_t)x * fb->bytes_pp;
	uint32_t v = 0;
	for (unsigned i = 0; i < fb->bytes_pp; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* Every pixel of cell (row, col) is the glyph of `ch` in fg on bg; else names the first bad one. */
static void expect_cell(struct ktest *t, const struct console_fb *fb, unsigned row, unsigned col,
			uint8_t ch)
{
	const struct console_font *f = fb->font;
	const uint8_t *g = console_font_glyph(f, ch);
	for (unsigned y = 0; y < f->height; y++)
		for (unsigned x = 0; x < f->width; x++) {
			bool on = (g[y * f->row_bytes + x / 8] << (x % 8)) & 0x80;
			uint32_t got = pixel_at(fb, col * f->width + x, row * f->height + y);
			if (got != (on ? fb->fg : fb->bg)) {
				ktest_fail_msg(
				    t, __FILE__, __LINE__,
				    "cell (%u, %u) '%c': pixel (%u, %u) is %#x, expected %#x", row,
				    col, ch, x, y, got, on ? fb->fg : fb->bg);
				return;
			}
		}
}

static void glyphs_drawn_exactly(struct ktest *t)
{
	static const uint8_t depths[] = {32, 24, 16};
	ASSERT_LE(t, console_font.width, 16u);
	ASSERT_LE(t, console_font.height, 32u);
	for (unsigned i = 0; i < ARRAY_SIZE(depths); i++) {
		struct boot_framebuffer d = desc(depths[i]);
		char why[128];
		ASSERT_TRUE(t, console_fb_check(&d, &console_font, why, sizeof(why)));
		struct console_fb fb;
		struct console_text text;
		console_fb_setup(&fb, &d, pixels, &console_font);
		fb.break_glyph = console_break_glyph();
		console_fb_clear(&fb);
		console_text_init(&text, T_COLS, T_ROWS, want, shown, console_fb_draw, &fb);
		console_text_write(&text, "Pa~\n\x01g", 6);
		expect_cell(t, &fb, 0, 0, 'P');
		expect_cell(t, &fb, 0, 1, 'a');
		expect_cell(t, &fb, 0, 2, '~');
		expect_cell(t, &fb, 0, 3, ' ');
		expect_cell(t, &fb, 1, 0, '?'); /* a control byte shows as '?' */
		expect_cell(t, &fb, 1, 1, 'g');
	}
	/* Light grey packs to each depth's fields: 0xaa per channel, 5-6-5 cut at 16 bpp. */
	struct console_fb fb;
	struct boot_framebuffer d16 = desc(16);
	console_fb_setup(&fb, &d16, pixels, &console_font);
	EXPECT_EQ(t, fb.fg, (0xaau >> 3) << 11 | (0xaau >> 2) << 5 | (0xaau >> 3));
}

/* A draw() that records how many cells it was asked to draw. */
static unsigned draws;
static void count_draw(struct console_text *t, unsigned row, unsigned col, uint8_t ch)
{
	(void)t, (void)row, (void)col, (void)ch;
	draws++;
}

static bool row_is(const struct console_text *text, unsigned row, const char *s)
{
	return memcmp(text->want + row * text->cols, s, text->cols) == 0;
}

static void grid_wraps_tabs_and_scrolls(struct ktest *t)
{
	struct console_text text;
	console_text_init(&text, T_COLS, T_ROWS, want, shown, count_draw, NULL);
	draws = 0;
	console_text_write(&text, "abcdef", 6); /* wraps after 4 */
	EXPECT_TRUE(t, row_is(&text, 0, "abcd"));
	EXPECT_TRUE(t, row_is(&text, 1, "ef  "));
	EXPECT_EQ(t, draws, 6u);
	/*
	 * A full line then '\n' is one new line, not two (the wrap waits for a
	 * character); the tab fills to column 4, and 'y' wraps at the bottom row,
	 * which moves everything up one row.
	 */
	console_text_write(&text, "gh\nx\ty", 6);
	EXPECT_TRUE(t, row_is(&text, 0, "efgh"));
	EXPECT_TRUE(t, row_is(&text, 1, "x   "));
	EXPECT_TRUE(t, row_is(&text, 2, "y   "));
	EXPECT_EQ(t, text.row, 2u);
	EXPECT_EQ(t, text.col, 1u);
	/* Redrawn: only the cells whose character changed: 4 in row 0, none in row 1, 2 in row 2.
	 */
	console_text_write(&text, "\r", 1);
	draws = 0;
	console_text_write(&text, "x\nxz", 4);
	EXPECT_TRUE(t, row_is(&text, 0, "x   "));
	EXPECT_TRUE(t, row_is(&text, 1, "x   "));
	EXPECT_TRUE(t, row_is(&text, 2, "xz  "));
	EXPECT_EQ(t, draws, 6u);
	EXPECT_EQ(t, memcmp(want, shown, sizeof(want)), 0);
	/* A cursor left out of range (a panicking CPU's unlocked write) is clamped, not used. */
	text.row = 1000, text.col = 1000;
	console_text_write(&text, "q", 1);
	EXPECT_LT(t, text.row, (unsigned)T_ROWS);
}

static void text_puts(struct console_text *text, const char *s)
{
	console_text_write(text, s, strlen(s));
}

/*
 * The line editor's redraw (kernel/shell/line.c): "\r", prompt, text, erase
 * to the end, cursor back. On the screen it must leave the edited line,
 * not the escape bytes; a sequence split across writes still acts, an
 * unknown one is dropped, a control byte cuts one short.
 */
static void grid_follows_the_editors_escapes(struct ktest *t)
{
	static uint8_t line_want[8 * T_ROWS], line_shown[8 * T_ROWS];
	struct console_text text;
	console_text_init(&text, 8, T_ROWS, line_want, line_shown, count_draw, NULL);
	text.break_escapes = console_break_escapes();
	text_puts(&text, "> helo");
	text_puts(&text, "\r> hel\x1b[K"); /* Backspace at the end */
	EXPECT_TRUE(t, row_is(&text, 0, "> hel   "));
	EXPECT_EQ(t, text.col, 5u);
	text_puts(&text, "\r> xhel\x1b[K\x1b[3D"); /* 'x' typed at column 2 */
	EXPECT_TRUE(t, row_is(&text, 0, "> xhel  "));
	EXPECT_EQ(t, text.col, 3u);
	text_puts(&text, "\x1b["); /* split: ESC [ now, 2C later */
	text_puts(&text, "2C!\x1b[99D\x1b[1;2Hz");
	EXPECT_TRUE(t, row_is(&text, 0, "z xhe!  ")); /* 2C, '!', 99D to column 0, H dropped */
	text_puts(&text, "\x1b[\nq\x1bOA"); /* cut by '\n'; ESC O dropped, A is text */
	EXPECT_TRUE(t, row_is(&text, 1, "qA      "));
	EXPECT_EQ(t, text.esc, 0);
}

static void check_refuses(struct ktest *t, struct boot_framebuffer d, const char *field)
{
	char why[128] = "";
	if (console_fb_check(&d, &console_font, why, sizeof(why))) {
		ktest_fail_msg(t, __FILE__, __LINE__, "accepted, expected a refusal naming '%s'",
			       field);
		return;
	}
	if (!strstr(why, field))
		ktest_fail_msg(t, __FILE__, __LINE__, "reason '%s' does not name '%s'", why, field);
}

static void check_refuses_malformed_screens(struct ktest *t)
{
	struct boot_framebuffer good = desc(32), d;
	char why[128];
	EXPECT_TRUE(t, console_fb_check(&good, &console_font, why, sizeof(why)));
	d = good, d.kind = BOOT_FB_NONE;
	check_refuses(t, d, "kind");
	d = good, d.bpp = 8;
	check_refuses(t, d, "bits per pixel");
	d = good, d.width = 3;
	check_refuses(t, d, "smaller than one");
	d = good, d.pitch = d.width * 4 - 1;
	check_refuses(t, d, "pitch");
	d = good, d.addr = ~0ull - 4096;
	check_refuses(t, d, "wraps");
	d = good, d.pitch = 1u << 20, d.height = 1024;
	check_refuses(t, d, "over 256 MiB");
	d = good, d.green_pos = 28;
	check_refuses(t, d, "green field");
	d = good, d.blue_size = 0;
	check_refuses(t, d, "blue field");
	d = (struct boot_framebuffer){.kind = BOOT_FB_EGA_TEXT,
				      .addr = 0xb8000,
				      .pitch = 160,
				      .width = 80,
				      .height = 25,
				      .bpp = 16};
	EXPECT_TRUE(t, console_fb_check(&d, &console_font, why, sizeof(why)));
	d.bpp = 32;
	check_refuses(t, d, "EGA text has 16");
}

static const struct ktest_case console_cases[] = {
    KTEST_CASE(glyphs_drawn_exactly),
    KTEST_CASE(grid_wraps_tabs_and_scrolls),
    KTEST_CASE(grid_follows_the_editors_escapes),
    KTEST_CASE(check_refuses_malformed_screens),
    KTEST_END,
};
KTEST_SUITE(console_suite, "console", console_cases);
