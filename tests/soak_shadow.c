// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak through the shadow TLB (`soak.shadow`; kernel/mm/tlb_shadow.h):
 * each access first asks the CPU's shadow for the page, as a tagged TLB
 * with walk caches would be asked. A hit is used as hardware would use
 * it: the page's words are read from the frame the entry names (through
 * the direct map, so a stale entry reads a freed frame's poison or an
 * older mapping's tag), and the access cannot fault; the judge then rules
 * on what was seen exactly as for a real access. A miss makes the real
 * access and fills the shadow from the tables. A write is made only
 * through a real translation: a hit's write is judged, not done (the frame
 * may be anything by now).
 *
 * This shows what QEMU hides: its TLB drops every entry at an ASID change
 * and caches no table pointers, so a tagged-TLB hazard (a switch-in that
 * does not catch up, an ASID two mms share) or a walker still holding a
 * freed table never reads stale data there. The shadow's own check of
 * freed tables (tlb_shadow_table_freed) is reported here as a stale access
 * of the walk.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/iommu/iommu.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/sync/wait.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/soak.h"
#include "tests/soak_run.h"

CMDLINE_PARAM(soak_shadow_param, .key = "soak.shadow", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "the soak's accesses go through the shadow TLB model first, which keeps "
		      "tagged entries and walk caches as hardware does (docs/reliability.md)");
CMDLINE_PARAM(soak_churn_param, .key = "soak.churn", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "with soak.shadow, where the CPU has ASIDs: more mms than ids, recycled all "
		      "the time, an emulated IOMMU that shares them, and SVA unbinds staged "
		      "against their mm's teardown (docs/reliability.md)");

#define CHURN_MARK	      0xC0FFEE0000000000ull /* | the churn mm's index, in its page */
#define CHURN_TURN_NS	      1000000ull
#define CHURN_STREAM0	      4 /* the emulated IOMMU's stream bound to churn mm 0 */
#define CHURN_STREAM	      5 /* ... and the one the others bind now and then */
#define CHURN_BIND_EVERY      4 /* turns of a churn thread between its binds */
#define CHURN_ORPHAN_EVERY    16 /* churn mm 1's turns between orphan stages (soak_orphan.c) */
#define CHURN_PARK_NS	      20000000ull /* per 4 churn threads, for them to park before a stage */
#define CHURN_UNUSED_EVERY    8 /* turns of a churn thread between mms made and destroyed unrun */

/*
 * With `soak.churn`, where the CPU has ASIDs: more address spaces than ids, so that ids are
 * recycled all the time. Each churn mm maps a page of its own at the soak's
 * page 0 address, marked with its index; threads of every churn mm take
 * turns on the even CPUs and read it (through the shadow first), while the
 * odd CPUs keep the soak's mm loaded across rollovers (their other thread
 * is a kernel thread: they only go lazy). An id two mms hold at once, or
 * one reused without the flush a rollover owes, shows as a churn thread
 * reading another mm's page, or a soak thread reading a churn page at page
 * 0 or a stale entry of its own mm that a flush by the mm's new id missed.
 * A second emulated IOMMU tags by the CPU's ids, as an SMMUv3 does, so a
 * bind pins its mm's id (asid_pin); the soak's own engine does not (a pin
 * would keep the soak's mm on one id, and the rollover hazards above need
 * it to move). Churn mm 0 stays bound to a
 * stream of its own and reads its page through it each turn; the others
 * now and then bind to another stream, read through it, and unbind (one at
 * a time). A pinned id must survive rollovers and go to no other mm: if
 * it did, two streams would tag with one id and the IOMMU's TLB would
 * give one device the other's page (a STALE DMA). Not always on: with five
 * mms taking turns, an even CPU's four switch-in slots (docs/tlb.md) seldom
 * still hold the soak's mm when it comes back, and the slots' replay is
 * what tlb.break=switch_no_catch_up breaks. Now and then a churn thread
 * makes an mm and destroys it without running it: its release must leave
 * the odd CPUs' reservations alone (tlb.break=asid_release_unused).
 */
static struct {
	unsigned nmms, ids;
	struct mm *mms[CPU_MAX + 3];
	phys_addr_t frames[CPU_MAX + 3];
	struct thread *th[CPU_MAX + 3]; /* one per churn mm */
	unsigned index[CPU_MAX + 3];
	unsigned nth;
	bool stop, bound0, dma_on;
	uint32_t binding; /* a churn thread's bind is in progress */
	bool staging;	  /* an orphan stage runs: the other churn threads sleep */
	struct wait_queue stage_over;
	uint32_t parked; /* churn threads asleep until the stage is over */
	struct iommu_sva bond0, bond;
	uint64_t rollovers0, reads, dma_reads, bound_reads, bind_failures;
} churn;

