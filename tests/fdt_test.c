// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for lib/fdt, the "fdt" suite: the validator and the lookup
 * helpers on well-formed blobs, and the suite's table of cases. The
 * rejection and robustness cases are in fdt_reject_test.c; every blob
 * either file tests comes from the builder in fdt_build.c.
 *
 * What is checked here: a good blob passes fdt_check with an empty
 * message; path, alias, child, parent, property, compatible, phandle,
 * reg, ranges and reservation-map lookups return what the tree holds, at
 * any alignment of the blob; handles that are not nodes are refused, not
 * followed; NOPs between tokens and a version-16 header are accepted.
 *
 * Invariants: the cases and their order in fdt_cases are the suite's KTAP
 * output, which CI counts, so a case moves between files without being
 * renamed or reordered. Each case builds its own blob (cases run one at a
 * time and the builder keeps one blob).
 */
#include "lib/fdt.h"
#include "lib/string.h"
#include "tests/fdt_build.h"
#include "tests/ktest.h"

/* ---- Well-formed blobs ------------------------------------------------------------ */

static void fdt_good_blob_passes(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	EXPECT_EQ(t, fdt_check(fdtb_blob, size, &err), FDT_OK);
	EXPECT_EQ(t, err.code, FDT_OK);
	EXPECT_STREQ(t, err.message, "");
	/* Extra bytes after totalsize are fine; err may be NULL. */
	EXPECT_EQ(t, fdt_check(fdtb_blob, sizeof(fdtb_blob), NULL), FDT_OK);
	EXPECT_EQ(t, fdt_peek_totalsize(fdtb_blob), size);
}

/* Lookups every good-blob case shares; `f` may sit at any alignment. */
static void check_good_lookups(struct ktest *t, const struct fdt *f)
{
	uint64_t addr, size;
	int node, cpus, gic;

	node = fdt_find_path(f, "/chosen");
	ASSERT_GE(t, node, 0);
	EXPECT_STREQ(t, fdt_prop_string(f, node, "bootargs"), "ktest=fdt console=ttyAMA0");

	node = fdt_find_path(f, "/memory");
	ASSERT_GE(t, node, 0);
	ASSERT_EQ(t, fdt_reg_get(f, node, 0, &addr, &size, NULL), FDT_OK);
	EXPECT_EQ(t, addr, 0x40000000ull);
	EXPECT_EQ(t, size, 0x20000000ull);

	cpus = fdt_find_path(f, "/cpus");
	ASSERT_GE(t, cpus, 0);
	node = fdt_find_path(f, "/cpus/cpu@1");
	ASSERT_GE(t, node, 0);
	EXPECT_EQ(t, fdt_parent(f, node), cpus);
	ASSERT_EQ(t, fdt_reg_get(f, node, 0, &addr, &size, NULL), FDT_OK);
	EXPECT_EQ(t, addr, 0x101ull);
	EXPECT_EQ(t, size, 0ull);

	gic = fdt_find_compatible(f, -1, "arm,cortex-a15-gic");
	ASSERT_GE(t, gic, 0);
	ASSERT_EQ(t, fdt_reg_get(f, gic, 1, &addr, &size, NULL), FDT_OK);
	EXPECT_EQ(t, addr, 0x08010000ull);
	EXPECT_EQ(t, fdt_node_by_phandle(f, FDTB_GIC_PHANDLE), gic);

	node = fdt_find_path(f, "serial0");
	ASSERT_GE(t, node, 0);
	EXPECT_STREQ(t, fdt_node_name(f, node), "pl011@9000000");
}

static void fdt_lookups_on_good_blob(struct ktest *t)
{
	struct fdt f;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);
	check_good_lookups(t, &f);
}

static void fdt_unaligned_blob(struct ktest *t)
{
	struct fdt f;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	size_t shift;
	for (shift = 1; shift < 8; shift += 2) {
		memcpy(fdtb_work + shift, fdtb_blob, size);
		fdtb_init_ok(t, &f, fdtb_work + shift, size);
		check_good_lookups(t, &f);
	}
}

