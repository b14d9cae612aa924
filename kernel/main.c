// SPDX-License-Identifier: BSD-2-Clause
/*
 * kernel_main: the generic boot sequence once the arch has a stack, a
 * console and a filled boot_info. It checks the command line against the
 * table of keys first (docs/cmdline.md), so a typo is reported before
 * anything acts on the line; then it brings up every CPU, scans PCI (and
 * finds the edu device, when QEMU has one), and either runs
 * the test suite (command line `ktest` or `ktest=<globs>`) and exits with
 * its verdict, or runs the benchmarks (command line `bench`, see
 * docs/benchmarks.md) and exits, or prints a banner and runs the `pagoda>`
 * console (`make run`, kernel/shell/shell.h).
 * The keys themselves belong to the subsystems that read them.
 */
#include "kernel/entry.h"
#include "kernel/arch.h"
#include "kernel/bench/bench.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/drivers/edu.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/iommu/iommu.h"
#include "kernel/mm/notifier.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/vm.h"
#include "kernel/pci/pci.h"
#include "kernel/sched/thread.h"
#include "kernel/shell/shell.h"
#include "kernel/smp.h"
#include "kernel/xcall.h"
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
	cmdline_check();
	boot_info_finish();
	print_memory_map();
	smp_init_boot_cpu();
	mm_init();
	sched_init_cpu(0);
	arch_init();
	arch_timer_start();
	arch_irq_enable();
	smp_start_secondaries();

	xcall_setup();
	tlb_setup();
	mn_setup();
	iommu_setup();
	pci_init();
	iommu_init();
	edu_init();
	if (bench_requested())
		arch_exit(bench_run_all() ? EXIT_SUCCESS_ALL : EXIT_TESTS_FAILED);
	char filter[KTEST_FILTER_MAX];
	if (ktest_requested(filter, sizeof(filter))) {
		unsigned failed = ktest_run_all(filter);
		arch_exit(failed ? EXIT_TESTS_FAILED : EXIT_SUCCESS_ALL);
	}
	printk("Pagoda is up on %u CPUs. Type help (poweroff or Ctrl-A X quits QEMU).",
	       cpumask_weight(cpumask_read(&cpu_online_mask)));
	shell_run();
}
