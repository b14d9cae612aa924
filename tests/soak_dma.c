// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's DMA part (soak.h): devices reading and writing the soak's
 * pages through an IOMMU bound to the soak's mm (SVA), while the soak
 * threads unmap, remap, free and downgrade them.
 *
 * Two engines. The emulated IOMMU's device (emu.h) always: every soak
 * thread, after its CPU accesses of a cycle, makes SOAK_DMA_ACCESSES
 * device accesses through it (on its own CPU, as the model allows), so
 * device accesses race every other CPU's changes. And edu behind the
 * machine's hardware IOMMU (SMMUv3, or VT-d with first-stage
 * translation) when one was probed: one thread makes edu read a page's
 * tag into its buffer and copy it out to a result page of the mm, or
 * write into a page; each edu transfer takes 100 ms of virtual time.
 *
 * Judging: before an access the engine snapshots the page's slot (seq,
 * state, gen, rw_gen; retried until consistent or the owner is changing
 * it), after it reads seq and rw_gen again. The access ran somewhere in
 * that window, so what it may see is anything the page held in it:
 *  - a read sees the page's own tag at a generation no older than the
 *    mapping current when the window opened (not the unmapped page's
 *    old one once its unmap returned), zeroes only while the owner is
 *    mapping it, or faults; never the poison or another page's tag;
 *  - a write to a page settled read-only or unmapped when the window
 *    opened must fault unless a change towards writable began within it;
 *  - over a window with no change at all, a mapped page reads its tag
 *    (a write to a writable one may fault: after a promotion, which no
 *    IOMMU hears of, its TLB may still hold the read-only entry).
 * The first wrong access is a STALE DMA and stops the run like a stale
 * CPU access (soak_fail), naming the engine and its stream.
 *
 * Invariants: the bindings exist only while their mm does: made after
 * mm_create, released by its teardown (the stream aborts first), unbound
 * after it; edu's thread is stopped before the teardown, so no edu
 * transfer is in flight when its stream starts to abort.
 */
#include "kernel/atomic.h"
#include "kernel/bench/bench.h"
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/iommu/emu_drv.h"
#include "kernel/iommu/vtd.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/soak.h"

#define SOAK_DMA_STREAM	   3
#define SOAK_DMA_ACCESSES  4	/* per soak thread's cycle */
#define SOAK_DMA_BURST	   64	/* device reads of a page while its owner changes it */
#define SOAK_DMA_MARK	   2048 /* where device writes land: clear of the tag and CPU writes */
#define SOAK_EDU_RESULT_VA (arch_mm_layout.user_base + MiB(120)) /* below the soak's pages */

/* What an access saw of its page's slot when it began. */
struct dma_window {
	unsigned slot;
	uint32_t seq, state;
	uint64_t gen, rw_gen;
	phys_addr_t frame; /* the mapping's frame, or the unmapped page's last one */
};

/* What the access did, for the judge and the report. */
struct dma_result {
	bool write, faulted;
	uint64_t seen_va, seen_gen;
	uint32_t seq_after;
	uint64_t rw_after;
};

static struct {
	struct emu_drv drv;
	struct emu_drv churn_drv; /* soak.churn: a second one, tagging by the CPU's ids */
	bool churn_on;
	bool emu_on;
	unsigned iommu_cpu;
	struct iommu_sva bond;
	bool bound;
	/* edu on the hardware IOMMU */
	struct bench_hw_bond hw;
	bool hw_bound, edu_stop;
	struct thread *edu;
	phys_addr_t result;
	uint64_t edu_accesses, edu_faults;
	struct {
		uint64_t accesses, faults;
	} cpu[CPU_MAX];
} dma;

static void window_open(struct dma_window *w, unsigned slot)
{
	const struct soak_slot *s = soak_slot(slot);
	w->slot = slot;
	do {
		w->seq = atomic_load_acquire(&s->seq);
		w->state = READ_ONCE(s->state);
		w->gen = READ_ONCE(s->gen);
		w->rw_gen = READ_ONCE(s->rw_gen);
		w->frame = w->state == SOAK_UNMAPPED ? s->prev_frame : s->frame;
		smp_mb();
	} while (!(w->seq & 1) && atomic_load_relaxed(&s->seq) != w->seq);
}

static void window_close(const struct dma_window *w, struct dma_result *r)
{
	const struct soak_slot *s = soak_slot(w->slot);
	smp_mb();
	r->seq_after = atomic_load_acquire(&s->seq);
	r->rw_after = READ_ONCE(s->rw_gen);
}

