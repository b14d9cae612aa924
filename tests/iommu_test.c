// SPDX-License-Identifier: BSD-2-Clause
/*
 * iommu suite: Pagoda's emulated IOMMU kept coherent by the notifier.
 *
 * The model keeps every translation until a command invalidates it
 * (iotlb_keeps_stale_translation_until_invalidated proves it has teeth),
 * so a missing, late or unsynchronised invalidation lets a device reach
 * a frame after it was freed. dma_never_touches_freed_frames races DMA
 * engines on the other CPUs against 10^4 unmap/reuse cycles and fails
 * under mn.break=skip_secondary, mn.break=secondary_after_free and
 * iommu.break=drop_sync (CI runs each).
 */
#include "kernel/errno.h"
#include "kernel/iommu/dma_engine.h"
#include "kernel/iommu/emu_drv.h"
#include "kernel/iommu/shadow.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define IOVA(off) (arch_mm_layout.user_base + MiB(128) + (off))
#define STREAM 3

static struct emu_drv drv;

static unsigned last_cpu(void)
{
	unsigned last = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) last = c;
	return last;
}

/*
 * The IOMMU's command thread: on the last CPU when there are three or
 * more (the DMA engine gets one to itself), else on this one, so that
 * with two CPUs the engine still has the other to itself.
 */
static unsigned iommu_cpu(void)
{
	return cpumask_weight(cpumask_read(&cpu_online_mask)) >= 3 ? last_cpu() : arch_cpu_id();
}

static bool start_iommu(struct ktest *t)
{
	int err = emu_drv_start(&drv, emu_drv_iotlb_entries(), iommu_cpu());
	EXPECT_EQ(t, err, 0);
	return err == 0;
}

static struct mm *mm_with_pages(struct ktest *t, virt_addr_t va, unsigned pages, unsigned attrs)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	EXPECT_EQ(t, vm_map_anon(mm, va, (uint64_t)pages << PAGE_SHIFT, attrs), 0);
	EXPECT_EQ(t, vm_populate(mm, va, (uint64_t)pages << PAGE_SHIFT), 0);
	return mm;
}

static uint32_t *cpu_word(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q) ? kva(q.pa) : NULL;
}

static int dma_read(unsigned stream, virt_addr_t iova, uint32_t *out)
{
	return emu_iommu_access(&drv.hw, stream, iova, out, sizeof(*out), false);
}

static int dma_write(unsigned stream, virt_addr_t iova, uint32_t value)
{
	return emu_iommu_access(&drv.hw, stream, iova, &value, sizeof(value), true);
}

/*
 * The model's teeth: attached without a notifier, the device keeps
 * reading through its cached translation after the CPU side unmapped,
 * until the driver invalidates.
 */
static void iotlb_keeps_stale_translation_until_invalidated(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), 1, PT_READ | PT_WRITE);
	ASSERT_TRUE(t, mm != NULL);
	*cpu_word(mm, IOVA(0)) = 0xCAFE;
	ASSERT_EQ(t, drv.io.ops->attach(&drv.io, STREAM, mm->pt.root, 7), 0);
	uint32_t v = 0;
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), 0);
	EXPECT_EQ(t, v, 0xCAFEu);
	EXPECT_EQ(t, vm_unmap(mm, IOVA(0), PAGE_SIZE), 0);
	v = 0;
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), 0); /* stale, as real hardware would be */
	drv.io.ops->invalidate(&drv.io, 7, IOVA(0), IOVA(PAGE_SIZE), false, false);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), -EFAULT);
	drv.io.ops->detach(&drv.io, STREAM);
	drv.io.ops->invalidate(&drv.io, 7, 0, 0, true, true);
	mm_destroy(mm);
	emu_drv_stop(&drv);
}

