/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: changing entries of a live tree. A block split on a live
 * tree is invalidated (the lock dropped) before any of its pages change;
 * under break-before-make the block is broken, invalidated, then made again
 * as a table, and a new memory type is a break and a make too; a break
 * overlapping a range the owner marks in use is refused (-EBUSY) before
 * anything changes; every split of an -ENOMEM sweep stops and resumes on a
 * live tree. Last, pt.h's contract that a live tree is changed with
 * interrupts enabled once two CPUs are online.
 */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "kernel/errno.h"
#include "kernel/percpu.h"
#include "tests/host/pt_host.h"

/* ---- Replacing live entries: splits, break-before-make --------------------------------------- */

/*
 * The operation's events as letters: a allocation, F free; descriptor
 * writes b (valid -> 0: a clear or a break), m (0 -> valid: a map or a
 * make), r (valid -> valid); K a kernel-range flush request, then E (a
 * full flush: every entry) or P (a page) for the local flushes it did.
 */
static const char *event_letters(void)
{
	static char buf[256];
	size_t n = 0;
	for (size_t i = 0; i < host_event_count() && n + 1 < sizeof(buf); i++) {
		const struct host_event *e = host_event_get(i);
		char c = 0;
		switch (e->kind) {
		case EV_ALLOC:
			c = 'a';
			break;
		case EV_FREE:
			c = 'F';
			break;
		case EV_PTE_WRITE:
			c = e->b && !e->c ? 'b' : !e->b && e->c ? 'm' : 'r';
			break;
		case EV_KERNEL_FLUSH:
			c = 'K';
			break;
		case EV_FLUSH_FULL:
			c = 'E';
			break;
		case EV_FLUSH_PAGE:
			c = 'P';
			break;
		default:
			c = '?';
		}
		buf[n++] = c;
	}
	buf[n] = 0;
	return buf;
}
#define CHECK_EVENTS(want)                                                                         \
	do {                                                                                       \
		const char *got_ = event_letters();                                                \
		if (strcmp(got_, want) != 0)                                                       \
			fail_at(__FILE__, __LINE__, "events \"%s\", expected \"%s\"", got_, want); \
	} while (0)

static struct {
	struct pt *pt;
	unsigned calls;
	uint64_t va;
	bool mapped; /* pt_query(va) at the call */
	unsigned level;
} replaced;

static void after_replace(struct pt *pt, virt_addr_t va)
{
	struct pt_query_result q;
	replaced.pt = pt;
	replaced.calls++;
	replaced.va = va;
	replaced.mapped = pt_query(pt, va, &q);
	replaced.level = replaced.mapped ? q.level : ~0u;
	/* The lock is dropped while the replaced entry is invalidated. */
	CHECK_EQ(pt->lock.holder, 0);
}

/* Unmaps one page of a 2 MiB block; returns the events. */
static void split_one_page(struct pt *pt, bool live, bool bbm)
{
	fake_bbm = bbm;
	pt->live = live;
	uint64_t v = 5 * SZ_1G + 6 * SZ_2M, hole = v + 9 * PG;
	REQUIRE_EQ(MAP(pt, v, PA0 + 6 * SZ_2M, SZ_2M, RW | PT_GLOBAL), 0);
	replaced.calls = 0;
	pt_test_after_replace = after_replace;
	host_events_reset();
	int r = UNMAP(pt, hole, PG);
	pt_test_after_replace = NULL;
	CHECK_EQ(r, 0);
	EXPECT_UNMAPPED(pt, hole);
	EXPECT_MAPPED(pt, hole - PG, PA0 + 6 * SZ_2M + 8 * PG, 0, RW | PT_GLOBAL);
	EXPECT_MAPPED(pt, v, PA0 + 6 * SZ_2M, 0, RW | PT_GLOBAL);
	CHECK_EQ(pt->stats.blocks_split, 1);
	CHECK_EQ(replaced.calls, live ? 1 : 0);
	if (live) {
		CHECK(replaced.pt == pt);
		CHECK_EQ(replaced.va, hole);
	}
	CHECK_FRAMES(pt);
	CHECK_TREE(pt);
}

void test_live_split_invalidated_before_its_pages_change(void)
{
	struct pt pt;
	init_pt(&pt);
	/* Like x86: the table goes in over the block, the block is invalidated, then the page. */
	split_one_page(&pt, true, false);
	CHECK_EVENTS("arKEbKP");
	CHECK(replaced.mapped); /* the table was in when the block was invalidated */
	CHECK_EQ(replaced.level, 0);
	CHECK_EQ(pt.stats.breaks, 0);
	check_flush_after_writes_at(__FILE__, __LINE__);
	pt_destroy(&pt);
}

