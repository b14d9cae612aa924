// SPDX-License-Identifier: BSD-2-Clause
/*
 * pt suite: Pagoda's own page tables, live. Mappings are made in the
 * kernel's test window and then used by the CPU, so a missing TLB flush
 * shows up as a stale translation (QEMU's software TLB keeps one until it
 * is invalidated), and a permission that is not enforced shows up as an
 * access that does not fault.
 */
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/smp.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define TEST_VA(off) (arch_mm_layout.test_base + (off))

static void map_use_unmap_across_tables(struct ktest *t)
{
	/* Four pages straddling a 2 MiB boundary: two leaf tables, one parent. */
	virt_addr_t va = TEST_VA(MiB(2) - 2 * PAGE_SIZE);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(2, &pa), 0);
	uint64_t tables = pt_count_tables(&kernel_pt);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, 4 * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_GE(t, pt_count_tables(&kernel_pt), tables + 2);
	for (unsigned i = 0; i < 4; i++) {
		struct pt_query_result q;
		ASSERT_TRUE(t, pt_query(&kernel_pt, va + i * PAGE_SIZE + 5, &q));
		EXPECT_EQ(t, q.pa, pa + i * PAGE_SIZE + 5);
		EXPECT_EQ(t, q.level, 0u);
		/* Write through the new mapping, read through the direct map. */
		*(volatile uint32_t *)(va + i * PAGE_SIZE) = 0xC0DE0000u + i;
		EXPECT_EQ(t, *(volatile uint32_t *)kva(pa + i * PAGE_SIZE), 0xC0DE0000u + i);
	}
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, 4 * PAGE_SIZE), 0);
	struct pt_query_result q;
	EXPECT_FALSE(t, pt_query(&kernel_pt, va, &q));
	/* Tables emptied by the unmap are gone again. */
	EXPECT_EQ(t, pt_count_tables(&kernel_pt), tables);
	frame_free(pa, 2);
}

static void touch_read(void *va)
{
	(void)*(volatile uint8_t *)va;
}

static void touch_write(void *va)
{
	*(volatile uint8_t *)va = 1;
}

static void unmapped_page_faults_after_use(struct ktest *t)
{
	/* Use the mapping (the TLB now holds it), unmap, use again: must fault. */
	virt_addr_t va = TEST_VA(MiB(8));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(0, &pa), 0);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	touch_write((void *)va);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, PAGE_SIZE), 0);
	struct fault_info f;
	EXPECT_TRUE(t, ktest_expect_fault(touch_read, (void *)va, &f));
	EXPECT_EQ(t, f.address, va);
	frame_free(pa, 0);
}

static void large_block_then_split(struct ktest *t)
{
	virt_addr_t va = TEST_VA(GiB(1));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(9, &pa), 0); /* 2 MiB, 2 MiB aligned */
	uint64_t tables = pt_count_tables(&kernel_pt);
	ASSERT_EQ(t, pt_map(&kernel_pt, va, pa, MiB(2), PT_READ | PT_WRITE), 0);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, va + MiB(1), &q));
	EXPECT_EQ(t, q.level, 1u); /* one 2 MiB leaf */
	touch_write((void *)(va + 3 * PAGE_SIZE));

	/* Read-only in the middle: the block splits into 512 pages. */
	uint64_t splits = kernel_pt.stats.blocks_split;
	ASSERT_EQ(t, pt_protect(&kernel_pt, va + 3 * PAGE_SIZE, PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, kernel_pt.stats.blocks_split, splits + 1);
	ASSERT_TRUE(t, pt_query(&kernel_pt, va + 3 * PAGE_SIZE, &q));
	EXPECT_EQ(t, q.level, 0u);
	EXPECT_EQ(t, q.attrs & PT_WRITE, 0u);
	ASSERT_TRUE(t, pt_query(&kernel_pt, va + 4 * PAGE_SIZE, &q));
	EXPECT_EQ(t, q.level, 0u);
	EXPECT_EQ(t, q.pa, pa + 4 * PAGE_SIZE);
	EXPECT_NE(t, q.attrs & PT_WRITE, 0u);

	/* The CPU had the writable 2 MiB translation cached: the write must fault now. */
	struct fault_info f;
	EXPECT_TRUE(t, ktest_expect_fault(touch_write, (void *)(va + 3 * PAGE_SIZE), &f));
	EXPECT_TRUE(t, f.write);
	EXPECT_FALSE(t, ktest_expect_fault(touch_write, (void *)(va + 4 * PAGE_SIZE), &f));
	EXPECT_FALSE(t, ktest_expect_fault(touch_read, (void *)(va + 3 * PAGE_SIZE), &f));

	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, MiB(2)), 0);
	EXPECT_EQ(t, pt_count_tables(&kernel_pt), tables);
	frame_free(pa, 9);
}

