// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb_flush2, after will-it-scale's test of that name: up to 4 threads, one
 * per CPU, share one mm; each repeatedly fills its own 1 MiB region with
 * fresh zero pages, writes every page (so its CPU caches the
 * translations), and then discards the region (vm_discard, like
 * madvise(MADV_DONTNEED)). ops = discards, all threads together.
 *
 * The region is filled with one vm_populate rather than 256 page faults,
 * so that the scenario measures the discard's flush, not the fault path
 * (as Linux's would, a fault per page: `make peer-bench` populates the
 * same way on both sides).
 *
 * With today's flush engine a discard of 256 pages is above the flush
 * limit in force (tlb_range_max_pages(): the arch's measured limits, at
 * most 23 pages, unless `tlb.range_max=` sets 256 or more), so it is a
 * whole-mm flush on every CPU where the mm is loaded and not lazy: the
 * other threads' CPUs, which run their own fills and discards meanwhile
 * (each change holds mm->lock for read, docs/mm.md).
 * The regions never share a leaf table, and their guards keep those
 * tables alive.
 */
#include "kernel/bench/bench.h"
#include "kernel/mm/mm.h"

#define FLUSH2_THREADS_MAX 4
#define FLUSH2_REGION	   MiB(1)

struct flusher {
	struct bench_team *team;
	virt_addr_t va;
	uint64_t rounds;
	int err;
};

static void flusher_loop(void *arg)
{
	struct flusher *f = arg;
	struct mm *mm = f->team->env->mm;
	bench_team_ready(f->team);
	for (uint64_t i = 0; i < f->rounds && !f->err; i++) {
		f->err = vm_populate(mm, f->va, FLUSH2_REGION);
		if (f->err)
			break;
		bench_touch(f->va, FLUSH2_REGION);
		f->err = vm_discard(mm, f->va, FLUSH2_REGION);
	}
}

static void bench_tlb_flush2(void)
{
	const char *name = "tlb_flush2";
	unsigned n = MIN(cpumask_weight(bench_online()), FLUSH2_THREADS_MAX);
	struct bench_env env;
	if (!bench_env_start(&env, bench_team_cpus(n))) {
		bench_fail(name, "setup", 0);
		return;
	}
	struct bench_team team = {.env = &env};
	struct flusher f[FLUSH2_THREADS_MAX];
	void *args[FLUSH2_THREADS_MAX];
	int err = 0;
	for (unsigned i = 0; i < n; i++) {
		/* 8 rounds per thread: 0.3-1 s per repetition under TCG with 4 CPUs. */
		f[i] = (struct flusher){
		    .team = &team, .va = BENCH_WORK_VA(1 + i), .rounds = bench_scaled(8)};
		args[i] = &f[i];
		if (!err)
			err = bench_map_guarded(env.mm, f[i].va, FLUSH2_REGION);
		if (!err)
			err = vm_map_anon(env.mm, f[i].va, FLUSH2_REGION, PT_READ | PT_WRITE);
	}
	uint64_t ops = 0;
	for (unsigned i = 0; i < n; i++)
		ops += f[i].rounds;
	if (err) {
		bench_fail(name, "setup", err);
	} else if (!bench_team_run(&team, n, flusher_loop, args)) {
		bench_fail(name, "threads", 0);
	} else {
		for (unsigned i = 0; i < n; i++)
			err = err ? err : f[i].err;
		if (err)
			bench_fail(name, "error", err);
		else
			bench_report(name, ops, &team.start, &team.end);
	}
	bench_env_stop(&env);
}

BENCH_SCENARIO(tlb_flush2_scenario, "tlb_flush2", 50, bench_tlb_flush2);
