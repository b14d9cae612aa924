// SPDX-License-Identifier: BSD-2-Clause
/*
 * munmap_N with a secondary MMU on the mm (docs/benchmarks.md):
 *
 *   munmap_1_sub, munmap_32_sub: one notifier subscriber with no callbacks
 *       at all: what the notifier layer itself costs once an mm has a
 *       subscriber (compare munmap_N: no subscriber; and the NOTIFIER=off
 *       baseline build: no notifier hooks).
 *   iommu_unmap_1, _32, _512: one stream of a freshly started emulated
 *       IOMMU bound to the mm (SVA). Each operation also reads one word of
 *       every page through the IOMMU before the unmap, so its IOTLB holds
 *       what the unmap must invalidate.
 *   hwiommu_unmap_1, _32, _512: edu's stream on the machine's hardware
 *       IOMMU (SMMUv3, VT-d) bound to the mm (hw_bind.c: shared, or a
 *       shadow domain on VT-d without first stage, which each operation
 *       mirrors before the unmap). No DMA: edu takes 100 ms per transfer,
 *       and the invalidations are issued whether or not the IOTLB holds
 *       the pages. Without a hardware IOMMU they report a skip.
 *
 * All report the notifier's counters (mn_starts: range notifications
 * that found a subscriber; mn_secondary: invalidate_secondary_tlbs calls);
 * the IOMMU ones also the IOMMU's commands (iommu_range, iommu_asid) and
 * syncs (iommu_syncs). Invariant the figures must show: one range (or one
 * whole-ASID) command and one sync per gather for the stream, however
 * many pages.
 *
 * Invariants of the code: the IOMMU is started, bound, unbound and stopped
 * outside the measured interval; the emulated one's command thread runs on
 * a CPU of its own (no resident there), and nothing else uses the
 * hardware one meanwhile, so the stream's commands in the interval are
 * exactly those of the unmaps. Nothing here is built in the NOTIFIER=off
 * baseline, where subscribers would hear nothing.
 */
#include "kernel/bench/bench.h"
#include "kernel/drivers/edu.h"
#include "kernel/iommu/emu_drv.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/notifier.h"

#ifndef PAGODA_NO_NOTIFIER

#define SVA_STREAM 1
#define SVA_IOTLB_ENTRIES 256

/* ---- One subscriber with no callbacks ---- */

static const struct mn_ops empty_ops;
static struct mn_subscription empty_sub;

static int empty_attach(void *ctx, struct mm *mm, unsigned cpu)
{
	(void)ctx, (void)cpu;
	empty_sub = (struct mn_subscription){.ops = &empty_ops};
	return mn_register(&empty_sub, mm);
}

static void empty_detach(void *ctx)
{
	(void)ctx;
	mn_unregister(&empty_sub);
}

static void read_mn(void *ctx, uint64_t *v)
{
	(void)ctx;
	v[0] = atomic_load_relaxed(&mn_stats.starts);
	v[1] = atomic_load_relaxed(&mn_stats.secondary_calls);
}

static const struct bench_extra mn_extra = {
	.keys = {"mn_starts", "mn_secondary"},
	.read = read_mn,
};

static const struct bench_attach empty_sub_attach = {
	.attach = empty_attach,
	.detach = empty_detach,
	.extra = &mn_extra,
};

static void bench_munmap_1_sub(void)
{
	bench_munmap("munmap_1_sub", 1, bench_scaled(6000), &empty_sub_attach);
}

static void bench_munmap_32_sub(void)
{
	bench_munmap("munmap_32_sub", 32, bench_scaled(800), &empty_sub_attach);
}

/* ---- An SVA-bound stream of the emulated IOMMU ---- */

static struct emu_drv sva_drv;
static struct iommu_sva sva_bond;

static int sva_attach(void *ctx, struct mm *mm, unsigned cpu)
{
	(void)ctx;
	int err = emu_drv_start(&sva_drv, SVA_IOTLB_ENTRIES, cpu);
	if (err)
		return err;
	err = iommu_sva_bind(&sva_bond, &sva_drv.io, SVA_STREAM, mm);
	if (err)
		emu_drv_stop(&sva_drv);
	return err;
}

/* The device reads every page: its IOTLB now caches them. */
static int sva_use(void *ctx, virt_addr_t va, uint64_t size)
{
	(void)ctx;
	uint32_t word;
	int err = 0;
	for (virt_addr_t p = va; p < va + size && !err; p += PAGE_SIZE)
		err = emu_iommu_access(&sva_drv.hw, SVA_STREAM, p, &word, sizeof(word), false);
	return err;
}

static void sva_detach(void *ctx)
{
	(void)ctx;
	iommu_sva_unbind(&sva_bond);
	emu_drv_stop(&sva_drv);
}

