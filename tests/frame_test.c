// SPDX-License-Identifier: BSD-2-Clause
/*
 * frame suite: the buddy allocator hands out aligned blocks, merges buddies
 * back, counts free frames exactly, and fails with -ENOMEM (never a panic)
 * when told to by the failure-injection hook; with `mem=` on the command
 * line it manages no more RAM than that.
 */
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "lib/string.h"
#include "tests/ktest.h"

static void blocks_are_aligned_and_counted(struct ktest *t)
{
	uint64_t before = frame_free_count();
	phys_addr_t pa[FRAME_MAX_ORDER + 1];
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++) {
		ASSERT_EQ(t, frame_alloc(order, &pa[order]), 0);
		EXPECT_TRUE(t, IS_ALIGNED(pa[order], PAGE_SIZE << order));
	}
	EXPECT_EQ(t, frame_free_count(), before - ((2ull << FRAME_MAX_ORDER) - 1));
	for (unsigned order = 0; order <= FRAME_MAX_ORDER; order++)
		frame_free(pa[order], order);
	EXPECT_EQ(t, frame_free_count(), before);
}

static void buddies_merge(struct ktest *t)
{
	/* Take a 4-frame block, free it as four single frames, and get it back whole. */
	phys_addr_t block;
	ASSERT_EQ(t, frame_alloc(2, &block), 0);
	frame_free(block, 2);
	phys_addr_t again;
	ASSERT_EQ(t, frame_alloc(2, &again), 0);
	EXPECT_EQ(t, again, block);
	/* Now split it by hand: free its pages as order-0 blocks in a scrambled order. */
	struct page *head = frame_to_page(again);
	ASSERT_TRUE(t, head != NULL);
	head->order = 0;
	frame_free(again + 2 * PAGE_SIZE, 0);
	frame_free(again, 0);
	frame_free(again + 3 * PAGE_SIZE, 0);
	frame_free(again + 1 * PAGE_SIZE, 0);
	frame_cache_drain(); /* single frames wait on this CPU's cache until then */
	/*
	 * The four are one free block of order 2 or more: headed at `again`,
	 * or by a lower buddy the drain freed too (it empties the whole cache),
	 * whose block they merged into.
	 */
	bool whole = false;
	for (unsigned o = 2; o <= FRAME_MAX_ORDER && !whole; o++) {
		const struct page *h = frame_to_page(again & ~((PAGE_SIZE << o) - 1));
		whole = h && (h->flags & PAGE_FREE) && h->order == o;
	}
	EXPECT_TRUE(t, whole);
}

/*
 * A single frame freed on a CPU waits on that CPU's cache: it counts as
 * free, is free to an audit, and is what that CPU's next single-frame
 * allocation gets back; a drain returns it to the lists, still free.
 */
static void single_frames_come_back_from_the_cache(struct ktest *t)
{
	frame_cache_drain(); /* cases run in one thread, on one CPU: one cache throughout */
	uint64_t before = frame_free_count();
	phys_addr_t a, b, again;
	ASSERT_EQ(t, frame_alloc(0, &a), 0);
	ASSERT_EQ(t, frame_alloc(0, &b), 0);
	EXPECT_EQ(t, frame_free_count(), before - 2);
	EXPECT_FALSE(t, frame_is_free(a));
	frame_free(a, 0);
	frame_free(b, 0);
	EXPECT_EQ(t, frame_free_count(), before);
	EXPECT_TRUE(t, frame_is_free(a));
	EXPECT_TRUE(t, (frame_to_page(b)->flags & PAGE_CACHED) != 0);
	ASSERT_EQ(t, frame_alloc(0, &again), 0); /* last in, first out */
	EXPECT_EQ(t, again, b);
	EXPECT_EQ(t, frame_to_page(b)->refcount, 1u);
	EXPECT_EQ(t, frame_to_page(b)->flags & PAGE_CACHED, 0);
	frame_free(b, 0);
	frame_cache_drain();
	EXPECT_EQ(t, frame_to_page(a)->flags & PAGE_CACHED, 0);
	EXPECT_TRUE(t, frame_is_free(a));
	EXPECT_TRUE(t, frame_is_free(b));
	EXPECT_EQ(t, frame_free_count(), before);
}