void test_bbm_split_breaks_invalidates_makes(void)
{
	struct pt pt;
	init_pt(&pt);
	/* Like arm64: break, invalidate everywhere, make, then the page. */
	split_one_page(&pt, true, true);
	CHECK_EVENTS("abKEmbKP");
	CHECK(!replaced.mapped); /* invalidated while the slot was still broken */
	CHECK_EQ(pt.stats.breaks, 1);
	CHECK_EQ(host_kernel_flushes, 2);
	check_flush_after_writes_at(__FILE__, __LINE__);
	pt_destroy(&pt);
}

void test_split_not_live(void)
{
	struct pt pt;
	init_pt(&pt);
	/* Nobody walks the tree: no flush, no stop; a break still precedes the make. */
	split_one_page(&pt, false, true);
	CHECK_EVENTS("abmb");
	CHECK_EQ(pt.stats.breaks, 0);
	pt_destroy(&pt);
	init_pt(&pt);
	split_one_page(&pt, false, false);
	CHECK_EVENTS("arb");
	pt_destroy(&pt);
}

void test_bbm_retype_and_permissions(void)
{
	struct pt pt;
	init_pt(&pt);
	fake_bbm = true;
	pt.live = true;
	uint64_t v = 3 * SZ_1G + 4 * SZ_2M;
	CHECK_EQ(MAP(&pt, v, PA0, 2 * PG, RW | PT_GLOBAL), 0);
	/* A new memory type: break, invalidate, make, one page at a time. */
	host_events_reset();
	CHECK_EQ(PROTECT(&pt, v, 2 * PG, RW | PT_GLOBAL | PT_DEVICE), 0);
	CHECK_EVENTS("bKPmbKPm");
	EXPECT_RANGE(&pt, v, PA0, 2 * PG, 0, RW | PT_GLOBAL | PT_DEVICE);
	CHECK_EQ(pt.stats.breaks, 2);
	/* Permissions only: in place, then invalidated (added ones too: a kernel tree). */
	host_events_reset();
	CHECK_EQ(PROTECT(&pt, v, 2 * PG, RO | PT_GLOBAL | PT_DEVICE), 0);
	CHECK_EVENTS("rrKPP");
	host_events_reset();
	CHECK_EQ(PROTECT(&pt, v, 2 * PG, RWX | PT_GLOBAL | PT_DEVICE), 0);
	CHECK_EVENTS("rrKPP");
	CHECK_EQ(pt.stats.breaks, 2);
	CHECK_EQ(UNMAP(&pt, v, 2 * PG), 0);
	pt_destroy(&pt);
}

/*
 * A live tree under break-before-make refuses a break that overlaps a
 * range its owner marks in use (the kernel: direct map, image, MMIO
 * window): -EBUSY before anything changes (no allocation, no descriptor
 * written, no flush). A split of a block partly inside, and a new memory
 * type for a page inside, are refused; the same outside the range, or
 * without break-before-make, or on a tree nobody walks, go through.
 */
void test_bbm_live_break_in_use_refused(void)
{
	for (int bbm = 0; bbm <= 1; bbm++) {
		for (int live = 0; live <= 1; live++) {
			struct pt pt;
			init_pt(&pt);
			uint64_t v = 6 * SZ_1G, page = v - PG;
			REQUIRE_EQ(MAP(&pt, v, PA0, 2 * SZ_2M, RW | PT_GLOBAL), 0);
			REQUIRE_EQ(MAP(&pt, page, PA0 + 3 * SZ_2M, PG, RW | PT_GLOBAL), 0);
			/* The page and the first block's first page; the second block is out. */
			const struct pt_range in_use = {page, v, "in-use range"};
			pt.in_use = &in_use;
			pt.nr_in_use = 1;
			pt.live = live;
			fake_bbm = bbm;
			bool refused = bbm && live;
			struct snap before = {0}, after = {0};
			snap_take(&pt, &before);
			uint64_t writes = fake_arch.pte_writes, attempts = host_alloc_attempts;
			host_events_reset();
			int expect = refused ? -EBUSY : 0;
			CHECK_EQ(UNMAP(&pt, v + 5 * PG, PG), expect);
			CHECK_EQ(PROTECT(&pt, v + 7 * PG, PG, RO | PT_GLOBAL), expect);
			CHECK_EQ(PROTECT(&pt, page, PG, RW | PT_GLOBAL | PT_DEVICE), expect);
			if (refused) {
				snap_take(&pt, &after);
				CHECK_SNAP_EQUAL(&before, &after);
				CHECK_EQ(fake_arch.pte_writes, writes);
				CHECK_EQ(host_alloc_attempts, attempts);
				CHECK_EVENTS("");
			} else {
				EXPECT_UNMAPPED(&pt, v + 5 * PG);
				EXPECT_MAPPED(&pt, page, PA0 + 3 * SZ_2M, 0,
					      RW | PT_GLOBAL | PT_DEVICE);
			}
			/* Outside the range a break goes through either way. */
			CHECK_EQ(UNMAP(&pt, v + SZ_2M + 5 * PG, PG), 0);
			EXPECT_UNMAPPED(&pt, v + SZ_2M + 5 * PG);
			CHECK_EQ(pt.stats.breaks, refused ? 1 : 0);
			CHECK_FRAMES(&pt);
			CHECK_TREE(&pt);
			snap_free(&before);
			snap_free(&after);
			pt_destroy(&pt);
		}
	}
}