/* NULL when the access is one the page's states in the window allow. */
static const char *judge(const struct dma_window *w, const struct dma_result *r)
{
	bool opened_settled = !(w->seq & 1);
	bool settled = opened_settled && r->seq_after == w->seq;
	bool mapped = w->state != SOAK_UNMAPPED;
	if (r->write) {
		/*
		 * A write may fault on a writable page: giving the write back is
		 * a promotion, which no IOMMU is told of (docs/notifier.md, rule
		 * 1), so its TLB may still hold the read-only entry.
		 */
		if (r->faulted)
			return NULL;
		if (!opened_settled || w->state == SOAK_RW || r->rw_after != w->rw_gen)
			return NULL;
		return w->state == SOAK_RO ? "a write went through after the downgrade to read-only"
					   : "a write went through after the unmap returned";
	}
	if (r->faulted)
		return settled && mapped ? "a mapped page faulted on a read" : NULL;
	virt_addr_t va = soak_va(w->slot);
	if (r->seen_va != va && r->seen_va != 0)
		return "read a page that is not this one (a freed frame's poison or another "
		       "page's)";
	if (r->seen_va == 0 || r->seen_gen == 0) /* a fresh page its owner has not tagged yet */
		return settled ? "read zeroes where the page's tag must be" : NULL;
	/* Once an unmap returned, that mapping's tag is out of reach; the next map bumps gen. */
	uint64_t oldest = opened_settled && !mapped ? w->gen + 1 : w->gen;
	if (r->seen_gen < oldest)
		return mapped ? "read an older mapping of this page"
			      : "read the page's old mapping after its unmap returned";
	return NULL;
}

static void check(const char *engine, unsigned stream, const struct dma_window *w,
		  const struct dma_result *r)
{
	const char *what = judge(w, r);
	if (!what)
		return;
	struct soak_report rep = {.slot = w->slot,
				  .write = r->write,
				  .engine = engine,
				  .stream = stream,
				  .seen_va = r->seen_va,
				  .seen_gen = r->seen_gen,
				  .gen = w->gen,
				  .state = w->state,
				  .seq_before = w->seq,
				  .seq_after = r->seq_after};
	soak_fail_page(&rep, what, r->faulted);
}

/* ---- The emulated IOMMU's device, from the soak threads ------------------------------- */

/* One device read (a burst while the owner is changing the page) or write, judged. */
static void emu_access(uint64_t *rng, unsigned *last)
{
	uint64_t dice = soak_rng_next(rng);
	struct dma_window w;
	window_open(&w, soak_pick_slot(rng, *last, dice));
	*last = w.slot;
	virt_addr_t va = soak_va(w.slot);
	struct dma_result r = {.write = (dice >> 33) & 1};
	if (r.write) {
		uint64_t mark[1] = {dice};
		r.faulted = emu_iommu_access(&dma.drv.hw, SOAK_DMA_STREAM, va + SOAK_DMA_MARK, mark,
					     sizeof(mark), true) != 0;
	} else {
		unsigned reads = w.seq & 1 ? SOAK_DMA_BURST : 1;
		for (unsigned n = 0; n < reads; n++) {
			uint64_t tag[2] = {0, 0};
			r.faulted = emu_iommu_access(&dma.drv.hw, SOAK_DMA_STREAM, va, tag,
						     sizeof(tag), false) != 0;
			bool changed = n && (tag[0] != r.seen_va || tag[1] != r.seen_gen);
			r.seen_va = tag[0];
			r.seen_gen = tag[1];
			if (r.faulted || changed ||
			    atomic_load_relaxed(&soak_slot(w.slot)->seq) != w.seq)
				break;
		}
	}
	window_close(&w, &r);
	dma.cpu[arch_cpu_id()].accesses++;
	dma.cpu[arch_cpu_id()].faults += r.faulted;
	check(dma.drv.io.name, SOAK_DMA_STREAM, &w, &r);
}

void soak_dma_cycle(uint64_t *rng)
{
	static unsigned last[CPU_MAX];
	for (unsigned k = 0; k < SOAK_DMA_ACCESSES && dma.bound && !soak_stopping(); k++) {
		emu_access(rng, &last[arch_cpu_id()]);
		soak_dma_yield_point();
	}
}

bool soak_dma_shares_cpu(unsigned cpu)
{
	return dma.emu_on && cpu == dma.iommu_cpu;
}

void soak_dma_yield_point(void)
{
	/* The command thread shares this CPU: every change elsewhere waits for its syncs. */
	if (dma.emu_on && arch_cpu_id() == dma.iommu_cpu)
		thread_yield();
}

void soak_dma_poll(void)
{
	if (dma.emu_on)
		emu_drv_events(&dma.drv, (struct emu_event[EMU_EVTQ_SIZE]){}, EMU_EVTQ_SIZE);
}

/* ---- edu behind the hardware IOMMU ---------------------------------------------------- */