static void map_over_mapped_is_refused(struct ktest *t)
{
	virt_addr_t va = TEST_VA(MiB(16));
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(1, &pa), 0);
	ASSERT_EQ(t, pt_map(&kernel_pt, va + PAGE_SIZE, pa, PAGE_SIZE, PT_READ), 0);
	EXPECT_EQ(t, pt_map(&kernel_pt, va, pa, 2 * PAGE_SIZE, PT_READ), -EEXIST);
	struct pt_query_result q;
	EXPECT_FALSE(t, pt_query(&kernel_pt, va, &q)); /* nothing half-done */
	EXPECT_EQ(t, pt_map(&kernel_pt, va + 1, pa, PAGE_SIZE, PT_READ), -EINVAL);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, va, 2 * PAGE_SIZE), 0);
	frame_free(pa, 1);
}

/* A private tree: sum of every table's contents and structure, for "unchanged" checks. */
static uint64_t tree_hash(pte_t *table, unsigned level)
{
	uint64_t h = 1469598103934665603ull;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		h = (h ^ table[i]) * 1099511628211ull;
		if (level > 0 && arch_pte_kind(table[i], level) == PTE_TABLE)
			h ^= tree_hash(kva(arch_pte_address(table[i], level)), level - 1) + i;
	}
	return h;
}

static void allocation_failure_changes_nothing(struct ktest *t)
{
	struct pt pt;
	ASSERT_EQ(t, pt_init(&pt), 0);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(9, &pa), 0);
	/* A 2 MiB block at an odd place, then operations that need 1..3 new tables. */
	ASSERT_EQ(t, pt_map(&pt, GiB(3), pa, MiB(2), PT_READ | PT_WRITE), 0);
	ASSERT_EQ(t, pt_map(&pt, GiB(4), pa, MiB(2), PT_READ | PT_WRITE), 0); /* an alias */
	struct {
		const char *what;
		int kind;
		virt_addr_t va;
		uint64_t size;
	} ops[] = {
		{"map across 3 tables", 0, GiB(512) - PAGE_SIZE, 2 * PAGE_SIZE},
		{"unmap splitting a block", 1, GiB(3) + PAGE_SIZE, PAGE_SIZE},
		{"protect splitting a block", 2, GiB(4) + MiB(1), PAGE_SIZE},
	};
	for (unsigned o = 0; o < ARRAY_SIZE(ops); o++) {
		for (unsigned n = 0;; n++) {
			uint64_t hash = tree_hash(kva(pt.root), PT_LEVELS - 1);
			uint64_t free_before = frame_free_count();
			frame_fail_after(n);
			int err = ops[o].kind == 0   ? pt_map(&pt, ops[o].va, pa, ops[o].size, PT_READ)
				  : ops[o].kind == 1 ? pt_unmap(&pt, ops[o].va, ops[o].size)
						     : pt_protect(&pt, ops[o].va, ops[o].size, PT_READ);
			frame_fail_clear();
			if (err == 0) {
				ktest_log(t, "%s: succeeded once %u allocations were allowed",
					  ops[o].what, n);
				EXPECT_GE(t, n, 1u);
				break;
			}
			EXPECT_EQ(t, err, -ENOMEM);
			EXPECT_EQ(t, tree_hash(kva(pt.root), PT_LEVELS - 1), hash);
			EXPECT_EQ(t, frame_free_count(), free_before);
			ASSERT_LT(t, n, 8u);
		}
	}
	pt_destroy(&pt);
	frame_free(pa, 9);
}

static void text_is_not_writable(struct ktest *t)
{
	struct fault_info f;
	ASSERT_TRUE(t, ktest_expect_fault(touch_write, (void *)(uintptr_t)&touch_write, &f));
	EXPECT_EQ(t, (int)f.kind, (int)FAULT_PAGE);
	EXPECT_TRUE(t, f.write);
	EXPECT_EQ(t, f.address, (uintptr_t)&touch_write);
}

static const uint32_t rodata_word = 0x12345678;

static void rodata_is_not_writable(struct ktest *t)
{
	struct fault_info f;
	ASSERT_TRUE(t, ktest_expect_fault(touch_write, (void *)&rodata_word, &f));
	EXPECT_TRUE(t, f.write);
	EXPECT_EQ(t, rodata_word, 0x12345678u);
}

static uint8_t data_page[64] __aligned(16);

