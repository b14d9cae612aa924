// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host test suite for the generic page-table code (kernel/mm/pt.c), run
 * against the scrambled fake architecture (fake_pt_arch.c) and the host
 * stubs (host_stubs.c). Build and run: make -f tools/host_test.mk host-pt-test
 *
 * Each case is a function. The harness prints "ok N name" or "not ok N name"
 * (after "# file:line: ..." lines for each failed check), then a final line
 * "N passed, M failed", and exits 1 if any case failed. A panic inside a
 * case (pt.c's own, a fake-arch contract violation, a bad frame_free) fails
 * that case and the run goes on; every frame still allocated after a case is
 * a leak and fails it. An optional argument runs only the cases whose name
 * contains it.
 *
 * One case is not about pt.c: tlbi_range_operands checks arm64's range
 * TLBI operands (tlbi_range_host_test.c), pure arithmetic QEMU cannot check.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/errno.h"
#include "kernel/percpu.h"
#include "tests/host/host.h"

/* Sanitizers: make every report fatal, even when the binary is run by hand. */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=1:abort_on_error=0:halt_on_error=1";
}
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* ---- Harness ---------------------------------------------------------------- */

static jmp_buf case_jmp;
static bool case_failed, case_panicked;
static unsigned case_reports;
#define MAX_REPORTS 25

static __printf(3, 4) void fail_at(const char *file, int line, const char *fmt, ...)
{
	case_failed = true;
	if (++case_reports > MAX_REPORTS) {
		if (case_reports == MAX_REPORTS + 1)
			printf("#   (further failures of this case not shown)\n");
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	printf("#   %s:%d: ", file, line);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static __noreturn void case_abort(void)
{
	longjmp(case_jmp, 2);
}

static bool check_true(bool ok, const char *file, int line, const char *expr)
{
	if (!ok)
		fail_at(file, line, "check failed: %s", expr);
	return ok;
}

static bool check_eq(uint64_t a, uint64_t b, const char *file, int line, const char *ea,
		     const char *eb)
{
	if (a != b)
		fail_at(file, line, "%s == %s failed: %#llx (%lld) != %#llx (%lld)", ea, eb,
			(unsigned long long)a, (long long)a, (unsigned long long)b, (long long)b);
	return a == b;
}

#define CHECK(c)       check_true(!!(c), __FILE__, __LINE__, #c)
#define CHECK_EQ(a, b) check_eq((uint64_t)(a), (uint64_t)(b), __FILE__, __LINE__, #a, #b)
#define REQUIRE(c)                                                                                 \
	do {                                                                                       \
		if (!CHECK(c))                                                                     \
			case_abort();                                                              \
	} while (0)
#define REQUIRE_EQ(a, b)                                                                           \
	do {                                                                                       \
		if (!CHECK_EQ(a, b))                                                               \
			case_abort();                                                              \
	} while (0)

static void panic_to_case(const char *msg)
{
	case_panicked = true;
	fail_at("panic", 0, "%s", msg);
	longjmp(case_jmp, 1);
}

/* ---- Constants and small helpers ---------------------------------------------- */

#define PG	 4096ull
#define SZ_2M	 (1ull << 21)
#define SZ_1G	 (1ull << 30)
#define SZ_512G	 (1ull << 39)
#define TOP_PAGE 0xFFFFFFFFFFFFF000ull
#define RO	 PT_READ
#define RW	 (PT_READ | PT_WRITE)
#define RX	 (PT_READ | PT_EXEC)
#define RWX	 (PT_READ | PT_WRITE | PT_EXEC)
#define AD	 (PT_ACCESSED | PT_DIRTY)
#define PA0	 0x0000040000000000ull /* 4 TiB: physical base for test mappings, 1 GiB aligned */

static void post_op(const char *file, int line, struct pt *pt)
{
	if (pt->lock.holder != 0)
		fail_at(file, line, "the pt lock is still held after the operation");
	if (!host_irqs_enabled)
		fail_at(file, line, "interrupts were left disabled after the operation");
}

static int map_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
		  unsigned attrs)
{
	int r = pt_map(pt, va, pa, size, attrs);
	post_op(f, l, pt);
	return r;
}
static int unmap_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size)
{
	int r = pt_unmap(pt, va, size);
	post_op(f, l, pt);
	return r;
}
static int protect_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size,
		      unsigned attrs)
{
	int r = pt_protect(pt, va, size, attrs);
	post_op(f, l, pt);
	return r;
}
#define MAP(pt, va, pa, size, attrs) map_at(__FILE__, __LINE__, pt, va, pa, size, attrs)
#define UNMAP(pt, va, size)	     unmap_at(__FILE__, __LINE__, pt, va, size)
#define PROTECT(pt, va, size, attrs) protect_at(__FILE__, __LINE__, pt, va, size, attrs)