#ifndef PAGODA_NO_NOTIFIER /* the bench baseline build has no hardware bindings (bench.h) */

/* Stops the run on an edu failure that is no page's state's doing. Returns false. */
static bool edu_broken(virt_addr_t va, const char *what, int err)
{
	struct soak_report rep = {.cpu = arch_cpu_id(), .va = va, .engine = "edu", .broken = true};
	snprintf(rep.what, sizeof(rep.what), "%s (%d)", what, err);
	soak_fail(&rep);
	return false;
}

/* One edu transfer; whether the IOMMU recorded a fault for it. false: edu failed (run stopped). */
static bool edu_transfer(enum edu_dma_dir dir, virt_addr_t va, uint32_t off, uint32_t len,
			 bool *faulted)
{
	uint64_t before = bench_hw_faults();
	int err = edu_dma_bus(dir, va, off, len);
	*faulted = bench_hw_faults() != before;
	return err ? edu_broken(va, "an edu transfer failed", err) : true;
}

/* A read: the page's tag into edu's buffer, then out to the result page the CPU reads. */
static bool edu_read(virt_addr_t va, struct dma_result *r)
{
	if (!edu_transfer(EDU_TO_DEVICE, va, 0, 16, &r->faulted) || r->faulted)
		return !soak_stopping();
	bool lost;
	if (!edu_transfer(EDU_FROM_DEVICE, SOAK_EDU_RESULT_VA, 0, 16, &lost))
		return false;
	if (lost)
		return edu_broken(SOAK_EDU_RESULT_VA, "edu's write to its result page faulted",
				  -EFAULT);
	const volatile uint64_t *tag = kva(dma.result);
	r->seen_va = tag[0];
	r->seen_gen = tag[1];
	return true;
}

/*
 * A write of a fresh mark: into edu's buffer from the result page, then
 * to the page. Whether it went through is read in the frame the page had
 * when the window opened, not taken from the fault records: QEMU's VT-d
 * drops a write through a cached read-only entry without recording one.
 */
static bool edu_write(const struct dma_window *w, virt_addr_t va, uint64_t mark,
		      struct dma_result *r)
{
	*(volatile uint64_t *)((uint8_t *)kva(dma.result) + SOAK_DMA_MARK) = mark;
	bool lost;
	if (!edu_transfer(EDU_TO_DEVICE, SOAK_EDU_RESULT_VA + SOAK_DMA_MARK, SOAK_DMA_MARK, 8,
			  &lost))
		return false;
	if (lost)
		return edu_broken(SOAK_EDU_RESULT_VA, "edu's read of its result page faulted",
				  -EFAULT);
	bool recorded;
	if (!edu_transfer(EDU_FROM_DEVICE, va + SOAK_DMA_MARK, SOAK_DMA_MARK, 8, &recorded))
		return false;
	const volatile uint64_t *at =
	    w->frame ? (const uint64_t *)((uint8_t *)kva(w->frame) + SOAK_DMA_MARK) : NULL;
	r->faulted = recorded || !at || *at != mark;
	return true;
}

static void edu_thread(void *arg)
{
	(void)arg;
	uint64_t rng = 0x2545F4914F6CDD1Dull ^ arch_time_ns();
	unsigned last = 0;
	while (!atomic_load_acquire(&dma.edu_stop) && !soak_stopping()) {
		uint64_t dice = soak_rng_next(&rng);
		struct dma_window w;
		window_open(&w, soak_pick_slot(&rng, last, dice));
		last = w.slot;
		virt_addr_t va = soak_va(w.slot);
		struct dma_result r = {.write = (dice >> 33) & 1};
		bool ok = r.write ? edu_write(&w, va, dice | 1, &r) : edu_read(va, &r);
		if (!ok)
			return;
		window_close(&w, &r);
		dma.edu_accesses++;
		dma.edu_faults += r.faulted;
		check("edu", dma.hw.sid, &w, &r);
	}
}

/* Binds edu's stream to `mm` and starts its thread; nothing when there is no hardware IOMMU. */
static int edu_begin(struct mm *mm)
{
	static bool told;
	if (!iommu_hw() || !edu_present())
		return 0;
	if (vtd_present() && !vtd_first_stage()) {
		if (!told)
			printk("soak: edu is behind VT-d without first stage (a shadow domain): "
			       "only the emulated IOMMU's device is in the soak");
		told = true;
		return 0;
	}
	if (soak_va_end() - 1 > edu_dma_limit()) {
		if (!told)
			printk(
			    "soak: the soak's pages lie beyond edu's DMA mask: only the emulated "
			    "IOMMU's device is in the soak");
		told = true;
		return 0;
	}
	int err = vm_map_anon(mm, SOAK_EDU_RESULT_VA, PAGE_SIZE, PT_READ | PT_WRITE);
	if (!err)
		err = vm_populate(mm, SOAK_EDU_RESULT_VA, PAGE_SIZE);
	struct pt_query_result q;
	if (!err && !pt_query(&mm->pt, SOAK_EDU_RESULT_VA, &q))
		err = -EFAULT;
	if (err)
		return err;
	dma.result = q.pa;
	err = bench_hw_bind(&dma.hw, mm, 0, 0);
	if (err)
		return err;
	dma.hw_bound = true;
	if (!told)
		printk("soak: edu (stream %u) through %s, bound to every epoch's mm", dma.hw.sid,
		       dma.hw.io->name);
	told = true;
	dma.edu_stop = false;
	dma.edu = thread_create("soak-edu", 0, edu_thread, NULL);
	return dma.edu ? 0 : -ENOMEM;
}