static void call_data(void *code)
{
	((void (*)(void))code)();
}

static void data_is_not_executable(struct ktest *t)
{
	struct fault_info f;
	ASSERT_TRUE(t, ktest_expect_fault(call_data, data_page, &f));
	EXPECT_EQ(t, (int)f.kind, (int)FAULT_PAGE);
	EXPECT_TRUE(t, f.exec);
	EXPECT_EQ(t, f.pc, (uintptr_t)data_page);
	/* The direct map is data too. */
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	EXPECT_TRUE(t, ktest_expect_fault(call_data, kva(pa), &f));
	EXPECT_TRUE(t, f.exec);
	frame_free(pa, 0);
}

static void check_direct(struct ktest *t, phys_addr_t pa)
{
	struct pt_query_result q;
	virt_addr_t va = (virt_addr_t)kva(pa);
	if (!pt_query(&kernel_pt, va, &q)) {
		ktest_fail_msg(t, __FILE__, __LINE__, "direct map misses pa %#lx", (unsigned long)pa);
		return;
	}
	EXPECT_EQ(t, q.pa, pa);
	EXPECT_NE(t, q.attrs & PT_WRITE, 0u);
	EXPECT_EQ(t, q.attrs & PT_EXEC, 0u);
}

static void direct_map_covers_all_ram(struct ktest *t)
{
	unsigned checked = 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (r->type != BOOT_MEM_USABLE)
			continue;
		phys_addr_t first = ALIGN_UP(r->base, PAGE_SIZE);
		phys_addr_t last = ALIGN_DOWN(r->base + r->size, PAGE_SIZE) - PAGE_SIZE;
		for (phys_addr_t pa = first; pa <= last; pa += MiB(1)) {
			check_direct(t, pa);
			checked++;
		}
		check_direct(t, last);
	}
	EXPECT_GT(t, checked, 0u);
	/* Largest leaves: RAM 2 MiB-aligned inside a large region is mapped by a block. */
	/* RAM may start at physical 0 (Raspberry Pi): found is not block != 0. */
	phys_addr_t block = 0;
	bool found = false;
	for (unsigned i = 0; i < boot_info.nr_mem && !found; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		phys_addr_t start = ALIGN_UP(r->base, MiB(2));
		if (r->type == BOOT_MEM_USABLE && start + MiB(2) <= r->base + r->size) {
			block = start;
			found = true;
		}
	}
	ASSERT_TRUE(t, found);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, (virt_addr_t)kva(block), &q));
	EXPECT_GE(t, q.level, 1u);
}

static void stack_guards_are_unmapped(struct ktest *t)
{
	cpumask_t online = cpumask_read(&cpu_online_mask);
	for_each_cpu(c, online)
	{
		virt_addr_t guard = cpu_stack_guard(c);
		struct pt_query_result q;
		EXPECT_FALSE(t, pt_query(&kernel_pt, guard, &q));
		/* The page above it is the bottom of the stack, and is mapped. */
		EXPECT_TRUE(t, pt_query(&kernel_pt, guard + PAGE_SIZE, &q));
		struct fault_info f;
		EXPECT_TRUE(t, ktest_expect_fault(touch_write, (void *)(guard + PAGE_SIZE - 8), &f));
	}
}

static void mmio_is_uncached_and_not_executable(struct ktest *t)
{
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	volatile uint32_t *dev = vm_map_mmio(pa + 0x10, 4, "pt test");
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&kernel_pt, (virt_addr_t)dev, &q));
	EXPECT_EQ(t, q.pa, pa + 0x10);
	EXPECT_NE(t, q.attrs & PT_DEVICE, 0u);
	EXPECT_EQ(t, q.attrs & PT_EXEC, 0u);
	*dev = 0xFEEDu;
	EXPECT_EQ(t, *(volatile uint32_t *)((uint8_t *)kva(pa) + 0x10), 0xFEEDu);
	ASSERT_EQ(t, pt_unmap(&kernel_pt, ALIGN_DOWN((virt_addr_t)dev, PAGE_SIZE), PAGE_SIZE), 0);
	frame_free(pa, 0);
}

/*
 * vm_map_mmio carves windows out of one cursor. Threads on every CPU map
 * MMIO_PER_CPU windows each at the same time (alternately one and two
 * pages, each onto its own frames): every window must map its own frames,
 * and no two may overlap. Without the lock two CPUs read the same cursor
 * and map the same addresses (the second pt_map finds them mapped: a panic).
 */
#define MMIO_PER_CPU 32

