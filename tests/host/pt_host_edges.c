/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: the edges of a range. Unmap and protect over holes
 * succeed without allocating or writing; map over a mapping is refused
 * (-EEXIST), and so are wrapping, misaligned, empty, physically wrapping
 * and out-of-reach ranges (-EINVAL), each before anything is allocated or
 * written (the tree byte for byte as it was). The last page of the address
 * space and ranges ending at 2^64 map, split and unmap like any other.
 */
#include "kernel/errno.h"
#include "tests/host/pt_host.h"

/* ---- Holes and refusals ---------------------------------------------------------------------- */

void test_unmap_holes_ok(void)
{
	struct pt pt;
	init_pt(&pt);
	CHECK_EQ(UNMAP(&pt, 0, SZ_1G), 0);
	CHECK_EQ(UNMAP(&pt, TOP_PAGE, PG), 0);
	CHECK_EQ(UNMAP(&pt, SZ_512G - SZ_1G, 2 * SZ_1G), 0);
	CHECK_EQ(host_alloc_attempts, 1); /* pt_init only */
	CHECK_EQ(fake_arch.pte_writes, 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	uint64_t a = SZ_512G - SZ_1G + 3 * PG, b = SZ_512G + 6 * SZ_2M, c = SZ_512G + 2 * SZ_1G;
	CHECK_EQ(MAP(&pt, a, PA0, PG, RW), 0);
	CHECK_EQ(MAP(&pt, b, PA0 + 2 * SZ_2M, SZ_2M, RW), 0);
	CHECK_EQ(MAP(&pt, c, PA0 + 5 * PG, 3 * PG, RW), 0);
	CHECK_EQ(UNMAP(&pt, a - SZ_2M, c + 3 * PG + SZ_2M - (a - SZ_2M)), 0);
	EXPECT_UNMAPPED(&pt, a);
	EXPECT_UNMAPPED(&pt, b);
	EXPECT_UNMAPPED(&pt, c + 2 * PG);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_protect_holes_ok(void)
{
	struct pt pt;
	init_pt(&pt);
	CHECK_EQ(PROTECT(&pt, 0, SZ_1G, RO), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	uint64_t va = 7 * SZ_1G + 3 * SZ_2M;
	CHECK_EQ(MAP(&pt, va, PA0, PG, RW), 0);
	CHECK_EQ(MAP(&pt, va + 9 * PG, PA0 + 9 * PG, PG, RW), 0);
	CHECK_EQ(MAP(&pt, va + SZ_1G, PA0 + SZ_1G, PG, RW), 0);
	uint64_t allocs = host_alloc_attempts, tables = pt_count_tables(&pt);
	CHECK_EQ(PROTECT(&pt, va - SZ_2M, SZ_1G + 2 * SZ_2M, RX), 0);
	EXPECT_MAPPED(&pt, va, PA0, 0, RX);
	EXPECT_MAPPED(&pt, va + 9 * PG, PA0 + 9 * PG, 0, RX);
	EXPECT_MAPPED(&pt, va + SZ_1G, PA0 + SZ_1G, 0, RX);
	for (unsigned i = 1; i < 9; i++)
		EXPECT_UNMAPPED(&pt, va + i * PG);
	CHECK_EQ(host_alloc_attempts, allocs);
	CHECK_EQ(pt_count_tables(&pt), tables);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

/* Runs `op`, which must fail with `err` before allocating or writing anything. */
#define EXPECT_REFUSED(pt, err, call)                                                              \
	do {                                                                                       \
		struct snap before_ = {0}, after_ = {0};                                           \
		snap_take(pt, &before_);                                                           \
		uint64_t w_ = fake_arch.pte_writes;                                                \
		uint64_t a_ = host_alloc_attempts, l_ = host_live_frames();                        \
		CHECK_EQ((int64_t)(call), (int64_t)(err));                                         \
		snap_take(pt, &after_);                                                            \
		CHECK_SNAP_EQUAL(&before_, &after_);                                               \
		CHECK_EQ(fake_arch.pte_writes, w_);                                                \
		CHECK_EQ(host_alloc_attempts, a_);                                                 \
		CHECK_EQ(host_live_frames(), l_);                                                  \
		snap_free(&before_);                                                               \
		snap_free(&after_);                                                                \
	} while (0)

void test_map_over_mapping_eexist(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	uint64_t p = SZ_512G + SZ_1G + 7 * PG;
	CHECK_EQ(MAP(&pt, p, PA0, PG, RW), 0);
	/* A range that would need new tables on both sides, and covers p. */
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, SZ_1G, PA0, SZ_512G + 2 * SZ_1G, RW));
	EXPECT_UNMAPPED(&pt, SZ_1G);
	EXPECT_UNMAPPED(&pt, p + PG);
	/* The same page again, and a range ending on it. */
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, p, PA0, PG, RW));
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, p - 3 * PG, PA0, 4 * PG, RW));
	/* A 2 MiB block over a mapped page. */
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, ALIGN_DOWN(p, SZ_2M), PA0, SZ_2M, RW));
	/* A page inside a 2 MiB block, a block inside a 1 GiB block. */
	uint64_t b = 3 * SZ_1G + 4 * SZ_2M;
	CHECK_EQ(MAP(&pt, b, PA0 + 4 * SZ_2M, SZ_2M, RW), 0);
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, b + 5 * PG, PA0, PG, RW));
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, b - PG, PA0, 2 * PG, RW));
	uint64_t g = 5 * SZ_1G;
	CHECK_EQ(MAP(&pt, g, PA0 + SZ_1G, SZ_1G, RW), 0);
	EXPECT_MAPPED(&pt, g, PA0 + SZ_1G, 2, RW);
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, g + 2 * SZ_2M, PA0, 2 * SZ_2M, RW));
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, g - SZ_1G, PA0, 2 * SZ_1G, RW));
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_last_page_of_address_space(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t pa = PA0 + 0x3000;
	CHECK_EQ(MAP(&pt, TOP_PAGE, pa, PG, RW), 0);
	EXPECT_MAPPED(&pt, TOP_PAGE, pa, 0, RW);
	EXPECT_MAPPED(&pt, 0xFFFFFFFFFFFFFFFFull, pa + 0xFFF, 0, RW);
	EXPECT_UNMAPPED(&pt, TOP_PAGE - PG);
	CHECK_EQ(pt_count_tables(&pt), 4);
	CHECK_EQ(PROTECT(&pt, TOP_PAGE, PG, RO), 0);
	EXPECT_MAPPED(&pt, TOP_PAGE, pa, 0, RO);
	EXPECT_REFUSED(&pt, -EEXIST, MAP(&pt, TOP_PAGE, pa, PG, RW));
	CHECK_EQ(UNMAP(&pt, TOP_PAGE, PG), 0);
	EXPECT_UNMAPPED(&pt, TOP_PAGE);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_range_ending_at_top(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	/* Two 4 KiB pages, then two 2 MiB blocks, the second ending at 2^64. */
	uint64_t size = 2 * PG + 2 * SZ_2M, va = 0 - size, pa = PA0 + SZ_2M - 2 * PG;
	CHECK_EQ(MAP(&pt, va, pa, size, RW), 0);
	EXPECT_MAPPED(&pt, va, pa, 0, RW);
	EXPECT_MAPPED(&pt, va + 2 * PG, pa + 2 * PG, 1, RW);
	EXPECT_MAPPED(&pt, TOP_PAGE, pa + size - PG, 1, RW);
	EXPECT_MAPPED(&pt, 0xFFFFFFFFFFFFFFFFull, pa + size - 1, 1, RW);
	/* Partial unmap of the very last page splits the last block. */
	CHECK_EQ(UNMAP(&pt, TOP_PAGE, PG), 0);
	CHECK_EQ(pt.stats.blocks_split, 1);
	EXPECT_UNMAPPED(&pt, TOP_PAGE);
	EXPECT_MAPPED(&pt, TOP_PAGE - PG, pa + size - 2 * PG, 0, RW);
	/* Protect a range ending at the top, over the new hole. */
	CHECK_EQ(PROTECT(&pt, 0 - SZ_2M / 2, SZ_2M / 2, RO), 0);
	EXPECT_MAPPED(&pt, TOP_PAGE - PG, pa + size - 2 * PG, 0, RO);
	EXPECT_MAPPED(&pt, 0 - SZ_2M / 2 - PG, pa + size - SZ_2M / 2 - PG, 0, RW);
	CHECK_EQ(UNMAP(&pt, va, size), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	/* The last 1 GiB as one leaf. */
	CHECK_EQ(MAP(&pt, 0 - SZ_1G, PA0 + SZ_1G, SZ_1G, RW), 0);
	EXPECT_MAPPED(&pt, TOP_PAGE, PA0 + 2 * SZ_1G - PG, 2, RW);
	CHECK_EQ(pt_count_tables(&pt), 2);
	CHECK_EQ(UNMAP(&pt, 0 - SZ_1G, SZ_1G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_wrapping_range_einval(void)
{
	struct pt pt;
	init_pt(&pt);
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, TOP_PAGE, PA0, 2 * PG, RW));
	EXPECT_REFUSED(&pt, -EINVAL, UNMAP(&pt, TOP_PAGE, 2 * PG));
	EXPECT_REFUSED(&pt, -EINVAL, PROTECT(&pt, TOP_PAGE, 2 * PG, RO));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, 0x2000, PA0, 0 - PG, RW));
	EXPECT_REFUSED(&pt, -EINVAL, UNMAP(&pt, 0x2000, 0 - PG));
	EXPECT_REFUSED(&pt, -EINVAL, PROTECT(&pt, SZ_1G, 0 - SZ_2M, RO));
	/* The largest range that does not wrap is fine to unmap (nothing there). */
	CHECK_EQ(UNMAP(&pt, 0 - SZ_512G, SZ_512G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	pt_destroy(&pt);
}

void test_misaligned_einval(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = SZ_1G;
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, va + 0x800, PA0, PG, RW));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, va, PA0 + 0x10, PG, RW));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, va, PA0, PG + 1, RW));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, va, PA0, 100, RW));
	CHECK_EQ(MAP(&pt, va, PA0, 4 * PG, RW), 0);
	EXPECT_REFUSED(&pt, -EINVAL, UNMAP(&pt, va + 1, PG));
	EXPECT_REFUSED(&pt, -EINVAL, UNMAP(&pt, va, PG - 1));
	EXPECT_REFUSED(&pt, -EINVAL, PROTECT(&pt, va + 0x200, PG, RO));
	EXPECT_REFUSED(&pt, -EINVAL, PROTECT(&pt, va, 3 * PG + 8, RO));
	EXPECT_RANGE(&pt, va, PA0, 4 * PG, 0, RW);
	pt_destroy(&pt);
}

