/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: splitting blocks. An unmap or protect covering part of a
 * 2 MiB or 1 GiB block splits it (a 1 GiB block twice when needed), leaving
 * every other page of the block mapped as before and the other blocks
 * untouched; one covering a whole block does not split it, and protecting
 * the split range back does not merge it. Protect keeps the accessed and
 * dirty bits of each leaf (a split's children inherit the block's) and
 * ignores those the caller passes.
 */
#include "tests/host/pt_host.h"

/* ---- Splitting ------------------------------------------------------------------------------- */

void test_partial_unmap_splits_2m_block(void)
{
	struct pt pt;
	init_pt(&pt);
	unsigned a = RW | PT_GLOBAL | PT_EXEC;
	uint64_t va = SZ_1G + 8 * SZ_2M, pa = PA0 + 2 * SZ_2M, hole = va + 0x100000;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_2M, a), 0);
	CHECK_EQ(pt_count_tables(&pt), 3);
	CHECK_EQ(UNMAP(&pt, hole, PG), 0);
	EXPECT_UNMAPPED(&pt, hole);
	EXPECT_MAPPED(&pt, hole - PG, pa + (hole - va) - PG, 0, a);
	EXPECT_MAPPED(&pt, hole + PG, pa + (hole - va) + PG, 0, a);
	EXPECT_MAPPED(&pt, va, pa, 0, a);
	EXPECT_MAPPED(&pt, va + SZ_2M - PG, pa + SZ_2M - PG, 0, a);
	EXPECT_MAPPED(&pt, va + SZ_2M, pa + SZ_2M, 1, a); /* the other block is untouched */
	for (uint64_t off = 0; off < SZ_2M; off += PG)
		if (va + off != hole)
			EXPECT_MAPPED(&pt, va + off, pa + off, 0, a);
	CHECK_EQ(pt.stats.blocks_split, 1);
	CHECK_EQ(pt.stats.leaves_cleared, 1);
	CHECK_EQ(pt_count_tables(&pt), 4);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_partial_unmap_splits_1g_block_twice(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	unsigned a = RW | AD;
	uint64_t va = SZ_1G, pa = PA0 + 3 * SZ_1G, hole = va + 5 * SZ_2M + 3 * PG;
	CHECK_EQ(MAP(&pt, va, pa, SZ_1G, a), 0);
	CHECK_EQ(pt_count_tables(&pt), 2);
	EXPECT_MAPPED(&pt, va, pa, 2, a);
	CHECK_EQ(UNMAP(&pt, hole, PG), 0);
	CHECK_EQ(pt.stats.blocks_split, 2);
	CHECK_EQ(pt_count_tables(&pt), 4);
	EXPECT_UNMAPPED(&pt, hole);
	EXPECT_MAPPED(&pt, va, pa, 1, a);
	EXPECT_MAPPED(&pt, va + 4 * SZ_2M + 0x1234, pa + 4 * SZ_2M + 0x1234, 1, a);
	EXPECT_MAPPED(&pt, va + 5 * SZ_2M, pa + 5 * SZ_2M, 0, a);
	EXPECT_MAPPED(&pt, hole - PG, pa + (hole - va) - PG, 0, a);
	EXPECT_MAPPED(&pt, hole + PG, pa + (hole - va) + PG, 0, a);
	EXPECT_MAPPED(&pt, va + 6 * SZ_2M - PG, pa + 6 * SZ_2M - PG, 0, a);
	EXPECT_MAPPED(&pt, va + 6 * SZ_2M, pa + 6 * SZ_2M, 1, a);
	EXPECT_MAPPED(&pt, va + SZ_1G - PG, pa + SZ_1G - PG, 1, a);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	/* Unmapping the rest empties and frees the split tables and the L2. */
	CHECK_EQ(UNMAP(&pt, va, SZ_1G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_partial_protect_splits_block(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = 3 * SZ_1G + 10 * SZ_2M, pa = PA0 + 4 * SZ_2M;
	CHECK_EQ(MAP(&pt, va, pa, SZ_2M, RW), 0);
	CHECK_EQ(PROTECT(&pt, va + 2 * PG, 2 * PG, RO), 0);
	CHECK_EQ(pt.stats.blocks_split, 1);
	CHECK_EQ(pt.stats.leaves_set, 1 + 2);
	EXPECT_MAPPED(&pt, va + PG, pa + PG, 0, RW);
	EXPECT_MAPPED(&pt, va + 2 * PG, pa + 2 * PG, 0, RO);
	EXPECT_MAPPED(&pt, va + 3 * PG, pa + 3 * PG, 0, RO);
	EXPECT_MAPPED(&pt, va + 4 * PG, pa + 4 * PG, 0, RW);
	EXPECT_MAPPED(&pt, va + SZ_2M - PG, pa + SZ_2M - PG, 0, RW);
	CHECK_EQ(pt_count_tables(&pt), 4);
	/* Protecting the whole block back does not merge it again. */
	CHECK_EQ(PROTECT(&pt, va, SZ_2M, RW), 0);
	EXPECT_RANGE(&pt, va, pa, SZ_2M, 0, RW);
	CHECK_EQ(pt.stats.blocks_split, 1);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_partial_protect_splits_1g_block(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	uint64_t va = 4 * SZ_1G, pa = PA0 + SZ_1G;
	CHECK_EQ(MAP(&pt, va, pa, SZ_1G, RWX), 0);
	/* Two pages across the first 2 MiB boundary: one 1 GiB split, two 2 MiB splits. */
	CHECK_EQ(PROTECT(&pt, va + SZ_2M - PG, 2 * PG, RX), 0);
	CHECK_EQ(pt.stats.blocks_split, 3);
	CHECK_EQ(pt_count_tables(&pt), 2 + 3);
	EXPECT_MAPPED(&pt, va + SZ_2M - 2 * PG, pa + SZ_2M - 2 * PG, 0, RWX);
	EXPECT_MAPPED(&pt, va + SZ_2M - PG, pa + SZ_2M - PG, 0, RX);
	EXPECT_MAPPED(&pt, va + SZ_2M, pa + SZ_2M, 0, RX);
	EXPECT_MAPPED(&pt, va + SZ_2M + PG, pa + SZ_2M + PG, 0, RWX);
	EXPECT_MAPPED(&pt, va + 2 * SZ_2M, pa + 2 * SZ_2M, 1, RWX);
	EXPECT_MAPPED(&pt, va + SZ_1G - PG, pa + SZ_1G - PG, 1, RWX);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_protect_whole_block_does_not_split(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = SZ_1G + 2 * SZ_2M, pa = PA0 + 2 * SZ_2M;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_2M, RW), 0);
	CHECK_EQ(PROTECT(&pt, va + SZ_2M, SZ_2M, RX | PT_DEVICE), 0);
	CHECK_EQ(pt.stats.blocks_split, 0);
	EXPECT_MAPPED(&pt, va, pa, 1, RW);
	EXPECT_MAPPED(&pt, va + SZ_2M, pa + SZ_2M, 1, RX | PT_DEVICE);
	CHECK_EQ(pt_count_tables(&pt), 3);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_protect_keeps_accessed_dirty(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = SZ_1G + 20 * SZ_2M, pa = PA0 + 0x50000;
	CHECK_EQ(MAP(&pt, va, pa, 2 * PG, RW | PT_ACCESSED), 0);
	CHECK_EQ(MAP(&pt, va + 2 * PG, pa + 2 * PG, PG, RW | AD), 0);
	CHECK_EQ(MAP(&pt, va + 3 * PG, pa + 3 * PG, PG, RW), 0);
	/* The "hardware" sets dirty on page 0. */
	pte_t *slot = slot_at(&pt, va, 0);
	REQUIRE(slot);
	*slot = arch_pte_make_leaf(pa, 0, RW | AD);
	/* Protect passes A/D of its own: they must be ignored. */
	CHECK_EQ(PROTECT(&pt, va, 4 * PG, RX | PT_DIRTY), 0);
	EXPECT_MAPPED(&pt, va, pa, 0, RX | AD);
	EXPECT_MAPPED(&pt, va + PG, pa + PG, 0, RX | PT_ACCESSED);
	EXPECT_MAPPED(&pt, va + 2 * PG, pa + 2 * PG, 0, RX | AD);
	EXPECT_MAPPED(&pt, va + 3 * PG, pa + 3 * PG, 0, RX);
	/* Through a split: the children inherit the block's A/D and keep them. */
	uint64_t vb = SZ_1G + 40 * SZ_2M, pb = PA0 + 40 * SZ_2M;
	CHECK_EQ(MAP(&pt, vb, pb, SZ_2M, RWX | PT_ACCESSED), 0);
	CHECK_EQ(PROTECT(&pt, vb + 8 * PG, PG, RO), 0);
	EXPECT_MAPPED(&pt, vb + 7 * PG, pb + 7 * PG, 0, RWX | PT_ACCESSED);
	EXPECT_MAPPED(&pt, vb + 8 * PG, pb + 8 * PG, 0, RO | PT_ACCESSED);
	/* Whole block, no split. */
	uint64_t vc = SZ_1G + 60 * SZ_2M, pc = PA0 + 60 * SZ_2M;
	CHECK_EQ(MAP(&pt, vc, pc, SZ_2M, RW | AD), 0);
	CHECK_EQ(PROTECT(&pt, vc, SZ_2M, RO), 0);
	EXPECT_MAPPED(&pt, vc, pc, 1, RO | AD);
	pt_destroy(&pt);
}