#else
static int edu_begin(struct mm *mm)
{
	(void)mm;
	return 0;
}
#endif /* PAGODA_NO_NOTIFIER */

/* ---- The run and its epochs ----------------------------------------------------------- */

bool soak_dma_start(void)
{
	unsigned last = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) last = c;
	memset(&dma, 0, sizeof(dma));
	dma.iommu_cpu = last;
	if (emu_drv_start(&dma.drv, emu_drv_iotlb_entries(), last))
		return false;
	dma.emu_on = true;
	printk("soak: DMA: the emulated IOMMU's device (stream %u, %u accesses a cycle per CPU; "
	       "command thread on cpu%u)%s",
	       SOAK_DMA_STREAM, SOAK_DMA_ACCESSES, last,
	       iommu_hw() ? ", and edu through the hardware IOMMU" : "");
	return true;
}

void soak_dma_finish(void)
{
	soak_dma_poll();
	emu_drv_stop(&dma.drv);
	dma.emu_on = false;
}

int soak_dma_epoch_begin(struct mm *mm)
{
	int err = iommu_sva_bind(&dma.bond, &dma.drv.io, SOAK_DMA_STREAM, mm);
	dma.bound = err == 0;
	return err ? err : edu_begin(mm);
}

void soak_dma_epoch_quiesce(void)
{
	if (!dma.edu)
		return;
	atomic_store_release(&dma.edu_stop, true);
	thread_join(dma.edu);
	dma.edu = NULL;
}

void soak_dma_epoch_end(void)
{
	/* The teardown released both bindings (their streams abort); this unlinks them. */
	if (dma.bound)
		iommu_sva_unbind(&dma.bond);
	dma.bound = false;
#ifndef PAGODA_NO_NOTIFIER
	if (dma.hw_bound)
		bench_hw_unbind(&dma.hw);
	dma.hw_bound = false;
#endif
}

void soak_dma_counts(uint64_t *accesses, uint64_t *faults)
{
	*accesses = dma.edu_accesses;
	*faults = dma.edu_faults;
	for (unsigned c = 0; c < CPU_MAX; c++) {
		*accesses += dma.cpu[c].accesses;
		*faults += dma.cpu[c].faults;
	}
}

bool soak_dma_churn_start(void)
{
	if (emu_drv_start(&dma.churn_drv, emu_drv_iotlb_entries(), dma.iommu_cpu))
		return false;
	/* Before any bind: a bind pins its mm's id (asid_pin), an unbind unpins it. */
	dma.churn_drv.io.shares_cpu_asid = true;
	dma.churn_on = true;
	return true;
}

void soak_dma_churn_stop(void)
{
	if (dma.churn_on)
		emu_drv_stop(&dma.churn_drv);
	dma.churn_on = false;
}

int soak_dma_bind(struct iommu_sva *bond, unsigned stream, struct mm *mm)
{
	return iommu_sva_bind(bond, &dma.churn_drv.io, stream, mm);
}

int soak_dma_read(unsigned stream, virt_addr_t va, uint64_t *word)
{
	return emu_iommu_access(&dma.churn_drv.hw, stream, va, word, sizeof(*word), false);
}

void soak_dma_print(void)
{
	const struct emu_stats *st = &dma.drv.hw.stats;
	printk("soak:   emulated IOMMU: %lu range and %lu ASID invalidations, %lu syncs; IOTLB %lu "
	       "hits, %lu misses, %lu entries invalidated; edu: %lu accesses, %lu faults",
	       (unsigned long)dma.drv.io.stats.range_invalidations,
	       (unsigned long)dma.drv.io.stats.asid_invalidations,
	       (unsigned long)dma.drv.io.stats.syncs, (unsigned long)st->iotlb_hits,
	       (unsigned long)st->iotlb_misses, (unsigned long)st->entries_invalidated,
	       (unsigned long)dma.edu_accesses, (unsigned long)dma.edu_faults);
}
