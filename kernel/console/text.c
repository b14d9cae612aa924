// SPDX-License-Identifier: BSD-2-Clause
/*
 * The screen console's grid of character cells (console.h): a cursor that
 * wraps, new lines, tabs and scrolling, kept as text in `want`, then drawn
 * by comparing it with `shown`, the text already drawn. Scrolling is a
 * memmove of bytes, not of pixels, and the redraw touches only the cells
 * whose character changed; log lines share their "[    1.234567] cpuN: "
 * shape, so many cells survive a scroll unchanged.
 *
 * The few escape sequences the line editor writes (ESC [ K, ESC [ n D,
 * ESC [ n C) are followed, so a line edited with Backspace, the arrows or
 * the history looks on the screen as it does on a terminal; they may be
 * split across writes, so where a sequence stands is kept in the grid.
 *
 * Invariants: row < rows and col <= cols between calls (col == cols only
 * while a full line waits for its wrap); draw() is called only for
 * row < rows and col < cols, and the cursor is clamped on entry in case a
 * panicking CPU wrote without the lock in the middle of another's call.
 */
#include "kernel/console/console.h"
#include "lib/string.h"

void console_text_init(struct console_text *t, unsigned cols, unsigned rows, uint8_t *want,
		       uint8_t *shown, console_draw_fn draw, void *backend)
{
	*t = (struct console_text){
	    .cols = cols,
	    .rows = rows,
	    .want = want,
	    .shown = shown,
	    .dirty_first = 1,
	    .dirty_last = 0,
	    .draw = draw,
	    .backend = backend,
	};
	memset(want, ' ', (size_t)cols * rows);
	memset(shown, ' ', (size_t)cols * rows);
}

static void mark_dirty(struct console_text *t, unsigned first, unsigned last)
{
	if (t->dirty_first > t->dirty_last) {
		t->dirty_first = first;
		t->dirty_last = last;
		return;
	}
	if (first < t->dirty_first)
		t->dirty_first = first;
	if (last > t->dirty_last)
		t->dirty_last = last;
}

static void new_line(struct console_text *t)
{
	t->col = 0;
	if (t->row + 1 < t->rows) {
		t->row++;
		return;
	}
	size_t line = t->cols;
	memmove(t->want, t->want + line, (t->rows - 1) * line);
	memset(t->want + (t->rows - 1) * line, ' ', line);
	mark_dirty(t, 0, t->rows - 1);
}

static void put(struct console_text *t, uint8_t ch)
{
	if (t->col >= t->cols)
		new_line(t);
	t->want[t->row * t->cols + t->col] = ch;
	mark_dirty(t, t->row, t->row);
	t->col++;
}

static void flush(struct console_text *t)
{
	for (unsigned r = t->dirty_first; r <= t->dirty_last && r < t->rows; r++) {
		size_t at = (size_t)r * t->cols;
		for (unsigned c = 0; c < t->cols; c++) {
			uint8_t ch = t->want[at + c];
			if (t->shown[at + c] != ch) {
				t->draw(t, r, c, ch);
				t->shown[at + c] = ch;
			}
		}
	}
	t->dirty_first = 1;
	t->dirty_last = 0;
}

enum { TEXT_PLAIN, TEXT_ESC, TEXT_CSI };
#define TEXT_ESC_ARG_MAX 9999 /* more than any row; bounds the number's growth */

/* ESC [ n K, D or C: the sequence's final byte. */
static void escape_final(struct console_text *t, uint8_t ch)
{
	unsigned n = t->esc_arg ? t->esc_arg : 1;
	if (ch == 'K' && t->col < t->cols) {
		memset(t->want + (size_t)t->row * t->cols + t->col, ' ', t->cols - t->col);
		mark_dirty(t, t->row, t->row);
	} else if (ch == 'D') {
		t->col = t->col > n ? t->col - n : 0;
	} else if (ch == 'C') {
		t->col = t->col + n < t->cols ? t->col + n : t->cols - 1;
	}
}

/* Feeds a byte to the escape sequence in progress; false when it is not part of one. */
static bool escape_feed(struct console_text *t, uint8_t ch)
{
	if (ch < 0x20) {
		t->esc = TEXT_PLAIN; /* cut short: the control byte counts as itself */
		return false;
	}
	if (t->esc == TEXT_ESC) {
		t->esc = ch == '[' ? TEXT_CSI : TEXT_PLAIN;
		return true;
	}
	if (ch >= '0' && ch <= '9') {
		if (t->esc_arg <= TEXT_ESC_ARG_MAX)
			t->esc_arg = t->esc_arg * 10 + (ch - '0');
		return true;
	}
	if (ch < 0x40)
		return true; /* other parameter and intermediate bytes (';', '?'): ignored */
	t->esc = TEXT_PLAIN;
	escape_final(t, ch);
	return true;
}

void console_text_write(struct console_text *t, const char *s, size_t len)
{
	if (t->row >= t->rows)
		t->row = t->rows - 1;
	if (t->col > t->cols)
		t->col = t->cols;
	for (size_t i = 0; i < len; i++) {
		uint8_t ch = (uint8_t)s[i];
		if (t->esc != TEXT_PLAIN && escape_feed(t, ch))
			continue;
		if (ch == 0x1b && !t->break_escapes) {
			t->esc = TEXT_ESC;
			t->esc_arg = 0;
		} else if (ch == '\n') {
			new_line(t);
		} else if (ch == '\r') {
			t->col = 0;
		} else if (ch == '\t') {
			do
				put(t, ' ');
			while (t->col % CONSOLE_TAB && t->col < t->cols);
		} else {
			put(t, ch >= 0x20 && ch < 0x7f ? ch : '?');
		}
	}
	flush(t);
}