/* A DMA to an unmapped or read-only page faults, is reported, and moves nothing. */
static void faults_are_reported_and_move_nothing(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), 1, PT_READ);
	ASSERT_TRUE(t, mm != NULL);
	static struct iommu_sva bond;
	ASSERT_EQ(t, iommu_sva_bind(&bond, &drv.io, STREAM, mm), 0);
	uint32_t *word = cpu_word(mm, IOVA(0));
	*word = 0x1234;
	EXPECT_EQ(t, dma_write(STREAM, IOVA(0), 0xBAD), -EFAULT);
	EXPECT_EQ(t, *word, 0x1234u);
	EXPECT_EQ(t, dma_write(STREAM, IOVA(PAGE_SIZE), 0xBAD), -EFAULT);
	uint32_t v;
	EXPECT_EQ(t, dma_read(9, IOVA(0), &v), -EFAULT); /* stream 9 is not attached */
	struct emu_event ev[4];
	unsigned n = emu_drv_events(&drv, ev, 4);
	ASSERT_EQ(t, n, 3u);
	EXPECT_EQ(t, ev[0].kind, (uint32_t)EMU_EVT_PERMISSION);
	EXPECT_EQ(t, ev[0].iova, IOVA(0));
	EXPECT_TRUE(t, ev[0].write);
	EXPECT_EQ(t, ev[0].stream, (uint32_t)STREAM);
	EXPECT_EQ(t, ev[1].kind, (uint32_t)EMU_EVT_TRANSLATION);
	EXPECT_EQ(t, ev[1].iova, IOVA(PAGE_SIZE));
	EXPECT_EQ(t, ev[2].kind, (uint32_t)EMU_EVT_ABORT);
	EXPECT_EQ(t, ev[2].stream, 9u);
	iommu_sva_unbind(&bond);
	mm_destroy(mm);
	emu_drv_stop(&drv);
}

/*
 * Shared address space: however many pages one unmap covers, the device
 * hears one range invalidation and one sync; afterwards it reaches none
 * of them. A downgrade takes away the device's write permission too.
 */
static void sva_one_range_command_per_gather(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), 64, PT_READ | PT_WRITE);
	ASSERT_TRUE(t, mm != NULL);
	static struct iommu_sva bond;
	ASSERT_EQ(t, iommu_sva_bind(&bond, &drv.io, STREAM, mm), 0);
	uint32_t v;
	for (unsigned i = 0; i < 64; i++)
		EXPECT_EQ(t, dma_read(STREAM, IOVA((uint64_t)i << PAGE_SHIFT), &v), 0);
	EXPECT_EQ(t, dma_write(STREAM, IOVA(0), 1), 0);
	struct iommu_stats before = drv.io.stats;
	EXPECT_EQ(t, vm_protect(mm, IOVA(0), PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, dma_write(STREAM, IOVA(0), 2), -EFAULT);
	EXPECT_EQ(t, *cpu_word(mm, IOVA(0)), 1u);
	EXPECT_EQ(t, vm_unmap(mm, IOVA(0), 64 * PAGE_SIZE), 0);
	EXPECT_EQ(t, drv.io.stats.range_invalidations - before.range_invalidations, 2u);
	EXPECT_EQ(t, drv.io.stats.syncs - before.syncs, 2u);
	for (unsigned i = 0; i < 64; i += 7)
		EXPECT_EQ(t, dma_read(STREAM, IOVA((uint64_t)i << PAGE_SHIFT), &v), -EFAULT);
	/* Promotion: no command at all. */
	EXPECT_EQ(t, vm_map_anon(mm, IOVA(0), PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, vm_populate(mm, IOVA(0), PAGE_SIZE), 0);
	before = drv.io.stats;
	EXPECT_EQ(t, vm_protect(mm, IOVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, drv.io.stats.syncs - before.syncs, 0u);
	emu_drv_events(&drv, (struct emu_event[8]){}, 8);
	iommu_sva_unbind(&bond);
	mm_destroy(mm);
	emu_drv_stop(&drv);
}

/* Teardown releases the binding first: the stream aborts before any table goes. */
static void teardown_aborts_the_stream(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), 4, PT_READ | PT_WRITE);
	ASSERT_TRUE(t, mm != NULL);
	static struct iommu_sva bond;
	ASSERT_EQ(t, iommu_sva_bind(&bond, &drv.io, STREAM, mm), 0);
	uint32_t v;
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), 0);
	mm_destroy(mm);
	EXPECT_TRUE(t, bond.released);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), -EFAULT);
	struct emu_event ev[2];
	ASSERT_EQ(t, emu_drv_events(&drv, ev, 2), 1u);
	EXPECT_EQ(t, ev[0].kind, (uint32_t)EMU_EVT_ABORT);
	iommu_sva_unbind(&bond); /* after the mm is gone: nothing more to do */
	emu_drv_stop(&drv);
}

