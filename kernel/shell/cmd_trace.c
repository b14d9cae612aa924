// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console's `trace` command: starts, stops, clears and prints the
 * shootdown event ring (kernel/mm/tlb_trace.h), so a student can record
 * what one `unmap` or `protect` did on every CPU and read it back, or
 * paste the dump into tools/trace_plot.py for the timeline picture.
 *
 * The ring belongs to the TLB layer; this file only calls its contract.
 * A dump is taken with recording stopped (the command stops it first and
 * says so), because events landing during the read could be lost.
 */
#include "kernel/mm/tlb_trace.h"
#include "kernel/printk.h"
#include "kernel/shell/shell.h"
#include "lib/string.h"

static void emit_line(const char *line, void *ctx)
{
	(void)ctx;
	console_write("%s\n", line);
}

int shell_cmd_trace(unsigned argc, char **argv)
{
	(void)argc;
	/* The parser has checked argv[1] against the table's words. */
	const char *what = argv[1];
	if (strcmp(what, "on") == 0) {
		tlb_trace_ring_clear();
		tlb_trace_ring_enable(true);
		console_write("trace: recording (the ring was cleared); `trace dump` prints it\n");
	} else if (strcmp(what, "off") == 0) {
		tlb_trace_ring_enable(false);
		console_write("trace: stopped; the events stay until `trace on` or `trace clear`\n");
	} else if (strcmp(what, "clear") == 0) {
		tlb_trace_ring_clear();
		console_write("trace: cleared\n");
	} else {
		if (tlb_trace_on()) {
			tlb_trace_ring_enable(false);
			console_write("trace: stopped to read the ring\n");
		}
		tlb_trace_ring_dump(emit_line, NULL);
	}
	return 0;
}
