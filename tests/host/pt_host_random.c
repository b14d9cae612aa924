/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host test cases: the randomized differential test. Random maps, unmaps
 * and protects in a 64 MiB window straddling 512 GiB, with allocation
 * failures injected, against a reference model of every page (address,
 * level, attributes). After each operation the tree maps what the model
 * says, with exactly the tables it needs; a refused operation changes
 * nothing; on a live tree every page whose translation was removed or
 * restricted is flushed, and valid entries are replaced only as
 * break-before-make and the live-tree rules allow. Five configurations:
 * layouts, leaf modes, live or not, struct page or not.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/errno.h"
#include "tests/host/pt_host.h"

/* ---- Replacing valid entries, from the event log --------------------------------------------- */

/* The level of the table holding `slot` in `before`; ~0u for a table made since. */
static unsigned slot_level(const struct snap *before, uint64_t slot)
{
	for (size_t i = 0; i < before->n; i++) {
		if (slot - before->t[i].at < PG)
			return before->t[i].level;
	}
	return ~0u;
}

/* Does valid `new` translate differently from valid `old` at `level` (more than permissions)? */
static bool retranslates(pte_t old, pte_t new, unsigned level)
{
	enum pte_kind ok = arch_pte_kind(old, level), nk = arch_pte_kind(new, level);
	if (ok != nk || arch_pte_address(old, level) != arch_pte_address(new, level))
		return true;
	return ok == PTE_LEAF && ((arch_pte_attrs(old, level) ^ arch_pte_attrs(new, level)) &
				  (PT_DEVICE | PT_GLOBAL)) != 0;
}

/*
 * Replacing valid entries, over the events of one operation on a tree that
 * was `before`: under break-before-make (fake_bbm) no valid entry is written
 * over one that translates differently, and a break is followed by its make
 * with no other descriptor written in between; on a live tree, a break or a
 * block replaced by a table is invalidated (a full flush; a page flush does
 * for a page) before the next descriptor write.
 */
static void check_replacements_at(const char *f, int l, const struct snap *before, bool live)
{
	size_t n = host_event_count();
	for (size_t i = 0; i < n; i++) {
		const struct host_event *e = host_event_get(i);
		unsigned level = e->kind == EV_PTE_WRITE ? slot_level(before, e->a) : ~0u;
		if (level == ~0u)
			continue;
		enum pte_kind was = arch_pte_kind(e->b, level), now = arch_pte_kind(e->c, level);
		bool split = was == PTE_LEAF && now == PTE_TABLE;
		if (fake_bbm && was != PTE_ABSENT && now != PTE_ABSENT &&
		    retranslates(e->b, e->c, level))
			fail_at(f, l, "event %zu: level-%u %#llx replaced by %#llx without a break",
				i, level, (unsigned long long)e->b, (unsigned long long)e->c);
		size_t next = i + 1;
		while (next < n && host_event_get(next)->kind != EV_PTE_WRITE)
			next++;
		bool broke = false;
		if (was != PTE_ABSENT && now == PTE_ABSENT) {
			for (size_t k = next; k < n && !broke; k++)
				broke = host_event_get(k)->a == e->a && is_make(k);
			if (broke && (next >= n || host_event_get(next)->a != e->a))
				fail_at(
				    f, l,
				    "event %zu: a write between a break (event %zu) and its make",
				    next, i);
		}
		if (!live || !(split || broke))
			continue;
		bool flushed = false;
		for (size_t k = i + 1; k < next; k++) {
			const struct host_event *x = host_event_get(k);
			flushed |=
			    x->kind == EV_FLUSH_FULL || (level == 0 && x->kind == EV_FLUSH_PAGE);
		}
		if (!flushed)
			fail_at(f, l,
				"event %zu: level-%u %s not invalidated before the next write", i,
				level, split ? "block replaced by a table" : "break");
	}
}
#define CHECK_REPLACEMENTS(before, live) check_replacements_at(__FILE__, __LINE__, before, live)

