// SPDX-License-Identifier: BSD-2-Clause
/*
 * failinject suite: every allocation kernel/mm makes in a scenario fails,
 * one at a time, and each time the scenario must back out cleanly.
 *
 * The scenario is an address space's life: mm_create, a notifier
 * subscription (its first allocates the mm's notifier state), an anonymous
 * mapping populated page by page, a fault fill, a physical mapping, an
 * mprotect that splits a VMA (spare VMAs), an munmap of more pages than a
 * gather holds without a batch page, one page reclaimed through a TLB
 * batch (its page of entries), and mm_destroy (whose gather needs a
 * batch too). It runs once with nothing failing to count the allocations
 * (mm_fail_arm with nth 0), then once for every N from 1 to that count
 * with the Nth failing, and after each run checks:
 *  - every operation returned 0 or -ENOMEM (a batch failure is absorbed:
 *    the gather settles early and goes on, so that one completes);
 *  - the failure did happen, once, at a site the counting run reached;
 *  - the tables pass the audit (kernel/mm/audit.h) before the teardown,
 *    and every live mm and the kernel's tables after it;
 *  - nothing stale: an unmapped page faults when touched, a page
 *    protected read-only faults on a write, a mapped page reads what was
 *    written to it (the touches run in the mm, on this CPU);
 *  - the free-frame count is back where it started (no leak on any path).
 * The case prints the allocation sites the scenario reached and requires
 * them to be all of kernel/mm's but pt_ensure_top_table (which only the
 * kernel's shared halves use). `mm.break=fill_leak` keeps the zero page of
 * a fault fill whose mapping failed, and the case must then find the leak.
 * A second case checks the mode the widened soak uses, one site failing
 * every time (mm_fail_site_always).
 */
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/audit.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/notifier.h"
#include "kernel/mm/tlb_batch.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define FI_VA(off)     (arch_mm_layout.user_base + MiB(96) + (off))
#define FI_ANON	       FI_VA(0)
#define FI_PAGES       24 /* populated; what the unmap leaves needs a batch page at teardown */
#define FI_UNMAP_PAGES 12 /* more than GATHER_LOCAL_SLOTS: the unmap needs a batch page */
#define FI_PROT_PAGE   20 /* protected read-only */
#define FI_RECLAIM_PAGE 22 /* taken by a TLB batch (tlb_batch.h) */
#define FI_FAULT       FI_VA(MiB(2)) /* one page filled by a fault */
#define FI_PHYS	       FI_VA(MiB(4))

enum fi_step {
	FI_CREATE,
	FI_REGISTER,
	FI_MAP_ANON,
	FI_POPULATE,
	FI_FAULT_FILL,
	FI_MAP_PHYS,
	FI_PROTECT,
	FI_UNMAP,
	FI_RECLAIM,
	FI_NR_STEPS,
};

static const char *const step_names[FI_NR_STEPS] = {
    "mm_create",   "mn_register", "vm_map_anon", "vm_populate", "fault fill",
    "vm_map_phys", "vm_protect",  "vm_unmap",	 "tlb_batch",
};

struct fi_run {
	struct mm *mm;
	phys_addr_t phys; /* the frame behind the physical mapping, the test's */
	int err[FI_NR_STEPS];
	bool ran[FI_NR_STEPS];
	char stale[128]; /* first stale access found, "" if none */
	char audit[160];
	int audit_err;
};

static void no_release(struct mn_subscription *sub, struct mm *mm)
{
	(void)sub;
	(void)mm;
}

static const struct mn_ops fi_mn_ops = {.release = no_release};

/* A touch of one word inside the mm, under the fault fixture. */
struct fi_touch {
	virt_addr_t va;
	bool write;
	uint64_t value;
	uint64_t seen;
};

static void touch_body(void *arg)
{
	struct fi_touch *x = arg;
	volatile uint64_t *p = (volatile uint64_t *)x->va;
	if (x->write)
		*p = x->value;
	else
		x->seen = *p;
}

/* Did a read (or write of `value`) at `va` fault? */
static bool touch(virt_addr_t va, bool write, uint64_t value, uint64_t *seen)
{
	struct fi_touch x = {.va = va, .write = write, .value = value};
	struct fault_info f;
	bool faulted = ktest_expect_fault(touch_body, &x, &f);
	if (seen)
		*seen = x.seen;
	return faulted;
}

static bool mapped(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q);
}

static void stale(struct fi_run *r, const char *what, virt_addr_t va)
{
	if (!r->stale[0])
		snprintf(r->stale, sizeof(r->stale), "%s at %#lx", what, (unsigned long)va);
}

static void step(struct fi_run *r, enum fi_step s, int err)
{
	r->ran[s] = true;
	r->err[s] = err;
}

