// SPDX-License-Identifier: BSD-2-Clause
/*
 * kpt suite: the kernel's own page tables are shared by every CPU, so a
 * change to them must be invalidated on every CPU, not only on the one
 * that made it (docs/mm.md, "The kernel address space").
 *
 * Each case keeps a "remote" thread spinning on another CPU. It touches a
 * kernel address in the test window when asked, so its TLB holds that
 * translation; CPU 0 then changes the mapping, and the remote touches the
 * address again. QEMU's software TLB keeps a translation until it is
 * invalidated on that CPU, so a change flushed only locally shows up as a
 * stale read or write on the remote CPU. The remote never sleeps between
 * touches (a switch could flush its TLB and hide the bug).
 *
 * Invariant of the fixture: one remote at a time; it runs commands one by
 * one and CPU 0 waits for each (bounded) before it goes on.
 *
 * Two cases work differently: split_drops_the_block_on_every_cpu reads on
 * every CPU at once by cross-call (an idle CPU switches no thread, so its
 * TLB stays as it was), and live_break_of_memory_in_use_is_refused asks for
 * changes the walker must refuse (arm64).
 */
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"
#include "kernel/xcall.h"
#include "tests/kpt.h"
#include "tests/ktest.h"

/* Far from what the pt suite uses in the test window. */
#define KPT_VA(off) (arch_mm_layout.test_base + GiB(8) + (off))
#define REMOTE_WAIT_NS 2000000000ull

enum remote_op { REMOTE_READ = 1, REMOTE_WRITE, REMOTE_QUIT };

struct remote {
	struct thread *th; /* NULL when no remote runs */
	uint32_t seq; /* command number, bumped by CPU 0 */
	uint32_t done; /* the last command the remote finished */
	enum remote_op op;
	virt_addr_t va;
	uint32_t value; /* REMOTE_WRITE: to store; REMOTE_READ: what was read */
	bool faulted;
	struct fault_info fault;
};

static void remote_read(void *arg)
{
	struct remote *r = arg;
	r->value = *(volatile uint32_t *)r->va;
}

static void remote_write(void *arg)
{
	struct remote *r = arg;
	*(volatile uint32_t *)r->va = r->value;
}

static void remote_loop(void *arg)
{
	struct remote *r = arg;
	for (;;) {
		uint32_t seq;
		while ((seq = atomic_load_acquire(&r->seq)) == r->done)
			arch_cpu_relax();
		enum remote_op op = r->op;
		if (op == REMOTE_READ)
			r->faulted = ktest_expect_fault(remote_read, r, &r->fault);
		else if (op == REMOTE_WRITE)
			r->faulted = ktest_expect_fault(remote_write, r, &r->fault);
		atomic_store_release(&r->done, seq);
		if (op == REMOTE_QUIT)
			return;
	}
}

static struct remote remote;

/* Starts the remote on the first online CPU other than this one; NULL if there is none. */
static struct remote *remote_start(void)
{
	struct remote *r = &remote;
	*r = (struct remote){0};
	cpumask_t others = cpumask_read(&cpu_online_mask);
	cpumask_clear(&others, arch_cpu_id());
	for_each_cpu(c, others)
	{
		r->th = thread_create("kpt remote", c, remote_loop, r);
		return r->th ? r : NULL;
	}
	return NULL;
}

