/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The harness of the page-table host test (pt_host_test.c): records failed
 * checks against the current case, turns a panic inside a case into its
 * failure, runs one case from a clean state (fake arch and stubs reset, no
 * frame left allocated after it: a leak fails it), and holds the per-case
 * memory. Then the checked wrappers of pt.c's calls (each checks that the
 * lock is released and interrupts are enabled again when the call returns),
 * the pseudo-random numbers, and the fixture trees several cases start
 * from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/host/pt_host.h"

/* ---- Harness --------------------------------------------------------------------------------- */

static jmp_buf case_jmp;
static bool case_failed, case_panicked;
static unsigned case_reports;
#define MAX_REPORTS 25

__printf(3, 4) void fail_at(const char *file, int line, const char *fmt, ...)
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

__noreturn void case_abort(void)
{
	longjmp(case_jmp, 2);
}

bool check_true(bool ok, const char *file, int line, const char *expr)
{
	if (!ok)
		fail_at(file, line, "check failed: %s", expr);
	return ok;
}

bool check_eq(uint64_t a, uint64_t b, const char *file, int line, const char *ea, const char *eb)
{
	if (a != b)
		fail_at(file, line, "%s == %s failed: %#llx (%lld) != %#llx (%lld)", ea, eb,
			(unsigned long long)a, (long long)a, (unsigned long long)b, (long long)b);
	return a == b;
}

void panic_to_case(const char *msg)
{
	case_panicked = true;
	fail_at("panic", 0, "%s", msg);
	longjmp(case_jmp, 1);
}

/* ---- Per-case memory (freed after the case, even when it ends by longjmp) -------------------- */

static void **arena;
static size_t arena_len, arena_cap;

void *case_malloc(size_t n)
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

/* ---- Running a case -------------------------------------------------------------------------- */

/* Runs one case from a clean state; true when it passed. */
bool run_case(void (*fn)(void))
{
	fake_arch_reset();
	host_stubs_reset();
	case_failed = case_panicked = false;
	case_reports = 0;
	host_panic_hook = panic_to_case;
	if (setjmp(case_jmp) == 0)
		fn();
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

/* ---- Checked operations ---------------------------------------------------------------------- */

void post_op(const char *file, int line, struct pt *pt)
{
	if (pt->lock.holder != 0)
		fail_at(file, line, "the pt lock is still held after the operation");
	if (!host_irqs_enabled)
		fail_at(file, line, "interrupts were left disabled after the operation");
}

int map_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
	   unsigned attrs)
{
	int r = pt_map(pt, va, pa, size, attrs);
	post_op(f, l, pt);
	return r;
}
int unmap_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size)
{
	int r = pt_unmap(pt, va, size);
	post_op(f, l, pt);
	return r;
}
int protect_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size, unsigned attrs)
{
	int r = pt_protect(pt, va, size, attrs);
	post_op(f, l, pt);
	return r;
}

void expect_mapped_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, unsigned level,
		      unsigned attrs)
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

void expect_unmapped_at(const char *f, int l, struct pt *pt, uint64_t va)
{
	struct pt_query_result q;
	bool found = pt_query(pt, va, &q);
	post_op(f, l, pt);
	if (found)
		fail_at(f, l, "va %#llx: mapped (pa %#llx level %u attrs %#x), expected a hole",
			(unsigned long long)va, (unsigned long long)q.pa, q.level, q.attrs);
}

/* Every page of [va, va + size) maps pa + offset at `level` with `attrs`. */
void expect_range_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
		     unsigned level, unsigned attrs)
{
	for (uint64_t off = 0; off < size; off += PG)
		expect_mapped_at(f, l, pt, va + off, pa + off, level, attrs);
}

void init_pt(struct pt *pt)
{
	REQUIRE_EQ(pt_init(pt), 0);
}

/* ---- Pseudo-random numbers ------------------------------------------------------------------- */

uint64_t rng_state;
uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---- Fixture trees --------------------------------------------------------------------------- */

/* A tree with every kind of leaf and table (splits included), over four root slots. */
void build_busy_tree(struct pt *pt)
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

/* 1 GiB block at [1G, 2G), 2 MiB blocks at [2G, 2G + 4M), page at 2G + 4M. */
void build_blocks(struct pt *pt)
{
	fake_leaf_mode = FAKE_LEAVES_ALL;
	REQUIRE_EQ(MAP(pt, SZ_1G, PA0 + SZ_1G, SZ_1G, RWX | PT_ACCESSED), 0);
	REQUIRE_EQ(MAP(pt, 2 * SZ_1G, PA0 + 2 * SZ_1G, 2 * SZ_2M, RW), 0);
	REQUIRE_EQ(MAP(pt, 2 * SZ_1G + 2 * SZ_2M, PA0, PG, RW), 0);
}
