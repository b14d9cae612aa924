/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small vsnprintf: %d %i %u %x %X %p %s %c %% with the l, ll, z
 * modifiers, '0', '-' and '#' (0x prefix) flags, a width and a precision for strings.
 * Output is always NUL-terminated; the return value is the length the full
 * output would have had, like C's snprintf.
 */
#ifndef PAGODA_LIB_FMT_H
#define PAGODA_LIB_FMT_H

#include "lib/base.h"

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

#endif