static void fdt_find_path_forms(struct ktest *t)
{
	struct fdt f;
	int cpu0, pl011;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	EXPECT_EQ(t, fdt_find_path(&f, "/"), fdt_root(&f));
	cpu0 = fdt_find_path(&f, "/cpus/cpu@0");
	ASSERT_GE(t, cpu0, 0);
	/* No unit address: the first node with that base name. */
	EXPECT_EQ(t, fdt_find_path(&f, "/cpus/cpu"), cpu0);
	EXPECT_EQ(t, fdt_find_path(&f, "//cpus//cpu@0/"), cpu0);
	EXPECT_EQ(t, fdt_find_path(&f, "/cpus/cpu@3"), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_find_path(&f, "/cpu"), FDT_ERR_NOTFOUND); /* "cpus" is not "cpu" */
	EXPECT_EQ(t, fdt_find_path(&f, "/nope"), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_find_path(&f, ""), FDT_ERR_NOTFOUND);
	/* Aliases, and a length-limited path as stdout-path needs. */
	pl011 = fdt_find_path(&f, "/pl011@9000000");
	ASSERT_GE(t, pl011, 0);
	EXPECT_EQ(t, fdt_find_path(&f, "serial0"), pl011);
	EXPECT_EQ(t, fdt_find_path_n(&f, "serial0:115200n8", 7), pl011);
	EXPECT_EQ(t, fdt_find_path(&f, "serial1"), FDT_ERR_NOTFOUND);
	EXPECT_STREQ(t, fdt_alias(&f, "serial0", 7), "/pl011@9000000");
}

static void fdt_children_and_paths(struct ktest *t)
{
	static const char *const expect[] = {"cpu@0", "cpu@1", "cpu@2"};
	char path[64];
	struct fdt f;
	int cpus, child, node, depth, n = 0, max_depth = 0;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	cpus = fdt_find_path(&f, "/cpus");
	ASSERT_GE(t, cpus, 0);
	fdt_for_each_child(&f, cpus, child)
	{
		ASSERT_LT(t, n, 3);
		EXPECT_STREQ(t, fdt_node_name(&f, child), expect[n]);
		EXPECT_EQ(t, fdt_parent(&f, child), cpus);
		n++;
	}
	EXPECT_EQ(t, n, 3);
	EXPECT_EQ(t, fdt_first_child(&f, fdt_find_path(&f, "/timer")), FDT_ERR_NOTFOUND);

	/* Document order: root, aliases, chosen, memory, cpus, 3 cpus, intc, timer, pl011. */
	n = 0;
	for (node = fdt_next_node(&f, -1, &depth); node >= 0;
	     node = fdt_next_node(&f, node, &depth)) {
		n++;
		max_depth = MAX(max_depth, depth);
		EXPECT_GE(t, depth, 0);
	}
	EXPECT_EQ(t, n, 11);
	EXPECT_EQ(t, max_depth, 2);

	node = fdt_find_path(&f, "/cpus/cpu@2");
	EXPECT_EQ(t, fdt_node_path(&f, node, path, sizeof(path)), FDT_OK);
	EXPECT_STREQ(t, path, "/cpus/cpu@2");
	EXPECT_EQ(t, fdt_node_path(&f, fdt_root(&f), path, sizeof(path)), FDT_OK);
	EXPECT_STREQ(t, path, "/");
	EXPECT_EQ(t, fdt_node_path(&f, node, path, 6), FDT_ERR_BADVALUE);
	EXPECT_STREQ(t, path, "/cpus");
	EXPECT_EQ(t, fdt_parent(&f, fdt_root(&f)), FDT_ERR_NOTFOUND);
	/* A handle that is not a node is refused, not followed. */
	EXPECT_EQ(t, fdt_first_child(&f, node + 4), FDT_ERR_BADHANDLE);
	EXPECT_EQ(t, fdt_parent(&f, node + 4), FDT_ERR_BADHANDLE);
	EXPECT_EQ(t, fdt_first_child(&f, 1 << 20), FDT_ERR_BADHANDLE);
	EXPECT_TRUE(t, fdt_node_name(&f, -8) == NULL);
}

