// SPDX-License-Identifier: BSD-2-Clause
/*
 * The benchmark runner and what every scenario shares: counter snapshots,
 * the BENCH line, the resident threads that keep an mm active on every
 * CPU, guard pages, and the "team" that starts a scenario's threads
 * together and times them.
 *
 * Invariants: measured intervals contain only the scenario's operations
 * (threads are created and wait at a start line before the first
 * snapshot; the last snapshot follows their joins; mms, residents and
 * guard pages are set up before and torn down after);
 * every scenario gets back exactly the free frames it started with, which
 * bench_run_all checks. With bench.alternate= (make bench-paired) each
 * repetition runs once per mode, the mode switched live between runs,
 * when no thread is left in any mm (tlb_mode_switch refuses otherwise).
 */
#include "kernel/bench/bench.h"
#include "kernel/cmdline.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/prof.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"

CMDLINE_PARAM(bench_param, .key = "bench", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "run the TLB benchmarks (docs/benchmarks.md), then exit");
CMDLINE_PARAM(bench_scale_param, .key = "bench.scale", .kind = CMDLINE_U64, .min = 1, .max = 10000,
	      .def = "100", .help = "benchmark operation counts, in percent");
CMDLINE_PARAM(bench_spin_param, .key = "bench.spin", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "benchmark residents spin instead of halting between interrupts");
CMDLINE_PARAM(bench_reps_param, .key = "bench.reps", .kind = CMDLINE_U64, .min = 1, .max = 1000,
	      .def = "5", .help = "repetitions of each benchmark scenario");
CMDLINE_PARAM(bench_dma_plot_param, .key = "bench.dma_plot", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "instead of the scenarios, sample DMA throughput while unmapping (make "
		      "dma-plot)");
CMDLINE_PARAM(bench_profile_param, .key = "bench.profile", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "after each scenario's repetitions, print where the CPUs' ticks fell (PROF "
		      "lines, kernel/prof.h)");
CMDLINE_PARAM(bench_only_param, .key = "bench.only", .kind = CMDLINE_STRING, .def = "*",
	      .help = "run only the scenarios whose name matches this glob, or one of these "
		      "comma-separated globs (e.g. page_*,munmap_1)");

CMDLINE_PARAM(bench_alternate_param, .key = "bench.alternate", .kind = CMDLINE_STRING, .def = "",
	      .help =
		  "comma-separated TLB modes (e.g. gen,mmgen): each repetition runs once in "
		  "each, switched live, so their ratios come from one boot (make bench-paired)");

#define BENCH_PROFILE_TOP 24 /* functions per scenario in the profile */

static char bench_mode[32];
static bool bench_failed;

/* The registered scenarios, in rank order (BENCH_SCENARIO, the linker script). */
extern const struct bench_scenario *const __bench_scenarios_start[];
extern const struct bench_scenario *const __bench_scenarios_end[];
static unsigned bench_rep;    /* which repetition of the current scenario runs */
static bool bench_warming_up; /* a run bench_report leaves unreported */

cpumask_t bench_online(void)
{
	return cpumask_read(&cpu_online_mask);
}

unsigned bench_nth_cpu(unsigned n)
{
	cpumask_t online = bench_online();
	n %= cpumask_weight(online);
	for_each_cpu(c, online)
	{
		if (n == 0)
			return c;
		n--;
	}
	return 0; /* not reached: the boot CPU is always online */
}

uint64_t bench_scaled(uint64_t ops)
{
	return MAX(ops * cmdline_u64("bench.scale") / 100, 1u);
}

void bench_touch(virt_addr_t va, uint64_t size)
{
	for (virt_addr_t p = va; p < va + size; p += PAGE_SIZE)
		*(volatile uint64_t *)p = p;
}

