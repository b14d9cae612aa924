// SPDX-License-Identifier: BSD-2-Clause
/*
 * Console commands on the TLB layer and the CPUs: `tlb` (per-CPU
 * shootdown counters, the current mm's generation on each CPU), `tlb
 * mode` (switches the shootdown mode live: tlb_mode_switch), `cpus`
 * and `mutant` (arms a tlb.break= switch). They only read counters and
 * per-CPU records, which other CPUs update as they run: the numbers are
 * a snapshot, exact once the CPUs are quiet.
 */
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "kernel/shell/shell.h"
#include "kernel/xcall.h"
#include "lib/fmt.h"
#include "lib/string.h"

static void tlb_table(struct mm *mm)
{
	cpumask_t online = cpumask_read(&cpu_online_mask);
	console_write("tlb: mode %s; flushes by %s\n", tlb_mode_word(),
		      tlb_broadcast ? "hardware broadcast" : "IPIs");
	console_write("cpu  ipi-sent ipi-recv  requests  pages ranged  full  bcast | skipped: "
		      "by-gen not-loaded lazy switched-away covered | mm gen\n");
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		if (!cpumask_test(online, cpu))
			continue;
		struct xcall_stats x = xcall_stats_cpu(cpu);
		struct tlb_counters c = tlb_counters_cpu(cpu);
		const struct tlb_cpu_state *s = &tlb_cpu[cpu];
		char gen[24] = "-";
		if (mm && READ_ONCE(s->loaded) == mm)
			snprintf(gen, sizeof(gen), "%llu%s", (unsigned long long)READ_ONCE(s->gen),
				 READ_ONCE(s->lazy) ? " lazy" : "");
		console_write(
		    "%3u %9llu %8llu %9llu %6llu %6llu %5llu %6llu |          %6llu "
		    "%10llu %4llu %14llu %7llu | %s\n",
		    cpu, (unsigned long long)x.ipis_sent, (unsigned long long)x.ipis_received,
		    (unsigned long long)c.requests, (unsigned long long)c.local_page_flushes,
		    (unsigned long long)c.local_ranged, (unsigned long long)c.local_full_flushes,
		    (unsigned long long)c.broadcasts, (unsigned long long)c.skipped_by_gen,
		    (unsigned long long)c.not_loaded, (unsigned long long)c.lazy_skipped,
		    (unsigned long long)c.switched_away_skipped,
		    (unsigned long long)c.completed_skips, gen);
	}
	if (mm)
		console_write("mm %d: tlb_gen %llu, completed %llu, deferred %llu\n",
			      shell_mm_index(mm), (unsigned long long)READ_ONCE(mm->tlb_gen),
			      (unsigned long long)READ_ONCE(mm->tlb_gen_completed),
			      (unsigned long long)READ_ONCE(mm->tlb_gen_deferred));
	else
		console_write("no current mm: `mm new` makes one\n");
}

int shell_cmd_tlb(unsigned argc, char **argv)
{
	if (argc == 1) {
		tlb_table(shell_current_mm());
		return 0;
	}
	if (argc == 2) {
		shell_error("tlb", "tlb mode needs one of gen|mmgen|ipi|broadcast (now: %s)",
			    tlb_mode_word());
		return 1;
	}
	/* At the prompt nothing runs in any address space: the switch's precondition. */
	char why[96];
	if (tlb_mode_switch(argv[2], why, sizeof(why))) {
		shell_error("tlb", "mode stays %s: %s", tlb_mode_word(), why);
		return 1;
	}
	console_write("tlb: mode %s from now on (every CPU let go of every address space)\n",
		      tlb_mode_word());
	return 0;
}

int shell_cmd_cpus(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	cpumask_t online = cpumask_read(&cpu_online_mask);
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		if (!cpumask_test(online, cpu))
			continue;
		const struct tlb_cpu_state *s = &tlb_cpu[cpu];
		struct mm *loaded = READ_ONCE(s->loaded);
		char held[32] = "no mm";
		if (loaded) {
			int i = shell_mm_index(loaded);
			if (i >= 0)
				snprintf(held, sizeof(held), "mm %d%s, gen %llu", i,
					 READ_ONCE(s->lazy) ? " (lazy)" : "",
					 (unsigned long long)READ_ONCE(s->gen));
			else
				snprintf(held, sizeof(held), "another mm%s",
					 READ_ONCE(s->lazy) ? " (lazy)" : "");
		}
		struct sched_stats st = sched_stats_cpu(cpu);
		console_write("cpu%u: running %-8s holds %-24s switches %llu, ticks %llu\n", cpu,
			      sched_cpu_running(cpu), held, (unsigned long long)st.switches,
			      (unsigned long long)cpus[cpu].ticks);
	}
	return 0;
}

const char *shell_mutant_words(unsigned arg)
{
	return arg == 0 ? tlb_break_names() : NULL;
}

int shell_cmd_mutant(unsigned argc, char **argv)
{
	if (argc == 1) {
		console_write("mutants (tlb.break= switches; docs/tlb.md says which test catches "
			      "each):\n  %s\narmed: %s\n",
			      tlb_break_names(), tlb_broken == TLB_BREAK_NONE ? "none" : "yes");
		return 0;
	}
	/* The parser has checked the word against tlb_break_names(). */
	tlb_break_arm(argv[1]);
	console_write("mutant %s armed%s\n", argv[1],
		      strcmp(argv[1], "none") == 0
			  ? " (none: new operations are whole again; damage a mutant already did, "
			    "such as stale entries or reused ASIDs, stays until `reset`)"
						   : "; now run `test tlb` (or mm, gather, ...)");
	return 0;
}
