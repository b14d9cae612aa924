/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: mapping and querying. A single page and its query, the
 * one-page map that commits directly when its tables exist and backs off
 * when one is missing, maps straddling 2 MiB, 1 GiB and 512 GiB boundaries
 * (each taking exactly the tables it needs), and the leaf sizes a map
 * picks: the largest block the leaf mode allows where va and pa are both
 * aligned to it, 4 KiB leaves where they are misaligned relative to each
 * other.
 */
#include "kernel/errno.h"
#include "tests/host/pt_host.h"

/* ---- Basic mapping --------------------------------------------------------------------------- */

void test_empty_tree(void)
{
	struct pt pt;
	init_pt(&pt);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_EQ(host_live_frames(), 1);
	CHECK_EQ(pt.stats.tables_allocated, 1);
	CHECK(!pt.live);
	EXPECT_UNMAPPED(&pt, 0);
	EXPECT_UNMAPPED(&pt, 0x12345000);
	EXPECT_UNMAPPED(&pt, TOP_PAGE);
	pt_destroy(&pt);
	CHECK_EQ(host_live_frames(), 0);
}

void test_map_query_single_page(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = 0x12345000, pa = PA0 + 0xABCDE000;
	CHECK_EQ(MAP(&pt, va, pa, PG, RW), 0);
	EXPECT_MAPPED(&pt, va, pa, 0, RW);
	EXPECT_MAPPED(&pt, va + 0x123, pa + 0x123, 0, RW);
	EXPECT_MAPPED(&pt, va + 0xFFF, pa + 0xFFF, 0, RW);
	EXPECT_UNMAPPED(&pt, va - PG);
	EXPECT_UNMAPPED(&pt, va + PG);
	struct pt_query_result q;
	REQUIRE(pt_query(&pt, va, &q));
	CHECK_EQ(q.pte, *slot_at(&pt, va, 0));
	CHECK_EQ(pt_count_tables(&pt), 4);
	CHECK_EQ(pt.stats.tables_allocated, 4);
	CHECK_EQ(pt.stats.leaves_set, 1);
	CHECK_FRAMES(&pt);
	/* PT_READ is implied. */
	CHECK_EQ(MAP(&pt, va + PG, pa + PG, PG, PT_WRITE | PT_EXEC), 0);
	EXPECT_MAPPED(&pt, va + PG, pa + PG, 0, RWX);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

/*
 * A one-page map commits without counting when its tables exist (pt_run):
 * into a missing table it backs off, unchanged, to count and allocate; into
 * an existing one it writes its leaf and nothing else, allocating nothing;
 * over a mapped page it fails with the tree as it was.
 */
void test_one_page_map_direct_and_back_off(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = 0x40201000, pa = PA0 + 0x5000;
	uint64_t attempts = host_alloc_attempts, writes = fake_arch.pte_writes;
	CHECK_EQ(MAP(&pt, va, pa, PG, RW), 0); /* three tables missing: the long way */
	CHECK_EQ(pt.stats.direct_maps, 0);
	CHECK_EQ(host_alloc_attempts - attempts, 3);
	CHECK_EQ(fake_arch.pte_writes - writes, 4); /* three tables, one leaf */
	attempts = host_alloc_attempts;
	writes = fake_arch.pte_writes;
	CHECK_EQ(MAP(&pt, va + PG, pa + PG, PG, RW), 0); /* direct */
	CHECK_EQ(pt.stats.direct_maps, 1);
	CHECK_EQ(host_alloc_attempts, attempts);
	CHECK_EQ(fake_arch.pte_writes - writes, 1);
	EXPECT_MAPPED(&pt, va + PG, pa + PG, 0, RW);
	writes = fake_arch.pte_writes;
	CHECK_EQ(MAP(&pt, va, pa + 7 * PG, PG, RO), -EEXIST);
	CHECK_EQ(fake_arch.pte_writes, writes);
	EXPECT_MAPPED(&pt, va, pa, 0, RW);
	/* A missing table with the allocation failing: -ENOMEM, nothing written. */
	frame_fail_after(0);
	CHECK_EQ(MAP(&pt, va + SZ_2M, pa, PG, RW), -ENOMEM);
	frame_fail_clear();
	CHECK_EQ(fake_arch.pte_writes, writes);
	EXPECT_UNMAPPED(&pt, va + SZ_2M);
	CHECK_EQ(pt.stats.leaves_set, 2);
	CHECK_EQ(pt.stats.direct_maps, 1); /* neither the mapped page nor the missing table */
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

/* Maps 16 KiB across `boundary` (two pages each side) and checks the tables it took. */
static void straddle(uint64_t boundary, uint64_t expect_tables)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = boundary - 2 * PG, pa = PA0 + 0x7000;
	CHECK_EQ(MAP(&pt, va, pa, 4 * PG, RW | PT_GLOBAL), 0);
	EXPECT_RANGE(&pt, va, pa, 4 * PG, 0, RW | PT_GLOBAL);
	EXPECT_UNMAPPED(&pt, va - PG);
	EXPECT_UNMAPPED(&pt, va + 4 * PG);
	CHECK_EQ(pt_count_tables(&pt), expect_tables);
	CHECK_EQ(pt.stats.leaves_set, 4);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	CHECK_EQ(UNMAP(&pt, va, 4 * PG), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_map_straddles_2m_boundary(void)
{
	straddle(5 * SZ_2M, 5); /* root, L2, L1, two L0 */
}

void test_map_straddles_1g_boundary(void)
{
	straddle(3 * SZ_1G, 6); /* root, L2, two L1, two L0 */
}

void test_map_straddles_512g_boundary(void)
{
	straddle(SZ_512G, 7); /* root, two of each below */
	straddle(5 * SZ_512G, 7);
}

/* ---- Leaf sizes ------------------------------------------------------------------------------ */

void test_large_leaves_2m_by_alignment(void)
{
	struct pt pt;
	init_pt(&pt);
	uint64_t va = SZ_1G + 3 * SZ_2M, pa = PA0 + 5 * SZ_2M;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_2M, RW), 0);
	EXPECT_MAPPED(&pt, va, pa, 1, RW);
	EXPECT_MAPPED(&pt, va + SZ_2M - PG, pa + SZ_2M - PG, 1, RW);
	EXPECT_MAPPED(&pt, va + SZ_2M, pa + SZ_2M, 1, RW);
	EXPECT_MAPPED(&pt, va + 2 * SZ_2M - 1, pa + 2 * SZ_2M - 1, 1, RW);
	EXPECT_UNMAPPED(&pt, va - PG);
	EXPECT_UNMAPPED(&pt, va + 2 * SZ_2M);
	CHECK_EQ(pt_count_tables(&pt), 3); /* root, L2, L1: no level-0 table */
	CHECK_EQ(pt.stats.leaves_set, 2);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_relatively_misaligned_gives_4k_leaves(void)
{
	struct pt pt;
	init_pt(&pt);
	/* va 2 MiB aligned, pa only 4 KiB aligned. */
	uint64_t va = SZ_1G + 4 * SZ_2M, pa = PA0 + SZ_2M + PG;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_2M, RW), 0);
	EXPECT_RANGE(&pt, va, pa, 2 * SZ_2M, 0, RW);
	CHECK_EQ(pt_count_tables(&pt), 5); /* root, L2, L1, two L0 */
	CHECK_EQ(pt.stats.leaves_set, 1024);
	/* pa 2 MiB aligned, va not. */
	uint64_t va2 = 2 * SZ_1G + PG, pa2 = PA0 + 8 * SZ_2M;
	CHECK_EQ(MAP(&pt, va2, pa2, 2 * SZ_2M, RW), 0);
	EXPECT_RANGE(&pt, va2, pa2, 2 * SZ_2M, 0, RW);
	CHECK_EQ(pt_count_tables(&pt),
		 5 + 1 + 3); /* a new L1, and the range touches three 2 MiB regions */
	/* A 1 GiB aligned va with a pa aligned to 2 MiB only: 2 MiB leaves, never 1 GiB. */
	uint64_t va3 = 4 * SZ_1G, pa3 = PA0 + SZ_1G + SZ_2M;
	CHECK_EQ(MAP(&pt, va3, pa3, SZ_1G, RW), 0);
	EXPECT_MAPPED(&pt, va3, pa3, 1, RW);
	EXPECT_MAPPED(&pt, va3 + SZ_1G - PG, pa3 + SZ_1G - PG, 1, RW);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_mixed_leaves_by_alignment(void)
{
	struct pt pt;
	init_pt(&pt);
	/* va and pa congruent modulo 2 MiB: 4 KiB head, two 2 MiB blocks, 4 KiB tail. */
	uint64_t va = SZ_1G + 2 * SZ_2M - 2 * PG, pa = PA0 + 6 * SZ_2M - 2 * PG;
	uint64_t size = 2 * PG + 2 * SZ_2M + 3 * PG;
	CHECK_EQ(MAP(&pt, va, pa, size, RX), 0);
	EXPECT_RANGE(&pt, va, pa, 2 * PG, 0, RX);
	EXPECT_MAPPED(&pt, va + 2 * PG, pa + 2 * PG, 1, RX);
	EXPECT_MAPPED(&pt, va + 2 * PG + SZ_2M + 5 * PG, pa + 2 * PG + SZ_2M + 5 * PG, 1, RX);
	EXPECT_RANGE(&pt, va + 2 * PG + 2 * SZ_2M, pa + 2 * PG + 2 * SZ_2M, 3 * PG, 0, RX);
	EXPECT_UNMAPPED(&pt, va + size);
	CHECK_EQ(pt.stats.leaves_set, 2 + 2 + 3);
	CHECK_EQ(pt_count_tables(&pt), 5); /* root, L2, L1, L0 head, L0 tail */
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_leaves_1g_when_allowed(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	uint64_t va = 2 * SZ_1G, pa = PA0 + SZ_1G;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_1G + SZ_2M + PG, RW | PT_GLOBAL), 0);
	EXPECT_MAPPED(&pt, va, pa, 2, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, va + SZ_1G + 0x123456, pa + SZ_1G + 0x123456, 2, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, va + 2 * SZ_1G, pa + 2 * SZ_1G, 1, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, va + 2 * SZ_1G + SZ_2M, pa + 2 * SZ_1G + SZ_2M, 0, RW | PT_GLOBAL);
	EXPECT_UNMAPPED(&pt, va + 2 * SZ_1G + SZ_2M + PG);
	CHECK_EQ(pt_count_tables(&pt), 4); /* root, L2, L1, L0 */
	CHECK_EQ(pt.stats.leaves_set, 4);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}

