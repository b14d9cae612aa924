// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console's line editor: one byte in, terminal output out. Keys:
 * printable bytes insert at the cursor; Backspace/DEL delete before it,
 * Delete (ESC [3~) and Ctrl-D at it; Left/Right (and Ctrl-B/F) move,
 * Home/End and Ctrl-A/E jump; Ctrl-U deletes to the start, Ctrl-K to the
 * end, Ctrl-W the word before the cursor; Up/Down (and Ctrl-P/N) walk the
 * history; Tab completes (shell_complete); Ctrl-C abandons the line;
 * Ctrl-L redraws it; Enter ('\r', '\n' or "\r\n") ends it.
 *
 * After any change other than typing at the end the whole line is
 * redrawn ("\r", prompt, text, erase to end of line, cursor moved back):
 * simple, and always right whatever the terminal showed before.
 *
 * Invariants: len < SHELL_LINE_MAX and cur <= len, always; buf[len] is NUL
 * when a line is returned; every byte is consumed in O(line) work (no
 * loop waits for more input); an escape sequence is at most 8 parameter
 * bytes long, and any byte that cannot continue it ends it and counts as
 * ordinary input; NUL, other control bytes and bytes >= 0x80 are ignored.
 */
#include "kernel/shell/shell.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum { ESC_NONE, ESC_START, ESC_CSI };

#define CTRL(c) ((c)&0x1f)

static void out_str(struct line_ed *ed, const char *s)
{
	ed->out(ed->ctx, s, strlen(s));
}

static void redraw(struct line_ed *ed)
{
	char tail[16];
	out_str(ed, "\r");
	out_str(ed, ed->prompt);
	ed->out(ed->ctx, ed->buf, ed->len);
	out_str(ed, "\x1b[K");
	if (ed->len > ed->cur) {
		snprintf(tail, sizeof(tail), "\x1b[%uD", ed->len - ed->cur);
		out_str(ed, tail);
	}
}

void line_init(struct line_ed *ed, const char *prompt, line_out_fn out, void *ctx,
	       line_complete_fn complete)
{
	memset(ed, 0, sizeof(*ed));
	ed->prompt = prompt;
	ed->out = out;
	ed->ctx = ctx;
	ed->complete = complete;
}

void line_start(struct line_ed *ed)
{
	ed->len = ed->cur = 0;
	ed->buf[0] = 0;
	ed->dropped = 0;
	ed->hist_pos = 0;
	ed->esc = ESC_NONE;
	out_str(ed, ed->prompt);
}

static void insert(struct line_ed *ed, const char *s, size_t n)
{
#ifdef FUZZ_BREAK_LINE /* test-only: make fuzz-negative must catch a line past its buffer */
	if (ed->len + n > SHELL_LINE_MAX + 64) {
#else
	if (ed->len + n > SHELL_LINE_MAX - 1) {
#endif
		ed->dropped += n;
		return;
	}
	memmove(ed->buf + ed->cur + n, ed->buf + ed->cur, ed->len - ed->cur);
	memcpy(ed->buf + ed->cur, s, n);
	ed->len += (unsigned)n;
	ed->cur += (unsigned)n;
	ed->buf[ed->len] = 0;
	if (ed->cur == ed->len)
		ed->out(ed->ctx, s, n); /* typing at the end: just echo */
	else
		redraw(ed);
}

/* Deletes buf[from, to) and redraws. */
static void erase(struct line_ed *ed, unsigned from, unsigned to)
{
	if (from >= to)
		return;
	memmove(ed->buf + from, ed->buf + to, ed->len - to);
	ed->len -= to - from;
	ed->buf[ed->len] = 0;
	ed->cur = from;
	redraw(ed);
}

static void move_to(struct line_ed *ed, unsigned cur)
{
	if (cur != ed->cur) {
		ed->cur = cur;
		redraw(ed);
	}
}

static void set_text(struct line_ed *ed, const char *s)
{
	size_t n = strnlen(s, SHELL_LINE_MAX - 1);
	memcpy(ed->buf, s, n);
	ed->buf[n] = 0;
	ed->len = ed->cur = (unsigned)n;
	redraw(ed);
}

/* The n-th newest history entry, 1-based. */
static const char *hist_entry(struct line_ed *ed, unsigned n)
{
	return ed->hist[(ed->hist_next + SHELL_HISTORY - n) % SHELL_HISTORY];
}

static void history_move(struct line_ed *ed, bool older)
{
	if (older && ed->hist_pos < ed->hist_count) {
		if (ed->hist_pos == 0)
			memcpy(ed->scratch, ed->buf, ed->len + 1);
		set_text(ed, hist_entry(ed, ++ed->hist_pos));
	} else if (!older && ed->hist_pos > 0) {
		ed->hist_pos--;
		set_text(ed, ed->hist_pos ? hist_entry(ed, ed->hist_pos) : ed->scratch);
	}
}

static void history_add(struct line_ed *ed)
{
	if (!ed->len || (ed->hist_count && strcmp(hist_entry(ed, 1), ed->buf) == 0))
		return;
	memcpy(ed->hist[ed->hist_next], ed->buf, ed->len + 1);
	ed->hist_next = (ed->hist_next + 1) % SHELL_HISTORY;
	if (ed->hist_count < SHELL_HISTORY)
		ed->hist_count++;
}

static void complete(struct line_ed *ed)
{
	char ext[64], list[SHELL_LINE_MAX];
	if (!ed->complete)
		return;
	unsigned n = ed->complete(ed->buf, ed->len, ed->cur, ext, sizeof(ext), list, sizeof(list));
	size_t n_ext = strlen(ext);
	if (n_ext && ed->len + n_ext <= SHELL_LINE_MAX - 1) {
		insert(ed, ext, n_ext);
	} else if (n > 1) {
		out_str(ed, "\n");
		out_str(ed, list);
		out_str(ed, "\n");
		redraw(ed);
	}
}

static unsigned word_start(const struct line_ed *ed)
{
	unsigned i = ed->cur;
	while (i > 0 && ed->buf[i - 1] == ' ')
		i--;
	while (i > 0 && ed->buf[i - 1] != ' ')
		i--;
	return i;
}

/* The final byte of a CSI or SS3 sequence (ESC [ ... X, ESC O X). */
static void escape_final(struct line_ed *ed, uint8_t c)
{
	const char *p = ed->esc_param;
	switch (c) {
	case 'A':
		history_move(ed, true);
		break;
	case 'B':
		history_move(ed, false);
		break;
	case 'C':
		move_to(ed, ed->cur < ed->len ? ed->cur + 1 : ed->cur);
		break;
	case 'D':
		move_to(ed, ed->cur ? ed->cur - 1 : 0);
		break;
	case 'H':
		move_to(ed, 0);
		break;
	case 'F':
		move_to(ed, ed->len);
		break;
	case '~':
		if (strcmp(p, "1") == 0 || strcmp(p, "7") == 0)
			move_to(ed, 0);
		else if (strcmp(p, "4") == 0 || strcmp(p, "8") == 0)
			move_to(ed, ed->len);
		else if (strcmp(p, "3") == 0 && ed->cur < ed->len)
			erase(ed, ed->cur, ed->cur + 1);
		break;
	default:
		break; /* a key this editor does not use */
	}
}

/* Feeds one byte to an escape sequence; false when it cannot be part of one. */
static bool escape_feed(struct line_ed *ed, uint8_t c)
{
	if (ed->esc == ESC_START) {
		if (c == '[' || c == 'O') {
			ed->esc = ESC_CSI;
			ed->esc_len = 0;
			ed->esc_param[0] = 0;
			return true;
		}
		ed->esc = ESC_NONE;
		return c >= 0x20 && c < 0x7f; /* ESC x (Alt-x): ignored; a control byte is input */
	}
	if (c >= 0x30 && c <= 0x3f) { /* parameter bytes */
		if (ed->esc_len + 1 >= sizeof(ed->esc_param)) {
			ed->esc = ESC_NONE; /* too long for any key: give up on it */
			return true;
		}
		ed->esc_param[ed->esc_len++] = (char)c;
		ed->esc_param[ed->esc_len] = 0;
		return true;
	}
	ed->esc = ESC_NONE;
	if (c >= 0x20 && c <= 0x2f)
		return true; /* intermediate bytes: no key of ours has them */
	if (c >= 0x40 && c <= 0x7e) {
		escape_final(ed, c);
		return true;
	}
	return false; /* a control byte cut the sequence short: it is input */
}

enum line_event line_feed(struct line_ed *ed, uint8_t c)
{
	bool after_cr = ed->last_cr;
	ed->last_cr = c == '\r';
	if (ed->esc != ESC_NONE && escape_feed(ed, c))
		return LINE_MORE;
	if (c >= 0x20 && c < 0x7f) {
		char ch = (char)c;
		insert(ed, &ch, 1);
		return LINE_MORE;
	}
	switch (c) {
	case '\n':
		if (after_cr)
			return LINE_MORE; /* the '\n' of "\r\n" */
					  /* fall through */
	case '\r':
		out_str(ed, "\n");
		if (ed->dropped)
			return LINE_TOOLONG;
		history_add(ed);
		return LINE_DONE;
	case 0x1b:
		ed->esc = ESC_START;
		break;
	case 0x7f:
	case CTRL('H'):
		erase(ed, ed->cur ? ed->cur - 1 : 0, ed->cur);
		break;
	case CTRL('D'):
		erase(ed, ed->cur, ed->cur < ed->len ? ed->cur + 1 : ed->cur);
		break;
	case CTRL('A'):
		move_to(ed, 0);
		break;
	case CTRL('E'):
		move_to(ed, ed->len);
		break;
	case CTRL('B'):
		move_to(ed, ed->cur ? ed->cur - 1 : 0);
		break;
	case CTRL('F'):
		move_to(ed, ed->cur < ed->len ? ed->cur + 1 : ed->cur);
		break;
	case CTRL('U'):
		erase(ed, 0, ed->cur);
		break;
	case CTRL('K'):
		erase(ed, ed->cur, ed->len);
		break;
	case CTRL('W'):
		erase(ed, word_start(ed), ed->cur);
		break;
	case CTRL('P'):
		history_move(ed, true);
		break;
	case CTRL('N'):
		history_move(ed, false);
		break;
	case CTRL('L'):
		redraw(ed);
		break;
	case '\t':
		complete(ed);
		break;
	case CTRL('C'):
		out_str(ed, "^C\n");
		return LINE_CANCEL;
	default:
		break; /* NUL, other controls, bytes >= 0x80: ignored */
	}
	return LINE_MORE;
}