static void expect_mapped_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa,
			     unsigned level, unsigned attrs)
{
	struct pt_query_result q;
	bool found = pt_query(pt, va, &q);
	post_op(f, l, pt);
	if (!found) {
		fail_at(f, l, "va %#llx: not mapped, expected pa %#llx level %u attrs %#x",
			(unsigned long long)va, (unsigned long long)pa, level, attrs);
		return;
	}
	if (q.pa != pa || q.level != level || q.attrs != attrs)
		fail_at(f, l,
			"va %#llx: got pa %#llx level %u attrs %#x, expected pa %#llx level %u "
			"attrs %#x",
			(unsigned long long)va, (unsigned long long)q.pa, q.level, q.attrs,
			(unsigned long long)pa, level, attrs);
}

static void expect_unmapped_at(const char *f, int l, struct pt *pt, uint64_t va)
{
	struct pt_query_result q;
	bool found = pt_query(pt, va, &q);
	post_op(f, l, pt);
	if (found)
		fail_at(f, l, "va %#llx: mapped (pa %#llx level %u attrs %#x), expected a hole",
			(unsigned long long)va, (unsigned long long)q.pa, q.level, q.attrs);
}
#define EXPECT_MAPPED(pt, va, pa, level, attrs)                                                    \
	expect_mapped_at(__FILE__, __LINE__, pt, va, pa, level, attrs)
#define EXPECT_UNMAPPED(pt, va) expect_unmapped_at(__FILE__, __LINE__, pt, va)

/* Every page of [va, va + size) maps pa + offset at `level` with `attrs`. */
static void expect_range_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa,
			    uint64_t size, unsigned level, unsigned attrs)
{
	for (uint64_t off = 0; off < size; off += PG)
		expect_mapped_at(f, l, pt, va + off, pa + off, level, attrs);
}
#define EXPECT_RANGE(pt, va, pa, size, level, attrs)                                               \
	expect_range_at(__FILE__, __LINE__, pt, va, pa, size, level, attrs)

/* Only one tree exists in most cases: every live frame must be one of its tables. */
#define CHECK_FRAMES(pt) CHECK_EQ(host_live_frames(), pt_count_tables(pt))

static void init_pt(struct pt *pt)
{
	REQUIRE_EQ(pt_init(pt), 0);
}

/* ---- Per-case memory (freed after the case, even when it ends by longjmp) ------------- */

static void **arena;
static size_t arena_len, arena_cap;

static void *case_malloc(size_t n)
{
	if (arena_len == arena_cap) {
		arena_cap = arena_cap ? 2 * arena_cap : 64;
		arena = realloc(arena, arena_cap * sizeof(*arena));
		if (!arena)
			abort();
	}
	void *p = malloc(n);
	if (!p)
		abort();
	arena[arena_len++] = p;
	return p;
}

static void case_free_all(void)
{
	for (size_t i = 0; i < arena_len; i++)
		free(arena[i]);
	arena_len = 0;
}

/* ---- Walking a tree from the test side ---------------------------------------------- */

struct snap_table {
	phys_addr_t pa;
	uintptr_t at; /* kva(pa) when taken: the table may be freed since */
	unsigned level;
	pte_t *parent_slot; /* NULL for the root */
	pte_t e[PT_ENTRIES];
};

struct snap {
	size_t n, cap;
	struct snap_table *t;
	phys_addr_t root;
	struct pt_stats stats;
};

static void snap_add(struct snap *s, phys_addr_t pa, unsigned level, pte_t *parent)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct snap_table *t = case_malloc(cap * sizeof(*t));
		if (s->n)
			memcpy(t, s->t, s->n * sizeof(*t));
		s->t = t;
		s->cap = cap;
	}
	struct snap_table *st = &s->t[s->n++];
	st->pa = pa;
	st->at = (uintptr_t)kva(pa);
	st->level = level;
	st->parent_slot = parent;
	memcpy(st->e, kva(pa), sizeof(st->e));
	if (level == 0)
		return;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t *slot = (pte_t *)kva(pa) + i;
		if (arch_pte_kind(*slot, level) == PTE_TABLE)
			snap_add(s, arch_pte_address(*slot, level), level - 1, slot);
	}
}

