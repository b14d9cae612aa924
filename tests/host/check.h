/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * CHECK for the small host tests (one translation unit each, so the
 * counters are static here): counts passes and failures and prints each
 * failure with its file, line and condition; the test's last line reports
 * "N passed, N failed" from the two counters.
 */
#ifndef PAGODA_TESTS_HOST_CHECK_H
#define PAGODA_TESTS_HOST_CHECK_H

#include <stdio.h>

static unsigned passed, failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (cond)                                                                          \
			passed++;                                                                  \
		else {                                                                             \
			failed++;                                                                  \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
		}                                                                                  \
	} while (0)

#endif
