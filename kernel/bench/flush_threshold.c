// SPDX-License-Identifier: BSD-2-Clause
/*
 * flush_threshold: what invalidating N pages costs by N single-page
 * invalidations, by one whole-mm invalidation, and (arm64 with
 * FEAT_TLBIRANGE, broadcast) by range invalidations, for N = 1, 2, 4 ...
 * 512, with the mm active on every CPU. The page count where the whole-mm
 * flush becomes cheaper is what the arch's limit for that transport should
 * be (struct tlb_caps: range_max_pages by IPI, broadcast_max_pages by
 * broadcast; tlb_range_max_pages() applies them); tools/bench_threshold.py
 * finds that crossover in the lines printed here (`make bench-threshold`,
 * docs/benchmarks.md).
 *
 * One thread on the first online CPU, residents on the others (as every
 * scenario). One operation:
 *   1. (not timed) write one word to each of the N pages, so every TLB
 *      that matters holds them;
 *   2. (timed) invalidate them on every CPU in the mm by the method:
 *      IPI transport: a waited cross-call to every CPU, each running N
 *      arch_tlb_flush_user_page() or one arch_tlb_flush_user_full();
 *      broadcast transport: arch_tlb_broadcast_user_pages() (by page or
 *      by range) or arch_tlb_broadcast_user(full);
 *   3. (timed) read the thread's hot set of BENCH_FT_HOT other pages: a
 *      whole-mm flush dropped them too, and refilling them is its hidden
 *      cost (the N pages are not re-read: after an unmap they are gone).
 * No page table changes: the translations stay valid, so invalidating
 * them is harmless and the same work can be repeated exactly.
 *
 * The methods' operations are interleaved (one of each in turn), so a
 * change of host load falls on all of them; each operation is timed on its
 * own, and the median is reported beside the sum, since under TCG a
 * single operation whose vCPU the host descheduled can cost a millisecond.
 *
 * Output, per repetition, one line per (method, N):
 *   BENCH_POINT scenario=flush_threshold mode=<tlb=> transport=ipi|broadcast
 *               method=page|full|range pages=N ops=K ns=<timed ns, sum>
 *               ns_median=<one op's, median> ipis=<n> inv_page=<n>
 *               inv_range=<n> inv_full=<n> cpus=<n> rep=<i>
 * then the usual BENCH line for the whole scenario (so the runner sees it
 * ran). inv_* count the instructions issued (per CPU for IPIs: each CPU's
 * own; broadcast: once, every TLB). Invariant: every method does the same
 * untimed and timed work but the invalidation itself.
 */
#include "kernel/bench/bench.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/mm.h"
#include "kernel/printk.h"

#define BENCH_FT_MAX_PAGES 512
#define BENCH_FT_HOT	   64  /* the hot set a whole-mm flush makes the thread refill */
#define BENCH_FT_OPS	   64  /* per (method, N), before bench.scale= */
#define BENCH_FT_MAX_OPS   256 /* samples kept per method for the median */

enum ft_method { FT_PAGE, FT_FULL, FT_RANGE, FT_METHODS };
static const char *const ft_method_names[FT_METHODS] = {"page", "full", "range"};

/* One cross-call's work: what every CPU does to its own TLB (IPI transport). */
struct ft_call {
	unsigned asid;
	virt_addr_t va;
	uint64_t pages;
	bool full;
};

static void ft_local(void *arg)
{
	const struct ft_call *c = arg;
	if (c->full) {
		arch_tlb_flush_user_full(c->asid);
		return;
	}
	for (uint64_t i = 0; i < c->pages; i++)
		arch_tlb_flush_user_page(c->asid, c->va + i * PAGE_SIZE);
}

struct ft_run {
	struct bench_team *team;
	uint64_t ops;
	int err;
};

/* Invalidates `pages` pages from va on every CPU by `m`; returns the instructions issued. */
static struct tlb_invals ft_invalidate(struct mm *mm, virt_addr_t va, uint64_t pages,
				       enum ft_method m)
{
	unsigned asid = asid_hw(mm);
	if (tlb_broadcast)
		return m == FT_FULL ? arch_tlb_broadcast_user(asid, va, va, PAGE_SHIFT, true)
				    : arch_tlb_broadcast_user_pages(asid, va, pages, m == FT_RANGE);
	struct ft_call call = {asid, va, pages, m == FT_FULL};
	cpumask_t cpus = bench_online();
	xcall(cpus, ft_local, &call, XCALL_WAIT);
	unsigned n = cpumask_weight(cpus);
	return m == FT_FULL ? (struct tlb_invals){.full = n}
			    : (struct tlb_invals){.pages = (unsigned)(n * pages)};
}