#define STRESS_PAGES 16
#define STRESS_CYCLES 10000
#define QUARANTINE 8

struct quarantine {
	phys_addr_t frames[QUARANTINE];
	unsigned next;
	uint64_t poison_changed;
};

static bool all_poison(phys_addr_t pa)
{
	const uint64_t *w = kva(pa);
	for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != 0x0101010101010101ull * FRAME_POISON)
			return false;
	return true;
}

/*
 * Holds a just-freed frame (most likely the one the unmap freed: the
 * allocator hands out the last freed first) poisoned for a while, so
 * that a device still reaching it reads poison or leaves a mark.
 */
static void quarantine_cycle(struct quarantine *q)
{
	phys_addr_t pa;
	if (frame_alloc(0, &pa))
		return;
	memset(kva(pa), FRAME_POISON, PAGE_SIZE);
	phys_addr_t old = q->frames[q->next];
	q->frames[q->next] = pa;
	q->next = (q->next + 1) % QUARANTINE;
	if (old) {
		q->poison_changed += !all_poison(old);
		frame_free(old, 0);
	}
}

static void quarantine_drain(struct quarantine *q)
{
	for (unsigned i = 0; i < QUARANTINE; i++) {
		if (q->frames[i]) {
			q->poison_changed += !all_poison(q->frames[i]);
			frame_free(q->frames[i], 0);
			q->frames[i] = 0;
		}
	}
}

/* Whether an engine has read a stale word, or a frame was written while free. */
static bool dma_seen_stale(struct dma_engine *engines, unsigned n, uint64_t violations)
{
	for (unsigned e = 0; e < n; e++)
		if (READ_ONCE(engines[e].stale_reads))
			return true;
	return READ_ONCE(frame_poison_violations) != violations;
}

/*
 * The invariant: no device reaches a frame after it is freed. A DMA
 * engine on another CPU (the IOMMU's command thread on a third, where
 * there is one, else on this CPU) sweeps the pages while this CPU unmaps one page at a time
 * (frame poisoned as it is freed), reuses it, remaps, populates and tags
 * the new page; every 16th cycle it downgrades a page to read-only and
 * back, every 64th it discards one, every 512th it unmaps all 16 (the
 * leaf table is emptied and freed too) and maps them again. At the end it
 * unbinds with the engine still running, then unmaps everything. The
 * first stale read or write to a free frame ends the cycles: one is the
 * failure, and a broken kernel would otherwise fault its way through all
 * 10,000 (40-50 s under TCG, most of the negative checks' time).
 */