static void fdt_properties(struct ktest *t)
{
	struct fdt_prop p;
	struct fdt f;
	uint32_t v32;
	uint64_t v64;
	int chosen, cpu1, cur, n = 0;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	chosen = fdt_find_path(&f, "/chosen");
	cpu1 = fdt_find_path(&f, "/cpus/cpu@1");
	ASSERT_GE(t, chosen, 0);
	ASSERT_GE(t, cpu1, 0);

	EXPECT_STREQ(t, fdt_prop_string(&f, chosen, "stdout-path"), "serial0:115200n8");
	/* Present but unterminated: not a string. */
	EXPECT_EQ(t, fdt_get_prop(&f, chosen, "pagoda,raw", &p), FDT_OK);
	EXPECT_EQ(t, p.len, 3u);
	EXPECT_TRUE(t, fdt_prop_string(&f, chosen, "pagoda,raw") == NULL);
	EXPECT_TRUE(t, fdt_prop_string(&f, chosen, "missing") == NULL);
	EXPECT_EQ(t, fdt_get_prop(&f, chosen, "bootarg", &p), FDT_ERR_NOTFOUND);

	for (cur = fdt_first_prop(&f, chosen, &p); cur >= 0; cur = fdt_next_prop(&f, cur, &p))
		n++;
	EXPECT_EQ(t, n, 3);

	EXPECT_TRUE(t, fdt_prop_u32(&f, cpu1, "reg", &v32));
	EXPECT_EQ(t, v32, 0x101u);
	EXPECT_TRUE(t, fdt_prop_u64(&f, cpu1, "cpu-release-addr", &v64));
	EXPECT_EQ(t, v64, 0x18000fff8ull);
	EXPECT_FALSE(t, fdt_prop_u32(&f, cpu1, "cpu-release-addr", &v32));
	EXPECT_FALSE(t, fdt_prop_u32(&f, cpu1, "enable-method", &v32));

	EXPECT_TRUE(t, fdt_node_okay(&f, cpu1));
	EXPECT_TRUE(t, fdt_node_okay(&f, fdt_find_path(&f, "/cpus/cpu@0")));
	EXPECT_FALSE(t, fdt_node_okay(&f, fdt_find_path(&f, "/cpus/cpu@2")));
}

static void fdt_compatible_and_phandle(struct ktest *t)
{
	struct fdt_cells c;
	struct fdt f;
	uint64_t type, num, flags;
	uint32_t ph;
	int gic, timer, pl011;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	gic = fdt_find_path(&f, "/intc@8000000");
	timer = fdt_find_path(&f, "/timer");
	pl011 = fdt_find_path(&f, "/pl011@9000000");
	EXPECT_TRUE(t, fdt_is_compatible(&f, gic, "arm,cortex-a15-gic"));
	EXPECT_FALSE(t, fdt_is_compatible(&f, gic, "arm,cortex-a15")); /* no prefix match */
	EXPECT_FALSE(t, fdt_is_compatible(&f, gic, "arm,gic-v3"));
	EXPECT_TRUE(t, fdt_is_compatible(&f, timer, "arm,armv7-timer")); /* second string */
	EXPECT_EQ(t, fdt_find_compatible(&f, -1, "arm,primecell"), pl011);
	EXPECT_EQ(t, fdt_find_compatible(&f, pl011, "arm,primecell"), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_find_compatible(&f, -1, "pagoda,test"), fdt_root(&f));
	EXPECT_FALSE(t, fdt_stringlist_contains((const uint8_t *)"ab\0cd", 5, "cd"));
	EXPECT_TRUE(t, fdt_stringlist_contains((const uint8_t *)"ab\0cd", 6, "cd"));

	/* interrupt-parent is inherited from the root; follow it. */
	ASSERT_TRUE(t, fdt_prop_u32(&f, fdt_root(&f), "interrupt-parent", &ph));
	EXPECT_EQ(t, fdt_node_by_phandle(&f, ph), gic);
	EXPECT_EQ(t, fdt_node_by_phandle(&f, 0), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_node_by_phandle(&f, 0xffffffffu), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_node_by_phandle(&f, 99), FDT_ERR_NOTFOUND);

	/* Timer interrupts: triples; entry 1 is the non-secure physical PPI. */
	ASSERT_EQ(t, fdt_prop_cells(&f, timer, "interrupts", 3, &c, NULL), FDT_OK);
	EXPECT_EQ(t, fdt_cells_left(&c), 12u);
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &type));
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &num));
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &flags));
	EXPECT_EQ(t, num, 13ull);
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &type));
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &num));
	EXPECT_EQ(t, type, 1ull);
	EXPECT_EQ(t, num, 14ull);
}

