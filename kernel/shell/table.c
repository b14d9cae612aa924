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
    {"help", "help [CMD]", "list the commands, or explain one", 0, 1, {NULL}, NULL, true,
     shell_cmd_help},
    {"mm", "mm new | mm list | mm use N | mm free N",
     "address spaces: make one (it becomes current), list them, choose the current one, "
     "destroy one",
     1, 2, {"new|list|use|free"}, NULL, false, shell_cmd_mm},
    {"map", "map ADDR LEN rw|r|rx",
     "map LEN bytes of zero-filled memory at ADDR in the current mm (frames come on first touch)",
     3, 3, {NULL, NULL, "rw|r|rx"}, NULL, false, shell_cmd_map},
    {"unmap", "unmap ADDR LEN",
     "remove the mappings in [ADDR, ADDR+LEN): tables are cleared, the TLBs shot down, "
     "then the frames freed",
     2, 2, {NULL}, NULL, false, shell_cmd_unmap},
    {"protect", "protect ADDR LEN r|rw", "change the permissions of mapped memory", 3, 3,
     {NULL, NULL, "r|rw"}, NULL, false, shell_cmd_protect},
    {"touch", "touch ADDR LEN [on CPU]",
     "write one word per page from this CPU (or from CPU N): faults fill pages; a fault "
     "nothing resolves is reported",
     2, 4, {NULL, NULL, "on"}, NULL, false, shell_cmd_touch},
    {"walk", "walk ADDR",
     "the page-table walk of ADDR from the root, one line per level (the current mm's "
     "tables, or the kernel's for a kernel address)",
     1, 1, {NULL}, NULL, false, shell_cmd_walk},
    {"tlb", "tlb | tlb mode gen|mmgen|ipi|broadcast",
     "per-CPU shootdown counters and the current mm's generation on each CPU; `tlb mode` "
     "says why the mode cannot change live",
     0, 2, {"mode", "gen|mmgen|ipi|broadcast"}, NULL, false, shell_cmd_tlb},
    {"cpus", "cpus", "what each CPU runs, which mm it holds, lazily or not", 0, 0, {NULL}, NULL,
     false, shell_cmd_cpus},
    {"test", "test [GLOB]", "run the in-kernel test suites (KTAP), all or those GLOB selects", 0,
     1, {NULL}, NULL, false, shell_cmd_test},
    {"bench", "bench [SCENARIO]", "run the benchmarks, all or those SCENARIO (a glob) selects", 0,
     1, {NULL}, NULL, false, shell_cmd_bench},
    {"mutant", "mutant [NAME|none]",
     "list the TLB layer's breaking switches, or arm one (then `test` shows a test catching it)",
     0, 1, {NULL}, shell_mutant_words, false, shell_cmd_mutant},
    {"mem", "mem", "frames free and used", 0, 0, {NULL}, NULL, false, shell_cmd_mem},
    {"poweroff", "poweroff", "turn the machine off (QEMU exits)", 0, 0, {NULL}, NULL, false,
     shell_cmd_poweroff},
    {"reset", "reset", "restart the machine", 0, 0, {NULL}, NULL, false, shell_cmd_reset},
};
const unsigned shell_cmd_count = ARRAY_SIZE(shell_cmds);