static void dma_never_touches_freed_frames(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), STRESS_PAGES, PT_READ | PT_WRITE);
	ASSERT_TRUE(t, mm != NULL);
	for (unsigned i = 0; i < STRESS_PAGES; i++)
		*cpu_word(mm, IOVA((uint64_t)i << PAGE_SHIFT)) = DMA_TAG(i);
	static struct iommu_sva bond;
	ASSERT_EQ(t, iommu_sva_bind(&bond, &drv.io, STREAM, mm), 0);
	static struct dma_engine engines[CPU_MAX];
	static struct quarantine q;
	memset(&q, 0, sizeof(q));
	unsigned n = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) {
		if (c == arch_cpu_id() || c == iommu_cpu() || n == 1)
			continue;
		engines[n] = (struct dma_engine){.hw = &drv.hw, .stream = STREAM, .iova = IOVA(0),
						 .pages = STRESS_PAGES};
		ASSERT_EQ(t, dma_engine_start(&engines[n], c), 0);
		n++;
	}
	if (n == 0) {
		/* One CPU: the engine shares it, running while this thread waits for syncs. */
		engines[0] = (struct dma_engine){.hw = &drv.hw, .stream = STREAM, .iova = IOVA(0),
						 .pages = STRESS_PAGES};
		ASSERT_EQ(t, dma_engine_start(&engines[0], arch_cpu_id()), 0);
		n = 1;
	}
	uint64_t violations = frame_poison_violations;
	uint64_t ranges = drv.io.stats.range_invalidations;
	frame_poison_on_free(true);
	unsigned cycle;
	for (cycle = 0; cycle < STRESS_CYCLES; cycle++) {
		unsigned i = (cycle * 7) % STRESS_PAGES;
		virt_addr_t va = IOVA((uint64_t)i << PAGE_SHIFT);
		if (cycle % 512 == 511) {
			/* The only mapping in its leaf table: the table goes too. */
			ASSERT_EQ(t, vm_unmap(mm, IOVA(0), STRESS_PAGES * PAGE_SIZE), 0);
			quarantine_cycle(&q);
			ASSERT_EQ(t, vm_map_anon(mm, IOVA(0), STRESS_PAGES * PAGE_SIZE,
						 PT_READ | PT_WRITE), 0);
			ASSERT_EQ(t, vm_populate(mm, IOVA(0), STRESS_PAGES * PAGE_SIZE), 0);
			for (unsigned k = 0; k < STRESS_PAGES; k++)
				*cpu_word(mm, IOVA((uint64_t)k << PAGE_SHIFT)) = DMA_TAG(k);
			continue;
		}
		if (cycle % 64 == 63) {
			ASSERT_EQ(t, vm_discard(mm, va, PAGE_SIZE), 0);
		} else {
			ASSERT_EQ(t, vm_unmap(mm, va, PAGE_SIZE), 0);
			quarantine_cycle(&q);
			ASSERT_EQ(t, vm_map_anon(mm, va, PAGE_SIZE, PT_READ | PT_WRITE), 0);
		}
		ASSERT_EQ(t, vm_populate(mm, va, PAGE_SIZE), 0);
		*cpu_word(mm, va) = DMA_TAG(i);
		if (cycle % 16 == 15) {
			ASSERT_EQ(t, vm_protect(mm, va, PAGE_SIZE, PT_READ), 0);
			ASSERT_EQ(t, vm_protect(mm, va, PAGE_SIZE, PT_READ | PT_WRITE), 0);
		}
		if (cycle % 1000 == 999)
			thread_yield();
		if (cycle % 128 == 0)
			emu_drv_events(&drv, (struct emu_event[EMU_EVTQ_SIZE]){}, EMU_EVTQ_SIZE);
		if (cycle % 16 == 0 && dma_seen_stale(engines, n, violations)) {
			cycle++; /* the cycles done, for the log */
			break;
		}
	}
	/* Unbind while the device runs; what is freed afterwards must be out of its reach. */
	iommu_sva_unbind(&bond);
	ASSERT_EQ(t, vm_unmap(mm, IOVA(0), STRESS_PAGES * PAGE_SIZE), 0);
	thread_sleep_ns(20000000);
	for (unsigned e = 0; e < n; e++)
		dma_engine_stop(&engines[e]);
	frame_poison_on_free(false);
	quarantine_drain(&q);
	uint64_t reads = 0, writes = 0, faults = 0, stale = 0;
	for (unsigned e = 0; e < n; e++) {
		reads += engines[e].reads;
		writes += engines[e].writes;
		faults += engines[e].faults;
		stale += engines[e].stale_reads;
		if (engines[e].stale_reads)
			ktest_log(t, "engine %u: last stale word %#x", e, engines[e].last_stale);
	}
	ktest_log(t, "%u cycles, %u engines: %lu reads, %lu writes, %lu faults; %lu range invalidations",
		  cycle, n, (unsigned long)reads, (unsigned long)writes, (unsigned long)faults,
		  (unsigned long)(drv.io.stats.range_invalidations - ranges));
	if (stale == 0 && frame_poison_violations == violations)
		EXPECT_EQ(t, cycle, (unsigned)STRESS_CYCLES); /* an early stop is explained below */
	EXPECT_EQ(t, stale, 0u); /* no read of a freed, reused or quarantined frame */
	EXPECT_EQ(t, frame_poison_violations - violations, 0u); /* no write to a free frame */
	EXPECT_EQ(t, q.poison_changed, 0u); /* no write to a quarantined one */
	EXPECT_GT(t, reads, 0u);
	EXPECT_GT(t, writes, 0u);
	mm_destroy(mm);
	emu_drv_events(&drv, (struct emu_event[EMU_EVTQ_SIZE]){}, EMU_EVTQ_SIZE);
	emu_drv_stop(&drv);
}

