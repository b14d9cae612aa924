/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * TLB shootdown benchmarks (command line `bench`, see docs/benchmarks.md).
 *
 * Each scenario builds an address space, makes it active on every online
 * CPU (its own worker threads, plus one "resident" thread on every other
 * CPU that keeps the mm loaded), runs a fixed number of operations, and
 * prints one line per repetition (`bench.reps=`, default 5):
 *
 *   BENCH scenario=<name> mode=<tlb=> ops=<n> ns=<n> ipis=<n>
 *         remote_flush_targets=<n> local_full=<n> local_page=<n>
 *         flushes=<n> full_flushes=<n> elided=<n> deferrals=<n> lazy_skipped=<n>
 *         cpus=<n> rep=<i>
 *
 * (on one line), then `key=<n>` for each counter of the scenario's own
 * (struct bench_extra: the IOMMU's commands in secondary.c). Counts are
 * deltas of the kernel's counters taken around the measured loop only:
 * setup (mapping the resident page, starting threads) and teardown are
 * outside it. The runner ends with "BENCH_END failed=<0|1>". `mode` echoes
 * `tlb=` (default gen).
 *
 * Invariants: a scenario leaves nothing behind (threads joined, mm
 * destroyed, frame_free_count() back where it was; a leak is reported as a
 * "BENCH_ERROR" line and fails the run). The code only uses the public mm,
 * TLB, xcall and scheduler interfaces (secondary.c also the notifier's and
 * the IOMMU's): it must not depend on how a given `tlb=` mode does its
 * flushing.
 */
#ifndef PAGODA_KERNEL_BENCH_BENCH_H
#define PAGODA_KERNEL_BENCH_BENCH_H

#include "kernel/arch.h"
#include "kernel/cpumask.h"
#include "kernel/iommu/shadow.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/xcall.h"

struct mm;
struct thread;

/*
 * Where scenarios map: far from what tests use, inside every arch's user
 * half. The residents' page has a leaf table of its own. Work ranges (up to
 * 2 MiB) start 64 KiB into a 4 MiB slot, never 2 MiB-aligned, and get a
 * populated guard page on each side (bench_map_guarded): the leaf tables a
 * range uses never become empty, so unmapping it frees no page table and
 * the scenarios measure flushing, not table allocation and freeing.
 */
#define BENCH_VA(off)	    (arch_mm_layout.user_base + GiB(4) + (off))
#define BENCH_RESIDENT_VA   BENCH_VA(0)
#define BENCH_WORK_VA(slot) BENCH_VA(MiB(4) * (slot) + KiB(64)) /* slot >= 1 */

/*
 * Counters of a scenario's own, beyond the common ones: `read` stores the
 * current value of each key's counter in values[i]; the BENCH line
 * carries key=<delta> for each. Read at the same instants as the rest.
 */
#define BENCH_EXTRA_MAX 6
struct bench_extra {
	const char *keys[BENCH_EXTRA_MAX]; /* NULL after the last */
	void (*read)(void *ctx, uint64_t *values);
	void *ctx;
};

/* Counter values at one instant. */
struct bench_snap {
	uint64_t ns;
	struct xcall_stats xcall;
	struct tlb_counters tlb;
	struct gather_stats gather;
	const struct bench_extra *extra; /* NULL: none */
	uint64_t extra_values[BENCH_EXTRA_MAX];
};
/* Takes the common counters, and `extra`'s (NULL: none). */
void bench_snap_take(struct bench_snap *s, const struct bench_extra *extra);

/* Prints the BENCH line for `ops` operations measured between `a` and `b`. */
void bench_report(const char *scenario, uint64_t ops, const struct bench_snap *a,
		  const struct bench_snap *b);
/* Prints a BENCH_ERROR line and marks the run failed. */
void bench_fail(const char *scenario, const char *what, long value);
/*
 * Prints "BENCH_SKIP scenario=<name> rep=<i> reason=<reason>": this machine
 * cannot run the scenario (say, it has no hardware IOMMU). Not a failure;
 * tools/bench.py shows the reason instead of a table. Silent during
 * bench.alternate='s unreported warm-up run, as bench_report is.
 */
void bench_skip(const char *scenario, const char *reason);
/* Which repetition of the current scenario runs (from 0), for a scenario's own lines. */
unsigned bench_current_rep(void);

/*
 * An mm plus its residents. bench_env_start creates the mm, maps and
 * populates the residents' page, and starts one resident on every online
 * CPU not in `busy` (the CPUs the scenario's own threads will use); it
 * returns once each has written its page, i.e. each CPU is in mm->cpus.
 * bench_env_stop stops and joins them and destroys the mm.
 */
struct bench_env {
	struct mm *mm;
	struct thread *resident[CPU_MAX];
	bool stop;
	uint32_t started;
};
bool bench_env_start(struct bench_env *env, cpumask_t busy);
void bench_env_stop(struct bench_env *env);

/* Maps and populates one guard page just below va and one at va + size. */
int bench_map_guarded(struct mm *mm, virt_addr_t va, uint64_t size);

/*
 * A scenario's own threads, started together in env->mm. bench_team_run
 * starts fn(args[i]) on the i-th online CPU (wrapping around) for i < n,
 * waits until each has called bench_team_ready (after its own setup),
 * takes `start`, lets them go, joins them all and takes `end` (with
 * `extra`'s counters if set). It returns false if a thread could not be
 * created (those that were are still run and joined).
 */
struct bench_team {
	struct bench_env *env;
	const struct bench_extra *extra; /* optional */
	uint32_t ready;
	bool go;
	struct bench_snap start, end;
};
bool bench_team_run(struct bench_team *team, unsigned n, void (*fn)(void *arg), void *const *args);
void bench_team_ready(struct bench_team *team);
/* The CPUs bench_team_run puts n threads on (for bench_env_start's `busy`). */
cpumask_t bench_team_cpus(unsigned n);

/* Online CPUs, and the n-th of them (wrapping around when n >= their number). */
cpumask_t bench_online(void);
unsigned bench_nth_cpu(unsigned n);
/* Scales a default operation count by `bench.scale=<percent>` (at least 1). */
uint64_t bench_scaled(uint64_t ops);
/* Writes one word to each page of [va, va + size): faults them in if needed. */
void bench_touch(virt_addr_t va, uint64_t size);

/*
 * Something a munmap_N scenario attaches to its mm (secondary.c: a notifier
 * subscriber, an IOMMU stream bound to the mm). `attach` runs once the mm,
 * its residents and guards exist, before the start line (0 or an errno);
 * `use`, if set, in every operation between populating and unmapping (0
 * or an errno, which ends the run as an operation's error does);
 * `detach` after the last operation, before the mm is destroyed (only if
 * `attach` succeeded). `attach` is given the last online CPU for a device
 * thread; with `own_cpu` no resident runs there (with one CPU, the
 * scenario's thread still does). `extra` (optional) goes on the BENCH line.
 */
struct bench_attach {
	int (*attach)(void *ctx, struct mm *mm, unsigned cpu);
	int (*use)(void *ctx, virt_addr_t va, uint64_t size);
	void (*detach)(void *ctx);
	bool own_cpu;
	const struct bench_extra *extra;
	void *ctx;
};
/* Runs munmap_N (munmap.c) as scenario `name`: k operations on `pages` pages, `at` attached. */
void bench_munmap(const char *name, unsigned pages, uint64_t k, const struct bench_attach *at);

/*
 * edu's stream on the machine's hardware IOMMU (iommu_hw()) bound to an mm
 * (hw_bind.c): shared (iommu_sva_bind: SMMUv3, VT-d first stage) or, on a
 * unit that cannot walk the CPU's tables (VT-d second stage only), a
 * shadow domain over [start, start + len). bench_hw_bind: 0, -ENOENT (no
 * hardware IOMMU or no edu) or the binding's error. bench_hw_use makes
 * [va, va + len) reachable by the device (shadow: mirrors it; shared:
 * nothing to do). bench_hw_unbind ends the binding and gives an SMMU
 * stream back to bypass. Not in the NOTIFIER=off build.
 */
struct bench_hw_bond {
	struct iommu *io;
	unsigned sid;
	bool shadow;
	struct iommu_sva sva;
	struct iommu_shadow sh;
};
int bench_hw_bind(struct bench_hw_bond *b, struct mm *mm, virt_addr_t start, uint64_t len);
int bench_hw_use(struct bench_hw_bond *b, virt_addr_t va, uint64_t len);
void bench_hw_unbind(struct bench_hw_bond *b);
/* Faults the hardware IOMMU has recorded since boot (each call reads new ones out). */
uint64_t bench_hw_faults(void);

/*
 * DMA throughput while unmapping (dma_plot.c; command line `bench
 * bench.dma_plot`, `make dma-plot`): prints DMAPLOT sample lines instead
 * of running the scenarios. false if it could not run.
 */
bool bench_dma_plot(void);

/*
 * A scenario registers itself, as a test suite does: BENCH_SCENARIO(var,
 * "name", rank, fn) at file scope puts it in the .bench_scenarios.<rank>
 * linker section; the runner takes them in rank order (two digits), so
 * adding a scenario is adding a file. Today: munmap.c (munmap_N,
 * mprotect), tlb_flush2.c, concurrent.c, secondary.c (munmap_N_sub,
 * iommu_unmap_N, hwiommu_unmap_N; not in the NOTIFIER=off baseline build),
 * page_ops.c, flush_threshold.c.
 */
struct bench_scenario {
	const char *name;
	void (*run)(void);
};
#define BENCH_SCENARIO(var, scenario_name, rank, fn)                                               \
	static const struct bench_scenario var = {.name = scenario_name, .run = fn};              \
	static const struct bench_scenario *const var##_ptr                                        \
	    __section(".bench_scenarios." #rank) __used = &var

/* The command line asks for the benchmarks (`bench`). */
bool bench_requested(void);
/* Runs every scenario; returns false if any reported an error. */
bool bench_run_all(void);
/*
 * The same for the scenarios whose name matches the glob `only`, or one of
 * its comma-separated globs (the console's `bench`, `bench.only=`).
 */
bool bench_run(const char *only);

#endif
