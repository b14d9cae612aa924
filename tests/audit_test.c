// SPDX-License-Identifier: BSD-2-Clause
/*
 * audit suite: the page-table audit (kernel/mm/audit.h) passes on tables
 * the mm code built, and names each kind of breach when a test makes one
 * behind the mm code's back (pt_map, pt_protect and frame_free on an mm's
 * tables directly, each undone before the case ends).
 *
 * `mm.break=leak_pte` makes every unmap leave the last leaf of a run in
 * place while its frame is freed: tables_consistent_after_every_operation
 * must then fail (the audit finds a leaf mapping a free frame), and so
 * does the audit the runner makes after every suite.
 */
#include "kernel/errno.h"
#include "kernel/mm/audit.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define AU_VA(off) (arch_mm_layout.user_base + MiB(128) + (off))

/* Runs the audit of `mm`, logs what it found, and returns whether it found something. */
static bool audit_finds(struct ktest *t, struct mm *mm, const char *expect)
{
	char why[160] = "";
	int err = mm_audit_mm(mm, why, sizeof(why));
	if (err)
		ktest_log(t, "%s", why);
	if (err && expect && !strstr(why, expect)) {
		ktest_log(t, "expected a report naming '%s'", expect);
		return false;
	}
	return err != 0;
}

/* A new mm with one page of a frame of its own (in *pa) mapped read-only at AU_VA(0). */
static struct mm *mm_with_phys_page(struct ktest *t, phys_addr_t *pa)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, frame_alloc_zeroed(pa), 0);
	ASSERT_EQ(t, vm_map_phys(mm, AU_VA(0), *pa, PAGE_SIZE, PT_READ), 0);
	EXPECT_FALSE(t, audit_finds(t, mm, NULL));
	return mm;
}

static void tables_consistent_after_every_operation(struct ktest *t)
{
	/*
	 * ASSERTs: the first breach ends the case. Going on past a leaf left
	 * on a freed frame (mm.break=leak_pte) would free that frame again
	 * and panic before the case could report.
	 */
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	const unsigned rw = PT_READ | PT_WRITE;
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	ASSERT_EQ(t, vm_map_anon(mm, AU_VA(0), 64 * PAGE_SIZE, rw), 0);
	ASSERT_EQ(t, vm_populate(mm, AU_VA(0), 64 * PAGE_SIZE), 0);
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	ASSERT_EQ(t, vm_protect(mm, AU_VA(8 * PAGE_SIZE), 8 * PAGE_SIZE, PT_READ), 0);
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	ASSERT_EQ(t, vm_unmap(mm, AU_VA(4 * PAGE_SIZE), 20 * PAGE_SIZE), 0);
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	ASSERT_EQ(t, vm_discard(mm, AU_VA(32 * PAGE_SIZE), 4 * PAGE_SIZE), 0);
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	/* A whole table's worth goes: the emptied tables go with it. */
	ASSERT_EQ(t, vm_unmap(mm, AU_VA(0), 64 * PAGE_SIZE), 0);
	ASSERT_FALSE(t, audit_finds(t, mm, NULL));
	char why[160];
	EXPECT_EQ(t, mm_audit_all(why, sizeof(why)), 0);
	mm_destroy(mm);
}

static void names_a_leaf_outside_every_vma(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	ASSERT_EQ(t, pt_map(&mm->pt, AU_VA(0), pa, PAGE_SIZE, PT_READ | PT_USER), 0);
	EXPECT_TRUE(t, audit_finds(t, mm, "outside every VMA"));
	ASSERT_EQ(t, pt_unmap(&mm->pt, AU_VA(0), PAGE_SIZE), 0);
	EXPECT_FALSE(t, audit_finds(t, mm, NULL));
	frame_free(pa, 0);
	mm_destroy(mm);
}

static void names_a_leaf_wider_than_its_vma(struct ktest *t)
{
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	ASSERT_EQ(t, vm_map_anon(mm, AU_VA(0), PAGE_SIZE, PT_READ), 0);
	ASSERT_EQ(t, vm_populate(mm, AU_VA(0), PAGE_SIZE), 0);
	ASSERT_EQ(t, pt_protect(&mm->pt, AU_VA(0), PAGE_SIZE, PT_READ | PT_WRITE | PT_USER), 0);
	EXPECT_TRUE(t, audit_finds(t, mm, "its VMA allows"));
	ASSERT_EQ(t, pt_protect(&mm->pt, AU_VA(0), PAGE_SIZE, PT_READ | PT_USER), 0);
	EXPECT_FALSE(t, audit_finds(t, mm, NULL));
	mm_destroy(mm);
}

static void names_a_leaf_to_a_free_frame(struct ktest *t)
{
	phys_addr_t pa;
	struct mm *mm = mm_with_phys_page(t, &pa);
	/* The owner frees the frame while a mapping still names it: a use after free. */
	frame_free(pa, 0);
	EXPECT_TRUE(t, audit_finds(t, mm, "maps free frame"));
	/* A physical mapping never frees its frame: the unmap only removes the entry. */
	ASSERT_EQ(t, vm_unmap(mm, AU_VA(0), PAGE_SIZE), 0);
	EXPECT_FALSE(t, audit_finds(t, mm, NULL));
	mm_destroy(mm);
}

static void names_an_empty_table(struct ktest *t)
{
	phys_addr_t pa;
	struct mm *mm = mm_with_phys_page(t, &pa);
	/* Clear the leaf by hand: its table stays, empty, as a missed unhook would leave it. */
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&mm->pt, AU_VA(0), &q));
	pte_t *root = kva(mm->pt.root);
	pte_t *table = root;
	for (unsigned level = PT_LEVELS - 1; level > 0; level--) {
		unsigned idx = (AU_VA(0) >> pt_level_shift(level)) & (PT_ENTRIES - 1);
		table = kva(arch_pte_address(table[idx], level));
	}
	unsigned idx = (AU_VA(0) >> PAGE_SHIFT) & (PT_ENTRIES - 1);
	pte_t leaf = table[idx];
	arch_pte_write(&table[idx], 0);
	EXPECT_TRUE(t, audit_finds(t, mm, "is empty"));
	arch_pte_write(&table[idx], leaf); /* nothing cached it meanwhile: no CPU runs the mm */
	EXPECT_FALSE(t, audit_finds(t, mm, NULL));
	ASSERT_EQ(t, vm_unmap(mm, AU_VA(0), PAGE_SIZE), 0);
	frame_free(pa, 0);
	mm_destroy(mm);
}

static const struct ktest_case audit_cases[] = {
    KTEST_CASE(tables_consistent_after_every_operation),
    KTEST_CASE(names_a_leaf_outside_every_vma),
    KTEST_CASE(names_a_leaf_wider_than_its_vma),
    KTEST_CASE(names_a_leaf_to_a_free_frame),
    KTEST_CASE(names_an_empty_table),
    {0},
};
KTEST_SUITE(audit_suite, "audit", audit_cases);