/* ---- Randomized differential test against a reference model ---------------------------------- */

#define WIN_PAGES 16384u /* 64 MiB */
/* An odd offset: not 2 MiB aligned, straddling the 512 GiB (and so a 1 GiB) boundary. */
#define WIN_BASE (SZ_512G - 20 * SZ_2M + 7 * PG)
#define PA_RAND	 (1ull << 45)

struct mpage {
	uint64_t pa;
	uint8_t mapped, level, attrs;
};

struct rcfg {
	const char *what;
	unsigned layout;
	enum fake_leaf_mode mode;
	bool live, pages;
	bool bbm; /* fake_bbm: the arch requires break-before-make */
	phys_addr_t pa_offset;
	uint64_t seed;
	unsigned ops;
};

static struct mpage model[WIN_PAGES], old_model[WIN_PAGES];

static uint64_t page_va(unsigned i)
{
	return WIN_BASE + (uint64_t)i * PG;
}

static bool mode_allows(unsigned level)
{
	switch (fake_leaf_mode) {
	case FAKE_LEAVES_ALL:
		return level <= 2;
	case FAKE_LEAVES_NO_1G:
		return level <= 1;
	default:
		return level == 0;
	}
}

/* Tables a tree holding exactly the model's mappings has (no empty tables). */
static uint64_t model_tables(const struct mpage *m)
{
	uint64_t n = 1, k2 = ~0ull, k1 = ~0ull, k0 = ~0ull;
	for (unsigned i = 0; i < WIN_PAGES; i++) {
		if (!m[i].mapped)
			continue;
		uint64_t va = page_va(i);
		if (va >> 39 != k2)
			n++, k2 = va >> 39;
		if (m[i].level <= 1 && va >> 30 != k1)
			n++, k1 = va >> 30;
		if (m[i].level == 0 && va >> 21 != k0)
			n++, k0 = va >> 21;
	}
	return n;
}

/* Applies a map of pages [first, first + n); false on a conflict (model unchanged). */
static bool model_map(unsigned first, unsigned n, uint64_t pa, unsigned attrs)
{
	for (unsigned i = first; i < first + n; i++)
		if (model[i].mapped)
			return false;
	uint64_t va0 = page_va(first), last = page_va(first + n - 1) + PG - 1;
	for (unsigned i = first; i < first + n; i++) {
		uint64_t va = page_va(i);
		unsigned level = 0;
		for (unsigned l = 2; l >= 1; l--) {
			uint64_t bs = 1ull << pt_level_shift(l), b = ALIGN_DOWN(va, bs);
			if (mode_allows(l) && b >= va0 && b + bs - 1 <= last &&
			    IS_ALIGNED(pa + (b - va0), bs)) {
				level = l;
				break;
			}
		}
		model[i] =
		    (struct mpage){pa + (va - va0), 1, (uint8_t)level, (uint8_t)(attrs | PT_READ)};
	}
	return true;
}

/* Unmap or protect pages [first, first + n); returns the number of blocks split. */
static unsigned model_change(unsigned first, unsigned n, bool unmap, unsigned attrs)
{
	unsigned splits = 0;
	uint64_t lo = page_va(first), hi = page_va(first + n - 1) + PG - 1;
	for (unsigned l = 2; l >= 1; l--) {
		unsigned ends[2] = {first, first + n - 1};
		for (unsigned e = 0; e < 2; e++) {
			struct mpage *m = &model[ends[e]];
			if (!m->mapped || m->level != l)
				continue;
			uint64_t bs = 1ull << pt_level_shift(l),
				 b = ALIGN_DOWN(page_va(ends[e]), bs);
			if (b >= lo && b + bs - 1 <= hi)
				continue;
			/* Partly covered: split into level l - 1 (the block lies inside the
			 * window). */
			unsigned bi = (unsigned)((b - WIN_BASE) / PG);
			for (unsigned i = bi; i < bi + bs / PG; i++)
				model[i].level = (uint8_t)(l - 1);
			splits++;
		}
	}
	for (unsigned i = first; i < first + n; i++) {
		if (!model[i].mapped)
			continue;
		if (unmap)
			model[i] = (struct mpage){0};
		else
			model[i].attrs =
			    (uint8_t)(((attrs | PT_READ) & ~AD) | (model[i].attrs & AD));
	}
	return splits;
}

