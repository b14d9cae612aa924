// SPDX-License-Identifier: BSD-2-Clause
/*
 * Kernel command line look-ups. The line is a space-separated list of
 * "key=value" or bare "key" words; the first occurrence of a key wins.
 * Values cannot contain spaces (no quoting), which keeps parsing obvious.
 */
#include "kernel/boot_info.h"
#include "lib/string.h"

bool cmdline_get(const char *key, char *value, size_t value_size)
{
	size_t klen = strlen(key);
	const char *p = boot_info.cmdline;
	while (*p) {
		while (*p == ' ')
			p++;
		const char *word = p;
		while (*p && *p != ' ')
			p++;
		size_t wlen = (size_t)(p - word);
		if (wlen >= klen && strncmp(word, key, klen) == 0 &&
		    (wlen == klen || word[klen] == '=')) {
			const char *v = wlen == klen ? word + wlen : word + klen + 1;
			size_t vlen = (size_t)(p - v);
			if (value_size) {
				size_t n = vlen < value_size - 1 ? vlen : value_size - 1;
				memcpy(value, v, n);
				value[n] = 0;
			}
			return true;
		}
	}
	return false;
}

bool cmdline_has(const char *key)
{
	return cmdline_get(key, NULL, 0);
}

bool cmdline_get_u64(const char *key, uint64_t *value)
{
	char buf[32];
	return cmdline_get(key, buf, sizeof(buf)) && parse_u64(buf, value);
}