void soak_shadow_page0_fail(const char *who, unsigned number, uint64_t saw)
{
	struct soak_report r = {.cpu = arch_cpu_id(), .va = soak_va(0), .seen_va = saw};
	snprintf(r.what, sizeof(r.what),
		 "%s %u (ASID %u) read another mm's page at page 0's address", who, number,
		 arch_mm_active_asid());
	soak_fail(&r);
}

static void churn_dma_fail(unsigned index, const struct iommu_sva *bond, uint64_t saw, bool faulted)
{
	struct soak_report r = {.cpu = arch_cpu_id(),
				.va = soak_va(0),
				.seen_va = saw,
				.engine = "the emulated IOMMU's device",
				.stream = bond->stream,
				.broken = faulted};
	if (faulted) /* its page is never unmapped: a fault is a failure, not a stale access */
		snprintf(r.what, sizeof(r.what), "churn mm %u's page faulted through stream %u",
			 index, bond->stream);
	else
		snprintf(r.what, sizeof(r.what),
			 "bound to churn mm %u with id %u (mm 0's: %u), it read another mm's page "
			 "(%#lx)",
			 index, bond->asid, churn.bond0.asid, (unsigned long)saw);
	soak_fail(&r);
}

/* A device read of page 0's address through `bond`'s stream, bound to churn mm `index`. */
static void churn_dma_read(unsigned index, const struct iommu_sva *bond, uint64_t *count)
{
	uint64_t word = 0;
	if (soak_dma_read(bond->stream, soak_va(0), &word)) {
		churn_dma_fail(index, bond, 0, true);
		return;
	}
	atomic_fetch_add(count, 1);
	if (word != (CHURN_MARK | index))
		churn_dma_fail(index, bond, word, false);
}

uint64_t soak_shadow_read_page0(void)
{
	uint64_t w[2];
	if (!soak_shadow_read(soak_va(0), false, &w[0], &w[1])) {
		w[0] = *(volatile uint64_t *)soak_va(0);
		soak_shadow_filled(soak_va(0));
	}
	return w[0];
}

static bool no_stage(void *arg)
{
	(void)arg;
	return !atomic_load_acquire(&churn.staging);
}

/*
 * Churn mm 1's thread, now and then: an orphan stage on the transient
 * stream, once no bind holds it, with the other churn threads asleep
 * (each of their switch-ins may take an id and roll the ids over under
 * the stage, which then proves nothing).
 */
static void churn_orphan_stage(void)
{
	if (cpumask_weight(cpumask_read(&cpu_online_mask)) < 2)
		return; /* the stage's unlink runs on another CPU */
	uint32_t idle = 0;
	while (!atomic_cmpxchg(&churn.binding, &idle, 1)) {
		if (atomic_load_acquire(&churn.stop) || soak_stopping())
			return;
		idle = 0;
		thread_sleep_ns(CHURN_TURN_NS / 8);
	}
	atomic_store_release(&churn.staging, true);
	/* Each wakes once more (its switch-in may take an id) before it parks. */
	uint64_t until = soak_deadline(CHURN_PARK_NS, churn.nth);
	while (atomic_load_acquire(&churn.parked) + 1 < churn.nth && arch_time_ns() < until &&
	       !atomic_load_acquire(&churn.stop) && !soak_stopping())
		thread_sleep_ns(CHURN_TURN_NS / 8);
	if (atomic_load_acquire(&churn.parked) + 1 >= churn.nth)
		soak_orphan_stage(CHURN_STREAM, churn.ids);
	atomic_store_release(&churn.staging, false);
	wait_queue_wake_all(&churn.stage_over);
	atomic_store_release(&churn.binding, 0);
}

static void churn_thread(void *arg)
{
	const unsigned *index = arg;
	uint64_t mark = CHURN_MARK | *index, turns = 0;
	while (!atomic_load_acquire(&churn.stop) && !soak_stopping()) {
		if (*index != 1 && !no_stage(NULL)) {
			atomic_fetch_add(&churn.parked, 1);
			wait_queue_wait(&churn.stage_over, no_stage, NULL);
			atomic_fetch_sub(&churn.parked, 1);
		}
		uint64_t saw = soak_shadow_read_page0();
		atomic_fetch_add(&churn.reads, 1);
		if (saw != mark)
			soak_shadow_page0_fail("churn mm", *index, saw);
		uint32_t idle = 0;
		turns++;
		if (*index == 0 && churn.bound0) {
			churn_dma_read(0, &churn.bond0, &churn.dma_reads);
		} else if (*index == 1 && turns % CHURN_ORPHAN_EVERY == 2) { /* the first early */
			churn_orphan_stage();
		} else if (turns % CHURN_UNUSED_EVERY == 1) {
			struct mm *unused = mm_create(); /* no id: it never runs */
			if (unused)
				mm_destroy(unused);
		} else if (turns % CHURN_BIND_EVERY == 0 &&
			   atomic_cmpxchg(&churn.binding, &idle, 1)) {
			if (!soak_dma_bind(&churn.bond, CHURN_STREAM, churn.mms[*index])) {
				churn_dma_read(*index, &churn.bond, &churn.bound_reads);
				iommu_sva_unbind(&churn.bond);
			} else {
				atomic_fetch_add(&churn.bind_failures, 1);
			}
			atomic_store_release(&churn.binding, 0);
		}
		thread_sleep_ns(CHURN_TURN_NS);
	}
}