void bench_snap_take(struct bench_snap *s, const struct bench_extra *extra)
{
	s->extra = extra;
	if (extra)
		extra->read(extra->ctx, s->extra_values);
	s->xcall = xcall_stats_total();
	s->tlb = tlb_counters_total();
	/* One field at a time: other CPUs may be updating them (atomically). */
	s->gather.flushes = atomic_load_relaxed(&gather_stats.flushes);
	s->gather.full_flushes = atomic_load_relaxed(&gather_stats.full_flushes);
	s->gather.flushes_elided = atomic_load_relaxed(&gather_stats.flushes_elided);
	s->gather.deferrals = atomic_load_relaxed(&gather_stats.deferrals);
	s->ns = arch_time_ns();
}

void bench_report(const char *scenario, uint64_t ops, const struct bench_snap *a,
		  const struct bench_snap *b)
{
	if (bench_warming_up)
		return;
#define D(field) ((unsigned long)(b->field - a->field))
	/* Longer than console_write's buffer: built here, written whole by console_puts. */
	char line[1024];
	size_t len = snprintf(
	    line, sizeof(line),
	    "BENCH scenario=%s mode=%s ops=%lu ns=%lu ipis=%lu remote_flush_targets=%lu "
	    "local_full=%lu local_page=%lu flushes=%lu full_flushes=%lu elided=%lu "
	    "deferrals=%lu lazy_skipped=%lu cpus=%u rep=%u",
	    scenario, bench_mode, (unsigned long)ops, D(ns),
	    D(xcall.ipis_sent) + D(xcall.wakes_sent), /* every IPI the cross-calls sent */
	    D(tlb.remote_targets), D(tlb.local_full_flushes), D(tlb.local_page_flushes),
	    D(gather.flushes), D(gather.full_flushes), D(gather.flushes_elided),
	    D(gather.deferrals), D(tlb.lazy_skipped), cpumask_weight(bench_online()), bench_rep);
	len = MIN(len, sizeof(line) - 1);
	/*
	 * The rest of what the hardware was asked (tlb.h's struct tlb_counters)
	 * and every flush not done, by reason: tools/bench.py's counters table.
	 */
	len += snprintf(line + len, sizeof(line) - len,
			" ipis_recv=%lu bcast_page=%lu bcast_range=%lu bcast_full=%lu "
			"switch_full=%lu unload_full=%lu skip_done=%lu skip_not_loaded=%lu "
			"skip_switched_away=%lu skip_covered=%lu xcall_wait_ns=%lu "
			"xcall_send_ns=%lu bcast_ns=%lu "
			"xcall_halts=%lu xcall_wakes=%lu",
			D(xcall.ipis_received), D(tlb.broadcast_pages), D(tlb.broadcast_ranges),
			D(tlb.broadcast_full), D(tlb.switch_full_flushes),
			D(tlb.unload_full_flushes), D(tlb.skipped_by_gen), D(tlb.not_loaded),
			D(tlb.switched_away_skipped), D(tlb.completed_skips), D(xcall.wait_ns),
			D(xcall.send_ns), D(tlb.broadcast_ns), D(xcall.halts), D(xcall.wakes_sent));
	len = MIN(len, sizeof(line) - 1);
	for (unsigned i = 0;
	     b->extra && i < BENCH_EXTRA_MAX && b->extra->keys[i] && len < sizeof(line) - 1; i++) {
		len += snprintf(line + len, sizeof(line) - len, " %s=%lu", b->extra->keys[i],
				D(extra_values[i]));
		len = MIN(len, sizeof(line) - 1);
	}
	if (len < sizeof(line) - 1)
		snprintf(line + len, sizeof(line) - len, "\n");
	else
		line[sizeof(line) - 2] = '\n'; /* cut short: still one line */
	console_puts(line);
#undef D
}

void bench_fail(const char *scenario, const char *what, long value)
{
	console_write("BENCH_ERROR scenario=%s rep=%u %s=%ld\n", scenario, bench_rep, what, value);
	bench_failed = true;
}

void bench_skip(const char *scenario, const char *reason)
{
	/* The warm-up's would repeat the first real run's, under rep=0 twice. */
	if (bench_warming_up)
		return;
	console_write("BENCH_SKIP scenario=%s rep=%u reason=%s\n", scenario, bench_rep, reason);
}