static void zeroed_frames_are_zero(struct ktest *t)
{
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(0, &pa), 0);
	memset(kva(pa), 0xA5, PAGE_SIZE);
	frame_free(pa, 0);
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	const uint8_t *p = kva(pa);
	unsigned nonzero = 0;
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		nonzero += p[i] != 0;
	EXPECT_EQ(t, nonzero, 0u);
	frame_free(pa, 0);
}

static void injected_failure_returns_enomem(struct ktest *t)
{
	uint64_t before = frame_free_count();
	phys_addr_t a, b;
	frame_fail_after(1);
	EXPECT_EQ(t, frame_alloc(0, &a), 0);
	EXPECT_EQ(t, frame_alloc(0, &b), -ENOMEM);
	EXPECT_EQ(t, frame_alloc(3, &b), -ENOMEM);
	frame_fail_clear();
	EXPECT_EQ(t, frame_alloc(0, &b), 0);
	frame_free(a, 0);
	frame_free(b, 0);
	EXPECT_EQ(t, frame_free_count(), before);
}

static void exhaustion_returns_enomem(struct ktest *t)
{
	/* Take every max-order block there is: the allocator must say no, not panic. */
	static phys_addr_t taken[4096];
	unsigned n = 0;
	uint64_t before = frame_free_count();
	int err = 0;
	while (n < ARRAY_SIZE(taken) && (err = frame_alloc(FRAME_MAX_ORDER, &taken[n])) == 0)
		n++;
	EXPECT_EQ(t, err, -ENOMEM);
	ktest_log(t, "%u blocks of %lu KiB before -ENOMEM", n,
		  (unsigned long)((PAGE_SIZE << FRAME_MAX_ORDER) >> 10));
	while (n)
		frame_free(taken[--n], FRAME_MAX_ORDER);
	EXPECT_EQ(t, frame_free_count(), before);
}

static void page_metadata_round_trips(struct ktest *t)
{
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc(0, &pa), 0);
	struct page *p = frame_to_page(pa);
	ASSERT_TRUE(t, p != NULL);
	EXPECT_EQ(t, page_to_frame(p), pa);
	EXPECT_EQ(t, p->refcount, 1u);
	EXPECT_EQ(t, kva_to_pa(kva(pa)), pa);
	frame_free(pa, 0);
	EXPECT_TRUE(t, frame_to_page(0xFFFFFFFFF000ull) == NULL);
}

static void managed_frames_within_mem_cap(struct ktest *t)
{
	uint64_t cap;
	if (!cmdline_get_u64("mem", &cap))
		KTEST_SKIP(t, "no mem= on the command line");
	uint64_t managed = frame_total_count() * PAGE_SIZE;
	/* The cap counts the kernel image and the page metadata too: those are not managed. */
	EXPECT_LE(t, managed, cap);
	EXPECT_GE(t, managed, cap / 2);
	ktest_log(t, "managed %lu KiB with mem=%lu KiB", (unsigned long)(managed >> 10),
		  (unsigned long)(cap >> 10));
}

static const struct ktest_case frame_cases[] = {
	KTEST_CASE(blocks_are_aligned_and_counted),
	KTEST_CASE(buddies_merge),
	KTEST_CASE(single_frames_come_back_from_the_cache),
	KTEST_CASE(zeroed_frames_are_zero),
	KTEST_CASE(injected_failure_returns_enomem),
	KTEST_CASE(exhaustion_returns_enomem),
	KTEST_CASE(page_metadata_round_trips),
	KTEST_CASE(managed_frames_within_mem_cap),
	KTEST_END,
};
KTEST_SUITE(frame_suite, "frame", frame_cases);