static bool compare_with_model(struct pt *pt, unsigned step)
{
	unsigned bad = 0;
	for (unsigned i = 0; i < WIN_PAGES; i++) {
		struct pt_query_result q;
		bool found = pt_query(pt, page_va(i), &q);
		const struct mpage *m = &model[i];
		bool ok = found == m->mapped &&
			  (!found || (q.pa == m->pa && q.level == m->level && q.attrs == m->attrs));
		if (!ok && bad++ < 4)
			fail_at(
			    __FILE__, __LINE__,
			    "op %u: va %#llx: pt %s pa %#llx level %u attrs %#x; model %s pa %#llx "
			    "level %u attrs %#x",
			    step, (unsigned long long)page_va(i), found ? "maps" : "has no",
			    found ? (unsigned long long)q.pa : 0ull, found ? q.level : 0,
			    found ? q.attrs : 0, m->mapped ? "maps" : "has no",
			    (unsigned long long)m->pa, m->level, m->attrs);
	}
	return bad == 0;
}

static void random_differential(const struct rcfg *c)
{
	fake_arch_set_layout(c->layout);
	fake_leaf_mode = c->mode;
	fake_bbm = c->bbm;
	host_frame_pages = c->pages;
	host_pa_offset = c->pa_offset;
	rng_state = c->seed;
	memset(model, 0, sizeof(model));
	struct pt pt;
	init_pt(&pt);
	pt.live = c->live;
	struct snap before = {0}, after = {0}, tree = {0};
	unsigned counts[3][4] = {{0}}; /* per kind: ok, EEXIST, ENOMEM, splits */
	static uint8_t flushed[WIN_PAGES];

	for (unsigned step = 0; step < c->ops; step++) {
		/* Pick an operation. */
		uint64_t r = rnd() % 100;
		enum op_kind kind = r < 40 ? OP_MAP : r < 75 ? OP_UNMAP : OP_PROTECT;
		unsigned first;
		bool aligned = false;
		r = rnd() % 100;
		if (r < 45) {
			first = (unsigned)(rnd() % WIN_PAGES);
		} else if (r < 80) {
			uint64_t b = ALIGN_UP(WIN_BASE, SZ_2M) + (rnd() % 31) * SZ_2M;
			first = (unsigned)((b - WIN_BASE) / PG);
			aligned = true;
			if (rnd() % 4 == 0)
				first += (unsigned)(rnd() % 8);
		} else {
			first =
			    (unsigned)((SZ_512G - WIN_BASE) / PG) - 1024 + (unsigned)(rnd() % 2048);
		}
		unsigned n;
		r = rnd() % 100;
		if (aligned && kind == OP_MAP && r < 60)
			n = 512 * (1 + (unsigned)(rnd() % 4));
		else if (r < 40)
			n = 1 + (unsigned)(rnd() % 16);
		else if (r < 70)
			n = 1 + (unsigned)(rnd() % 1024);
		else if (r < 92)
			n = 512 * (1 + (unsigned)(rnd() % 4));
		else
			n = 1 + (unsigned)(rnd() % WIN_PAGES);
		if (first >= WIN_PAGES)
			first = WIN_PAGES - 1;
		n = MIN(n, WIN_PAGES - first);
		struct op op = {kind, page_va(first), 0, (uint64_t)n * PG, PT_READ};
		if (kind == OP_MAP) {
			if (rnd() % 100 < 60)
				op.pa = PA_RAND + (rnd() % 4096) * SZ_2M + (op.va & (SZ_2M - 1));
			else
				op.pa = PA_RAND + (rnd() % (1u << 20)) * PG;
		}
		op.attrs |=
		    (unsigned)(rnd() & (PT_WRITE | PT_EXEC | PT_USER | PT_GLOBAL | PT_DEVICE));
		if (rnd() % 4 == 0)
			op.attrs |= (unsigned)(rnd() & AD);

		/* What the model says. */
		memcpy(old_model, model, sizeof(model));
		uint64_t tables_before = model_tables(model);
		int expect = 0;
		unsigned needed = 0, splits = 0;
		if (kind == OP_MAP) {
			if (!model_map(first, n, op.pa, op.attrs))
				expect = -EEXIST;
			else
				needed = (unsigned)(model_tables(model) - tables_before);
		} else {
			splits = model_change(first, n, kind == OP_UNMAP, op.attrs);
			needed = splits;
		}
		bool inject = expect == 0 && rnd() % (needed ? 3 : 8) == 0;
		unsigned fail_n = inject ? (unsigned)(rnd() % (needed + 1 + !needed)) : 0;
		if (inject && fail_n < needed)
			expect = -ENOMEM;
		bool refused = expect != 0;
		if (refused || inject)
			snap_take(&pt, &before);
		if (c->live || c->bbm)
			snap_take(&pt, &tree); /* the levels of the slots the operation writes */
		uint64_t writes = fake_arch.pte_writes;
		uint64_t allocated = pt.stats.tables_allocated,
			 split_before = pt.stats.blocks_split;
		host_events_reset();

		if (inject)
			frame_fail_after(fail_n);
		int got = run_op(&pt, &op);
		frame_fail_clear();

		if (got != expect) {
			fail_at(__FILE__, __LINE__,
				"op %u (%s va %#llx pa %#llx size %#llx attrs %#x, inject %d/%u, "
				"needed %u): returned %d, model expects %d",
				step,
				kind == OP_MAP	   ? "map"
				: kind == OP_UNMAP ? "unmap"
						   : "protect",
				(unsigned long long)op.va, (unsigned long long)op.pa,
				(unsigned long long)op.size, op.attrs, inject, fail_n, needed, got,
				expect);
			case_abort();
		}
		counts[kind][refused ? (expect == -EEXIST ? 1 : 2) : 0]++;
		if (refused) {
			memcpy(model, old_model, sizeof(model));
			snap_take(&pt, &after);
			if (!CHECK_SNAP_EQUAL(&before, &after))
				case_abort();
			CHECK_EQ(fake_arch.pte_writes, writes);
		} else {
			counts[kind][3] += splits;
			CHECK_EQ(pt.stats.tables_allocated - allocated, needed);
			CHECK_EQ(pt.stats.blocks_split - split_before, splits);
		}
		if (!compare_with_model(&pt, step))
			case_abort();
		if ((c->live || c->bbm) && !host_events_overflowed())
			CHECK_REPLACEMENTS(&tree, c->live);
		uint64_t tables = pt_count_tables(&pt);
		if (!CHECK_EQ(tables, model_tables(model)) || !CHECK_EQ(host_live_frames(), tables))
			case_abort();
		if (step % 64 == 0)
			CHECK_TREE(&pt);

		/* TLB: a live tree flushes every page whose translation was removed or restricted.
		 */
		if (!c->live) {
			if (fake_arch.page_flushes || fake_arch.full_flushes)
				fail_at(__FILE__, __LINE__,
					"op %u: TLB flushed for a tree not live", step);
			continue;
		}
		if (refused || host_events_overflowed())
			continue;
		memset(flushed, 0, sizeof(flushed));
		bool full = false, freed = false;
		for (size_t i = 0; i < host_event_count(); i++) {
			const struct host_event *e = host_event_get(i);
			if (e->kind == EV_FLUSH_FULL)
				full = true;
			if (e->kind == EV_FLUSH_PAGE && e->a >= WIN_BASE &&
			    e->a - WIN_BASE < WIN_PAGES * PG)
				flushed[(e->a - WIN_BASE) / PG] = 1;
			if (e->kind == EV_FREE) {
				freed = true;
				if (!full)
					fail_at(__FILE__, __LINE__,
						"op %u: table %#llx freed before a full TLB flush",
						step, (unsigned long long)e->a);
			}
		}
		if (freed && kind == OP_MAP)
			fail_at(__FILE__, __LINE__, "op %u: a map freed a frame", step);
		check_flush_after_writes_at(__FILE__, __LINE__);
		for (unsigned i = first; i < first + n && !full; i++) {
			const struct mpage *o = &old_model[i], *m = &model[i];
			bool need =
			    o->mapped && (!m->mapped || pt_attrs_need_flush(o->attrs, m->attrs));
			if (need && !flushed[i])
				fail_at(__FILE__, __LINE__,
					"op %u: va %#llx changed but not flushed", step,
					(unsigned long long)page_va(i));
		}
		fake_arch.page_flushes = fake_arch.full_flushes = 0;
	}

	/* Everything off: only the root is left, and then nothing. */
	CHECK_EQ(UNMAP(&pt, WIN_BASE, (uint64_t)WIN_PAGES * PG), 0);
	CHECK_EQ(pt_count_tables(&pt), 1);
	CHECK_EQ(host_live_frames(), 1);
	CHECK_EQ(pt.stats.tables_allocated - pt.stats.tables_freed, 1);
	pt_destroy(&pt);
	CHECK_EQ(host_live_frames(), 0);
	CHECK_EQ(fake_arch.violations, 0);
	snap_free(&before);
	snap_free(&after);
	snap_free(&tree);
	printf("#   %s: map ok %u eexist %u enomem %u; unmap ok %u enomem %u splits %u; "
	       "protect ok %u enomem %u splits %u\n",
	       c->what, counts[0][0], counts[0][1], counts[0][2], counts[1][0], counts[1][2],
	       counts[1][3], counts[2][0], counts[2][2], counts[2][3]);
}

