/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared by the files of the page-table host test (main and the case table
 * in pt_host_test.c, the cases in pt_host_*.c): the harness and the checked
 * calls of pt.c (pt_host.c), the checks over a tree and its event log
 * (pt_host_check.c), and the cases themselves, listed per file. Declarations
 * and macros only.
 */
#ifndef PAGODA_TESTS_HOST_PT_HOST_H
#define PAGODA_TESTS_HOST_PT_HOST_H

#include "tests/host/host.h"

/* Sanitizers: every report fatal, even when the binary is run by hand (pt_host_test.c). */
const char *__asan_default_options(void);
const char *__ubsan_default_options(void);

/* ---- Harness (pt_host.c) --------------------------------------------------------------------- */

/* Fails the current case, printing "# file:line: ..." (the first 25 of a case). */
__printf(3, 4) void fail_at(const char *file, int line, const char *fmt, ...);
/* Ends the current case at once (after a failed REQUIRE). */
__noreturn void case_abort(void);
bool check_true(bool ok, const char *file, int line, const char *expr);
bool check_eq(uint64_t a, uint64_t b, const char *file, int line, const char *ea, const char *eb);

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

/* host_panic_hook while a case runs: the panic fails the case and ends it. */
void panic_to_case(const char *msg);
/* Runs one case from a clean state; true when it passed. */
bool run_case(void (*fn)(void));
/* Memory freed after the case, even when it ends by longjmp. */
void *case_malloc(size_t n);

/* ---- Constants ------------------------------------------------------------------------------- */

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

/* ---- Checked operations (pt.c's calls, then the lock released, interrupts on: pt_host.c) ----- */

void post_op(const char *file, int line, struct pt *pt);
int map_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
	   unsigned attrs);
int unmap_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size);
int protect_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t size, unsigned attrs);
#define MAP(pt, va, pa, size, attrs) map_at(__FILE__, __LINE__, pt, va, pa, size, attrs)
#define UNMAP(pt, va, size)	     unmap_at(__FILE__, __LINE__, pt, va, size)
#define PROTECT(pt, va, size, attrs) protect_at(__FILE__, __LINE__, pt, va, size, attrs)

void expect_mapped_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, unsigned level,
		      unsigned attrs);
void expect_unmapped_at(const char *f, int l, struct pt *pt, uint64_t va);
/* Every page of [va, va + size) maps pa + offset at `level` with `attrs`. */
void expect_range_at(const char *f, int l, struct pt *pt, uint64_t va, uint64_t pa, uint64_t size,
		     unsigned level, unsigned attrs);
#define EXPECT_MAPPED(pt, va, pa, level, attrs)                                                    \
	expect_mapped_at(__FILE__, __LINE__, pt, va, pa, level, attrs)
#define EXPECT_UNMAPPED(pt, va) expect_unmapped_at(__FILE__, __LINE__, pt, va)
#define EXPECT_RANGE(pt, va, pa, size, level, attrs)                                               \
	expect_range_at(__FILE__, __LINE__, pt, va, pa, size, level, attrs)

/* Only one tree exists in most cases: every live frame must be one of its tables. */
#define CHECK_FRAMES(pt) CHECK_EQ(host_live_frames(), pt_count_tables(pt))

/* pt_init, which must succeed (the case ends if it does not). */
void init_pt(struct pt *pt);

/* Pseudo-random numbers (xorshift*): rng_state is the seed, then the state. */
extern uint64_t rng_state;
uint64_t rnd(void);

/* ---- Fixture trees (pt_host.c) --------------------------------------------------------------- */

/* A tree with every kind of leaf and table (splits included), over four root slots. */
void build_busy_tree(struct pt *pt);
/* 1 GiB block at [1G, 2G), 2 MiB blocks at [2G, 2G + 4M), page at 2G + 4M. */
void build_blocks(struct pt *pt);

/* ---- Checks over a tree and its event log (pt_host_check.c) ---------------------------------- */

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

/* A deep copy of every table (depth first), the root address and the stats. */
void snap_take(struct pt *pt, struct snap *s);
/* The memory itself goes back after the case (case_free_all). */
void snap_free(struct snap *s);
bool snap_equal_at(const char *f, int l, const struct snap *a, const struct snap *b);
#define CHECK_SNAP_EQUAL(a, b) snap_equal_at(__FILE__, __LINE__, a, b)

