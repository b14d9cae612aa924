/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host stand-ins for the console's command handlers (kernel/shell/cmd_*.c),
 * shared by the host test (shell_host_test.c) and the fuzz target
 * (tests/fuzz/fuzz_console.c): each records the call and checks the
 * parser's promise that a handler only ever sees an argument count inside
 * its table entry's bounds and fixed words from its list.
 */
#ifndef PAGODA_TESTS_HOST_SHELL_SHELL_STUBS_H
#define PAGODA_TESTS_HOST_SHELL_SHELL_STUBS_H

#include "kernel/shell/shell.h"

struct stub_call {
	unsigned calls;
	char name[32];
	unsigned argc;
	char argv[SHELL_ARGS_MAX][SHELL_LINE_MAX];
};
/* The last handler call (calls counts them all). */
extern struct stub_call stub_last;
/* Called when a handler sees what the parser should have refused; must not return. */
extern void (*stub_violation)(const char *what);
/* The stubs' mutant words. */
#define STUB_MUTANTS "none|free_before_flush|no_defer_bump"

#endif
