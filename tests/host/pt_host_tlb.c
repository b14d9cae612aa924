/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: TLB maintenance. A freed table is unhooked, then flushed
 * (a full flush), then freed; a tree nobody walks (not live) is never
 * flushed; on a live tree every page unmapped, and every page whose
 * permissions or memory type change, is flushed, with no descriptor written
 * after the last flush; the arch's flush decision over every pair of
 * attribute sets. Last, arm64's range TLBI operands (tlbi_range_host_test.c).
 */
#include <stdio.h>

#include "tests/host/pt_host.h"

/* ---- TLB maintenance ------------------------------------------------------------------------- */

/* Pages in three 1 GiB regions of two root slots: 8 tables below the root. */
static void build_sparse(struct pt *pt)
{
	REQUIRE_EQ(MAP(pt, 3 * SZ_1G + 5 * SZ_2M + 7 * PG, PA0, PG, RW), 0);
	REQUIRE_EQ(MAP(pt, 7 * SZ_1G + PG, PA0 + PG, PG, RW), 0);
	REQUIRE_EQ(MAP(pt, 3 * SZ_512G + 2 * SZ_1G + PG, PA0 + 2 * PG, PG, RW), 0);
	REQUIRE_EQ(pt_count_tables(pt), 9);
}

void test_unhook_flush_free_order(void)
{
	struct pt pt;
	init_pt(&pt);
	pt.live = true;
	build_sparse(&pt);
	struct snap s = {0};
	snap_take(&pt, &s);
	host_events_reset();
	uint64_t full = fake_arch.full_flushes;
	CHECK_EQ(UNMAP(&pt, 0, 4 * SZ_512G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK(!host_events_overflowed());
	unsigned frees = 0;
	for (size_t i = 0; i < host_event_count(); i++) {
		const struct host_event *e = host_event_get(i);
		if (e->kind != EV_FREE)
			continue;
		frees++;
		const struct snap_table *t = NULL;
		for (size_t k = 0; k < s.n; k++)
			if (s.t[k].pa == e->a)
				t = &s.t[k];
		if (!CHECK(t && t->parent_slot)) {
			fail_at(__FILE__, __LINE__, "freed %#llx is not a table below the root",
				(unsigned long long)e->a);
			continue;
		}
		/* The unhook: the parent slot written to 0, before the free. */
		size_t unhook = SIZE_MAX;
		for (size_t k = 0; k < i; k++) {
			const struct host_event *w = host_event_get(k);
			if (w->kind == EV_PTE_WRITE &&
			    w->a == (uint64_t)(uintptr_t)t->parent_slot && w->c == 0)
				unhook = k;
		}
		if (!CHECK(unhook != SIZE_MAX))
			continue;
		/* A full flush strictly between the unhook and the free. */
		bool flushed = false;
		for (size_t k = unhook + 1; k < i; k++)
			flushed |= host_event_get(k)->kind == EV_FLUSH_FULL;
		if (!flushed)
			fail_at(
			    __FILE__, __LINE__,
			    "table %#llx (level %u) freed (event %zu) with no full TLB flush after "
			    "its unhook (event %zu)",
			    (unsigned long long)t->pa, t->level, i, unhook);
	}
	check_flush_after_writes_at(__FILE__, __LINE__); /* the tree was final when flushed */
	CHECK_EQ(frees, 8);
	CHECK_EQ(fake_arch.full_flushes - full, 1);
	CHECK_EQ(pt.stats.full_flushes, 1);
	CHECK_EQ(pt.stats.tables_freed, 8);
	snap_free(&s);
	pt_destroy(&pt);
}

void test_not_live_no_flush(void)
{
	struct pt pt;
	init_pt(&pt);
	CHECK(!pt.live);
	build_sparse(&pt);
	build_blocks(&pt);
	CHECK_EQ(PROTECT(&pt, SZ_1G + PG, SZ_2M, RO), 0);
	CHECK_EQ(UNMAP(&pt, 0, 4 * SZ_512G), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_EQ(fake_arch.full_flushes, 0);
	CHECK_EQ(fake_arch.page_flushes, 0);
	CHECK_EQ(pt.stats.page_flushes, 0);
	CHECK_EQ(pt.stats.full_flushes, 0);
	CHECK_EQ(pt.stats.tables_freed, pt.stats.tables_allocated - 1);
	pt_destroy(&pt);
}

static bool page_flushed(uint64_t va)
{
	for (size_t i = 0; i < host_event_count(); i++) {
		const struct host_event *e = host_event_get(i);
		if (e->kind == EV_FLUSH_FULL || (e->kind == EV_FLUSH_PAGE && e->a == va))
			return true;
	}
	return false;
}

void test_live_unmap_flushes(void)
{
	struct pt pt;
	init_pt(&pt);
	pt.live = true;
	uint64_t v = 3 * SZ_1G + 4 * SZ_2M;
	CHECK_EQ(MAP(&pt, v, PA0, 64 * PG, RW), 0);
	CHECK_EQ(MAP(&pt, v + SZ_2M / 2, PA0, PG, RW), 0); /* keeps the L0 table alive */
	/* Mapping into holes: no flush. */
	CHECK_EQ(fake_arch.page_flushes + fake_arch.full_flushes, 0);
	host_events_reset();
	CHECK_EQ(UNMAP(&pt, v, 3 * PG), 0);
	CHECK_EQ(fake_arch.page_flushes, 3);
	CHECK_EQ(fake_arch.full_flushes, 0);
	CHECK_EQ(pt.stats.page_flushes, 3);
	for (unsigned i = 0; i < 3; i++)
		CHECK(page_flushed(v + i * PG));
	check_flush_after_writes_at(__FILE__, __LINE__);
	/* Many pages: each flushed, or one full flush. */
	host_events_reset();
	CHECK_EQ(UNMAP(&pt, v + 3 * PG, 40 * PG), 0);
	for (unsigned i = 3; i < 43; i++)
		CHECK(page_flushed(v + i * PG));
	check_flush_after_writes_at(__FILE__, __LINE__);
	/* A whole 2 MiB block. */
	uint64_t w = 3 * SZ_1G + 8 * SZ_2M;
	CHECK_EQ(MAP(&pt, w, PA0 + 8 * SZ_2M, SZ_2M, RW), 0);
	host_events_reset();
	CHECK_EQ(UNMAP(&pt, w, SZ_2M), 0);
	for (uint64_t off = 0; off < SZ_2M; off += PG)
		CHECK(page_flushed(w + off));
	check_flush_after_writes_at(__FILE__, __LINE__);
	/* A split: the removed page flushed. */
	CHECK_EQ(MAP(&pt, w, PA0 + 8 * SZ_2M, SZ_2M, RW), 0);
	host_events_reset();
	CHECK_EQ(UNMAP(&pt, w + 9 * PG, PG), 0);
	CHECK(page_flushed(w + 9 * PG));
	check_flush_after_writes_at(__FILE__, __LINE__);
	pt_destroy(&pt);
}

void test_live_protect_flush_rules(void)
{
	struct pt pt;
	init_pt(&pt);
	pt.live = true;
	uint64_t v = 3 * SZ_1G + 4 * SZ_2M;
	CHECK_EQ(MAP(&pt, v, PA0, 4 * PG, RW), 0);
	struct {
		unsigned attrs;
		unsigned writes; /* leaves rewritten */
		bool flush;
	} steps[] = {
	    /*
	     * A live tree is the kernel's, whose faults are not retried: adding a
	     * permission is flushed too (arch_pte_needs_flush says no, for address
	     * spaces, which go through a gather).
	     */
	    {RWX, 4, true},		  /* adding exec */
	    {RX, 4, true},		  /* removing write */
	    {RX, 0, false},		  /* no change */
	    {RX | PT_ACCESSED, 0, false}, /* A/D are not the caller's to set */
	    {RX | PT_DEVICE, 4, true},	  /* memory type */
	    {RX | PT_DEVICE | PT_USER, 4, true},
	    {RX | PT_USER, 4, true},
	    {RWX | PT_USER, 4, true}, /* adding write */
	    {RO | PT_USER, 4, true},  /* removing write and exec */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(steps); i++) {
		host_events_reset();
		uint64_t w = fake_arch.pte_writes, fp = fake_arch.page_flushes,
			 ff = fake_arch.full_flushes;
		CHECK_EQ(PROTECT(&pt, v, 4 * PG, steps[i].attrs), 0);
		EXPECT_RANGE(&pt, v, PA0, 4 * PG, 0, steps[i].attrs & ~(unsigned)AD);
		if (!CHECK_EQ(fake_arch.pte_writes - w, steps[i].writes))
			printf("#   (step %u)\n", i);
		bool flushed = fake_arch.page_flushes != fp || fake_arch.full_flushes != ff;
		if (!CHECK_EQ(flushed, steps[i].flush))
			printf("#   (step %u)\n", i);
		if (steps[i].flush)
			for (unsigned k = 0; k < 4; k++)
				CHECK(page_flushed(v + k * PG));
		check_flush_after_writes_at(__FILE__, __LINE__);
	}
	pt_destroy(&pt);
}

void test_attrs_need_flush_truth_table(void)
{
	static const struct {
		unsigned old, new;
		bool flush;
	} rows[] = {
	    {RW, RO, true},  /* removing write */
	    {RWX, RW, true}, /* removing exec */
	    {RWX, RO, true},
	    {RW, RX, true},  /* write removed, exec added */
	    {RO, RW, false}, /* adding write */
	    {RO, RX, false}, /* adding exec */
	    {RO, RWX, false},
	    {RW, RW, false}, /* no change */
	    {RWX | PT_GLOBAL, RWX | PT_GLOBAL, false},
	    {RO, RO | PT_DEVICE, true}, /* memory type */
	    {RW | PT_DEVICE, RW, true},
	    {RO, RO | PT_USER, true},
	    {RO | PT_USER, RO, true},
	    {RO | PT_GLOBAL, RO, true},
	    {RO, RO | PT_GLOBAL, true},
	    {RO, RO | AD, false}, /* accessed/dirty only */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(rows); i++)
		if (!CHECK_EQ(pt_attrs_need_flush(rows[i].old, rows[i].new), rows[i].flush))
			printf("#   (row %u: %#x -> %#x)\n", i, rows[i].old, rows[i].new);
	/* Properties over every pair of attribute sets. */
	const unsigned perm = PT_READ | PT_WRITE | PT_EXEC, type = PT_USER | PT_GLOBAL | PT_DEVICE;
	unsigned bad = 0;
	for (unsigned o = 0; o < 256; o++) {
		for (unsigned n = 0; n < 256; n++) {
			unsigned old = o | PT_READ, new = n | PT_READ;
			bool f = pt_attrs_need_flush(old, new);
			if (old & ~new &perm)
				bad += !f; /* a permission removed */
			if ((old ^ new) & PT_DEVICE)
				bad += !f;
			if (!((old ^ new) & type) && !(old & ~new &perm))
				bad += f; /* only additions or A/D */
		}
	}
	CHECK_EQ(bad, 0);
}

/* ---- arm64 range TLBI operands (tlbi_range_host_test.c) -------------------------------------- */

void test_tlbi_range_operands(void)
{
	CHECK_EQ(tlbi_range_host_check(), 0);
}