static bool churn_start(void)
{
	unsigned ncpus = cpumask_weight(cpumask_read(&cpu_online_mask));
	memset(&churn, 0, sizeof(churn));
	churn.stage_over = (struct wait_queue)WAIT_QUEUE_INIT;
	if (!cmdline_present("soak.churn"))
		return true;
	if (!arch_tlb_caps()->asid_bits) {
		printk("soak: soak.churn: no ASIDs on this CPU (a root load flushes): no churn");
		return true;
	}
	churn.nmms = ncpus + 3;
	for (unsigned i = 0; i < churn.nmms; i++) {
		churn.mms[i] = mm_create();
		if (!churn.mms[i] || frame_alloc_zeroed(&churn.frames[i]))
			return false;
		uint64_t *p = kva(churn.frames[i]);
		p[0] = p[1] = CHURN_MARK | i;
		if (vm_map_phys(churn.mms[i], soak_va(0), churn.frames[i], PAGE_SIZE, PT_READ))
			return false;
	}
	/*
	 * The soak's mm, the other mm and the churn mms: five more mms than
	 * CPUs. A rollover keeps the ids CPUs run with and the pinned ones
	 * (any held now, churn mm 0's, the one each epoch's bind of the soak's
	 * mm takes on an SMMUv3, and a churn thread's bind's), and needs one
	 * more to give. Limited before any bind: mm 0's pinned id must be one
	 * of them, or no other mm could ever be handed it.
	 */
	churn.ids = ncpus + asid_pins_held() + 1 + 2 + 1;
	asid_test_limit(churn.ids + 1); /* ids 1 .. churn.ids */
	if (!soak_dma_churn_start())
		return false;
	churn.dma_on = true;
	/*
	 * Each mm bound once before the run: its first bind allocates its
	 * notifier state, which stays until mm_destroy and which the first
	 * epoch's frame count would take for a leak.
	 */
	for (unsigned i = 1; i < churn.nmms; i++) {
		if (soak_dma_bind(&churn.bond, CHURN_STREAM, churn.mms[i]))
			return false;
		iommu_sva_unbind(&churn.bond);
	}
	if (soak_dma_bind(&churn.bond0, CHURN_STREAM0, churn.mms[0]))
		return false;
	churn.bound0 = true;
	if (churn.bond0.asid > churn.ids)
		return false;
	churn.rollovers0 = asid_stats.rollovers;
	soak_orphan_reset();
	return true;
}

static void churn_finish(void)
{
	if (!churn.nmms)
		return;
	asid_test_limit(0);
	if (churn.bound0)
		iommu_sva_unbind(&churn.bond0);
	churn.bound0 = false;
	if (churn.dma_on)
		soak_dma_churn_stop();
	churn.dma_on = false;
	for (unsigned i = 0; i < churn.nmms; i++) {
		if (churn.mms[i])
			mm_destroy(churn.mms[i]);
		if (churn.frames[i])
			frame_free(churn.frames[i], 0);
	}
	churn.nmms = 0;
}

bool soak_shadow_start(void)
{
	if (!cmdline_present("soak.shadow"))
		return false;
	tlb_shadow_start();
	if (!churn_start()) {
		struct soak_report r = {.cpu = arch_cpu_id(), .broken = true};
		snprintf(r.what, sizeof(r.what),
			 "the shadow run's churn: no memory, the second IOMMU did not start, a "
			 "bind failed, or mm 0's id is out of range");
		soak_fail(&r);
		churn_finish();
	}
	printk("soak: accesses go through the shadow TLB first (tagged entries, walk caches)%s",
	       churn.nmms ? "; ASIDs churned" : "");
	if (churn.nmms)
		printk("soak: %u churn mms with their page at page 0's address, %u ASIDs",
		       churn.nmms, churn.ids);
	return true;
}