/* ctx: the struct iommu whose commands are counted. */
static void read_iommu(void *ctx, uint64_t *v)
{
	const struct iommu *io = ctx;
	read_mn(ctx, v);
	/* Written by the driver under its command lock; nothing posts while we read. */
	v[2] = atomic_load_relaxed(&io->stats.range_invalidations);
	v[3] = atomic_load_relaxed(&io->stats.asid_invalidations);
	v[4] = atomic_load_relaxed(&io->stats.syncs);
}

#define IOMMU_EXTRA_KEYS                                                                           \
	{                                                                                          \
		"mn_starts", "mn_secondary", "iommu_range", "iommu_asid", "iommu_syncs"            \
	}

static const struct bench_extra sva_extra = {
	.keys = IOMMU_EXTRA_KEYS,
	.read = read_iommu,
	.ctx = &sva_drv.io,
};

static const struct bench_attach sva_attach_ops = {
	.attach = sva_attach,
	.use = sva_use,
	.detach = sva_detach,
	.own_cpu = true,
	.extra = &sva_extra,
};

static void bench_iommu_unmap_1(void)
{
	bench_munmap("iommu_unmap_1", 1, bench_scaled(2000), &sva_attach_ops);
}

static void bench_iommu_unmap_32(void)
{
	bench_munmap("iommu_unmap_32", 32, bench_scaled(800), &sva_attach_ops);
}

static void bench_iommu_unmap_512(void)
{
	bench_munmap("iommu_unmap_512", 512, bench_scaled(80), &sva_attach_ops);
}

/* ---- edu's stream on the hardware IOMMU ---- */

static struct bench_hw_bond hw_bond;
static struct bench_extra hw_extra = {.keys = IOMMU_EXTRA_KEYS, .read = read_iommu};

static int hw_attach(void *ctx, struct mm *mm, unsigned cpu)
{
	(void)ctx, (void)cpu;
	/* The shadow domain covers every range munmap_N uses (at most 2 MiB). */
	int err = bench_hw_bind(&hw_bond, mm, BENCH_WORK_VA(1), MiB(2));
	hw_extra.ctx = hw_bond.io;
	return err;
}

static int hw_use(void *ctx, virt_addr_t va, uint64_t size)
{
	(void)ctx;
	return bench_hw_use(&hw_bond, va, size);
}

static void hw_detach(void *ctx)
{
	(void)ctx;
	bench_hw_unbind(&hw_bond);
}

static const struct bench_attach hw_attach_ops = {
	.attach = hw_attach,
	.use = hw_use,
	.detach = hw_detach,
	.extra = &hw_extra,
};

/*
 * Half iommu_unmap_N's operation counts: the counts per operation are
 * exact anyway, and a boot with an IOMMU stays well inside make bench's
 * BENCH_TIMEOUT on a loaded host.
 */
static void bench_hw_unmap(const char *name, unsigned pages, uint64_t k)
{
	if (!iommu_hw() || !edu_present())
		bench_skip(name, "no hardware IOMMU with edu behind it (make bench IOMMU=...)");
	else
		bench_munmap(name, pages, bench_scaled(k), &hw_attach_ops);
}

static void bench_hwiommu_unmap_1(void)
{
	bench_hw_unmap("hwiommu_unmap_1", 1, 1000);
}

static void bench_hwiommu_unmap_32(void)
{
	bench_hw_unmap("hwiommu_unmap_32", 32, 400);
}

static void bench_hwiommu_unmap_512(void)
{
	bench_hw_unmap("hwiommu_unmap_512", 512, 40);
}

/* Each next to the scenario it is compared with. */
BENCH_SCENARIO(munmap_1_sub_scenario, "munmap_1_sub", 11, bench_munmap_1_sub);
BENCH_SCENARIO(munmap_32_sub_scenario, "munmap_32_sub", 21, bench_munmap_32_sub);
BENCH_SCENARIO(iommu_unmap_1_scenario, "iommu_unmap_1", 70, bench_iommu_unmap_1);
BENCH_SCENARIO(iommu_unmap_32_scenario, "iommu_unmap_32", 71, bench_iommu_unmap_32);
BENCH_SCENARIO(iommu_unmap_512_scenario, "iommu_unmap_512", 72, bench_iommu_unmap_512);
BENCH_SCENARIO(hwiommu_unmap_1_scenario, "hwiommu_unmap_1", 73, bench_hwiommu_unmap_1);
BENCH_SCENARIO(hwiommu_unmap_32_scenario, "hwiommu_unmap_32", 74, bench_hwiommu_unmap_32);
BENCH_SCENARIO(hwiommu_unmap_512_scenario, "hwiommu_unmap_512", 75, bench_hwiommu_unmap_512);

#endif /* PAGODA_NO_NOTIFIER */