void test_size_zero_einval(void)
{
	struct pt pt;
	init_pt(&pt);
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, SZ_1G, PA0, 0, RW));
	EXPECT_REFUSED(&pt, -EINVAL, UNMAP(&pt, SZ_1G, 0));
	EXPECT_REFUSED(&pt, -EINVAL, PROTECT(&pt, SZ_1G, 0, RO));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, TOP_PAGE, PA0, 0, RW));
	pt_destroy(&pt);
}

/*
 * [pa, pa + size) must not wrap either (pt.h: pt_map maps [va, va + size) to
 * [pa, pa + size)); otherwise the tail of the range is silently mapped to
 * physical address 0 and up.
 */
void test_map_pa_range_wraps_einval(void)
{
	struct pt pt;
	init_pt(&pt);
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, SZ_1G, 0 - PG, 2 * PG, RW));
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, SZ_1G, 0 - SZ_2M, 2 * SZ_2M, RW));
	EXPECT_UNMAPPED(&pt, SZ_1G + PG);
	pt_destroy(&pt);
}

/*
 * A tree with PT_LEVELS levels translates 2^48 bytes: bits above 47 index
 * nothing, so a range spanning more than PT_ENTRIES root slots visits some
 * root slot twice. It must be refused (-EINVAL, "out of range") rather than
 * walked: here the counting pass sees root slot 0 absent on both visits and
 * counts its tables twice, the commit pass finds it already made.
 */
void test_map_range_beyond_tree_reach_einval(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	uint64_t reach = 1ull << pt_level_shift(PT_LEVELS); /* 2^48 */
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, 0, 1ull << 46, reach + PG, RW));
	/* Not longer than 2^48, but from the last page below 2^48: 513 root slots. */
	EXPECT_REFUSED(&pt, -EINVAL, MAP(&pt, reach - PG, (1ull << 46) + SZ_1G - PG, reach, RW));
	CHECK_EQ(pt_count_tables(&pt), 1);
	pt_destroy(&pt);
}