void soak_shadow_epoch_begin(struct mm *mm)
{
	(void)mm;
	if (!tlb_shadow_on || !churn.nmms)
		return;
	churn.stop = false;
	churn.nth = 0;
	/* One thread per churn mm, dealt to the even CPUs (the odd ones' other thread is lazy). */
	unsigned cpus[CPU_MAX], nr = 0;
	for_each_cpu(c, cpumask_read(&cpu_online_mask)) if (c % 2 == 0) cpus[nr++] = c;
	if (!nr)
		return;
	for (unsigned i = 0; i < churn.nmms; i++) {
		unsigned n = churn.nth;
		churn.index[n] = i;
		churn.th[n] = thread_create_mm("soak-churn", cpus[i % nr], churn.mms[i],
					       churn_thread, &churn.index[n]);
		if (churn.th[n])
			churn.nth++;
	}
}

bool soak_shadow_churning(void)
{
	return churn.nmms != 0;
}

void soak_shadow_epoch_end(void)
{
	if (!churn.nmms)
		return;
	atomic_store_release(&churn.stop, true);
	for (unsigned i = 0; i < churn.nth; i++)
		thread_join(churn.th[i]);
	churn.nth = 0;
}

bool soak_shadow_read(virt_addr_t va, bool write, uint64_t *seen_va, uint64_t *seen_gen)
{
	struct tlb_shadow_hit hit;
	uint64_t words[2];
	if (!tlb_shadow_on || !tlb_shadow_lookup(va, &hit, words, 2))
		return false;
	if (write && !hit.writable)
		return false; /* hardware faults on it and walks again: the real access does */
	*seen_va = words[0];
	*seen_gen = words[1];
	return true;
}

void soak_shadow_filled(virt_addr_t va)
{
	if (tlb_shadow_on)
		tlb_shadow_fill(va);
}

void soak_shadow_check(void)
{
	struct tlb_shadow_violation v;
	if (!tlb_shadow_on || !tlb_shadow_violated(&v))
		return;
	struct soak_report r = {.cpu = v.cpu, .va = v.va, .walk = true, .frame = v.table};
	if (v.kind == TLB_SHADOW_FREED_TABLE)
		snprintf(r.what, sizeof(r.what),
			 "its page walker may still hold the freed level-%u table %#lx (ASID %u)",
			 v.level, (unsigned long)v.table, v.asid);
	else
		snprintf(r.what, sizeof(r.what),
			 "it loaded ASID %u holding that id's entry of another mm (root %#lx)",
			 v.asid, (unsigned long)v.table);
	soak_fail(&r);
}

void soak_shadow_finish(struct ktest *t, bool judged)
{
	if (!tlb_shadow_on)
		return;
	tlb_shadow_stop();
	struct soak_orphan_counts o;
	soak_orphan_counts(&o);
	/* The churn's own rollovers: each stage's sweep ends in one of its own making. */
	uint64_t rollovers = asid_stats.rollovers - churn.rollovers0 - o.rollovers;
	if (churn.nmms) {
		printk("soak: ASID churn: %lu reads by churn mms, %lu through mm 0's stream, %lu "
		       "through a bind of another (%lu binds failed), %lu rollovers",
		       (unsigned long)churn.reads, (unsigned long)churn.dma_reads,
		       (unsigned long)churn.bound_reads, (unsigned long)churn.bind_failures,
		       (unsigned long)rollovers);
		printk("soak: orphan stages: %lu staged, %lu aborted, %lu pins orphaned by the "
		       "teardown (%lu after a rollover); the id stayed taken in %lu, went to a "
		       "fresh mm in %lu (to a second one after the release in %lu), %lu sweeps "
		       "gave up; %lu rollovers",
		       (unsigned long)o.staged, (unsigned long)o.aborted, (unsigned long)o.orphaned,
		       (unsigned long)o.rolled, (unsigned long)o.held, (unsigned long)o.given,
		       (unsigned long)o.shared, (unsigned long)o.gave_up,
		       (unsigned long)o.rollovers);
	}
	bool churned = churn.nmms != 0;
	uint64_t dma_reads = churn.dma_reads, bound_reads = churn.bound_reads;
	churn_finish();
	struct tlb_shadow_counts c;
	tlb_shadow_counts(&c);
	printk("soak: shadow TLB: %lu fills, %lu hits, %lu entries dropped, %lu freed tables "
	       "checked",
	       (unsigned long)c.fills, (unsigned long)c.hits, (unsigned long)c.drops,
	       (unsigned long)c.tables_checked);
	if (judged) { /* the model was really used, not just switched on */
		EXPECT_GT(t, c.fills, 0u);
		EXPECT_GT(t, c.hits, 0u);
		EXPECT_GT(t, c.drops, 0u);
		if (churned) {
			EXPECT_GT(t, rollovers, 0u);
			EXPECT_GT(t, dma_reads, 0u);
			EXPECT_GT(t, bound_reads, 0u); /* the binds that catch a shared id */
			/* An unbind raced a teardown, and every id went round after it... */
			EXPECT_GT(t, o.held, 0u);
			/* ... none to the pinned one, as in every stage (the allocator's rule). */
			EXPECT_EQ(t, o.given, 0u);
		}
	}
}