unsigned bench_current_rep(void)
{
	return bench_rep;
}

/* Spins until *counter reaches n, letting other threads of this CPU run meanwhile. */
static void wait_count(uint32_t *counter, uint32_t n)
{
	while (atomic_load_acquire(counter) < n)
		thread_yield();
}

/*
 * A resident keeps its CPU in the mm, not lazy, so every flush of the mm
 * must reach it. By default it writes its page and then halts until the
 * next interrupt (a flush request, or the 100 Hz tick): halting inside its
 * own thread keeps the mm loaded and non-lazy, and leaves the host's cores
 * to the CPUs doing the work. Sleeping instead (thread_sleep_ns) would
 * switch to the idle thread and make the CPU lazy, so most flushes would
 * skip it. With `bench.spin` it writes in a tight loop instead: a busier
 * target, but under TCG with more vCPUs than host cores each IPI then
 * waits for the host to schedule the target's thread.
 */
static void resident(void *arg)
{
	struct bench_env *env = arg;
	/* Its own cache line, so residents do not slow each other down. */
	volatile uint64_t *p = (volatile uint64_t *)(BENCH_RESIDENT_VA + 64 * arch_cpu_id());
	bool spin = cmdline_has("bench.spin");
	/* Switching to this thread loaded the mm: this CPU is now in mm->cpus. */
	*p = 0;
	atomic_fetch_add(&env->started, 1);
	while (!atomic_load_acquire(&env->stop)) {
		*p += 1;
		if (!spin)
			arch_cpu_idle();
	}
}

bool bench_env_start(struct bench_env *env, cpumask_t busy)
{
	*env = (struct bench_env){.mm = mm_create()};
	if (!env->mm)
		return false;
	if (vm_map_anon(env->mm, BENCH_RESIDENT_VA, PAGE_SIZE, PT_READ | PT_WRITE) ||
	    vm_populate(env->mm, BENCH_RESIDENT_VA, PAGE_SIZE)) {
		mm_destroy(env->mm);
		return false;
	}
	uint32_t n = 0;
	bool ok = true;
	for_each_cpu(c, bench_online())
	{
		if (cpumask_test(busy, c))
			continue;
		env->resident[c] = thread_create_mm("resident", c, env->mm, resident, env);
		ok = ok && env->resident[c];
		n += env->resident[c] != NULL;
	}
	wait_count(&env->started, n);
	if (!ok)
		bench_env_stop(env);
	return ok;
}

void bench_env_stop(struct bench_env *env)
{
	atomic_store_release(&env->stop, true);
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (env->resident[c])
			thread_join(env->resident[c]);
	mm_destroy(env->mm);
	env->mm = NULL;
}

