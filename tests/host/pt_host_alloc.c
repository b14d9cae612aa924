/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: table allocation and freeing. Unmapping everything frees
 * every table but the root, pt_destroy frees the rest; a failed allocation
 * (pt_init's, or any one of a map's or a split's, each failed in turn)
 * returns -ENOMEM with the tree, the stats and the live frames exactly as
 * before, and the same operation then succeeds with exactly the tables it
 * needs. Last, the counters in pt->stats, on a tree live and not.
 */
#include <string.h>

#include "kernel/errno.h"
#include "tests/host/pt_host.h"

/* ---- Freeing --------------------------------------------------------------------------------- */

void test_unmap_everything_frees_all_but_root(void)
{
	struct pt pt;
	init_pt(&pt);
	build_busy_tree(&pt);
	CHECK(pt_count_tables(&pt) > 12);
	CHECK_FRAMES(&pt);
	CHECK_TREE(&pt);
	CHECK_EQ(UNMAP(&pt, 0, 8 * SZ_512G), 0);
	CHECK_EQ(UNMAP(&pt, 0 - SZ_512G, SZ_512G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_EQ(host_live_frames(), 1);
	CHECK_EQ(pt.stats.tables_freed, pt.stats.tables_allocated - 1);
	pte_t *root = kva(pt.root);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		CHECK_EQ(root[i], 0);
	CHECK_EQ(host_freed_marked_table, 0);
	pt_destroy(&pt);
	CHECK_EQ(host_live_frames(), 0);
}

void test_destroy_frees_everything(void)
{
	struct pt a, b;
	init_pt(&a);
	init_pt(&b);
	build_busy_tree(&a);
	uint64_t na = pt_count_tables(&a);
	CHECK_EQ(host_live_frames(), na + 1);
	pt_destroy(&b); /* an empty tree */
	CHECK_EQ(host_live_frames(), na);
	pt_destroy(&a);
	CHECK_EQ(host_live_frames(), 0);
	CHECK_EQ(host_freed_marked_table, 0);
}

/* ---- Failure injection ----------------------------------------------------------------------- */

void test_enomem_pt_init(void)
{
	struct pt pt;
	memset(&pt, 0x5A, sizeof(pt));
	frame_fail_after(0);
	CHECK_EQ((int64_t)pt_init(&pt), -ENOMEM);
	frame_fail_clear();
	CHECK_EQ(host_live_frames(), 0);
	init_pt(&pt);
	CHECK_EQ(pt_count_tables(&pt), 1);
	pt_destroy(&pt);
}

void test_enomem_map_at_every_allocation(void)
{
	struct pt pt;
	init_pt(&pt);
	/* Existing content: root slot 0 has an L2 already (page at 3 GiB). */
	CHECK_EQ(MAP(&pt, 3 * SZ_1G, PA0, PG, RW), 0);
	CHECK_EQ(MAP(&pt, SZ_512G - 3 * SZ_1G, PA0 + SZ_2M, SZ_2M, RW), 0);
	/*
	 * 4 KiB page, two 2 MiB blocks, 4 KiB page, straddling 512 GiB: needs a new
	 * L1 + L0 under the existing L2, and a new L2 + L1 + L0 in root slot 1.
	 */
	struct op op = {OP_MAP, SZ_512G - SZ_2M - PG, PA0 + 7 * SZ_2M - PG, 2 * SZ_2M + 2 * PG,
			RW | PT_GLOBAL};
	ENOMEM_SWEEP(&pt, &op, 5);
	EXPECT_MAPPED(&pt, op.va, op.pa, 0, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, op.va + PG, op.pa + PG, 1, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, SZ_512G, op.pa + PG + SZ_2M, 1, RW | PT_GLOBAL);
	EXPECT_MAPPED(&pt, SZ_512G + SZ_2M, op.pa + PG + 2 * SZ_2M, 0, RW | PT_GLOBAL);
	/* Under 4 KiB-only leaves the same range needs more tables. */
	CHECK_EQ(UNMAP(&pt, op.va, op.size), 0);
	fake_leaf_mode = FAKE_LEAVES_4K_ONLY;
	ENOMEM_SWEEP(&pt, &op, 7);
	EXPECT_MAPPED(&pt, op.va + PG, op.pa + PG, 0, RW | PT_GLOBAL);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_enomem_unmap_split_at_every_allocation(void)
{
	struct pt pt;
	init_pt(&pt);
	build_blocks(&pt);
	/* Splits: the 1 GiB block (then its first 2 MiB child), and the second 2 MiB block. */
	struct op op = {OP_UNMAP, SZ_1G + PG, 0, SZ_1G + SZ_2M, 0};
	ENOMEM_SWEEP(&pt, &op, 3);
	CHECK_EQ(pt.stats.blocks_split, 3);
	EXPECT_MAPPED(&pt, SZ_1G, PA0 + SZ_1G, 0, RWX | PT_ACCESSED);
	EXPECT_UNMAPPED(&pt, SZ_1G + PG);
	EXPECT_UNMAPPED(&pt, SZ_1G + SZ_2M);
	EXPECT_UNMAPPED(&pt, 2 * SZ_1G + SZ_2M);
	EXPECT_MAPPED(&pt, 2 * SZ_1G + SZ_2M + PG, PA0 + 2 * SZ_1G + SZ_2M + PG, 0, RW);
	EXPECT_MAPPED(&pt, 2 * SZ_1G + 2 * SZ_2M, PA0, 0, RW);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

void test_enomem_protect_split_at_every_allocation(void)
{
	struct pt pt;
	init_pt(&pt);
	build_blocks(&pt);
	struct op op = {OP_PROTECT, SZ_1G + PG, 0, SZ_1G + SZ_2M, RO};
	ENOMEM_SWEEP(&pt, &op, 3);
	CHECK_EQ(pt.stats.blocks_split, 3);
	EXPECT_MAPPED(&pt, SZ_1G, PA0 + SZ_1G, 0, RWX | PT_ACCESSED);
	EXPECT_MAPPED(&pt, SZ_1G + PG, PA0 + SZ_1G + PG, 0, RO | PT_ACCESSED);
	EXPECT_MAPPED(&pt, SZ_1G + SZ_2M, PA0 + SZ_1G + SZ_2M, 1, RO | PT_ACCESSED);
	EXPECT_MAPPED(&pt, 2 * SZ_1G, PA0 + 2 * SZ_1G, 1, RO);
	EXPECT_MAPPED(&pt, 2 * SZ_1G + SZ_2M, PA0 + 2 * SZ_1G + SZ_2M, 0, RO);
	EXPECT_MAPPED(&pt, 2 * SZ_1G + SZ_2M + PG, PA0 + 2 * SZ_1G + SZ_2M + PG, 0, RW);
	/* And a map failing in a tree that already has splits. */
	struct op map = {OP_MAP, 9 * SZ_1G - PG, PA0, 2 * PG, RW};
	ENOMEM_SWEEP(&pt, &map, 4);
	CHECK_TREE(&pt);
	pt_destroy(&pt);
}

/* ---- Statistics ------------------------------------------------------------------------------ */

void test_stats_counters(void)
{
	for (int live = 0; live <= 1; live++) {
		struct pt pt;
		init_pt(&pt);
		pt.live = live;
		struct pt_stats *s = &pt.stats;
		CHECK_EQ(s->tables_allocated, 1);
		uint64_t v = SZ_1G + 4 * SZ_2M, p = PA0 + 4 * SZ_2M;
		CHECK_EQ(MAP(&pt, v, p, 2 * SZ_2M, RW), 0);
		CHECK_EQ(MAP(&pt, v + 2 * SZ_2M, p, 3 * PG, RW), 0);
		CHECK_EQ(s->tables_allocated, 4);
		CHECK_EQ(s->leaves_set, 2 + 3);
		CHECK_EQ(UNMAP(&pt, v + PG, PG), 0);
		CHECK_EQ(s->blocks_split, 1);
		CHECK_EQ(s->tables_allocated, 5);
		CHECK_EQ(s->leaves_cleared, 1);
		CHECK_EQ(PROTECT(&pt, v + SZ_2M, SZ_2M, RX), 0);
		CHECK_EQ(s->leaves_set, 6);
		CHECK_EQ(PROTECT(&pt, v + SZ_2M, SZ_2M, RX), 0);
		CHECK_EQ(s->leaves_set, 6);
		/* Adding: a full flush when live. */
		CHECK_EQ(PROTECT(&pt, v + SZ_2M, SZ_2M, RWX), 0);
		CHECK_EQ(s->leaves_set, 7);
		CHECK_EQ(UNMAP(&pt, v, 2 * SZ_2M + 3 * PG), 0);
		CHECK_EQ(s->leaves_cleared, 1 + 511 + 1 + 3);
		CHECK_EQ(s->tables_freed, 4);
		CHECK_EQ(s->blocks_split, 1);
		CHECK_EQ(s->tables_allocated - s->tables_freed, pt_count_tables(&pt));
		if (!live) {
			CHECK_EQ(s->page_flushes, 0);
			CHECK_EQ(s->full_flushes, 0);
		} else {
			/*
			 * The split block (512 pages: full) before its page is unmapped (1
			 * page), protect RW->RX and RX->RWX of a block (full each), then the
			 * final unmap (tables freed: full).
			 */
			CHECK_EQ(s->page_flushes, 1);
			CHECK_EQ(s->full_flushes, 4);
			CHECK_EQ(s->page_flushes, fake_arch.page_flushes);
			CHECK_EQ(s->full_flushes, fake_arch.full_flushes);
			CHECK_EQ(host_kernel_flushes, 5);
		}
		CHECK_EQ(s->breaks, 0);
		pt_destroy(&pt);
		fake_arch.page_flushes = fake_arch.full_flushes = 0;
	}
}