/* A deep copy of every table (depth first), the root address and the stats. */
static void snap_take(struct pt *pt, struct snap *s)
{
	s->n = 0;
	s->root = pt->root;
	s->stats = pt->stats;
	snap_add(s, pt->root, PT_LEVELS - 1, NULL);
}

/* The memory itself goes back after the case (case_free_all). */
static void snap_free(struct snap *s)
{
	*s = (struct snap){0};
}

static bool snap_equal_at(const char *f, int l, const struct snap *a, const struct snap *b)
{
	if (a->root != b->root) {
		fail_at(f, l, "tree changed: root %#llx -> %#llx", (unsigned long long)a->root,
			(unsigned long long)b->root);
		return false;
	}
	if (memcmp(&a->stats, &b->stats, sizeof(a->stats)) != 0) {
		fail_at(f, l, "tree changed: pt->stats differ");
		return false;
	}
	if (a->n != b->n) {
		fail_at(f, l, "tree changed: %zu tables -> %zu", a->n, b->n);
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct snap_table *x = &a->t[i], *y = &b->t[i];
		if (x->pa != y->pa || x->level != y->level) {
			fail_at(f, l,
				"tree changed: table %zu was %#llx level %u, now %#llx level %u", i,
				(unsigned long long)x->pa, x->level, (unsigned long long)y->pa,
				y->level);
			return false;
		}
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			if (x->e[j] != y->e[j]) {
				fail_at(
				    f, l,
				    "tree changed: table %#llx (level %u) entry %u: %#llx -> %#llx",
				    (unsigned long long)x->pa, x->level, j,
				    (unsigned long long)x->e[j], (unsigned long long)y->e[j]);
				return false;
			}
		}
	}
	return true;
}
#define CHECK_SNAP_EQUAL(a, b) snap_equal_at(__FILE__, __LINE__, a, b)

/*
 * Structural invariants: no table below the root is empty (unmap frees the
 * tables it empties, nothing else makes empty ones); every absent entry is
 * 0, the only absent value generic code writes (anything else is garbage,
 * e.g. a table handed out not fully zeroed); and with frame metadata on,
 * every table's struct page says PAGE_TABLE and its level.
 */
static void check_tree_at(const char *f, int l, struct pt *pt)
{
	struct snap s = {0};
	snap_take(pt, &s);
	for (size_t i = 0; i < s.n; i++) {
		const struct snap_table *t = &s.t[i];
		bool empty = true;
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			if (arch_pte_kind(t->e[j], t->level) != PTE_ABSENT)
				empty = false;
			else if (t->e[j] != 0)
				fail_at(f, l,
					"table %#llx (level %u) entry %u: absent but %#llx, not 0",
					(unsigned long long)t->pa, t->level, j,
					(unsigned long long)t->e[j]);
		}
		if (t->parent_slot) {
			if (empty)
				fail_at(f, l, "table %#llx (level %u) is empty but still linked",
					(unsigned long long)t->pa, t->level);
		}
		if (host_frame_pages) {
			struct page *p = frame_to_page(t->pa);
			if (!p || !(p->flags & PAGE_TABLE) || p->pt_level != t->level)
				fail_at(f, l,
					"table %#llx (level %u): struct page flags %#x level %u, "
					"expected PAGE_TABLE and level %u",
					(unsigned long long)t->pa, t->level, p ? p->flags : 0,
					p ? p->pt_level : 0, t->level);
		}
	}
	check_eq(s.n, pt_count_tables(pt), f, l, "tables reachable", "pt_count_tables");
	snap_free(&s);
}
#define CHECK_TREE(pt) check_tree_at(__FILE__, __LINE__, pt)

/* The slot that translates `va` at `level`, or NULL when a table on the way is missing. */
static pte_t *slot_at(struct pt *pt, uint64_t va, unsigned level)
{
	pte_t *table = kva(pt->root);
	for (unsigned l = PT_LEVELS - 1;; l--) {
		pte_t *slot = &table[(va >> pt_level_shift(l)) & (PT_ENTRIES - 1)];
		if (l == level)
			return slot;
		if (arch_pte_kind(*slot, l) != PTE_TABLE)
			return NULL;
		table = kva(arch_pte_address(*slot, l));
	}
}