/* Runs one command on the remote CPU and waits for it; false if it never answered. */
static bool remote_do(struct remote *r, enum remote_op op, virt_addr_t va, uint32_t value)
{
	r->op = op;
	r->va = va;
	r->value = value;
	r->faulted = false;
	uint32_t seq = r->seq + 1;
	atomic_store_release(&r->seq, seq);
	uint64_t deadline = arch_time_ns() + REMOTE_WAIT_NS;
	while (atomic_load_acquire(&r->done) != seq) {
		if (arch_time_ns() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

/* After every case, even one an assertion ended: the remote must not outlive it. */
static void remote_stop(struct ktest *t)
{
	struct remote *r = &remote;
	if (!r->th)
		return;
	if (remote_do(r, REMOTE_QUIT, 0, 0))
		thread_join(r->th);
	else
		ktest_fail_msg(t, __FILE__, __LINE__, "the remote on cpu%u never answered",
			       r->th->cpu);
	r->th = NULL;
}

/* The remote, or the case ends as skipped (a single CPU: nothing to reach). */
static struct remote *remote_or_skip(struct ktest *t)
{
	struct remote *r = remote_start();
	if (!r)
		KTEST_SKIP(t, "needs a second CPU");
	return r;
}

/* A zeroed frame holding `value` in its first word. */
static phys_addr_t frame_with(struct ktest *t, uint32_t value)
{
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	*(volatile uint32_t *)kva(pa) = value;
	return pa;
}

/* Counts what reached the remote CPU: a flush run there (cross-call) or a hardware broadcast. */
struct reach {
	unsigned cpu;
	struct tlb_counters here, there;
};

static struct reach reach_start(struct remote *r)
{
	unsigned cpu = r->th->cpu;
	return (struct reach){cpu, tlb_counters_cpu(arch_cpu_id()), tlb_counters_cpu(cpu)};
}

static uint64_t reached(const struct reach *from)
{
	struct tlb_counters here = tlb_counters_cpu(arch_cpu_id());
	struct tlb_counters there = tlb_counters_cpu(from->cpu);
	return (there.kernel_flushes - from->there.kernel_flushes) +
	       (here.kernel_broadcasts - from->here.kernel_broadcasts);
}

static void unmap_reaches_other_cpus(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	/* The only mapping in its 2 MiB: the unmap empties and frees its page table too. */
	virt_addr_t va = KPT_VA(0);
	phys_addr_t pa = frame_with(t, 0xA11CE);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, r->value, 0xA11CEu);

	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	*(volatile uint32_t *)kva(pa) = 0xDEAD; /* as the frame's next owner would */
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_TRUE(t, r->faulted); /* not a read through a stale translation */
	if (!r->faulted)
		ktest_log(t, "cpu%u read %#x through the unmapped address", r->th->cpu, r->value);
	EXPECT_EQ(t, r->fault.address, va);
	frame_free(pa, 0);
}

static void remap_reaches_other_cpus(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(MiB(2));
	phys_addr_t old = frame_with(t, 0x01D), new = frame_with(t, 0x0E3);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, old, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_EQ(t, r->value, 0x01Du);

	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, new, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, r->value, 0x0E3u); /* the new frame, not the old one */
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	frame_free(old, 0);
	frame_free(new, 0);
}

static void downgrade_reaches_other_cpus(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(MiB(4));
	phys_addr_t pa = frame_with(t, 0);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, va, 1));
	EXPECT_FALSE(t, r->faulted);

	ASSERT_EQ(t, pt_protect(&kernel_pt, va, PAGE_SIZE, PT_READ | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, va, 2));
	EXPECT_TRUE(t, r->faulted); /* read-only now, on every CPU */
	EXPECT_TRUE(t, r->fault.write);
	EXPECT_EQ(t, *(volatile uint32_t *)kva(pa), 1u);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	frame_free(pa, 0);
}

static void split_reaches_other_cpus(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(GiB(1));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(9, &pa), 0); /* 2 MiB, 2 MiB aligned: one block */
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, MiB(2), PT_READ | PT_WRITE | PT_GLOBAL), 0);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, va, &q));
	ASSERT_EQ(t, q.level, 1u);
	virt_addr_t page3 = va + 3 * PAGE_SIZE, page4 = va + 4 * PAGE_SIZE;
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, page3, 3));
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, page4, 4));
	EXPECT_FALSE(t, r->faulted);

	/* Read-only in the middle of the block: it splits into 512 pages. */
	uint64_t splits = kernel_pt.stats.blocks_split;
	ASSERT_EQ(t, pt_protect(&kernel_pt, page3, PAGE_SIZE, PT_READ | PT_GLOBAL), 0);
	EXPECT_EQ(t, kernel_pt.stats.blocks_split, splits + 1);
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, page3, 33));
	EXPECT_TRUE(t, r->faulted);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, page3, 0));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, r->value, 3u);
	/* The rest of the block: as before. */
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, page4, 44));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, *(volatile uint32_t *)kva(pa + 4 * PAGE_SIZE), 44u);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, MiB(2)), 0);
	frame_free(pa, 9);
}

