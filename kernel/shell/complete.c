// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tab completion for the console: the word that ends at the cursor is
 * completed against the command names (first word, or the argument of
 * `help`) or against the fixed words of the command's argument at that
 * position (shell_arg_words). Pure C, like parse.c.
 *
 * Invariants: the outputs are always NUL-terminated inside their sizes;
 * a word longer than any candidate matches nothing; nothing past
 * line[len) is read.
 */
#include "kernel/shell/shell.h"
#include "lib/string.h"

struct matches {
	const char *prefix;
	size_t plen;
	unsigned count;
	const char *first; /* the first match, and how much all matches share */
	size_t common;
	char *list;
	size_t list_size, list_len;
};

static void add_match(struct matches *m, const char *w, size_t len)
{
	if (len < m->plen || strncmp(w, m->prefix, m->plen) != 0)
		return;
	if (m->count++ == 0) {
		m->first = w;
		m->common = len;
	} else {
		size_t i = m->plen;
		while (i < m->common && i < len && m->first[i] == w[i])
			i++;
		m->common = i;
	}
	/* The list: "w1 w2 ...", cut (never split mid-buffer) when it is full. */
	size_t need = len + (m->list_len ? 1 : 0);
	if (m->list_len + need < m->list_size) {
		if (m->list_len)
			m->list[m->list_len++] = ' ';
		memcpy(m->list + m->list_len, w, len);
		m->list_len += len;
		m->list[m->list_len] = 0;
	}
}

static void add_words(struct matches *m, const char *words)
{
	for (const char *w = words; *w;) {
		const char *end = strchr(w, '|');
		size_t len = end ? (size_t)(end - w) : strlen(w);
		add_match(m, w, len);
		if (!end)
			break;
		w = end + 1;
	}
}

static void add_commands(struct matches *m)
{
	for (unsigned i = 0; i < shell_cmd_count; i++)
		add_match(m, shell_cmds[i].name, strlen(shell_cmds[i].name));
}

/* The first word of line[0..len), copied into `name` (empty when it does not fit). */
static void first_word(const char *line, unsigned len, char *name, size_t size)
{
	unsigned i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	unsigned start = i;
	while (i < len && line[i] != ' ' && line[i] != '\t')
		i++;
	size_t n = i - start;
	if (n >= size)
		n = 0;
	memcpy(name, line + start, n);
	name[n] = 0;
}

unsigned shell_complete(const char *line, unsigned len, unsigned cur, char *ext, size_t ext_size,
			char *list, size_t list_size)
{
	if (ext_size)
		ext[0] = 0;
	if (list_size)
		list[0] = 0;
	if (cur > len || !ext_size || !list_size)
		return 0;
	/* The word being completed: from the last blank before the cursor up to it. */
	unsigned start = cur;
	while (start > 0 && line[start - 1] != ' ' && line[start - 1] != '\t')
		start--;
	/* Which word it is: count the words that end before it. */
	unsigned index = 0;
	for (unsigned i = 0; i < start; i++)
		if (line[i] != ' ' && line[i] != '\t' &&
		    (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
			index++;

	struct matches m = {
	    .prefix = line + start, .plen = cur - start, .list = list, .list_size = list_size};
	if (index == 0) {
		add_commands(&m);
	} else {
		char name[32];
		first_word(line, len, name, sizeof(name));
		const struct shell_cmd *c = shell_find(name);
		if (!c)
			return 0;
		if (c->arg_is_command && index == 1)
			add_commands(&m);
		else if (shell_arg_words(c, index - 1))
			add_words(&m, shell_arg_words(c, index - 1));
	}
	if (m.count == 0)
		return 0;
	size_t n = m.common - m.plen;
	if (n + 2 > ext_size)
		return m.count; /* cannot insert it whole: insert nothing */
	memcpy(ext, m.first + m.plen, n);
	if (m.count == 1)
		ext[n++] = ' ';
	ext[n] = 0;
	if (m.count == 1)
		list[0] = 0;
	return m.count;
}
