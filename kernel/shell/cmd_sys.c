// SPDX-License-Identifier: BSD-2-Clause
/*
 * Console commands on the whole machine: `test` (the in-kernel suites,
 * KTAP on the console, as `make test` prints them), `bench` (the TLB
 * benchmarks), `mem`, `poweroff` and `reset`.
 */
#include "kernel/arch.h"
#include "kernel/bench/bench.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "kernel/shell/shell.h"
#include "tests/ktest.h"

int shell_cmd_test(unsigned argc, char **argv)
{
	shell_mms_unload();
	unsigned failed = ktest_run_all(argc == 2 ? argv[1] : "*");
	console_write("test: %u failure(s)\n", failed);
	return 0;
}

int shell_cmd_bench(unsigned argc, char **argv)
{
	shell_mms_unload();
	bool ok = bench_run(argc == 2 ? argv[1] : "*");
	console_write("bench: %s\n", ok ? "done" : "a scenario failed");
	return 0;
}

int shell_cmd_mem(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	uint64_t total = frame_total_count(), free = frame_free_count();
	console_write("frames: %llu free, %llu used, %llu total (%llu MiB free of %llu MiB)\n",
		      (unsigned long long)free, (unsigned long long)(total - free),
		      (unsigned long long)total, (unsigned long long)((free * PAGE_SIZE) >> 20),
		      (unsigned long long)((total * PAGE_SIZE) >> 20));
	return 0;
}

int shell_cmd_poweroff(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	arch_poweroff();
}

int shell_cmd_reset(unsigned argc, char **argv)
{
	(void)argc;
	(void)argv;
	arch_reset();
}
