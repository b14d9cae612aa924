// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console loop: polls the console's input (arch_console_getc: the
 * UART, and on x86-64 the PS/2 keyboard too) from CPU 0's main
 * thread, sleeping 10 ms whenever nothing is waiting, so CPU 0 idles in
 * its idle thread between keys like every other CPU; feeds the line
 * editor; runs each finished line. Also `help` and the error line every
 * handler prints.
 *
 * Invariants: the shell is the only reader of the UART and runs on one
 * thread, so commands never run concurrently with each other; a line that
 * overflowed or was cancelled is never run.
 */
#include "kernel/shell/shell.h"
#include "kernel/arch.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define SHELL_POLL_NS 10000000ull /* 10 ms: well below a key repeat, one tick */

static struct line_ed shell_ed;

static void shell_out(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	char chunk[129];
	while (n) {
		size_t k = MIN(n, sizeof(chunk) - 1);
		memcpy(chunk, s, k);
		chunk[k] = 0;
		console_puts(chunk);
		s += k;
		n -= k;
	}
}

void shell_error(const char *cmd, const char *fmt, ...)
{
	char msg[SHELL_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	console_write("%s: %s\n", cmd, msg);
}

int shell_cmd_help(unsigned argc, char **argv)
{
	if (argc == 2) {
		const struct shell_cmd *c = shell_find(argv[1]);
		console_write("usage: %s\n  %s\n", c->usage, c->help);
		return 0;
	}
	for (unsigned i = 0; i < shell_cmd_count; i++)
		console_write("  %s\n", shell_cmds[i].usage);
	console_write("Keys: Tab completes, Up/Down history, Ctrl-A/E/U/W edit (Ctrl-A twice "
		      "under QEMU's mon:stdio); `help CMD` explains one.\n");
	return 0;
}

static void shell_line(struct line_ed *ed, enum line_event ev)
{
	char err[SHELL_ERR_MAX];
	if (ev == LINE_TOOLONG) {
		console_write("line too long: %zu bytes over the limit of %u; ignored\n",
			      ed->dropped, SHELL_LINE_MAX - 1);
		return;
	}
	if (ev == LINE_DONE && shell_exec(ed->buf, err, sizeof(err)) == SHELL_ERROR)
		console_write("%s\n", err);
}

void shell_run(void)
{
	struct line_ed *ed = &shell_ed;
	line_init(ed, "pagoda> ", shell_out, NULL, shell_complete);
	line_start(ed);
	for (;;) {
		int c = arch_console_getc();
		if (c < 0) {
			thread_sleep_ns(SHELL_POLL_NS);
			continue;
		}
		enum line_event ev = line_feed(ed, (uint8_t)c);
		if (ev == LINE_MORE)
			continue;
		shell_line(ed, ev);
		line_start(ed);
	}
}
