// SPDX-License-Identifier: BSD-2-Clause
/*
 * The C library's string functions, freestanding.
 *
 * memset and memcpy move aligned 8-byte words between byte-at-a-time
 * edges: the compiler turns every structure assignment and initializer
 * into calls to them (a 72-byte VMA cleared a byte at a time cost about
 * 300 instructions, an mmu_gather's initializer several thousand), so
 * they sit on every hot path of the MMU layer. Every access is naturally
 * aligned, which matters on aarch64 before the MMU is on (Device memory
 * faults on unaligned access); buffers whose addresses differ modulo 8 are
 * copied a byte at a time. memset reaches its first word boundary in at
 * most three aligned stores and fills four words a turn (a 156-byte walk
 * state at a 4-byte offset is cleared on every page-table operation). The
 * rest is byte-at-a-time, for clarity.
 */
#include "lib/string.h"

/* A word the compiler may not assume has any other type (the buffers are the caller's). */
typedef uint64_t __attribute__((may_alias)) mem_word_t;
typedef uint32_t __attribute__((may_alias)) mem_quarter_t;
typedef uint16_t __attribute__((may_alias)) mem_half_t;

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
		for (; n && ((uintptr_t)d & 7); n--)
			*d++ = *s++;
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(mem_word_t *)d = *(const mem_word_t *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	const mem_word_t word = 0x0101010101010101ull * (unsigned char)c;
	/* The head up to an 8-byte boundary in at most three aligned stores. */
	if (n >= 8) {
		if ((uintptr_t)d & 1) {
			*d = (unsigned char)c;
			d += 1, n -= 1;
		}
		if ((uintptr_t)d & 2) {
			*(mem_half_t *)d = (uint16_t)word;
			d += 2, n -= 2;
		}
		if ((uintptr_t)d & 4) {
			*(mem_quarter_t *)d = (uint32_t)word;
			d += 4, n -= 4;
		}
		/* Four words a turn: a structure of a few dozen words is a few turns. */
		for (; n >= 32; n -= 32, d += 32) {
			((mem_word_t *)d)[0] = word;
			((mem_word_t *)d)[1] = word;
			((mem_word_t *)d)[2] = word;
			((mem_word_t *)d)[3] = word;
		}
		for (; n >= 8; n -= 8, d += 8)
			*(mem_word_t *)d = word;
	}
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;
	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

size_t strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);
	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = 0;
	}
	return len;
}

bool glob_match(const char *p, const char *t)
{
	/* Iterative matcher: remember the last '*' and retry from there. */
	const char *star = NULL, *resume = NULL;
	while (*t) {
		if (*p == '*') {
			star = p++;
			resume = t;
		} else if (*p == '?' || *p == *t) {
			p++;
			t++;
		} else if (star) {
			p = star + 1;
			t = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

char *strstr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return (char *)hay;
	return n == 0 ? (char *)hay : NULL;
}
