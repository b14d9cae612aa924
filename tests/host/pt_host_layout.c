/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: the fake architecture, and what pt.c and pt_walk.c must
 * not assume of a descriptor layout. The fake arch's own encoding
 * round-trips at every level in the hand-written layout and the generated
 * ones (no fixed address field). Then the generic code treats any
 * descriptor the arch calls absent like 0, marks its tables in struct page
 * when frames have one, and works without struct page and with physical
 * addresses that are not pointers.
 */
#include "tests/host/pt_host.h"

/* ---- The fake architecture itself ------------------------------------------------------------ */

void test_fake_arch_selftest(void)
{
	static const unsigned layouts[] = {0, 1, 2, 77};
	phys_addr_t frame;
	REQUIRE_EQ(frame_alloc_zeroed(&frame), 0);
	rng_state = 42;
	for (unsigned li = 0; li < ARRAY_SIZE(layouts); li++) {
		fake_arch_set_layout(layouts[li]);
		for (unsigned level = 0; level < PT_LEVELS; level++) {
			CHECK_EQ(arch_pte_kind(0, level), PTE_ABSENT);
			for (uint64_t seed = 0; seed < 64; seed++) {
				pte_t junk = fake_pte_absent_junk(level, seed);
				CHECK(junk != 0);
				CHECK_EQ(arch_pte_kind(junk, level), PTE_ABSENT);
			}
			if (level > 0) {
				pte_t t = arch_pte_make_table(frame, level);
				CHECK_EQ(arch_pte_kind(t, level), PTE_TABLE);
				CHECK_EQ(arch_pte_address(t, level), frame);
				CHECK(t != frame);
			}
			if (level == PT_LEVELS - 1)
				continue;
			for (unsigned i = 0; i < 256; i++) {
				uint64_t align = 1ull << pt_level_shift(level);
				phys_addr_t pa = (rnd() & ((1ull << 52) - 1)) & ~(align - 1);
				unsigned attrs = (i & 0xff) | PT_READ;
				pte_t p = arch_pte_make_leaf(pa, level, attrs);
				CHECK_EQ(arch_pte_kind(p, level), PTE_LEAF);
				CHECK_EQ(arch_pte_address(p, level), pa);
				CHECK_EQ(arch_pte_attrs(p, level), attrs);
				/* No fixed address field: masking out an x86-style field is wrong.
				 */
				if (pa != 0)
					CHECK((p & 0x000FFFFFFFFFF000ull) != pa);
			}
		}
		/* The same block is encoded differently at levels 1 and 2. */
		CHECK(arch_pte_make_leaf(PA0, 1, RW) != arch_pte_make_leaf(PA0, 2, RW));
		CHECK(arch_pte_make_table(frame, 1) != arch_pte_make_table(frame, 2));
		CHECK(arch_pte_make_table(frame, 2) != arch_pte_make_table(frame, 3));
	}
	/* The two generated layouts differ from the hand-written one and from each other. */
	fake_arch_set_layout(1);
	pte_t a = arch_pte_make_leaf(PA0, 0, RW);
	fake_arch_set_layout(2);
	pte_t b = arch_pte_make_leaf(PA0, 0, RW);
	fake_arch_set_layout(0);
	pte_t c = arch_pte_make_leaf(PA0, 0, RW);
	CHECK(a != b && b != c && a != c);
	CHECK_EQ(fake_arch.violations, 0);
	frame_free(frame, 0);
}

/* ---- Layout independence --------------------------------------------------------------------- */

