// SPDX-License-Identifier: BSD-2-Clause
/*
 * The screen console's framebuffer back-end: one character cell drawn as
 * the font's glyph, foreground where a bit is set and background where it
 * is clear, at 16, 24 or 32 bits per pixel packed as the loader described
 * (each colour's position and width). Only writes, never reads: the
 * framebuffer is mapped uncached and reads of it are slow on real
 * hardware.
 *
 * Invariant: every pixel written lies inside [0, width) x [0, height) of
 * the checked description (console_fb_check): a cell that does not fit
 * whole is not drawn.
 */
#include "kernel/console/console.h"
#include "lib/fmt.h"

uint64_t console_fb_bytes(const struct boot_framebuffer *fb)
{
	return (uint64_t)fb->pitch * fb->height;
}

/* One colour of 8 bits per channel, reduced to the field widths and placed. */
static uint32_t pack(const struct boot_framebuffer *d, uint8_t r, uint8_t g, uint8_t b)
{
	return (uint32_t)(r >> (8 - d->red_size)) << d->red_pos |
	       (uint32_t)(g >> (8 - d->green_size)) << d->green_pos |
	       (uint32_t)(b >> (8 - d->blue_size)) << d->blue_pos;
}

void console_fb_setup(struct console_fb *fb, const struct boot_framebuffer *desc, void *base,
		      const struct console_font *font)
{
	*fb = (struct console_fb){
	    .base = base,
	    .pitch = desc->pitch,
	    .width = desc->width,
	    .height = desc->height,
	    .bytes_pp = desc->bpp / 8,
	    .fg = pack(desc, 0xaa, 0xaa, 0xaa),
	    .bg = pack(desc, 0, 0, 0),
	    .font = font,
	};
}

static inline void put_pixel(uint8_t *p, unsigned bytes_pp, uint32_t v)
{
	switch (bytes_pp) {
	case 4:
		*(volatile uint32_t *)p = v;
		break;
	case 3:
		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		break;
	default:
		*(volatile uint16_t *)p = (uint16_t)v;
		break;
	}
}

void console_fb_clear(struct console_fb *fb)
{
	for (uint32_t y = 0; y < fb->height; y++) {
		uint8_t *line = fb->base + (size_t)y * fb->pitch;
		for (uint32_t x = 0; x < fb->width; x++)
			put_pixel(line + (size_t)x * fb->bytes_pp, fb->bytes_pp, fb->bg);
	}
}

void console_fb_draw(struct console_text *t, unsigned row, unsigned col, uint8_t ch)
{
	struct console_fb *fb = t->backend;
	const struct console_font *f = fb->font;
	uint32_t x0 = col * f->width, y0 = row * f->height;
	if (x0 + f->width > fb->width || y0 + f->height > fb->height)
		return;
	const uint8_t *glyph = console_font_glyph(f, ch);
	for (unsigned y = 0; y < f->height; y++) {
		const uint8_t *bits = glyph + y * f->row_bytes;
		/* The test-only corruption the screen check must catch: one row of 'a' inverted. */
		uint8_t flip = fb->break_glyph && ch == 'a' && y == f->height / 2 ? 0xff : 0;
		uint8_t *p = fb->base + (size_t)(y0 + y) * fb->pitch + (size_t)x0 * fb->bytes_pp;
		for (unsigned x = 0; x < f->width; x++, p += fb->bytes_pp) {
			bool on = ((bits[x / 8] ^ flip) << (x % 8)) & 0x80;
			put_pixel(p, fb->bytes_pp, on ? fb->fg : fb->bg);
		}
	}
}

static bool field_ok(const char *name, uint8_t pos, uint8_t size, uint8_t bpp, char *why,
		     size_t why_size)
{
	if (size == 0 || size > 8 || pos + size > bpp) {
		snprintf(why, why_size,
			 "%s field at bit %u, %u bits: outside a %u-bit pixel or wider "
			 "than 8",
			 name, pos, size, bpp);
		return false;
	}
	return true;
}

bool console_fb_check(const struct boot_framebuffer *fb, const struct console_font *font, char *why,
		      size_t why_size)
{
	bool text = fb->kind == BOOT_FB_EGA_TEXT;
	if (fb->kind != BOOT_FB_RGB && !text) {
		snprintf(why, why_size, "kind %u is neither RGB nor EGA text", fb->kind);
		return false;
	}
	if (text ? fb->bpp != 16 : fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
		snprintf(why, why_size, "%u bits per pixel not supported (%s)", fb->bpp,
			 text ? "EGA text has 16" : "16, 24 or 32");
		return false;
	}
	unsigned cell_w = text ? 1 : font->width, cell_h = text ? 1 : font->height;
	if (fb->width < cell_w || fb->height < cell_h) {
		snprintf(why, why_size, "%ux%u is smaller than one %ux%u cell", fb->width,
			 fb->height, cell_w, cell_h);
		return false;
	}
	if ((uint64_t)fb->pitch < (uint64_t)fb->width * (fb->bpp / 8)) {
		snprintf(why, why_size, "pitch %u < width %u x %u bytes", fb->pitch, fb->width,
			 fb->bpp / 8);
		return false;
	}
	uint64_t bytes = console_fb_bytes(fb);
	if (bytes > (256ull << 20) || fb->addr == 0 || fb->addr + bytes < fb->addr) {
		snprintf(why, why_size, "%#lx bytes at %#lx: empty address, wraps or over 256 MiB",
			 (unsigned long)bytes, (unsigned long)fb->addr);
		return false;
	}
	if (text)
		return true;
	return field_ok("red", fb->red_pos, fb->red_size, fb->bpp, why, why_size) &&
	       field_ok("green", fb->green_pos, fb->green_size, fb->bpp, why, why_size) &&
	       field_ok("blue", fb->blue_pos, fb->blue_size, fb->bpp, why, why_size);
}
