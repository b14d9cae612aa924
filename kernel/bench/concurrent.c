// SPDX-License-Identifier: BSD-2-Clause
/*
 * concurrent: gathers from several CPUs at once on one mm. Two threads (on
 * the first two online CPUs) each map, populate and unmap 256 pages in a
 * loop, so every one of their unmaps is one large gathered flush, while a
 * third (on the third CPU) does the same with single pages, whose flushes
 * are ranged. ops = unmaps, all three threads together.
 *
 * Every thread does a fixed number of unmaps, so every mode does the same
 * work and only the time differs; the single-page thread's count is chosen
 * so that it keeps going for about as long as the large ones. Their
 * ranges are disjoint, so the changes run at once (each holds mm->lock for
 * read and owns its VMAs, docs/mm.md) and their gathers overlap: with
 * tlb=gen a flush that covers another gather's deferral saves that one.
 */
#include "kernel/bench/bench.h"
#include "kernel/mm/mm.h"

#define CONCURRENT_THREADS 3
#define LARGE_PAGES	   256

struct unmapper {
	struct bench_team *team;
	virt_addr_t va;
	uint64_t pages, rounds;
	int err;
};

static void unmapper_loop(void *arg)
{
	struct unmapper *u = arg;
	struct mm *mm = u->team->env->mm;
	uint64_t size = u->pages * PAGE_SIZE;
	bench_team_ready(u->team);
	for (uint64_t i = 0; i < u->rounds && !u->err; i++) {
		u->err = vm_map_anon(mm, u->va, size, PT_READ | PT_WRITE);
		if (!u->err)
			u->err = vm_populate(mm, u->va, size);
		if (!u->err)
			u->err = vm_unmap(mm, u->va, size);
	}
}

static void bench_concurrent(void)
{
	const char *name = "concurrent";
	struct bench_env env;
	if (!bench_env_start(&env, bench_team_cpus(CONCURRENT_THREADS))) {
		bench_fail(name, "setup", 0);
		return;
	}
	struct bench_team team = {.env = &env};
	/*
	 * 0.1-2 s per repetition under TCG with 4 CPUs. With these counts the
	 * three threads finish at about the same time (measured), so the
	 * small unmaps run alongside the large ones from start to end.
	 */
	struct unmapper u[CONCURRENT_THREADS] = {
	    {.team = &team, .va = BENCH_WORK_VA(1), .pages = LARGE_PAGES, .rounds = 15},
	    {.team = &team, .va = BENCH_WORK_VA(2), .pages = LARGE_PAGES, .rounds = 15},
	    {.team = &team, .va = BENCH_WORK_VA(3), .pages = 1, .rounds = 200},
	};
	void *args[CONCURRENT_THREADS];
	uint64_t ops = 0;
	int err = 0;
	for (unsigned i = 0; i < CONCURRENT_THREADS; i++) {
		u[i].rounds = bench_scaled(u[i].rounds);
		ops += u[i].rounds;
		args[i] = &u[i];
		if (!err)
			err = bench_map_guarded(env.mm, u[i].va, u[i].pages * PAGE_SIZE);
	}
	if (err) {
		bench_fail(name, "setup", err);
	} else if (!bench_team_run(&team, CONCURRENT_THREADS, unmapper_loop, args)) {
		bench_fail(name, "threads", 0);
	} else {
		for (unsigned i = 0; i < CONCURRENT_THREADS; i++)
			err = err ? err : u[i].err;
		if (err)
			bench_fail(name, "error", err);
		else
			bench_report(name, ops, &team.start, &team.end);
	}
	bench_env_stop(&env);
}

BENCH_SCENARIO(concurrent_scenario, "concurrent", 60, bench_concurrent);
