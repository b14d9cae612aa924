// SPDX-License-Identifier: BSD-2-Clause
/*
 * Lists of words written "a|b|c" (lib/words.h). Reads nothing past the
 * list's NUL or past s[len); an empty list holds no word.
 */
#include "lib/words.h"
#include "lib/string.h"

int words_index(const char *words, const char *s, size_t len)
{
	int index = 0;
	for (const char *v = words; *v; index++) {
		const char *end = strchr(v, '|');
		size_t vlen = end ? (size_t)(end - v) : strlen(v);
		if (vlen == len && strncmp(v, s, len) == 0)
			return index;
		if (!end)
			break;
		v = end + 1;
	}
	return -1;
}