/* The structural invariants (pt_host_check.c says which). */
void check_tree_at(const char *f, int l, struct pt *pt);
#define CHECK_TREE(pt) check_tree_at(__FILE__, __LINE__, pt)

/* The slot that translates `va` at `level`, or NULL when a table on the way is missing. */
pte_t *slot_at(struct pt *pt, uint64_t va, unsigned level);

enum op_kind { OP_MAP, OP_UNMAP, OP_PROTECT };
struct op {
	enum op_kind kind;
	uint64_t va, pa, size;
	unsigned attrs;
};
int run_op(struct pt *pt, const struct op *op);
/* Fails each of the `needed` allocations of `op` in turn, then lets it succeed. */
void enomem_sweep_at(const char *f, int l, struct pt *pt, const struct op *op, unsigned needed);
#define ENOMEM_SWEEP(pt, op, needed) enomem_sweep_at(__FILE__, __LINE__, pt, op, needed)

/* Event i writes a valid entry into a slot the operation broke (made invalid) earlier. */
bool is_make(size_t i);
/* No descriptor written after the operation's last flush, but a make. */
void check_flush_after_writes_at(const char *f, int l);
/* The arch's flush decision for two leaves that differ only in attributes. */
bool pt_attrs_need_flush(unsigned old, unsigned new);

/* ---- The cases, per file (the table in pt_host_test.c sets the order they run in) ------------ */

/* pt_host_layout.c */
void test_fake_arch_selftest(void);
void test_nonzero_absent_descriptors_are_absent(void);
void test_page_metadata_marks_tables(void);
void test_no_page_metadata_and_pa_not_pointer(void);

/* pt_host_map.c */
void test_empty_tree(void);
void test_map_query_single_page(void);
void test_one_page_map_direct_and_back_off(void);
void test_map_straddles_2m_boundary(void);
void test_map_straddles_1g_boundary(void);
void test_map_straddles_512g_boundary(void);
void test_large_leaves_2m_by_alignment(void);
void test_relatively_misaligned_gives_4k_leaves(void);
void test_mixed_leaves_by_alignment(void);
void test_leaves_1g_when_allowed(void);
void test_no_1g_leaves_when_disabled(void);
void test_only_4k_leaves_mode(void);

/* pt_host_split.c */
void test_partial_unmap_splits_2m_block(void);
void test_partial_unmap_splits_1g_block_twice(void);
void test_partial_protect_splits_block(void);
void test_partial_protect_splits_1g_block(void);
void test_protect_whole_block_does_not_split(void);
void test_protect_keeps_accessed_dirty(void);

/* pt_host_edges.c */
void test_unmap_holes_ok(void);
void test_protect_holes_ok(void);
void test_map_over_mapping_eexist(void);
void test_last_page_of_address_space(void);
void test_range_ending_at_top(void);
void test_wrapping_range_einval(void);
void test_misaligned_einval(void);
void test_size_zero_einval(void);
void test_map_pa_range_wraps_einval(void);
void test_map_range_beyond_tree_reach_einval(void);

/* pt_host_alloc.c */
void test_unmap_everything_frees_all_but_root(void);
void test_destroy_frees_everything(void);
void test_enomem_pt_init(void);
void test_enomem_map_at_every_allocation(void);
void test_enomem_unmap_split_at_every_allocation(void);
void test_enomem_protect_split_at_every_allocation(void);
void test_stats_counters(void);

/* pt_host_tlb.c */
void test_unhook_flush_free_order(void);
void test_not_live_no_flush(void);
void test_live_unmap_flushes(void);
void test_live_protect_flush_rules(void);
void test_attrs_need_flush_truth_table(void);
void test_tlbi_range_operands(void);

/* pt_host_live.c */
void test_live_split_invalidated_before_its_pages_change(void);
void test_bbm_split_breaks_invalidates_makes(void);
void test_split_not_live(void);
void test_bbm_retype_and_permissions(void);
void test_bbm_live_break_in_use_refused(void);
void test_enomem_live_splits(void);
void test_live_change_with_interrupts_off_panics(void);

/* pt_host_random.c */
void test_random_differential_layout0(void);
void test_random_differential_scrambled_seed1(void);
void test_random_differential_scrambled_seed2(void);
void test_random_differential_bbm_live(void);
void test_random_differential_bbm_not_live(void);

#endif