static void upgrade_reaches_other_cpus(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(MiB(6));
	phys_addr_t pa = frame_with(t, 7);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_READ | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_EQ(t, r->value, 7u);
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, va, 8));
	EXPECT_TRUE(t, r->faulted); /* read-only: the remote now caches the stricter entry */

	/*
	 * A stale read-only entry would make the next write fault, and a kernel
	 * fault is not retried (only user faults are): the upgrade must be
	 * invalidated everywhere like any other change to the kernel's tables.
	 */
	struct pt_stats before = kernel_pt.stats;
	struct reach reach = reach_start(r);
	ASSERT_EQ(t, pt_protect(&kernel_pt, va, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	EXPECT_EQ(t, kernel_pt.stats.page_flushes, before.page_flushes + 1);
	EXPECT_EQ(t, reached(&reach), 1u);
	ASSERT_TRUE(t, remote_do(r, REMOTE_WRITE, va, 9));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, *(volatile uint32_t *)kva(pa), 9u);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	frame_free(pa, 0);
}

/* What the remote saw between a replaced entry's invalidation and the rest of the walk. */
static struct {
	struct remote *r;
	virt_addr_t va; /* what the remote reads meanwhile */
	unsigned calls;
	bool mapped; /* pt_query of va meanwhile */
	unsigned level;
	bool answered, faulted;
} probe;

static void after_replace(struct pt *pt, virt_addr_t va)
{
	(void)va;
	if (pt != &kernel_pt)
		return;
	probe.calls++;
	struct pt_query_result q;
	probe.mapped = pt_query(&kernel_pt, probe.va, &q);
	probe.level = probe.mapped ? q.level : ~0u;
	probe.answered = remote_do(probe.r, REMOTE_READ, probe.va, 0);
	probe.faulted = probe.r->faulted;
}

static void split_is_invalidated_before_the_walk_goes_on(struct ktest *t)
{
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(GiB(2));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(9, &pa), 0);
	*(volatile uint32_t *)kva(pa + 5 * PAGE_SIZE) = 55;
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, MiB(2), PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va + 5 * PAGE_SIZE, 0)); /* the block, cached */
	EXPECT_EQ(t, r->value, 55u);

	probe.r = r;
	probe.va = va + 5 * PAGE_SIZE;
	probe.calls = 0;
	uint64_t breaks = kernel_pt.stats.breaks;
	pt_test_after_replace = after_replace;
	int err = pt_protect(&kernel_pt, va + 3 * PAGE_SIZE, PAGE_SIZE, PT_READ | PT_GLOBAL);
	pt_test_after_replace = NULL;
	ASSERT_EQ(t, err, 0);
	EXPECT_EQ(t, probe.calls, 1u);
	EXPECT_TRUE(t, probe.answered);
	if (arch_pt_needs_bbm()) {
		/* Break, invalidate everywhere, make: meanwhile the block is gone for every CPU. */
		EXPECT_EQ(t, kernel_pt.stats.breaks, breaks + 1);
		EXPECT_FALSE(t, probe.mapped);
		EXPECT_TRUE(t, probe.faulted); /* not a read through the old block */
	} else {
		/* The table went in first; the old block is invalidated before the page changes. */
		EXPECT_EQ(t, kernel_pt.stats.breaks, breaks);
		EXPECT_TRUE(t, probe.mapped);
		EXPECT_EQ(t, probe.level, 0u);
		EXPECT_FALSE(t, probe.faulted);
	}
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va + 5 * PAGE_SIZE, 0)); /* made: mapped again */
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, r->value, 55u);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, MiB(2)), 0);
	frame_free(pa, 9);
}

static void retype_breaks_before_make(struct ktest *t)
{
	if (!arch_pt_needs_bbm())
		KTEST_SKIP(t, "the arch replaces a memory type in place (no break-before-make)");
	struct remote *r = remote_or_skip(t);
	virt_addr_t va = KPT_VA(MiB(8));
	phys_addr_t pa = frame_with(t, 0x7E);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL), 0);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_EQ(t, r->value, 0x7Eu);

	probe.r = r;
	probe.va = va;
	probe.calls = 0;
	pt_test_after_replace = after_replace;
	int err = pt_protect(&kernel_pt, va, PAGE_SIZE, PT_READ | PT_WRITE | PT_DEVICE | PT_GLOBAL);
	pt_test_after_replace = NULL;
	ASSERT_EQ(t, err, 0);
	EXPECT_EQ(t, probe.calls, 1u);
	EXPECT_FALSE(t, probe.mapped);
	EXPECT_TRUE(t, probe.faulted); /* the Normal-memory entry is gone everywhere first */
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, va, &q));
	EXPECT_NE(t, q.attrs & PT_DEVICE, 0u);
	ASSERT_TRUE(t, remote_do(r, REMOTE_READ, va, 0));
	EXPECT_FALSE(t, r->faulted);
	EXPECT_EQ(t, r->value, 0x7Eu);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	frame_free(pa, 0);
}