static void fdt_reg_and_cells(struct ktest *t)
{
	struct fdt_reg reg;
	struct fdt f;
	uint64_t a, s;
	unsigned ac, sc;
	int gic, cpus, timer;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	cpus = fdt_find_path(&f, "/cpus");
	timer = fdt_find_path(&f, "/timer");
	gic = fdt_find_path(&f, "/intc@8000000");
	EXPECT_EQ(t, fdt_parent_cells(&f, cpus, &ac, &sc, NULL), FDT_OK);
	EXPECT_EQ(t, ac, 1u);
	EXPECT_EQ(t, sc, 0u);
	EXPECT_EQ(t, fdt_parent_cells(&f, timer, &ac, &sc, NULL), FDT_OK);
	EXPECT_EQ(t, ac, 2u); /* the defaults */
	EXPECT_EQ(t, sc, 1u);

	ASSERT_EQ(t, fdt_reg_init(&f, gic, &reg, NULL), FDT_OK);
	EXPECT_EQ(t, fdt_reg_count(&reg), 2u);
	ASSERT_TRUE(t, fdt_reg_next(&reg, &a, &s));
	EXPECT_EQ(t, a, 0x08000000ull);
	EXPECT_EQ(t, s, 0x10000ull);
	ASSERT_TRUE(t, fdt_reg_next(&reg, &a, &s));
	EXPECT_EQ(t, a, 0x08010000ull);
	EXPECT_FALSE(t, fdt_reg_next(&reg, &a, &s));
	EXPECT_EQ(t, fdt_reg_get(&f, gic, 2, &a, &s, NULL), FDT_ERR_NOTFOUND);
	EXPECT_EQ(t, fdt_reg_init(&f, timer, &reg, NULL), FDT_ERR_NOTFOUND);
}

/*
 * Buses for fdt_translate (lib/fdt_ranges.c), shaped like the Raspberry Pi
 * 4's /soc: 32-bit bus addresses 0x7e...... onto a 64-bit root, a nested
 * bus with an empty `ranges` (identity), and a bus with none at all.
 */
static uint32_t build_buses(void)
{
	static const uint8_t none[1];
	fdtb_reset();
	fdtb_begin("");
	fdtb_prop_cells("#address-cells", 1, 2);
	fdtb_prop_cells("#size-cells", 1, 1);
	fdtb_begin("soc");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 1);
	fdtb_prop_cells("ranges", 4, 0x7e000000, 0, 0xfe000000, 0x1800000);
	fdtb_begin("serial@7e201000");
	fdtb_prop_cells("reg", 2, 0x7e201000, 0x200);
	fdtb_end();
	fdtb_begin("flat");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 1);
	fdtb_prop("ranges", none, 0);
	fdtb_begin("dev@7e100000");
	fdtb_prop_cells("reg", 2, 0x7e100000, 0x100);
	fdtb_end();
	fdtb_end();
	fdtb_end();
	fdtb_begin("nobus");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 1);
	fdtb_begin("dev@10");
	fdtb_prop_cells("reg", 2, 0x10, 0x10);
	fdtb_end();
	fdtb_end();
	fdtb_end();
	return fdtb_finish(true);
}

static void fdt_ranges_translate(struct ktest *t)
{
	struct fdt f;
	struct fdt_error err;
	uint64_t pa = 0;
	uint32_t size = FDTB_BUILD(t, build_buses());
	fdtb_init_ok(t, &f, fdtb_blob, size);
	int uart = fdt_find_path(&f, "/soc/serial@7e201000");
	int dev = fdt_find_path(&f, "/soc/flat/dev@7e100000");
	int lone = fdt_find_path(&f, "/nobus/dev@10");
	ASSERT_TRUE(t, uart >= 0 && dev >= 0 && lone >= 0);

	EXPECT_EQ(t, fdt_translate(&f, uart, 0x7e201000, 0x200, &pa, &err), FDT_OK);
	EXPECT_EQ(t, pa, 0xfe201000ull);
	EXPECT_EQ(t, fdt_translate(&f, dev, 0x7e100000, 0x100, &pa, &err), FDT_OK);
	EXPECT_EQ(t, pa, 0xfe100000ull);
	/* Below the window, and a range running past its end. */
	EXPECT_FDT_ERR(t, fdt_translate(&f, uart, 0x7d000000, 4, &pa, &err), &err, FDT_ERR_NOTFOUND,
		       "no entry covers");
	EXPECT_FDT_ERR(t, fdt_translate(&f, uart, 0x7f7fff00, 0x200, &pa, &err), &err,
		       FDT_ERR_NOTFOUND, "no entry covers");
	EXPECT_FDT_ERR(t, fdt_translate(&f, lone, 0x10, 0x10, &pa, &err), &err, FDT_ERR_NOTFOUND,
		       "not memory-mapped");
}