/* ---- The fake architecture itself ------------------------------------------------------ */

static uint64_t rng_state;
static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void test_fake_arch_selftest(void)
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

/* ---- Basic mapping ----------------------------------------------------------------------- */

static void test_empty_tree(void)
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

static void test_map_query_single_page(void)
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
static void test_one_page_map_direct_and_back_off(void)
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

static void test_map_straddles_2m_boundary(void)
{
	straddle(5 * SZ_2M, 5); /* root, L2, L1, two L0 */
}

static void test_map_straddles_1g_boundary(void)
{
	straddle(3 * SZ_1G, 6); /* root, L2, two L1, two L0 */
}

static void test_map_straddles_512g_boundary(void)
{
	straddle(SZ_512G, 7); /* root, two of each below */
	straddle(5 * SZ_512G, 7);
}

/* ---- Leaf sizes -------------------------------------------------------------------------------
 */

static void test_large_leaves_2m_by_alignment(void)
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

static void test_relatively_misaligned_gives_4k_leaves(void)
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

static void test_mixed_leaves_by_alignment(void)
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

static void test_leaves_1g_when_allowed(void)
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

static void test_no_1g_leaves_when_disabled(void)
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

static void test_only_4k_leaves_mode(void)
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

/* ---- Splitting ---------------------------------------------------------------------------------
 */

static void test_partial_unmap_splits_2m_block(void)
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

static void test_partial_unmap_splits_1g_block_twice(void)
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

static void test_partial_protect_splits_block(void)
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

static void test_partial_protect_splits_1g_block(void)
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

static void test_protect_whole_block_does_not_split(void)
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

static void test_protect_keeps_accessed_dirty(void)
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

/* ---- Holes and refusals -------------------------------------------------------------------------
 */

static void test_unmap_holes_ok(void)
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

static void test_protect_holes_ok(void)
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
		uint64_t w_ = fake_arch.pte_writes;                       \
		uint64_t a_ = host_alloc_attempts, l_ = host_live_frames();                        \
		CHECK_EQ((int64_t)(call), (int64_t)(err));                                         \
		snap_take(pt, &after_);                                                            \
		CHECK_SNAP_EQUAL(&before_, &after_);                                               \
		CHECK_EQ(fake_arch.pte_writes, w_);                       \
		CHECK_EQ(host_alloc_attempts, a_);                                                 \
		CHECK_EQ(host_live_frames(), l_);                                                  \
		snap_free(&before_);                                                               \
		snap_free(&after_);                                                                \
	} while (0)

static void test_map_over_mapping_eexist(void)
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

static void test_last_page_of_address_space(void)
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

static void test_range_ending_at_top(void)
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

static void test_wrapping_range_einval(void)
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

static void test_misaligned_einval(void)
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

static void test_size_zero_einval(void)
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
static void test_map_pa_range_wraps_einval(void)
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
static void test_map_range_beyond_tree_reach_einval(void)
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

/* ---- Freeing ------------------------------------------------------------------------------------
 */

/* A tree with every kind of leaf and table (splits included), over four root slots. */
static void build_busy_tree(struct pt *pt)
{
	fake_leaf_mode = FAKE_LEAVES_ALL;
	REQUIRE_EQ(MAP(pt, SZ_512G - 2 * PG, PA0 + 0x1000, 4 * PG, RW), 0);
	REQUIRE_EQ(MAP(pt, SZ_1G, PA0 + SZ_1G, SZ_1G, RWX), 0);
	REQUIRE_EQ(UNMAP(pt, SZ_1G + 3 * SZ_2M + 5 * PG, 2 * PG), 0); /* double split */
	REQUIRE_EQ(MAP(pt, 3 * SZ_1G - SZ_2M, PA0 + 5 * SZ_2M, 3 * SZ_2M, RO), 0);
	REQUIRE_EQ(PROTECT(pt, 3 * SZ_1G + 7 * PG, PG, RW), 0); /* split */
	REQUIRE_EQ(MAP(pt, 7 * SZ_512G + 5 * PG, PA0, 9 * PG, RW | PT_USER), 0);
	REQUIRE_EQ(MAP(pt, 0 - 4 * PG, PA0, 4 * PG, RW | PT_GLOBAL), 0);
}

