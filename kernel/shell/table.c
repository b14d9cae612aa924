// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console's commands: name, usage, help text, argument counts and the
 * fixed words each argument takes. One table, read by the parser (checks),
 * Tab completion and `help`, so the three never disagree. Pure data: the
 * host test and the fuzz target link it with stub handlers.
 *
 * Invariant: usage and help are one line each (help prints them as such);
 * every words[] entry matches what the handler accepts.
 */
#include "kernel/shell/shell.h"

const struct shell_cmd shell_cmds[] = {
    {
	.name = "help",
	.usage = "help [CMD]",
	.help = "list the commands, or explain one",
	.min_args = 0,
	.max_args = 1,
	.arg_is_command = true,
	.run = shell_cmd_help,
    },
    {
	.name = "mm",
	.usage = "mm new | mm list | mm use N | mm free N",
	.help = "address spaces: make one (it becomes current), list them, choose the current one, "
		"destroy one",
	.min_args = 1,
	.max_args = 2,
	.words = {"new|list|use|free"},
	.run = shell_cmd_mm,
    },
    {
	.name = "map",
	.usage = "map ADDR LEN rw|r|rx",
	.help = "map LEN bytes of zero-filled memory at ADDR in the current mm (frames come on "
		"first touch)",
	.min_args = 3,
	.max_args = 3,
	.words = {NULL, NULL, "rw|r|rx"},
	.run = shell_cmd_map,
    },
    {
	.name = "unmap",
	.usage = "unmap ADDR LEN",
	.help = "remove the mappings in [ADDR, ADDR+LEN): tables are cleared, the TLBs shot down, "
		"then the frames freed",
	.min_args = 2,
	.max_args = 2,
	.run = shell_cmd_unmap,
    },
    {
	.name = "protect",
	.usage = "protect ADDR LEN r|rw",
	.help = "change the permissions of mapped memory",
	.min_args = 3,
	.max_args = 3,
	.words = {NULL, NULL, "r|rw"},
	.run = shell_cmd_protect,
    },
    {
	.name = "touch",
	.usage = "touch ADDR LEN [on CPU]",
	.help = "write one word per page from this CPU (or from CPU N): faults fill pages; a fault "
		"nothing resolves is reported",
	.min_args = 2,
	.max_args = 4,
	.words = {NULL, NULL, "on"},
	.run = shell_cmd_touch,
    },
    {
	.name = "walk",
	.usage = "walk ADDR",
	.help = "the page-table walk of ADDR from the root, one line per level (the current mm's "
		"tables, or the kernel's for a kernel address)",
	.min_args = 1,
	.max_args = 1,
	.run = shell_cmd_walk,
    },
    {
	.name = "tlb",
	.usage = "tlb | tlb mode gen|mmgen|ipi|broadcast",
	.help = "per-CPU shootdown counters and the current mm's generation on each CPU; `tlb "
		"mode X` switches the shootdown mode live",
	.min_args = 0,
	.max_args = 2,
	.words = {"mode", "gen|mmgen|ipi|broadcast"},
	.run = shell_cmd_tlb,
    },
    {
	.name = "trace",
	.usage = "trace on|off|clear|dump",
	.help = "record the shootdown events of every CPU (on clears first), stop, forget them, or "
		"print them (tools/trace_plot.py draws a dump)",
	.min_args = 1,
	.max_args = 1,
	.words = {"on|off|clear|dump"},
	.run = shell_cmd_trace,
    },
    {
	.name = "cpus",
	.usage = "cpus",
	.help = "what each CPU runs, which mm it holds, lazily or not",
	.min_args = 0,
	.max_args = 0,
	.run = shell_cmd_cpus,
    },
    {
	.name = "test",
	.usage = "test [GLOB]",
	.help = "run the in-kernel test suites (KTAP), all or those GLOB selects",
	.min_args = 0,
	.max_args = 1,
	.run = shell_cmd_test,
    },
    {
	.name = "bench",
	.usage = "bench [SCENARIO]",
	.help = "run the benchmarks, all or those SCENARIO (a glob) selects",
	.min_args = 0,
	.max_args = 1,
	.run = shell_cmd_bench,
    },
    {
	.name = "mutant",
	.usage = "mutant [NAME|none]",
	.help = "list the TLB layer's breaking switches, or arm one (then `test` shows a test "
		"catching it)",
	.min_args = 0,
	.max_args = 1,
	.words_fn = shell_mutant_words,
	.run = shell_cmd_mutant,
    },
    {
	.name = "mem",
	.usage = "mem",
	.help = "frames free and used",
	.min_args = 0,
	.max_args = 0,
	.run = shell_cmd_mem,
    },
    {
	.name = "poweroff",
	.usage = "poweroff",
	.help = "turn the machine off (QEMU exits)",
	.min_args = 0,
	.max_args = 0,
	.run = shell_cmd_poweroff,
    },
    {
	.name = "reset",
	.usage = "reset",
	.help = "restart the machine",
	.min_args = 0,
	.max_args = 0,
	.run = shell_cmd_reset,
    },
};
const unsigned shell_cmd_count = ARRAY_SIZE(shell_cmds);