int bench_map_guarded(struct mm *mm, virt_addr_t va, uint64_t size)
{
	int err = vm_map_anon(mm, va - PAGE_SIZE, PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(mm, va - PAGE_SIZE, PAGE_SIZE);
	if (!err)
		err = vm_map_anon(mm, va + size, PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(mm, va + size, PAGE_SIZE);
	return err;
}

void bench_team_ready(struct bench_team *team)
{
	atomic_fetch_add(&team->ready, 1);
	/* Yield while waiting: the coordinator may share this CPU. */
	while (!atomic_load_acquire(&team->go))
		thread_yield();
}

bool bench_team_run(struct bench_team *team, unsigned n, void (*fn)(void *arg), void *const *args)
{
	struct thread *t[CPU_MAX] = {0};
	bool ok = n <= CPU_MAX;
	for (unsigned i = 0; ok && i < n; i++) {
		t[i] = thread_create_mm("bench", bench_nth_cpu(i), team->env->mm, fn, args[i]);
		ok = t[i] != NULL;
	}
	uint32_t created = 0;
	while (created < n && t[created])
		created++;
	wait_count(&team->ready, created);
	bench_snap_take(&team->start, team->extra);
	atomic_store_release(&team->go, true);
	for (unsigned i = 0; i < created; i++)
		thread_join(t[i]);
	bench_snap_take(&team->end, team->extra);
	return ok;
}

cpumask_t bench_team_cpus(unsigned n)
{
	cpumask_t m = CPUMASK_NONE;
	for (unsigned i = 0; i < n; i++)
		cpumask_set(&m, bench_nth_cpu(i));
	return m;
}

/* Runs one scenario and checks that it gave back every frame it took. */
static void run_one(const char *name, void (*scenario)(void))
{
	uint64_t free_before = frame_free_count();
	scenario();
	uint64_t free_after = frame_free_count();
	if (free_after != free_before)
		bench_fail(name, "leaked_frames", (long)(free_before - free_after));
}

#define BENCH_ALT_MAX 4 /* modes bench.alternate= can pair */

/* bench.alternate='s modes, split once; n == 0: not alternating. */
struct bench_alternation {
	unsigned n;
	char mode[BENCH_ALT_MAX][sizeof(bench_mode)];
};

/* Splits `list` at commas into `alt`; false (and a message naming why) on a bad list. */
static bool alternation_parse(const char *list, struct bench_alternation *alt)
{
	alt->n = 0;
	while (*list) {
		size_t len = 0;
		while (list[len] && list[len] != ',')
			len++;
		if (len == 0 || len >= sizeof(alt->mode[0]) || alt->n == BENCH_ALT_MAX) {
			console_write(
			    "BENCH_ERROR scenario=none rep=0 bad_alternate=1 (bench.alternate= "
			    "takes up to %u comma-separated mode names)\n",
			    BENCH_ALT_MAX);
			return false;
		}
		memcpy(alt->mode[alt->n], list, len);
		alt->mode[alt->n++][len] = 0;
		list += len + (list[len] == ',');
	}
	return true;
}

/* Switches the TLB mode live to `mode`; false, after a BENCH_ERROR naming why, if refused. */
static bool bench_switch_mode(const char *name, const char *mode)
{
	char why[96];
	if (tlb_mode_switch(mode, why, sizeof(why))) {
		console_write("BENCH_ERROR scenario=%s rep=%u mode_switch=1 (tlb mode %s: %s)\n",
			      name, bench_rep, mode, why);
		return false;
	}
	strlcpy(bench_mode, mode, sizeof(bench_mode));
	return true;
}

/*
 * One repetition of a scenario once in each mode of `alt`, switching the
 * TLB mode live before each (tlb_mode_switch: the scenario left no thread
 * in any mm, so the switch finds none). The order turns round on odd
 * repetitions, so that no mode always runs first (on a host that slows
 * down or warms up within a repetition). A mode the switch refuses fails
 * the run, named, rather than be measured in another. Returns false then.
 */
static bool run_alternating(const char *name, void (*scenario)(void),
			    const struct bench_alternation *alt)
{
	for (unsigned i = 0; i < alt->n; i++) {
		unsigned m = bench_rep & 1 ? alt->n - 1 - i : i;
		if (!bench_switch_mode(name, alt->mode[m])) {
			bench_failed = true;
			return false;
		}
		run_one(name, scenario);
	}
	return true;
}

/*
 * A scenario's repetitions with the modes alternated (bench.alternate=),
 * after one unreported warm-up run in the first mode: the first run of a
 * scenario in a boot pays for QEMU translating its code (up to 10x slower
 * under TCG), which would weigh on whichever mode came first. False when
 * a switch was refused (the run then ends).
 */
static bool run_scenario_alternating(const struct bench_scenario *sc, uint64_t reps,
				     const struct bench_alternation *alt)
{
	bench_rep = 0;
	if (!bench_switch_mode(sc->name, alt->mode[0])) {
		bench_failed = true;
		return false;
	}
	bench_warming_up = true;
	run_one(sc->name, sc->run);
	bench_warming_up = false;
	for (bench_rep = 0; bench_rep < reps; bench_rep++)
		if (!run_alternating(sc->name, sc->run, alt))
			return false;
	return true;
}

/* `name` matches one of the comma-separated globs in `only`. */
static bool bench_selected(const char *only, const char *name)
{
	char glob[64];
	while (*only) {
		size_t len = 0;
		while (only[len] && only[len] != ',')
			len++;
		if (len < sizeof(glob)) {
			memcpy(glob, only, len);
			glob[len] = 0;
			if (glob_match(glob, name))
				return true;
		}
		only += len + (only[len] == ',');
	}
	return false;
}

static void nothing(void *arg)
{
	(void)arg;
}

bool bench_requested(void)
{
	return cmdline_has("bench");
}

bool bench_run_all(void)
{
	char only[192];
	if (!cmdline_get("bench.only", only, sizeof(only)) || !only[0])
		strlcpy(only, "*", sizeof(only));
	return bench_run(only);
}

bool bench_run(const char *only)
{
	/*
	 * A CPU enters cpu_online_mask before it has initialised its run
	 * queue (smp_secondary_main), so creating a thread on a CPU that has
	 * just come online can take an uninitialised lock. A CPU runs a
	 * cross-call only once it has interrupts enabled, in its idle loop,
	 * after that initialisation: one waited call to every CPU is the
	 * barrier.
	 */
	xcall(bench_online(), nothing, NULL, XCALL_WAIT);
	if (!cmdline_get("tlb", bench_mode, sizeof(bench_mode)) || !bench_mode[0])
		strlcpy(bench_mode, "gen", sizeof(bench_mode));
	printk("bench: mode %s on %u CPUs", bench_mode, cpumask_weight(bench_online()));
	/*
	 * Each scenario runs `bench.reps=` times (5 by default), each time in
	 * a fresh mm: the host compares the repetitions to see how much the
	 * times scatter (under TCG other host load shows up directly).
	 */
	if (cmdline_has("bench.dma_plot")) {
		bench_failed = !bench_dma_plot();
		console_write("BENCH_END failed=%u\n", bench_failed ? 1u : 0u);
		return !bench_failed;
	}
	uint64_t reps = cmdline_u64("bench.reps");
	char list[96];
	struct bench_alternation alt = {0};
	if (cmdline_get("bench.alternate", list, sizeof(list)) && list[0]) {
		if (!alternation_parse(list, &alt)) {
			console_write("BENCH_END failed=1\n");
			return false;
		}
		printk("bench: each repetition once in each of the modes %s, switched live, after "
		       "one unreported warm-up run",
		       list);
	}
	bool profile = cmdline_has("bench.profile");
	if (profile && alt.n) {
		/* A profile of every mode together, tagged with one: refused, not misleading. */
		console_write(
		    "BENCH_ERROR scenario=none rep=0 profile_with_alternate=1 (bench.profile "
		    "profiles one mode: boot once per mode, make bench)\n");
		console_write("BENCH_END failed=1\n");
		return false;
	}
	bench_failed = false;
	for (const struct bench_scenario *const *sc = __bench_scenarios_start;
	     sc < __bench_scenarios_end; sc++) {
		if (!bench_selected(only, (*sc)->name))
			continue;
		if (alt.n) {
			if (strcmp((*sc)->name, "flush_threshold") == 0) {
				printk("bench: flush_threshold compares transports itself: not "
				       "alternated");
				continue;
			}
			if (!run_scenario_alternating(*sc, reps, &alt))
				break; /* a refused switch: named, and the run ends */
			continue;
		}
		if (profile)
			prof_start(); /* all repetitions together: more samples */
		for (bench_rep = 0; bench_rep < reps; bench_rep++)
			run_one((*sc)->name, (*sc)->run);
		if (profile) {
			char tag[96];
			prof_stop();
			snprintf(tag, sizeof(tag), "scenario=%s mode=%s", (*sc)->name, bench_mode);
			prof_print(tag, BENCH_PROFILE_TOP);
		}
	}
	console_write("BENCH_END failed=%u\n", bench_failed ? 1u : 0u);
	return !bench_failed;
}
