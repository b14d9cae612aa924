// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel_main: the generic boot sequence once the arch has a stack, a
 * console and a filled boot_info. It brings up every CPU, then either runs
 * the test suite (command line `ktest` or `ktest=<glob>`) and exits with
 * its verdict, or runs the benchmarks (command line `bench`, see
 * docs/benchmarks.md) and exits, or prints a banner and idles (`make run`).
 */
#include "kernel/arch.h"
#include "kernel/bench/bench.h"
#include "kernel/boot_info.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "lib/string.h"
#include "kernel/mm/vm.h"
#include "kernel/sched/thread.h"
#include "kernel/smp.h"
#include "tests/ktest.h"

static void print_memory_map(void)
{
	static const char *const names[] = {"?", "usable", "reserved", "ACPI reclaim", "ACPI NVS",
					    "bad"};
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		printk("mem: [%#014lx-%#014lx] %s", (unsigned long)r->base,
		       (unsigned long)(r->base + r->size - 1),
		       r->type < ARRAY_SIZE(names) ? names[r->type] : "?");
	}
	printk("mem: %lu MiB usable", (unsigned long)(boot_info_usable_bytes() >> 20));
}

void kernel_main(void)
{
	printk("Pagoda booting (loader: %s)",
	       boot_info.loader_name ? boot_info.loader_name : "unknown");
	printk("cmdline: %s", boot_info.cmdline);
	boot_info_finish();
	print_memory_map();
	smp_init_boot_cpu();
	mm_init();
	sched_init_cpu(0);
	arch_init();
	arch_timer_start();
	arch_irq_enable();
	smp_start_secondaries();

	/* tlb=gen|ipi (generations, IPIs), broadcast (arm64's default), mmgen (per-mm only). */
	char mode[16] = "";
	cmdline_get("tlb", mode, sizeof(mode));
	tlb_broadcast = arch_tlb_caps()->broadcast && strcmp(mode, "ipi") != 0 &&
			strcmp(mode, "gen") != 0 && strcmp(mode, "mmgen") != 0;
	if (strcmp(mode, "mmgen") == 0)
		tlb_mode = TLB_MODE_MMGEN;
	char broken[32];
	if (cmdline_get("tlb.break", broken, sizeof(broken))) {
		tlb_break_no_defer_bump = strcmp(broken, "no_defer_bump") == 0;
		tlb_break_free_before_flush = strcmp(broken, "free_before_flush") == 0;
		tlb_break_skip_lazy_always = strcmp(broken, "skip_lazy_always") == 0;
		printk("tlb: WARNING: invariant '%s' broken on purpose: tests must fail", broken);
	}
	printk("tlb: mode %s, %s", tlb_mode == TLB_MODE_MMGEN ? "mmgen (per-mm generations only)"
							    : "gen (per-table deferral, ring)",
	       tlb_broadcast ? "broadcast invalidation" : "IPIs");
	if (cmdline_has("tlb.skip_flush")) {
		/* Test-only: proves the stale-TLB test can see a missing flush. */
		tlb_test_skip_flush = true;
		printk("tlb: WARNING: flushes are skipped (tlb.skip_flush): tests must fail");
	}
	if (cmdline_has("bench"))
		arch_exit(bench_run_all() ? EXIT_SUCCESS_ALL : EXIT_TESTS_FAILED);
	char filter[128];
	if (cmdline_get("ktest", filter, sizeof(filter))) {
		unsigned failed = ktest_run_all(filter[0] ? filter : "*");
		arch_exit(failed ? EXIT_TESTS_FAILED : EXIT_SUCCESS_ALL);
	}
	printk("Pagoda is up on %u CPUs. Nothing to do: idling (Ctrl-A X quits QEMU).",
	       cpumask_weight(cpumask_read(&cpu_online_mask)));
	for (;;)
		arch_cpu_idle();
}
