// SPDX-License-Identifier: BSD-2-Clause
/*
 * DMA throughput while unmapping (command line `bench bench.dma_plot`;
 * `make dma-plot` renders the samples with tools/dma_plot.py).
 *
 * One mm, one device stream bound to it (SVA, or a shadow domain where
 * the IOMMU cannot walk the CPU's tables), three threads on three CPUs:
 *
 *   - the device: DMAs one page at a time, round robin over DMA_PAGES
 *     pages of the mm. With a hardware IOMMU it is edu (a 4 KiB read of
 *     memory per transfer, 100 ms of virtual time each); without one, the
 *     emulated IOMMU's device access (emu_iommu_access), as fast as it goes.
 *     A transfer that faults moves nothing and is counted as a fault.
 *   - the unmapper, by phase: 0 idle; 1 unmaps, remaps and repopulates
 *     OTHER_PAGES pages the device never touches, back to back; 2 unmaps
 *     the device's pages, waits, maps them again (and mirrors them on a
 *     shadow domain), waits; 3 idle again.
 *   - this thread: every sample period it prints one line of cumulative
 *     counts, and moves the phases on at fixed times:
 *
 *   DMAPLOT_BEGIN iommu=<name> device=<edu|emu> mode=<shared|shadow> sample_ms=<n>
 * phase_ms=<a,b,c,d> DMAPLOT t_ms=<n> phase=<p> bytes=<n> xfers=<n> faults=<n> unmaps=<n>
 *           inv_range=<n> inv_asid=<n> syncs=<n>      (one line)
 *   DMAPLOT_END failed=<0|1>
 *
 * The invalidation counts are the IOMMU's own (io->stats), for this
 * stream only: nothing else uses the IOMMU during the run.
 *
 * Invariants: the device never reads a freed frame (every unmap reaches
 * the IOMMU before its frames are freed: that is the notifier's job,
 * tested elsewhere); all DMA addresses lie below edu's DMA mask; the run
 * gives back every frame it took (checked, BENCH_ERROR otherwise).
 */
#include "kernel/bench/bench.h"
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/iommu/emu_drv.h"
#include "kernel/mm/mm.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"

#ifndef PAGODA_NO_NOTIFIER

/* Below 2^28 (edu's default DMA mask on x86-64), 2 MiB aligned: one leaf table. */
#define PLOT_BASE   (arch_mm_layout.user_base + MiB(32))
#define DMA_VA	    (PLOT_BASE + KiB(64))
#define DMA_PAGES   2
#define OTHER_VA    (PLOT_BASE + KiB(512))
#define OTHER_PAGES 32
#define EMU_STREAM  1
#define PHASES	    4
#define NS_PER_MS   1000000ull
#define PAUSE_NS    (100 * NS_PER_MS) /* phase 2: unmapped, then mapped, this long */

/* When each phase ends (ms from the start), and how often to sample. */
static const uint64_t phase_end_ms[PHASES] = {3000, 7000, 11000, 13000};

struct plot {
	struct mm *mm;
	struct iommu *io;
	bool hw;
	unsigned phase; /* PHASES: stop */
	uint64_t bytes, xfers, faults, unmaps;
	int err; /* the unmapper's first error */
};

static struct bench_hw_bond plot_hw;
static struct emu_drv plot_emu;
static struct iommu_sva plot_sva;

/* One page read by the device; true if it moved, false if it faulted. */
static bool transfer(struct plot *p, virt_addr_t va)
{
	static uint8_t emu_buf[PAGE_SIZE]; /* the device's buffer: one device thread */
	if (!p->hw)
		return emu_iommu_access(&plot_emu.hw, EMU_STREAM, va, emu_buf, PAGE_SIZE, false) ==
		       0;
	uint64_t before = bench_hw_faults();
	int err = edu_dma_bus(EDU_TO_DEVICE, va, 0, EDU_BUF_SIZE);
	return !err && bench_hw_faults() == before;
}