static void test_unmap_everything_frees_all_but_root(void)
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

static void test_destroy_frees_everything(void)
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

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT };
struct op {
	enum op_kind kind;
	uint64_t va, pa, size;
	unsigned attrs;
};

static int run_op(struct pt *pt, const struct op *op)
{
	int r;
	switch (op->kind) {
	case OP_MAP:
		r = pt_map(pt, op->va, op->pa, op->size, op->attrs);
		break;
	case OP_UNMAP:
		r = pt_unmap(pt, op->va, op->size);
		break;
	default:
		r = pt_protect(pt, op->va, op->size, op->attrs);
		break;
	}
	post_op(__FILE__, __LINE__, pt);
	return r;
}

/*
 * For n = 0 .. needed-1, fails the n+1-th allocation: the operation must
 * return -ENOMEM having tried exactly n+1 allocations, with the tree (every
 * table, byte for byte), the stats and the live frames exactly as before and
 * no descriptor written. Then, without injection, it must succeed using
 * exactly `needed` allocations.
 */
static void enomem_sweep_at(const char *f, int l, struct pt *pt, const struct op *op,
			    unsigned needed)
{
	struct snap before = {0}, after = {0};
	for (unsigned n = 0; n < needed; n++) {
		snap_take(pt, &before);
		uint64_t writes = fake_arch.pte_writes;
		uint64_t attempts = host_alloc_attempts, live = host_live_frames();
		frame_fail_after(n);
		int r = run_op(pt, op);
		frame_fail_clear();
		if (!check_eq((uint64_t)(int64_t)r, (uint64_t)(int64_t)-ENOMEM, f, l, "result",
			      "-ENOMEM"))
			fail_at(f, l, "  (failure injected after %u allocations)", n);
		snap_take(pt, &after);
		if (!snap_equal_at(f, l, &before, &after))
			fail_at(f, l, "  (failure injected after %u allocations)", n);
		check_eq(host_live_frames(), live, f, l, "live frames after -ENOMEM", "before");
		check_eq(fake_arch.pte_writes, writes, f, l,
			 "descriptor writes after -ENOMEM", "before");
		check_eq(host_alloc_attempts - attempts, n + 1, f, l, "allocations tried", "n + 1");
	}
	uint64_t attempts = host_alloc_attempts, tables = pt->stats.tables_allocated;
	check_eq((uint64_t)run_op(pt, op), 0, f, l, "result without injection", "0");
	check_eq(host_alloc_attempts - attempts, needed, f, l, "allocations", "needed");
	check_eq(pt->stats.tables_allocated - tables, needed, f, l, "stats.tables_allocated delta",
		 "needed");
	check_eq(host_live_frames(), pt_count_tables(pt), f, l, "live frames", "tables");
	check_tree_at(f, l, pt);
	snap_free(&before);
	snap_free(&after);
}
#define ENOMEM_SWEEP(pt, op, needed) enomem_sweep_at(__FILE__, __LINE__, pt, op, needed)

static void test_enomem_pt_init(void)
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

static void test_enomem_map_at_every_allocation(void)
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

/* 1 GiB block at [1G, 2G), 2 MiB blocks at [2G, 2G + 4M), page at 2G + 4M. */
static void build_blocks(struct pt *pt)
{
	fake_leaf_mode = FAKE_LEAVES_ALL;
	REQUIRE_EQ(MAP(pt, SZ_1G, PA0 + SZ_1G, SZ_1G, RWX | PT_ACCESSED), 0);
	REQUIRE_EQ(MAP(pt, 2 * SZ_1G, PA0 + 2 * SZ_1G, 2 * SZ_2M, RW), 0);
	REQUIRE_EQ(MAP(pt, 2 * SZ_1G + 2 * SZ_2M, PA0, PG, RW), 0);
}

static void test_enomem_unmap_split_at_every_allocation(void)
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

static void test_enomem_protect_split_at_every_allocation(void)
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

/* ---- TLB maintenance ------------------------------------------------------------------------ */

static bool is_flush(const struct host_event *e)
{
	return e->kind == EV_FLUSH_FULL || e->kind == EV_FLUSH_PAGE;
}