void test_no_1g_leaves_when_disabled(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_NO_1G;
	init_pt(&pt);
	uint64_t va = 2 * SZ_1G, pa = PA0 + SZ_1G;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_1G + SZ_2M + PG, RW), 0);
	EXPECT_MAPPED(&pt, va, pa, 1, RW);
	EXPECT_MAPPED(&pt, va + SZ_1G + 0x123456, pa + SZ_1G + 0x123456, 1, RW);
	EXPECT_MAPPED(&pt, va + 2 * SZ_1G, pa + 2 * SZ_1G, 1, RW);
	EXPECT_MAPPED(&pt, va + 2 * SZ_1G + SZ_2M, pa + 2 * SZ_1G + SZ_2M, 0, RW);
	CHECK_EQ(pt_count_tables(&pt), 6); /* root, L2, three L1, L0 */
	CHECK_EQ(pt.stats.leaves_set, 1024 + 1 + 1);
	CHECK_FRAMES(&pt);
	/* Splitting works the same without 1 GiB leaves. */
	CHECK_EQ(UNMAP(&pt, va + 7 * PG, PG), 0);
	CHECK_EQ(pt.stats.blocks_split, 1);
	EXPECT_MAPPED(&pt, va + 6 * PG, pa + 6 * PG, 0, RW);
	EXPECT_UNMAPPED(&pt, va + 7 * PG);
	pt_destroy(&pt);
}

void test_only_4k_leaves_mode(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_4K_ONLY;
	init_pt(&pt);
	uint64_t va = SZ_1G, pa = PA0;
	CHECK_EQ(MAP(&pt, va, pa, 2 * SZ_2M, RW), 0);
	EXPECT_RANGE(&pt, va, pa, 2 * SZ_2M, 0, RW);
	CHECK_EQ(pt_count_tables(&pt), 5);
	CHECK_EQ(pt.stats.leaves_set, 1024);
	CHECK_EQ(PROTECT(&pt, va + SZ_2M - PG, 2 * PG, RO), 0);
	CHECK_EQ(pt.stats.blocks_split, 0);
	EXPECT_MAPPED(&pt, va + SZ_2M, pa + SZ_2M, 0, RO);
	CHECK_EQ(UNMAP(&pt, va, 2 * SZ_2M), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}