/* The scenario's middle, inside the mm on the armed CPU (thread_create_mm). */
static void scenario_body(void *arg)
{
	struct fi_run *r = arg;
	struct mm *mm = r->mm;
	const unsigned rw = PT_READ | PT_WRITE;
	step(r, FI_MAP_ANON, vm_map_anon(mm, FI_ANON, FI_PAGES * PAGE_SIZE, rw));
	if (r->err[FI_MAP_ANON] == 0)
		step(r, FI_POPULATE, vm_populate(mm, FI_ANON, FI_PAGES * PAGE_SIZE));
	/* Tag every populated page through the mm: caches the translations too. */
	for (unsigned i = 0; i < FI_PAGES; i++) {
		virt_addr_t va = FI_ANON + i * PAGE_SIZE;
		if (mapped(mm, va) && touch(va, true, va, NULL))
			stale(r, "a populated page faulted", va);
	}
	int err = vm_map_anon(mm, FI_FAULT, PAGE_SIZE, rw);
	if (err == 0)
		err = touch(FI_FAULT, true, 1, NULL) ? -ENOMEM : 0; /* a refused fill faults */
	step(r, FI_FAULT_FILL, err);
	step(r, FI_MAP_PHYS, vm_map_phys(mm, FI_PHYS, r->phys, PAGE_SIZE, rw));
	step(r, FI_PROTECT, vm_protect(mm, FI_ANON + FI_PROT_PAGE * PAGE_SIZE, PAGE_SIZE, PT_READ));
	step(r, FI_UNMAP, vm_unmap(mm, FI_ANON, FI_UNMAP_PAGES * PAGE_SIZE));
	virt_addr_t reclaim = FI_ANON + FI_RECLAIM_PAGE * PAGE_SIZE;
	bool was_mapped = mapped(mm, reclaim);
	struct tlb_batch b;
	err = tlb_batch_init(&b);
	if (err == 0 && was_mapped)
		err = tlb_batch_unmap_page(&b, mm, reclaim);
	if (b.entries)
		tlb_batch_fini(&b);
	step(r, FI_RECLAIM, err);
	/* Not touched: a fill here would be an allocation no step reports (tlb_batch checks it). */
	if (err == 0 && was_mapped && mapped(mm, reclaim))
		stale(r, "a reclaimed page was still mapped", reclaim);

	for (unsigned i = 0; i < FI_PAGES; i++) {
		virt_addr_t va = FI_ANON + i * PAGE_SIZE;
		bool gone = i < FI_UNMAP_PAGES && r->err[FI_UNMAP] == 0;
		if (i == FI_RECLAIM_PAGE)
			continue; /* checked above */
		if (!gone && !mapped(mm, va))
			continue; /* never populated: a touch would fill it */
		uint64_t seen = 0;
		bool faulted = touch(va, false, 0, &seen);
		if (gone && !faulted)
			stale(r, "an unmapped page was still readable", va);
		else if (!gone && (faulted || seen != va))
			stale(r, "a mapped page lost its contents", va);
	}
	virt_addr_t prot = FI_ANON + FI_PROT_PAGE * PAGE_SIZE;
	if (r->err[FI_PROTECT] == 0 && mapped(mm, prot) && !touch(prot, true, 0, NULL))
		stale(r, "a page protected read-only took a write", prot);
	if (r->err[FI_MAP_PHYS] == 0 && touch(FI_PHYS, false, 0, NULL))
		stale(r, "the physical mapping faulted", FI_PHYS);
	r->audit_err = mm_audit_mm(mm, r->audit, sizeof(r->audit));
}

/* One run with allocation `nth` failing (0: none). Fills *r; the mm is gone afterwards. */
static void run_scenario(struct fi_run *r, unsigned cpu, uint64_t nth)
{
	static struct mn_subscription sub;
	phys_addr_t phys = r->phys;
	memset(r, 0, sizeof(*r));
	r->phys = phys;
	mm_fail_arm(cpu, nth);
	r->mm = mm_create();
	step(r, FI_CREATE, r->mm ? 0 : -ENOMEM);
	if (!r->mm)
		return;
	sub = (struct mn_subscription){.ops = &fi_mn_ops};
	step(r, FI_REGISTER, mn_register(&sub, r->mm));
	struct thread *th = thread_create_mm("failinject", cpu, r->mm, scenario_body, r);
	if (th)
		thread_join(th);
	else
		snprintf(r->stale, sizeof(r->stale), "no thread for the scenario");
	if (r->err[FI_REGISTER] == 0)
		mn_unregister(&sub);
	mm_destroy(r->mm);
}