/* Every online CPU reads one word (its own slot of `seen`), without switching thread. */
static struct {
	virt_addr_t va;
	uint32_t seen[CPU_MAX];
} everywhere;

static void read_here(void *arg)
{
	(void)arg;
	everywhere.seen[arch_cpu_id()] = *(volatile uint32_t *)everywhere.va;
}

/* Reads everywhere.va on every online CPU; returns how many did not read `want`. */
static unsigned read_everywhere(uint32_t want)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	xcall(on, read_here, NULL, XCALL_WAIT);
	unsigned wrong = 0;
	for_each_cpu(c, on) if (everywhere.seen[c] != want) wrong++;
	return wrong;
}

pte_t *kpt_kernel_page_slot(virt_addr_t va)
{
	pte_t *table = kva(kernel_pt.root);
	for (unsigned level = PT_LEVELS - 1; level > 0; level--) {
		pte_t pte = table[(va >> pt_level_shift(level)) & (PT_ENTRIES - 1)];
		if (arch_pte_kind(pte, level) != PTE_TABLE)
			return NULL;
		table = kva(arch_pte_address(pte, level));
	}
	return &table[(va >> PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

static struct {
	virt_addr_t va; /* the page whose new entry is pointed elsewhere */
	phys_addr_t elsewhere;
	unsigned calls, wrong;
	bool repointed;
} split_probe;

/* After the split's invalidation, before the walk goes on (x86-64: the table is in). */
static void repoint_and_read(struct pt *pt, virt_addr_t va)
{
	(void)va;
	if (pt != &kernel_pt)
		return;
	split_probe.calls++;
	pte_t *slot = kpt_kernel_page_slot(split_probe.va);
	if (!slot || arch_pte_kind(*slot, 0) != PTE_LEAF)
		return;
	/*
	 * No flush of our own: nothing touched this page since the block was
	 * invalidated, so only a TLB that kept the block can translate it.
	 */
	unsigned attrs = arch_pte_attrs(*slot, 0);
	arch_pte_write(slot, arch_pte_make_leaf(split_probe.elsewhere, 0, attrs));
	split_probe.repointed = true;
	everywhere.va = split_probe.va;
	split_probe.wrong = read_everywhere(0xE15E);
}

/*
 * x86-64 splits a block by writing the table over it and then invalidating
 * the block on every CPU, before the walk goes on. Every CPU reads page 5
 * through a 2 MiB block; a protect of page 3 splits it; right after the
 * invalidation (pt_test_after_replace) the test points page 5's new entry
 * at another frame, then every CPU reads page 5 again and must see that
 * frame, not the block's. QEMU keeps a translation until that CPU
 * invalidates it, and drops every entry when it invalidates any page
 * inside a large page it holds, so the reads are made in that window,
 * where only the split's invalidation can have dropped the block.
 * tlb.break=replace_no_flush skips it: then this fails.
 */
static void split_drops_the_block_on_every_cpu(struct ktest *t)
{
	if (arch_pt_needs_bbm())
		KTEST_SKIP(t, "break-before-make: the block is invalid until the make "
			      "(split_is_invalidated_before_the_walk_goes_on reads it meanwhile)");
	virt_addr_t va = KPT_VA(GiB(3));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(9, &pa), 0);
	phys_addr_t elsewhere = frame_with(t, 0xE15E);
	*(volatile uint32_t *)kva(pa + 5 * PAGE_SIZE) = 0xB10C;
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, MiB(2), PT_READ | PT_WRITE | PT_GLOBAL), 0);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, va, &q));
	ASSERT_EQ(t, q.level, 1u);
	everywhere.va = va + 5 * PAGE_SIZE;
	EXPECT_EQ(t, read_everywhere(0xB10C), 0u); /* the block, cached on every CPU */

	split_probe.va = va + 5 * PAGE_SIZE;
	split_probe.elsewhere = elsewhere;
	split_probe.calls = 0;
	split_probe.repointed = false;
	pt_test_after_replace = repoint_and_read;
	int err = pt_protect(&kernel_pt, va + 3 * PAGE_SIZE, PAGE_SIZE, PT_READ | PT_GLOBAL);
	pt_test_after_replace = NULL;
	ASSERT_EQ(t, err, 0);
	EXPECT_EQ(t, split_probe.calls, 1u);
	ASSERT_TRUE(t, split_probe.repointed);
	EXPECT_EQ(t, split_probe.wrong, 0u); /* CPUs that still read through the old block */
	if (split_probe.wrong)
		ktest_log(t, "%u of %u CPUs read %#x (the block's frame) after the split",
			  split_probe.wrong, cpumask_weight(cpumask_read(&cpu_online_mask)),
			  0xB10Cu);
	everywhere.va = va + 5 * PAGE_SIZE;
	EXPECT_EQ(t, read_everywhere(0xE15E), 0u);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, MiB(2)), 0);
	frame_free(pa, 9);
	frame_free(elsewhere, 0);
}