static void fdt_reservation_map(struct ktest *t)
{
	struct fdt f;
	uint64_t a, s;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_init_ok(t, &f, fdtb_blob, size);

	EXPECT_EQ(t, fdt_rsv_count(&f), 2u);
	ASSERT_TRUE(t, fdt_rsv_get(&f, 1, &a, &s));
	EXPECT_EQ(t, a, 0x4f000000ull);
	EXPECT_EQ(t, s, 0x200000ull);
	EXPECT_FALSE(t, fdt_rsv_get(&f, 2, &a, &s));
}

/* NOPs may appear between any tokens (an editor deleted something in place). */
static void fdt_nops_and_v16(struct ktest *t)
{
	struct fdt_error err;
	struct fdt f;
	uint64_t a, s;
	int node;
	uint32_t size;

	fdtb_reset();
	fdtb_u32(FDT_NOP);
	fdtb_begin("");
	fdtb_u32(FDT_NOP);
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_u32(FDT_NOP);
	fdtb_begin("dev@10");
	fdtb_u32(FDT_NOP);
	fdtb_prop_cells("reg", 2, 0x10, 0x20);
	fdtb_u32(FDT_NOP);
	fdtb_end();
	fdtb_u32(FDT_NOP);
	fdtb_end();
	fdtb_u32(FDT_NOP);
	size = FDTB_BUILD(t, fdtb_finish(true));
	fdtb_init_ok(t, &f, fdtb_blob, size);
	node = fdt_find_path(&f, "/dev");
	ASSERT_GE(t, node, 0);
	EXPECT_EQ(t, fdt_reg_get(&f, node, 0, &a, &s, NULL), FDT_OK);
	EXPECT_EQ(t, a, 0x10ull);
	EXPECT_EQ(t, s, 0x20ull);
	EXPECT_EQ(t, fdt_next_sibling(&f, node), FDT_ERR_NOTFOUND);

	/* Version 16 has no size_dt_struct: the walk stops at FDT_END. */
	fdtb_set_hdr(FDTB_H_VERSION, 16);
	fdtb_set_hdr(FDTB_H_SIZE_STRUCT, 0xdeadbeef);
	EXPECT_EQ(t, fdt_init(&f, fdtb_blob, size, &err), FDT_OK);
	EXPECT_GE(t, fdt_find_path(&f, "/dev@10"), 0);
}

static const struct ktest_case fdt_cases[] = {
    KTEST_CASE(fdt_good_blob_passes),
    KTEST_CASE(fdt_lookups_on_good_blob),
    KTEST_CASE(fdt_unaligned_blob),
    KTEST_CASE(fdt_find_path_forms),
    KTEST_CASE(fdt_children_and_paths),
    KTEST_CASE(fdt_properties),
    KTEST_CASE(fdt_compatible_and_phandle),
    KTEST_CASE(fdt_reg_and_cells),
    KTEST_CASE(fdt_reservation_map),
    KTEST_CASE(fdt_ranges_translate),
    KTEST_CASE(fdt_nops_and_v16),
    KTEST_CASE(fdt_rejects_bad_magic),
    KTEST_CASE(fdt_rejects_truncated),
    KTEST_CASE(fdt_rejects_old_version),
    KTEST_CASE(fdt_rejects_struct_out_of_range),
    KTEST_CASE(fdt_rejects_size_overflow),
    KTEST_CASE(fdt_rejects_misaligned),
    KTEST_CASE(fdt_rejects_bad_rsvmap),
    KTEST_CASE(fdt_rejects_prop_past_block),
    KTEST_CASE(fdt_rejects_nameoff_outside_strings),
    KTEST_CASE(fdt_rejects_unterminated_string),
    KTEST_CASE(fdt_rejects_unterminated_node_name),
    KTEST_CASE(fdt_rejects_unbalanced_nesting),
    KTEST_CASE(fdt_rejects_misplaced_property),
    KTEST_CASE(fdt_rejects_bad_token),
    KTEST_CASE(fdt_cells_refuse_bad_lengths),
    KTEST_CASE_TIMEOUT(fdt_every_truncation_fails, 30000),
    KTEST_CASE_TIMEOUT(fdt_corruption_fuzz, 60000),
    KTEST_END,
};

KTEST_SUITE(fdt_suite, "fdt", fdt_cases);