/*
 * A shadow domain follows the mm: the device reads the CPU's data after
 * a build, faults once the page is unmapped (the interval invalidation
 * unmapped the mirror), and reads the new page after a rebuild.
 */
static void shadow_domain_follows_the_mm(struct ktest *t)
{
	if (!start_iommu(t))
		return;
	struct mm *mm = mm_with_pages(t, IOVA(0), 4, PT_READ | PT_WRITE);
	ASSERT_TRUE(t, mm != NULL);
	*cpu_word(mm, IOVA(0)) = 0xAAAA;
	static struct iommu_shadow sh;
	ASSERT_EQ(t, iommu_shadow_create(&sh, &drv.io, STREAM, mm, IOVA(0), 4 * PAGE_SIZE), 0);
	uint32_t v = 0;
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), -EFAULT); /* nothing mirrored yet */
	ASSERT_EQ(t, iommu_shadow_fault_in(&sh, IOVA(0), 4 * PAGE_SIZE), 0);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), 0);
	EXPECT_EQ(t, v, 0xAAAAu);
	EXPECT_EQ(t, vm_unmap(mm, IOVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, sh.invalidations, 1u);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), -EFAULT);
	EXPECT_EQ(t, vm_map_anon(mm, IOVA(0), PAGE_SIZE, PT_READ), 0);
	ASSERT_EQ(t, iommu_shadow_fault_in(&sh, IOVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(0), &v), 0);
	EXPECT_EQ(t, v, 0u); /* the fresh zero page */
	EXPECT_EQ(t, dma_write(STREAM, IOVA(0), 5), -EFAULT); /* read-only, mirrored as such */
	EXPECT_EQ(t, iommu_shadow_fault_in(&sh, IOVA(8 * PAGE_SIZE), PAGE_SIZE), -EINVAL);
	/* A non-blockable change: the mirror cannot be invalidated without sleeping, so it backs off. */
	*cpu_word(mm, IOVA(PAGE_SIZE)) = 0x77;
	ASSERT_EQ(t, iommu_shadow_fault_in(&sh, IOVA(PAGE_SIZE), PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_discard_nowait(mm, IOVA(PAGE_SIZE), PAGE_SIZE), -EAGAIN);
	EXPECT_EQ(t, dma_read(STREAM, IOVA(PAGE_SIZE), &v), 0);
	EXPECT_EQ(t, v, 0x77u);
	/* A promotion tells nobody; the next build catches up with it. */
	EXPECT_EQ(t, vm_protect(mm, IOVA(0), PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, iommu_shadow_fault_in(&sh, IOVA(0), PAGE_SIZE), 0);
	EXPECT_EQ(t, dma_write(STREAM, IOVA(0), 6), 0);
	EXPECT_EQ(t, *cpu_word(mm, IOVA(0)), 6u);
	emu_drv_events(&drv, (struct emu_event[8]){}, 8);
	iommu_shadow_destroy(&sh);
	mm_destroy(mm);
	emu_drv_stop(&drv);
}

static const struct ktest_case iommu_cases[] = {
	KTEST_CASE(iotlb_keeps_stale_translation_until_invalidated),
	KTEST_CASE(faults_are_reported_and_move_nothing),
	KTEST_CASE(sva_one_range_command_per_gather),
	KTEST_CASE(teardown_aborts_the_stream),
	KTEST_CASE_TIMEOUT_CPUS(dma_never_touches_freed_frames, 60000, 2000),
	KTEST_CASE(shadow_domain_follows_the_mm),
	KTEST_END,
};
KTEST_SUITE(iommu_suite, "iommu", iommu_cases);