/* Event i writes a valid entry into a slot the operation broke (made invalid) earlier. */
static bool is_make(size_t i)
{
	const struct host_event *e = host_event_get(i);
	if (e->kind != EV_PTE_WRITE || e->b != 0 || e->c == 0)
		return false;
	for (size_t k = 0; k < i; k++) {
		const struct host_event *w = host_event_get(k);
		if (w->kind == EV_PTE_WRITE && w->a == e->a && w->b != 0 && w->c == 0)
			return true;
	}
	return false;
}

/*
 * The tree is final when the operation's last flush runs: no descriptor
 * write comes after it but a make, which fills a slot that flush emptied.
 * (Earlier flushes are the invalidations of replaced entries.)
 */
static void check_flush_after_writes_at(const char *f, int l)
{
	size_t last_flush = SIZE_MAX;
	for (size_t i = 0; i < host_event_count(); i++)
		if (is_flush(host_event_get(i)))
			last_flush = i;
	if (last_flush == SIZE_MAX)
		return;
	for (size_t i = last_flush + 1; i < host_event_count(); i++)
		if (host_event_get(i)->kind == EV_PTE_WRITE && !is_make(i))
			fail_at(f, l,
				"descriptor written (event %zu) after the last TLB flush (event %zu)",
				i, last_flush);
}

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
				fail_at(f, l, "event %zu: a write between a break (event %zu) and its make",
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
			fail_at(f, l, "event %zu: level-%u %s not invalidated before the next write", i,
				level, split ? "block replaced by a table" : "break");
	}
}
#define CHECK_REPLACEMENTS(before, live) check_replacements_at(__FILE__, __LINE__, before, live)

/* Pages in three 1 GiB regions of two root slots: 8 tables below the root. */
static void build_sparse(struct pt *pt)
{
	REQUIRE_EQ(MAP(pt, 3 * SZ_1G + 5 * SZ_2M + 7 * PG, PA0, PG, RW), 0);
	REQUIRE_EQ(MAP(pt, 7 * SZ_1G + PG, PA0 + PG, PG, RW), 0);
	REQUIRE_EQ(MAP(pt, 3 * SZ_512G + 2 * SZ_1G + PG, PA0 + 2 * PG, PG, RW), 0);
	REQUIRE_EQ(pt_count_tables(pt), 9);
}

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
static void test_live_change_with_interrupts_off_panics(void)
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

static void test_unhook_flush_free_order(void)
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

static void test_not_live_no_flush(void)
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

static void test_live_unmap_flushes(void)
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

static void test_live_protect_flush_rules(void)
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

/* The arch's flush decision for two leaves that differ only in attributes. */
static bool pt_attrs_need_flush(unsigned old, unsigned new)
{
	const phys_addr_t pa = 0x40000000;
	return arch_pte_needs_flush(arch_pte_make_leaf(pa, 0, old), arch_pte_make_leaf(pa, 0, new),
				    0);
}

static void test_attrs_need_flush_truth_table(void)
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

/* ---- Replacing live entries: splits, break-before-make ------------------------------------ */

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

static void test_live_split_invalidated_before_its_pages_change(void)
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

static void test_bbm_split_breaks_invalidates_makes(void)
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

static void test_split_not_live(void)
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

static void test_bbm_retype_and_permissions(void)
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
static void test_bbm_live_break_in_use_refused(void)
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

static void test_enomem_live_splits(void)
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

/* ---- Statistics
 * ---------------------------------------------------------------------------------- */

static void test_stats_counters(void)
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
		CHECK_EQ(PROTECT(&pt, v + SZ_2M, SZ_2M, RWX), 0); /* adding: a full flush when live */
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

/* ---- Layout independence --------------------------------------------------------------------- */

static void test_nonzero_absent_descriptors_are_absent(void)
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

static void test_page_metadata_marks_tables(void)
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

static void test_no_page_metadata_and_pa_not_pointer(void)
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

/* ---- Randomized differential test against a reference model
 * -------------------------------------- */

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

static void test_random_differential_layout0(void)
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

static void test_random_differential_scrambled_seed1(void)
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

static void test_random_differential_scrambled_seed2(void)
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

static void test_random_differential_bbm_live(void)
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

static void test_random_differential_bbm_not_live(void)
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

/* ---- arm64 range TLBI operands (tlbi_range_host_test.c) ------------------------------------- */

static void test_tlbi_range_operands(void)
{
	CHECK_EQ(tlbi_range_host_check(), 0);
}

/* ---- Main ------------------------------------------------------------------------------------ */