static struct {
	uint32_t started, ncpus;
	phys_addr_t pa[CPU_MAX][MMIO_PER_CPU];
	virt_addr_t va[CPU_MAX][MMIO_PER_CPU];
} mmio_race;

static uint64_t mmio_bytes(unsigned i)
{
	return (i % 2 + 1) * PAGE_SIZE;
}

static void mmio_mapper(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	atomic_fetch_add(&mmio_race.started, 1);
	while (atomic_load_acquire(&mmio_race.started) < mmio_race.ncpus)
		arch_cpu_relax(); /* all at once */
	for (unsigned i = 0; i < MMIO_PER_CPU; i++)
		mmio_race.va[cpu][i] =
		    (virt_addr_t)vm_map_mmio(mmio_race.pa[cpu][i], mmio_bytes(i), "pt test race");
}

/* How many windows overlap window (c, i), itself excluded. */
static unsigned mmio_overlaps(cpumask_t on, unsigned c, unsigned i)
{
	virt_addr_t va = mmio_race.va[c][i];
	unsigned n = 0;
	for_each_cpu(d, on)
	{
		for (unsigned j = 0; j < MMIO_PER_CPU; j++) {
			virt_addr_t other = mmio_race.va[d][j];
			if ((d != c || j != i) && va < other + mmio_bytes(j) &&
			    other < va + mmio_bytes(i))
				n++;
		}
	}
	return n;
}

static void mmio_windows_from_many_cpus_are_disjoint(struct ktest *t)
{
	cpumask_t on = cpumask_read(&cpu_online_mask);
	memset(&mmio_race, 0, sizeof(mmio_race));
	mmio_race.ncpus = cpumask_weight(on);
	struct thread *th[CPU_MAX] = {0};
	for_each_cpu(c, on)
	{
		for (unsigned i = 0; i < MMIO_PER_CPU; i++)
			ASSERT_EQ(t, frame_alloc(i % 2, &mmio_race.pa[c][i]), 0);
	}
	for_each_cpu(c, on)
	{
		th[c] = thread_create("mmio race", c, mmio_mapper, (void *)(uintptr_t)c);
		ASSERT_TRUE(t, th[c] != NULL);
	}
	for_each_cpu(c, on) thread_join(th[c]);
	unsigned overlaps = 0, wrong = 0;
	for_each_cpu(c, on)
	{
		for (unsigned i = 0; i < MMIO_PER_CPU; i++) {
			overlaps += mmio_overlaps(on, c, i);
			for (uint64_t off = 0; off < mmio_bytes(i); off += PAGE_SIZE) {
				struct pt_query_result q;
				phys_addr_t want = mmio_race.pa[c][i] + off;
				if (!pt_query(&kernel_pt, mmio_race.va[c][i] + off, &q) ||
				    q.pa != want || !(q.attrs & PT_DEVICE))
					wrong++;
			}
		}
	}
	/*
	 * An overlap would usually make a second pt_map fail with -EEXIST, and
	 * vm_map_mmio panics on that first: this case's real assertion is "no
	 * panic", and like any race it is probabilistic (32 windows per CPU
	 * made the old, unlocked code fail on every run).
	 */
	ktest_log(t, "%u CPUs mapped %u windows each: %u overlapping pairs, %u pages wrong",
		  mmio_race.ncpus, MMIO_PER_CPU, overlaps / 2, wrong);
	EXPECT_EQ(t, overlaps, 0u);
	EXPECT_EQ(t, wrong, 0u);
	for_each_cpu(c, on)
	{
		for (unsigned i = 0; i < MMIO_PER_CPU; i++) {
			ASSERT_EQ(t, pt_unmap(&kernel_pt, mmio_race.va[c][i], mmio_bytes(i)), 0);
			frame_free(mmio_race.pa[c][i], i % 2);
		}
	}
}

static const struct ktest_case pt_cases[] = {
	KTEST_CASE(map_use_unmap_across_tables),
	KTEST_CASE(unmapped_page_faults_after_use),
	KTEST_CASE(large_block_then_split),
	KTEST_CASE(map_over_mapped_is_refused),
	KTEST_CASE(allocation_failure_changes_nothing),
	KTEST_CASE(text_is_not_writable),
	KTEST_CASE(rodata_is_not_writable),
	KTEST_CASE(data_is_not_executable),
	KTEST_CASE(direct_map_covers_all_ram),
	KTEST_CASE(stack_guards_are_unmapped),
	KTEST_CASE(mmio_is_uncached_and_not_executable),
	KTEST_CASE(mmio_windows_from_many_cpus_are_disjoint),
	KTEST_END,
};
KTEST_SUITE(pt_suite, "pt", pt_cases);
