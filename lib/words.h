/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Lists of words written "a|b|c": the values of a command-line enum
 * (kernel/cmdline.c) and the fixed arguments of a console command
 * (kernel/shell/). Pure, so host tests link it as it is.
 */
#ifndef PAGODA_LIB_WORDS_H
#define PAGODA_LIB_WORDS_H

#include "lib/base.h"

/* Index of the `len`-byte word at `s` in the '|'-separated `words`, or -1. */
int words_index(const char *words, const char *s, size_t len);

#endif