struct test_case {
	const char *name;
	void (*fn)(void);
};

/* clang-format off */
#define CASE(fn) { #fn + 5, fn } /* the name without "test_" */
static const struct test_case cases[] = {
	CASE(test_fake_arch_selftest),
	CASE(test_empty_tree),
	CASE(test_map_query_single_page),
	CASE(test_one_page_map_direct_and_back_off),
	CASE(test_map_straddles_2m_boundary),
	CASE(test_map_straddles_1g_boundary),
	CASE(test_map_straddles_512g_boundary),
	CASE(test_large_leaves_2m_by_alignment),
	CASE(test_relatively_misaligned_gives_4k_leaves),
	CASE(test_mixed_leaves_by_alignment),
	CASE(test_leaves_1g_when_allowed),
	CASE(test_no_1g_leaves_when_disabled),
	CASE(test_only_4k_leaves_mode),
	CASE(test_partial_unmap_splits_2m_block),
	CASE(test_partial_unmap_splits_1g_block_twice),
	CASE(test_partial_protect_splits_block),
	CASE(test_partial_protect_splits_1g_block),
	CASE(test_protect_whole_block_does_not_split),
	CASE(test_protect_keeps_accessed_dirty),
	CASE(test_unmap_holes_ok),
	CASE(test_protect_holes_ok),
	CASE(test_map_over_mapping_eexist),
	CASE(test_last_page_of_address_space),
	CASE(test_range_ending_at_top),
	CASE(test_wrapping_range_einval),
	CASE(test_misaligned_einval),
	CASE(test_size_zero_einval),
	CASE(test_map_pa_range_wraps_einval),
	CASE(test_map_range_beyond_tree_reach_einval),
	CASE(test_unmap_everything_frees_all_but_root),
	CASE(test_destroy_frees_everything),
	CASE(test_enomem_pt_init),
	CASE(test_enomem_map_at_every_allocation),
	CASE(test_enomem_unmap_split_at_every_allocation),
	CASE(test_enomem_protect_split_at_every_allocation),
	CASE(test_unhook_flush_free_order),
	CASE(test_not_live_no_flush),
	CASE(test_live_unmap_flushes),
	CASE(test_live_protect_flush_rules),
	CASE(test_live_split_invalidated_before_its_pages_change),
	CASE(test_bbm_split_breaks_invalidates_makes),
	CASE(test_split_not_live),
	CASE(test_bbm_retype_and_permissions),
	CASE(test_enomem_live_splits),
	CASE(test_bbm_live_break_in_use_refused),
	CASE(test_attrs_need_flush_truth_table),
	CASE(test_stats_counters),
	CASE(test_nonzero_absent_descriptors_are_absent),
	CASE(test_page_metadata_marks_tables),
	CASE(test_no_page_metadata_and_pa_not_pointer),
	CASE(test_random_differential_layout0),
	CASE(test_random_differential_scrambled_seed1),
	CASE(test_random_differential_scrambled_seed2),
	CASE(test_random_differential_bbm_live),
	CASE(test_random_differential_bbm_not_live),
	CASE(test_tlbi_range_operands),
	CASE(test_live_change_with_interrupts_off_panics),
};
/* clang-format on */

/* Runs one case from a clean state; true when it passed. */
static bool run_case(const struct test_case *c)
{
	fake_arch_reset();
	host_stubs_reset();
	case_failed = case_panicked = false;
	case_reports = 0;
	host_panic_hook = panic_to_case;
	if (setjmp(case_jmp) == 0)
		c->fn();
	host_panic_hook = NULL;
	frame_fail_clear();
	case_free_all();
	uint64_t leaked = host_frames_release_all();
	if (leaked && case_panicked)
		printf("#   (%llu frames released after the panic)\n", (unsigned long long)leaked);
	else if (leaked)
		fail_at(__FILE__, __LINE__, "%llu frames still allocated after the case (leak)",
			(unsigned long long)leaked);
	return !case_failed;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *filter = argc > 1 ? argv[1] : NULL;
	unsigned passed = 0, failed = 0;
	printf("1..%zu\n", ARRAY_SIZE(cases));
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		bool ok = run_case(&cases[i]);
		printf("%s %zu %s\n", ok ? "ok" : "not ok", i + 1, cases[i].name);
		if (ok)
			passed++;
		else
			failed++;
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