void test_enomem_live_splits(void)
{
	/* The splitting sweeps again, on live trees: every split stops, settles and resumes. */
	for (int bbm = 0; bbm <= 1; bbm++) {
		struct pt pt;
		init_pt(&pt);
		build_blocks(&pt);
		pt.live = true;
		fake_bbm = bbm;
		struct op unmap = {OP_UNMAP, SZ_1G + PG, 0, SZ_1G + SZ_2M, 0};
		ENOMEM_SWEEP(&pt, &unmap, 3);
		CHECK_EQ(pt.stats.blocks_split, 3);
		CHECK_EQ(pt.stats.breaks, bbm ? 3 : 0);
		EXPECT_MAPPED(&pt, SZ_1G, PA0 + SZ_1G, 0, RWX | PT_ACCESSED);
		EXPECT_UNMAPPED(&pt, SZ_1G + PG);
		EXPECT_MAPPED(&pt, 2 * SZ_1G + SZ_2M + PG, PA0 + 2 * SZ_1G + SZ_2M + PG, 0, RW);
		/* A new block in the L1 table the unmap left: one split, its table reserved. */
		REQUIRE_EQ(MAP(&pt, 3 * SZ_1G, PA0 + 3 * SZ_1G, SZ_2M, RWX), 0);
		struct op protect = {OP_PROTECT, 3 * SZ_1G + 3 * PG, 0, 2 * PG, RO};
		ENOMEM_SWEEP(&pt, &protect, 1);
		CHECK_EQ(pt.stats.blocks_split, 4);
		CHECK_EQ(pt.stats.breaks, bbm ? 4 : 0);
		EXPECT_MAPPED(&pt, 3 * SZ_1G + 2 * PG, PA0 + 3 * SZ_1G + 2 * PG, 0, RWX);
		EXPECT_MAPPED(&pt, 3 * SZ_1G + 4 * PG, PA0 + 3 * SZ_1G + 4 * PG, 0, RO);
		EXPECT_MAPPED(&pt, 3 * SZ_1G + 5 * PG, PA0 + 3 * SZ_1G + 5 * PG, 0, RWX);
		CHECK_TREE(&pt);
		pt_destroy(&pt);
	}
}

/* ---- Changing a live tree with interrupts off ------------------------------------------------ */

static jmp_buf expected_panic_jmp;
static char expected_panic_msg[256];

static void panic_expected(const char *msg)
{
	snprintf(expected_panic_msg, sizeof(expected_panic_msg), "%s", msg);
	longjmp(expected_panic_jmp, 1);
}

/*
 * pt.h's contract, checked on every call: a live tree is changed with
 * interrupts enabled, because the change may wait for another CPU's
 * break-before-make, whose flush waits for this CPU. With one CPU online
 * nothing can wait, so early boot may; with two, pt_run panics, naming it.
 */
void test_live_change_with_interrupts_off_panics(void)
{
	struct pt pt;
	init_pt(&pt);
	pt.live = true;
	arch_irq_disable();
	CHECK_EQ(pt_map(&pt, 0, 0x100000, PG, RW), 0); /* one CPU online: allowed */
	cpumask_t saved = cpu_online_mask;
	cpu_online_mask.bits = 3;
	expected_panic_msg[0] = 0;
	host_panic_hook = panic_expected;
	if (setjmp(expected_panic_jmp) == 0) {
		pt_map(&pt, PG, 0x101000, PG, RW);
		fail_at(__FILE__, __LINE__,
			"a live change with interrupts off and 2 CPUs went through");
	}
	host_panic_hook = panic_to_case;
	CHECK(strstr(expected_panic_msg, "interrupts off") != NULL);
	arch_irq_enable();
	CHECK_EQ(MAP(&pt, PG, 0x101000, PG, RW), 0); /* interrupts on: allowed */
	cpu_online_mask = saved;
	CHECK_EQ(UNMAP(&pt, 0, 2 * PG), 0);
	pt.live = false;
	pt_destroy(&pt);
}