/*
 * The methods' samples at one N, interleaved: operation i of every method
 * runs before operation i + 1 of any, so a change of host load (TCG:
 * vCPUs are host threads) falls on every method alike.
 */
static uint64_t ft_samples[FT_METHODS][BENCH_FT_MAX_OPS];

static void ft_sort(uint64_t *v, uint64_t n)
{
	for (uint64_t i = 1; i < n; i++)
		for (uint64_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
			uint64_t t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* One operation of method m at N = pages: returns its timed ns, adds its instructions to *total. */
static uint64_t ft_op(struct mm *mm, enum ft_method m, uint64_t pages, struct tlb_invals *total)
{
	virt_addr_t va = BENCH_WORK_VA(1), hot = BENCH_WORK_VA(2);
	bench_touch(va, pages * PAGE_SIZE);
	uint64_t t0 = arch_time_ns();
	struct tlb_invals done = ft_invalidate(mm, va, pages, m);
	for (unsigned p = 0; p < BENCH_FT_HOT; p++)
		(void)*(volatile uint64_t *)(hot + p * PAGE_SIZE);
	uint64_t ns = arch_time_ns() - t0;
	total->pages += done.pages;
	total->ranges += done.ranges;
	total->full += done.full;
	return ns;
}

/* K operations of each method at N = pages, interleaved; one BENCH_POINT line per method. */
static void ft_point(struct ft_run *r, uint64_t pages, unsigned methods)
{
	struct mm *mm = r->team->env->mm;
	struct tlb_invals total[FT_METHODS] = {0};
	uint64_t ipis[FT_METHODS] = {0};
	for (uint64_t i = 0; i < r->ops; i++)
		for (unsigned m = 0; m < methods; m++) {
			uint64_t before = xcall_stats_total().ipis_sent;
			ft_samples[m][i] = ft_op(mm, (enum ft_method)m, pages, &total[m]);
			ipis[m] += xcall_stats_total().ipis_sent - before;
		}
	for (unsigned m = 0; m < methods; m++) {
		uint64_t sum = 0;
		for (uint64_t i = 0; i < r->ops; i++)
			sum += ft_samples[m][i];
		ft_sort(ft_samples[m], r->ops);
		console_write(
		    "BENCH_POINT scenario=flush_threshold mode=%s transport=%s method=%s pages=%lu "
		    "ops=%lu ns=%lu ns_median=%lu ipis=%lu inv_page=%u inv_range=%u inv_full=%u "
		    "cpus=%u rep=%u\n",
		    tlb_mode_word(), tlb_broadcast ? "broadcast" : "ipi", ft_method_names[m],
		    (unsigned long)pages, (unsigned long)r->ops, (unsigned long)sum,
		    (unsigned long)ft_samples[m][r->ops / 2], (unsigned long)ipis[m],
		    total[m].pages, total[m].ranges, total[m].full, cpumask_weight(bench_online()),
		    bench_current_rep());
	}
}

static void ft_loop(void *arg)
{
	struct ft_run *r = arg;
	bench_team_ready(r->team);
	/* Range TLBIs exist only as broadcasts here (arch_tlb_broadcast_user_pages). */
	unsigned methods = tlb_broadcast && arch_tlb_caps()->range ? FT_METHODS : FT_RANGE;
	for (uint64_t pages = 1; pages <= BENCH_FT_MAX_PAGES; pages *= 2)
		ft_point(r, pages, methods);
}

static void bench_flush_threshold(void)
{
	const char *name = "flush_threshold";
	struct bench_env env;
	if (!bench_env_start(&env, bench_team_cpus(1))) {
		bench_fail(name, "setup", 0);
		return;
	}
	struct bench_team team = {.env = &env};
	struct ft_run r = {.team = &team, .ops = MIN(bench_scaled(BENCH_FT_OPS), BENCH_FT_MAX_OPS)};
	virt_addr_t va = BENCH_WORK_VA(1), hot = BENCH_WORK_VA(2);
	uint64_t size = BENCH_FT_MAX_PAGES * PAGE_SIZE, hot_size = BENCH_FT_HOT * PAGE_SIZE;
	int err = bench_map_guarded(env.mm, va, size);
	if (!err)
		err = vm_map_anon(env.mm, va, size, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(env.mm, va, size);
	if (!err)
		err = vm_map_anon(env.mm, hot, hot_size, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(env.mm, hot, hot_size);
	void *args[] = {&r};
	if (err)
		bench_fail(name, "setup", err);
	else if (!bench_team_run(&team, 1, ft_loop, args))
		bench_fail(name, "threads", 0);
	else
		bench_report(name, 1, &team.start, &team.end);
	bench_env_stop(&env);
}

BENCH_SCENARIO(flush_threshold_scenario, "flush_threshold", 90, bench_flush_threshold);
