// SPDX-License-Identifier: BSD-2-Clause
/*
 * munmap_N and mprotect: one thread on the first online CPU changes a
 * range of an mm that residents keep active on every other CPU, so every
 * flush has remote targets.
 *
 *   munmap_N:  map N anonymous pages, populate them, unmap them; ops = K.
 *   mprotect:  RW -> RO -> RW on 64 populated pages; ops = K round trips.
 *              The downgrade must flush; the upgrade must not (it shows up
 *              as `elided`), so a healthy run has flushes/op = 1.
 *
 * K is fixed per scenario (scaled by bench.scale=) so that every mode does
 * exactly the same work: only the time may differ between modes.
 * bench_munmap() runs munmap_N with something attached to the mm (a
 * secondary MMU: secondary.c).
 */
#include "kernel/bench/bench.h"
#include "kernel/mm/mm.h"

struct one_thread {
	struct bench_team *team;
	const struct bench_attach *at; /* NULL: nothing attached */
	unsigned pages;
	uint64_t k;
	int err; /* first error of an operation, 0 if none */
};

static void munmap_loop(void *arg)
{
	struct one_thread *r = arg;
	struct mm *mm = r->team->env->mm;
	virt_addr_t va = BENCH_WORK_VA(1);
	uint64_t size = r->pages * PAGE_SIZE;
	bench_team_ready(r->team);
	for (uint64_t i = 0; i < r->k && !r->err; i++) {
		r->err = vm_map_anon(mm, va, size, PT_READ | PT_WRITE);
		if (!r->err)
			r->err = vm_populate(mm, va, size);
		if (!r->err && r->at && r->at->use)
			r->err = r->at->use(r->at->ctx, va, size);
		if (!r->err)
			r->err = vm_unmap(mm, va, size);
	}
}

static void mprotect_loop(void *arg)
{
	struct one_thread *r = arg;
	struct mm *mm = r->team->env->mm;
	virt_addr_t va = BENCH_WORK_VA(1);
	uint64_t size = r->pages * PAGE_SIZE;
	bench_team_ready(r->team);
	for (uint64_t i = 0; i < r->k && !r->err; i++) {
		r->err = vm_protect(mm, va, size, PT_READ);
		if (!r->err)
			r->err = vm_protect(mm, va, size, PT_READ | PT_WRITE);
	}
}

/*
 * Runs `loop` on the first online CPU of a fresh env whose range of
 * `pages` pages has guards (and is mapped and populated if `premap`), with
 * `at` (if not NULL) attached to the mm.
 */
static void run_single(const char *name, void (*loop)(void *arg), unsigned pages, uint64_t k,
		       bool premap, const struct bench_attach *at)
{
	struct bench_env env;
	cpumask_t busy = bench_team_cpus(1);
	unsigned last_cpu = bench_nth_cpu(cpumask_weight(bench_online()) - 1);
	if (at && at->own_cpu)
		cpumask_set(&busy, last_cpu);
	if (!bench_env_start(&env, busy)) {
		bench_fail(name, "setup", 0);
		return;
	}
	struct bench_team team = {.env = &env, .extra = at ? at->extra : NULL};
	struct one_thread r = {.team = &team, .at = at, .pages = pages, .k = k};
	virt_addr_t va = BENCH_WORK_VA(1);
	int err = bench_map_guarded(env.mm, va, pages * PAGE_SIZE);
	if (!err && premap)
		err = vm_map_anon(env.mm, va, pages * PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err && premap)
		err = vm_populate(env.mm, va, pages * PAGE_SIZE);
	bool attached = false;
	if (!err && at)
		attached = (err = at->attach(at->ctx, env.mm, last_cpu)) == 0;
	void *args[] = {&r};
	if (err)
		bench_fail(name, "setup", err);
	else if (!bench_team_run(&team, 1, loop, args))
		bench_fail(name, "threads", 0);
	else if (r.err)
		bench_fail(name, "error", r.err);
	else
		bench_report(name, k, &team.start, &team.end);
	if (attached)
		at->detach(at->ctx);
	bench_env_stop(&env);
}

void bench_munmap(const char *name, unsigned pages, uint64_t k, const struct bench_attach *at)
{
	run_single(name, munmap_loop, pages, k, false, at);
}

/* ~0.3-0.7 s per repetition under TCG on a 2-core host with CPUS=4 (docs/benchmarks.md). */
static void bench_munmap_1(void)
{
	bench_munmap("munmap_1", 1, bench_scaled(6000), NULL);
}

static void bench_munmap_32(void)
{
	bench_munmap("munmap_32", 32, bench_scaled(800), NULL);
}

static void bench_munmap_512(void)
{
	bench_munmap("munmap_512", 512, bench_scaled(80), NULL);
}

static void bench_mprotect(void)
{
	run_single("mprotect", mprotect_loop, 64, bench_scaled(3000), true, NULL);
}

BENCH_SCENARIO(munmap_1_scenario, "munmap_1", 10, bench_munmap_1);
BENCH_SCENARIO(munmap_32_scenario, "munmap_32", 20, bench_munmap_32);
BENCH_SCENARIO(munmap_512_scenario, "munmap_512", 30, bench_munmap_512);
BENCH_SCENARIO(mprotect_scenario, "mprotect", 40, bench_mprotect);
