/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The freestanding C string and memory functions Pagoda needs. The compiler
 * may emit calls to memcpy/memset/memmove/memcmp on its own, so those keep
 * their standard names and semantics exactly.
 */
#ifndef PAGODA_LIB_STRING_H
#define PAGODA_LIB_STRING_H

#include "lib/base.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
/* Length of s, looking at no more than max bytes. */
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
/* The first occurrence of `needle` in `hay`, or NULL. */
char *strstr(const char *hay, const char *needle);
/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size);
/* Shell-style match: '*' any run, '?' one character. */
bool glob_match(const char *pattern, const char *text);
/* Parses decimal or 0x-hex; returns false on junk or overflow. */
bool parse_u64(const char *s, uint64_t *out);

#endif