static void device_thread(void *arg)
{
	struct plot *p = arg;
	for (unsigned i = 0; atomic_load_acquire(&p->phase) < PHASES; i++) {
		if (transfer(p, DMA_VA + (i % DMA_PAGES) * PAGE_SIZE)) {
			atomic_store_relaxed(&p->bytes, p->bytes + PAGE_SIZE);
			atomic_store_relaxed(&p->xfers, p->xfers + 1);
		} else {
			atomic_store_relaxed(&p->faults, p->faults + 1);
		}
		if (!p->hw && (i % 64) == 0)
			thread_yield(); /* the emulated device never sleeps: let the CPU's others
					   run */
	}
}

/* Maps and populates [va, va + pages) again, mirrored on a shadow domain. */
static int remap(struct plot *p, virt_addr_t va, unsigned pages)
{
	uint64_t size = (uint64_t)pages * PAGE_SIZE;
	int err = vm_map_anon(p->mm, va, size, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(p->mm, va, size);
	if (!err && p->hw)
		err = bench_hw_use(&plot_hw, va, size);
	return err;
}

static int unmap(struct plot *p, virt_addr_t va, unsigned pages)
{
	int err = vm_unmap(p->mm, va, (uint64_t)pages * PAGE_SIZE);
	if (!err)
		atomic_store_relaxed(&p->unmaps, p->unmaps + 1);
	return err;
}

static void unmapper_thread(void *arg)
{
	struct plot *p = arg;
	unsigned phase;
	while (!p->err && (phase = atomic_load_acquire(&p->phase)) < PHASES) {
		if (phase == 1) {
			p->err = unmap(p, OTHER_VA, OTHER_PAGES);
			if (!p->err)
				p->err = remap(p, OTHER_VA, OTHER_PAGES);
			thread_yield();
		} else if (phase == 2) {
			p->err = unmap(p, DMA_VA, DMA_PAGES);
			thread_sleep_ns(PAUSE_NS);
			if (!p->err)
				p->err = remap(p, DMA_VA, DMA_PAGES);
			thread_sleep_ns(PAUSE_NS);
		} else {
			thread_sleep_ns(10 * NS_PER_MS);
		}
	}
}

/* The device's and the unmapper's pages, with guards so the leaf table never empties. */
static int map_ranges(struct plot *p)
{
	int err = bench_map_guarded(p->mm, DMA_VA, DMA_PAGES * PAGE_SIZE);
	if (!err)
		err = bench_map_guarded(p->mm, OTHER_VA, OTHER_PAGES * PAGE_SIZE);
	if (!err)
		err = vm_map_anon(p->mm, DMA_VA, DMA_PAGES * PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(p->mm, DMA_VA, DMA_PAGES * PAGE_SIZE);
	if (!err)
		err = vm_map_anon(p->mm, OTHER_VA, OTHER_PAGES * PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(p->mm, OTHER_VA, OTHER_PAGES * PAGE_SIZE);
	return err;
}

/* Binds the device: edu on the hardware IOMMU, else a stream of a fresh emulated one. */
static int bind(struct plot *p, unsigned cmd_cpu)
{
	if (p->hw) {
		int err = bench_hw_bind(&plot_hw, p->mm, PLOT_BASE, MiB(2));
		p->io = plot_hw.io;
		if (err)
			return err;
		err = bench_hw_use(&plot_hw, DMA_VA, DMA_PAGES * PAGE_SIZE);
		if (err)
			bench_hw_unbind(&plot_hw);
		return err;
	}
	int err = emu_drv_start(&plot_emu, emu_drv_iotlb_entries(), cmd_cpu);
	if (err)
		return err;
	err = iommu_sva_bind(&plot_sva, &plot_emu.io, EMU_STREAM, p->mm);
	if (err)
		emu_drv_stop(&plot_emu);
	p->io = &plot_emu.io;
	return err;
}

static void unbind(struct plot *p)
{
	if (p->hw) {
		bench_hw_unbind(&plot_hw);
		return;
	}
	iommu_sva_unbind(&plot_sva);
	emu_drv_stop(&plot_emu);
}

static void sample(struct plot *p, uint64_t t_ms, unsigned phase)
{
	const struct iommu_stats *s = &p->io->stats;
	console_write("DMAPLOT t_ms=%lu phase=%u bytes=%lu xfers=%lu faults=%lu unmaps=%lu "
		      "inv_range=%lu inv_asid=%lu syncs=%lu\n",
		      (unsigned long)t_ms, phase, (unsigned long)atomic_load_relaxed(&p->bytes),
		      (unsigned long)atomic_load_relaxed(&p->xfers),
		      (unsigned long)atomic_load_relaxed(&p->faults),
		      (unsigned long)atomic_load_relaxed(&p->unmaps),
		      (unsigned long)atomic_load_relaxed(&s->range_invalidations),
		      (unsigned long)atomic_load_relaxed(&s->asid_invalidations),
		      (unsigned long)atomic_load_relaxed(&s->syncs));
}

/* Moves the phases on and prints a sample every period until the last phase ends. */
static void run_phases(struct plot *p, uint64_t sample_ms)
{
	uint64_t t0 = arch_time_ns();
	unsigned phase = 0;
	sample(p, 0, phase);
	for (uint64_t i = 1; phase < PHASES; i++) {
		uint64_t due = t0 + i * sample_ms * NS_PER_MS;
		uint64_t now = arch_time_ns();
		if (due > now)
			thread_sleep_ns(due - now);
		uint64_t t_ms = (arch_time_ns() - t0) / NS_PER_MS;
		sample(p, t_ms, phase);
		while (phase < PHASES && t_ms >= phase_end_ms[phase])
			phase++;
		atomic_store_release(&p->phase, phase);
	}
}

static bool plot_run(struct plot *p)
{
	uint64_t sample_ms = p->hw ? 500 : 250; /* edu: about 4 transfers per sample */
	unsigned ncpu = cpumask_weight(bench_online());
	if (ncpu < 4) {
		bench_fail("dma_plot", "cpus_needed", 4);
		return false;
	}
	if (DMA_VA + DMA_PAGES * PAGE_SIZE > edu_dma_limit() && p->hw) {
		bench_fail("dma_plot", "dma_va_beyond_edu_mask", (long)DMA_VA);
		return false;
	}
	int err = map_ranges(p);
	if (!err)
		err = bind(p, bench_nth_cpu(3));
	if (err) {
		bench_fail("dma_plot", "setup", err);
		return false;
	}
	console_write(
	    "DMAPLOT_BEGIN iommu=%s device=%s mode=%s sample_ms=%lu phase_ms=%lu,%lu,%lu,%lu\n",
	    p->io->name, p->hw ? "edu" : "emu", p->hw && plot_hw.shadow ? "shadow" : "shared",
	    (unsigned long)sample_ms, (unsigned long)phase_end_ms[0],
	    (unsigned long)phase_end_ms[1], (unsigned long)phase_end_ms[2],
	    (unsigned long)phase_end_ms[3]);
	struct thread *dev = thread_create("dma-dev", bench_nth_cpu(1), device_thread, p);
	struct thread *unm = thread_create("dma-unmap", bench_nth_cpu(2), unmapper_thread, p);
	if (dev && unm)
		run_phases(p, sample_ms);
	atomic_store_release(&p->phase, PHASES);
	if (dev)
		thread_join(dev);
	if (unm)
		thread_join(unm);
	unbind(p);
	if (!dev || !unm)
		bench_fail("dma_plot", "threads", 0);
	else if (p->err)
		bench_fail("dma_plot", "unmapper", p->err);
	return dev && unm && !p->err;
}

bool bench_dma_plot(void)
{
	uint64_t free_before = frame_free_count();
	struct plot p = {.mm = mm_create(), .hw = iommu_hw() && edu_present()};
	if (!p.mm) {
		bench_fail("dma_plot", "mm_create", -ENOMEM);
		return false;
	}
	bool ok = plot_run(&p);
	mm_destroy(p.mm);
	console_write("DMAPLOT_END failed=%u\n", ok ? 0u : 1u);
	if (frame_free_count() != free_before) {
		bench_fail("dma_plot", "leaked_frames", (long)(free_before - frame_free_count()));
		ok = false;
	}
	return ok;
}

#else

bool bench_dma_plot(void)
{
	bench_fail("dma_plot", "notifier_off_build", 0);
	return false;
}

#endif /* PAGODA_NO_NOTIFIER */
