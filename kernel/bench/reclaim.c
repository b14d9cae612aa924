// SPDX-License-Identifier: BSD-2-Clause
/*
 * reclaim: a page-reclaim pass over many address spaces. RECLAIM_MMS mms
 * are each kept active on every online CPU but the runner's (residents,
 * bench_env_start); one operation populates one page in each mm and takes
 * it back from each, either through one TLB batch (tlb_batch.h: one round
 * for the whole pass) or with one vm_discard per mm (one gather, one
 * round each: the same change as the batch's, page dropped and mapping
 * kept, through the path vm_unmap takes). Both variants do the same work
 * on the same mms in the same repetition, the per-mm one first.
 *
 * One BENCH line, scenario=reclaim: its common counters are the batched
 * run's; each_ns, each_ipis, each_flushes and each_targets are the per-mm
 * run's totals over the same number of operations (bench.py shows them
 * per op beside the batched ones), so the ratio is taken within one boot;
 * batch_rounds counts the batched run's flush rounds (1 per operation:
 * its gathers are handed off, so `flushes` stays 0).
 *
 * Invariants: like every scenario (bench.h), nothing is left behind; the
 * runner's thread does the operations, on its own CPU, outside the mms.
 */
#include "kernel/bench/bench.h"
#include "kernel/errno.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb_batch.h"

#define RECLAIM_MMS 16
#define RECLAIM_VA  BENCH_WORK_VA(1)

/* The per-mm run's totals, carried on the batched run's BENCH line, and the batch. */
struct reclaim_each {
	uint64_t ns, ipis, flushes, targets;
	const struct tlb_batch *b;
};

static void read_each(void *ctx, uint64_t *values)
{
	const struct reclaim_each *e = ctx;
	values[0] = e->ns;
	values[1] = e->ipis;
	values[2] = e->flushes;
	values[3] = e->targets;
	values[4] = e->b ? e->b->stats.rounds : 0;
}

/* One operation: a page populated and reclaimed in every mm. */
static int reclaim_op(struct bench_env *envs, struct tlb_batch *b)
{
	for (unsigned i = 0; i < RECLAIM_MMS; i++) {
		int err = vm_populate(envs[i].mm, RECLAIM_VA, PAGE_SIZE);
		if (!err)
			err = b ? tlb_batch_unmap_page(b, envs[i].mm, RECLAIM_VA)
				: vm_discard(envs[i].mm, RECLAIM_VA, PAGE_SIZE);
		if (err)
			return err;
	}
	if (b)
		tlb_batch_flush(b);
	return 0;
}

static int reclaim_loop(struct bench_env *envs, struct tlb_batch *b, uint64_t k)
{
	int err = 0;
	for (uint64_t i = 0; i < k && !err; i++)
		err = reclaim_op(envs, b);
	return err;
}

static void bench_reclaim(void)
{
	const char *name = "reclaim";
	static struct bench_env envs[RECLAIM_MMS];
	static struct reclaim_each each;
	static const struct bench_extra extra = {
	    .keys = {"each_ns", "each_ipis", "each_flushes", "each_targets", "batch_rounds"},
	    .read = read_each,
	    .ctx = &each,
	};
	uint64_t k = bench_scaled(150);
	cpumask_t busy = cpumask_of(arch_cpu_id());
	unsigned started = 0;
	int err = 0;
	for (; started < RECLAIM_MMS && !err; started++) {
		if (!bench_env_start(&envs[started], busy)) {
			err = -ENOMEM;
			break;
		}
		err = bench_map_guarded(envs[started].mm, RECLAIM_VA, PAGE_SIZE);
		if (!err)
			err = vm_map_anon(envs[started].mm, RECLAIM_VA, PAGE_SIZE,
					  PT_READ | PT_WRITE);
	}
	struct tlb_batch b = {0};
	if (!err)
		err = tlb_batch_init(&b);
	if (err) {
		bench_fail(name, "setup", err);
	} else {
		struct bench_snap a, z;
		each = (struct reclaim_each){.b = &b};
		bench_snap_take(&a, NULL);
		err = reclaim_loop(envs, NULL, k);
		bench_snap_take(&z, NULL);
		struct reclaim_each e = {z.ns - a.ns, z.xcall.ipis_sent - a.xcall.ipis_sent,
					 z.gather.flushes - a.gather.flushes,
					 z.tlb.remote_targets - a.tlb.remote_targets, &b};
		bench_snap_take(&a, &extra);
		if (!err)
			err = reclaim_loop(envs, &b, k);
		each = e; /* read by the second snapshot: the delta is the per-mm run's */
		bench_snap_take(&z, &extra);
		if (err)
			bench_fail(name, "error", err);
		else
			bench_report(name, k, &a, &z);
	}
	if (b.entries)
		tlb_batch_fini(&b);
	for (unsigned i = 0; i < started; i++)
		bench_env_stop(&envs[i]);
}

BENCH_SCENARIO(reclaim_scenario, "reclaim", 55, bench_reclaim);