void test_random_differential_layout0(void)
{
	struct rcfg c = {"hand layout, all leaves, not live",
			 0,
			 FAKE_LEAVES_ALL,
			 false,
			 true,
			 false,
			 0,
			 0x5EED0001,
			 1200};
	random_differential(&c);
}

void test_random_differential_scrambled_seed1(void)
{
	struct rcfg c = {"generated layout 1, no 1G, live, no struct page, pa != kva",
			 1,
			 FAKE_LEAVES_NO_1G,
			 true,
			 false,
			 false,
			 1ull << 50,
			 0x5EED0002,
			 1200};
	random_differential(&c);
}

void test_random_differential_scrambled_seed2(void)
{
	struct rcfg c = {"generated layout 2, 4 KiB only, live",
			 2,
			 FAKE_LEAVES_4K_ONLY,
			 true,
			 true,
			 false,
			 0,
			 0x5EED0003,
			 600};
	random_differential(&c);
}

void test_random_differential_bbm_live(void)
{
	struct rcfg c = {"generated layout 3, all leaves, live, break-before-make",
			 3,
			 FAKE_LEAVES_ALL,
			 true,
			 true,
			 true,
			 0,
			 0x5EED0004,
			 1000};
	random_differential(&c);
}

void test_random_differential_bbm_not_live(void)
{
	struct rcfg c = {"hand layout, no 1G, not live, break-before-make",
			 0,
			 FAKE_LEAVES_NO_1G,
			 false,
			 true,
			 true,
			 0,
			 0x5EED0005,
			 600};
	random_differential(&c);
}