static void every_allocation_failure_backs_out(struct ktest *t)
{
	unsigned cpu = arch_cpu_id();
	static struct fi_run r;
	ASSERT_EQ(t, frame_alloc_zeroed(&r.phys), 0);
	uint64_t sites[MM_ALLOC_NR_SITES];

	uint64_t free0 = frame_free_count();
	run_scenario(&r, cpu, 0);
	uint64_t count = mm_fail_disarm(sites);
	EXPECT_EQ(t, frame_free_count(), free0);
	EXPECT_EQ(t, r.stale[0], 0);
	EXPECT_EQ(t, r.audit_err, 0);
	for (unsigned s = 0; s < FI_NR_STEPS; s++)
		EXPECT_EQ(t, r.err[s], 0);
	ktest_log(t, "the scenario makes %lu allocations in kernel/mm:", (unsigned long)count);
	for (unsigned s = 0; s < MM_ALLOC_NR_SITES; s++) {
		ktest_log(t, "  %-34s %lu", mm_alloc_site_name((enum mm_alloc_site)s),
			  (unsigned long)sites[s]);
		/* Every site but the kernel halves' top tables must be reached. */
		if (s == MM_ALLOC_PT_TOP)
			EXPECT_EQ(t, sites[s], 0u);
		else
			EXPECT_GT(t, sites[s], 0u);
	}
	ASSERT_GT(t, count, 0u);

	unsigned failures_seen[MM_ALLOC_NR_SITES] = {0};
	for (uint64_t n = 1; n <= count; n++) {
		free0 = frame_free_count();
		run_scenario(&r, cpu, n);
		enum mm_alloc_site site = MM_ALLOC_NR_SITES;
		bool fired = mm_fail_fired(&site);
		mm_fail_disarm(NULL);
		char why[160];
		int all = mm_audit_all(why, sizeof(why));
		uint64_t free1 = frame_free_count();
		/* What the run reported, in one line: the first step that failed. */
		int failed_step = -1;
		bool bad_err = false;
		for (unsigned s = 0; s < FI_NR_STEPS; s++) {
			if (r.ran[s] && r.err[s] && failed_step < 0)
				failed_step = (int)s;
			bad_err |= r.ran[s] && r.err[s] != 0 && r.err[s] != -ENOMEM;
		}
		ktest_log(t, "N=%lu %s: %s%s", (unsigned long)n,
			  fired ? mm_alloc_site_name(site) : "(not reached)",
			  failed_step < 0 ? "completed" : step_names[failed_step],
			  failed_step < 0 ? "" : " -ENOMEM");
		EXPECT_TRUE(t, fired);
		if (fired)
			failures_seen[site]++;
		EXPECT_FALSE(t, bad_err);
		/* A failure is reported, unless the gather absorbed it (batch: settle early). */
		if (fired && site != MM_ALLOC_BATCH)
			EXPECT_GE(t, failed_step, 0);
		if (r.stale[0])
			ktest_log(t, "N=%lu: stale: %s", (unsigned long)n, r.stale);
		EXPECT_EQ(t, r.stale[0], 0);
		if (r.audit_err)
			ktest_log(t, "N=%lu: %s", (unsigned long)n, r.audit);
		EXPECT_EQ(t, r.audit_err, 0);
		if (all)
			ktest_log(t, "N=%lu: after teardown: %s", (unsigned long)n, why);
		EXPECT_EQ(t, all, 0);
		if (free1 != free0)
			ktest_log(t, "N=%lu: %ld frames leaked", (unsigned long)n,
				  (long)(free0 - free1));
		EXPECT_EQ(t, free1, free0);
	}
	/* Every site the counting run reached has failed at least once. */
	for (unsigned s = 0; s < MM_ALLOC_NR_SITES; s++)
		EXPECT_EQ(t, failures_seen[s] > 0, sites[s] > 0);
	frame_free(r.phys, 0);
}

/*
 * mm_fail_site_always (the widened soak's gathers without batch pages):
 * every batch allocation fails, counted by the gather, none is made, and
 * the unmap still completes by settling early; off again, the next unmap
 * gets its batch page. Nothing leaks either way.
 */
static void site_always_fails_until_off(struct ktest *t)
{
	uint64_t free0 = frame_free_count();
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, FI_ANON, FI_PAGES * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, vm_populate(mm, FI_ANON, FI_PAGES * PAGE_SIZE), 0);
	struct gather_stats before = gather_stats;
	mm_fail_site_always(MM_ALLOC_BATCH, true);
	int err = vm_unmap(mm, FI_ANON, FI_UNMAP_PAGES * PAGE_SIZE);
	mm_fail_site_always(MM_ALLOC_BATCH, false);
	EXPECT_EQ(t, err, 0);
	EXPECT_GE(t, gather_stats.batch_alloc_failures - before.batch_alloc_failures, 1u);
	EXPECT_EQ(t, gather_stats.batches_allocated - before.batches_allocated, 0u);
	before = gather_stats;
	EXPECT_EQ(t,
		  vm_unmap(mm, FI_VA(FI_UNMAP_PAGES * PAGE_SIZE),
			   (FI_PAGES - FI_UNMAP_PAGES) * PAGE_SIZE),
		  0);
	EXPECT_EQ(t, gather_stats.batch_alloc_failures - before.batch_alloc_failures, 0u);
	EXPECT_GE(t, gather_stats.batches_allocated - before.batches_allocated, 1u);
	mm_destroy(mm);
	EXPECT_EQ(t, frame_free_count(), free0);
}

static const struct ktest_case failinject_cases[] = {
    KTEST_CASE_TIMEOUT(every_allocation_failure_backs_out, 60000),
    KTEST_CASE(site_always_fails_until_off),
    {0},
};
KTEST_SUITE(failinject_suite, "failinject", failinject_cases);