void test_nonzero_absent_descriptors_are_absent(void)
{
	struct pt pt;
	fake_leaf_mode = FAKE_LEAVES_ALL;
	init_pt(&pt);
	uint64_t v = 2 * SZ_1G, p = PA0;
	CHECK_EQ(MAP(&pt, v, p, PG, RW), 0);
	struct {
		uint64_t va;
		unsigned level;
	} junk[] = {
	    {v + PG, 0}, {v + 2 * PG, 0}, {v + SZ_2M, 1}, {v + SZ_1G, 2}, {v + SZ_512G, 3},
	};
	for (unsigned i = 0; i < ARRAY_SIZE(junk); i++) {
		pte_t *slot = slot_at(&pt, junk[i].va, junk[i].level);
		REQUIRE(slot);
		REQUIRE_EQ(*slot, 0);
		*slot = fake_pte_absent_junk(junk[i].level, 1000 + i);
		CHECK(*slot != 0);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(junk); i++)
		EXPECT_UNMAPPED(&pt, junk[i].va);
	CHECK_EQ(pt_count_tables(&pt), 4);
	CHECK_EQ(PROTECT(&pt, v, 4 * SZ_2M, RO), 0); /* skips the junk */
	CHECK_EQ(UNMAP(&pt, v + 2 * SZ_2M, SZ_2M), 0);
	CHECK_EQ(pt_count_tables(&pt), 4);
	/* Mapping over junk replaces it. */
	CHECK_EQ(MAP(&pt, v + PG, p + PG, PG, RW), 0);
	EXPECT_MAPPED(&pt, v + PG, p + PG, 0, RW);
	CHECK_EQ(MAP(&pt, v + SZ_2M, p + SZ_2M, SZ_2M, RW), 0);
	EXPECT_MAPPED(&pt, v + SZ_2M, p + SZ_2M, 1, RW);
	CHECK_EQ(MAP(&pt, v + SZ_1G, p + SZ_1G, SZ_1G, RW), 0);
	EXPECT_MAPPED(&pt, v + SZ_1G, p + SZ_1G, 2, RW);
	CHECK_EQ(MAP(&pt, v + SZ_512G, p, PG, RW), 0);
	EXPECT_MAPPED(&pt, v + SZ_512G, p, 0, RW);
	CHECK_FRAMES(&pt);
	/* A table holding only junk is empty: unmapping the rest frees it. */
	CHECK_EQ(UNMAP(&pt, v, 2 * PG), 0);
	CHECK(slot_at(&pt, v, 0) == NULL);
	CHECK_EQ(UNMAP(&pt, v, SZ_512G + SZ_1G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	CHECK_EQ(fake_arch.violations, 0);
	pt_destroy(&pt);
}

void test_page_metadata_marks_tables(void)
{
	struct pt pt;
	host_frame_pages = true;
	init_pt(&pt);
	struct page *root = frame_to_page(pt.root);
	REQUIRE(root);
	CHECK(root->flags & PAGE_TABLE);
	CHECK_EQ(root->pt_level, PT_LEVELS - 1);
	build_busy_tree(&pt);
	CHECK_TREE(&pt);
	CHECK_EQ(UNMAP(&pt, 0, 8 * SZ_512G), 0);
	CHECK_TREE(&pt);
	CHECK_EQ(host_freed_marked_table, 0);
	pt_destroy(&pt);
	CHECK_EQ(host_freed_marked_table, 0);
}

void test_no_page_metadata_and_pa_not_pointer(void)
{
	struct pt pt;
	host_frame_pages = false;
	host_pa_offset = 1ull << 50; /* kva(pa) != (void *)pa */
	fake_arch_set_layout(3);
	init_pt(&pt);
	CHECK(frame_to_page(pt.root) == NULL);
	build_busy_tree(&pt);
	CHECK_TREE(&pt);
	CHECK_FRAMES(&pt);
	EXPECT_MAPPED(&pt, SZ_512G - PG, PA0 + 0x2000, 0, RW);
	EXPECT_MAPPED(&pt, SZ_1G + 3 * SZ_2M + 4 * PG, PA0 + SZ_1G + 3 * SZ_2M + 4 * PG, 0, RWX);
	EXPECT_MAPPED(&pt, SZ_1G + 9 * SZ_2M, PA0 + SZ_1G + 9 * SZ_2M, 1, RWX);
	struct op op = {OP_MAP, 11 * SZ_512G - PG, PA0, 2 * PG, RW};
	ENOMEM_SWEEP(&pt, &op, 6);
	CHECK_EQ(UNMAP(&pt, 0, 16 * SZ_512G), 0);
	CHECK_EQ(UNMAP(&pt, 0 - SZ_512G, SZ_512G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_FRAMES(&pt);
	pt_destroy(&pt);
}
