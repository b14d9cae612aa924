// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host stand-ins for the console's handlers (see shell_stubs.h): every one
 * checks its arguments against its own table entry, records the call and
 * returns 0.
 */
#include <stdio.h>
#include <string.h>

#include "tests/host/shell/shell_stubs.h"

struct stub_call stub_last;
void (*stub_violation)(const char *what);

static int record(unsigned argc, char **argv)
{
	const struct shell_cmd *c = shell_find(argv[0]);
	if (!c || argc - 1 < c->min_args || argc - 1 > c->max_args)
		stub_violation("handler called with a bad argument count");
	for (unsigned i = 1; i < argc; i++) {
		const char *words = shell_arg_words(c, i - 1);
		if (words && !shell_word_in(argv[i], words))
			stub_violation("handler called with a word outside its list");
		if (strlen(argv[i]) >= SHELL_LINE_MAX)
			stub_violation("argument longer than a line");
	}
	stub_last.calls++;
	snprintf(stub_last.name, sizeof(stub_last.name), "%s", argv[0]);
	stub_last.argc = argc;
	for (unsigned i = 0; i < argc && i < SHELL_ARGS_MAX; i++)
		snprintf(stub_last.argv[i], sizeof(stub_last.argv[i]), "%s", argv[i]);
	return 0;
}

/* One stub per handler of the table (kernel/shell/shell.h). */
#define STUB(name)                                                                                 \
	int shell_cmd_##name(unsigned argc, char **argv)                                           \
	{                                                                                          \
		return record(argc, argv);                                                         \
	}
STUB(help)
STUB(mm)
STUB(map)
STUB(unmap)
STUB(protect)
STUB(touch)
STUB(walk)
STUB(tlb)
STUB(trace)
STUB(cpus)
STUB(test)
STUB(bench)
STUB(mutant)
STUB(mem)
STUB(poweroff)
STUB(reset)

const char *shell_mutant_words(unsigned arg)
{
	return arg == 0 ? STUB_MUTANTS : NULL;
}