/*
 * Under break-before-make a split or a new memory type makes the old
 * entry invalid on every CPU until the make. In the direct map (page
 * tables, thread stacks, every frame) or the MMIO window (the interrupt
 * controller) that would fault the caller or any other CPU, so the walker
 * refuses: -EBUSY, nothing changed. Asked here: a split of the direct-map
 * block holding a frame (by unmap, and by protect with its own
 * attributes), and a new memory type for a page of the MMIO window.
 */
static void live_break_of_memory_in_use_is_refused(struct ktest *t)
{
	if (!arch_pt_needs_bbm())
		KTEST_SKIP(t, "no break-before-make: entries are replaced in place");
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	virt_addr_t va = (virt_addr_t)kva(pa);
	struct pt_query_result before, after;
	ASSERT_TRUE(t, pt_query(&kernel_pt, va, &before));
	ASSERT_GE(t, before.level, 1u); /* a block: the direct map uses the largest leaves */
	struct pt_stats stats = kernel_pt.stats;
	uint64_t frames = frame_free_count();

	EXPECT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), -EBUSY);
	EXPECT_EQ(t, pt_protect(&kernel_pt, va, PAGE_SIZE, before.attrs), -EBUSY);
	ASSERT_TRUE(t, pt_query(&kernel_pt, va, &after));
	EXPECT_EQ(t, after.pte, before.pte);
	EXPECT_EQ(t, after.level, before.level);
	*(volatile uint32_t *)va = 0x5AFE; /* still mapped, still writable */
	EXPECT_EQ(t, *(volatile uint32_t *)va, 0x5AFEu);
	EXPECT_EQ(t, frame_free_count(), frames); /* no split table taken */

	volatile uint32_t *dev = vm_map_mmio(pa, PAGE_SIZE, "kpt test");
	virt_addr_t page = (virt_addr_t)dev;
	struct pt_query_result mmio;
	ASSERT_TRUE(t, pt_query(&kernel_pt, page, &mmio));
	int err = pt_protect(&kernel_pt, page, PAGE_SIZE, PT_READ | PT_WRITE | PT_GLOBAL);
	EXPECT_EQ(t, err, -EBUSY); /* Normal memory: a new memory type */
	ASSERT_TRUE(t, pt_query(&kernel_pt, page, &after));
	EXPECT_EQ(t, after.pte, mmio.pte); /* still Device memory */
	/*
	 * Reads the frame through its Device alias right after a cacheable
	 * write: fine under QEMU, which models no caches; real hardware would
	 * need the line cleaned first. The PTE comparison above is the proof.
	 */
	EXPECT_EQ(t, *dev, 0x5AFEu);

	EXPECT_EQ(t, kernel_pt.stats.blocks_split, stats.blocks_split);
	EXPECT_EQ(t, kernel_pt.stats.breaks, stats.breaks);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, page, PAGE_SIZE), 0); /* a clear, not a break */
	frame_free(pa, 0);
}

static const struct ktest_case kpt_cases[] = {
	KTEST_CASE(unmap_reaches_other_cpus),
	KTEST_CASE(remap_reaches_other_cpus),
	KTEST_CASE(downgrade_reaches_other_cpus),
	KTEST_CASE(split_reaches_other_cpus),
	KTEST_CASE(upgrade_reaches_other_cpus),
	KTEST_CASE(split_is_invalidated_before_the_walk_goes_on),
	KTEST_CASE(retype_breaks_before_make),
	KTEST_CASE(split_drops_the_block_on_every_cpu),
	KTEST_CASE(live_break_of_memory_in_use_is_refused),
	KTEST_END,
};
KTEST_SUITE(kpt_suite, "kpt", kpt_cases, .exit = remote_stop);
