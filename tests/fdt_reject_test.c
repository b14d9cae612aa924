// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for lib/fdt, the "fdt" suite's rejection and robustness cases
 * (the table of cases is in fdt_test.c, the blob builder in fdt_build.c).
 *
 * Malformed blobs are made by building a good one and then breaking one
 * field, so each rejection case names exactly one fault and checks both
 * the error code and that the message names the field: the header, the
 * reservation map, the structure block's tokens, names and nesting, and
 * the cells readers' lengths. The fuzz cases then check that every
 * truncation of a small blob and every one-byte corruption of it is
 * either rejected with a matching code and message or walks safely.
 *
 * Invariants: every rejection reports the same code in its return value
 * and in the error, with a non-empty "fdt: " message. The fuzz cases place
 * each mutated blob at the very end of fdtb_work so that, under a host
 * build with AddressSanitizer, any read past `avail` hits the redzone.
 */
#include "lib/fdt.h"
#include "lib/string.h"
#include "tests/fdt_build.h"
#include "tests/ktest.h"

/* ---- Rejections: header ---------------------------------------------------------- */

void fdt_rejects_bad_magic(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_set_hdr(FDTB_H_MAGIC, 0xfeedd00d);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_MAGIC,
		       "magic 0xfeedd00d");
	EXPECT_EQ(t, fdt_peek_totalsize(fdtb_blob), 0u);
}

void fdt_rejects_truncated(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size - 1, &err), &err, FDT_ERR_TRUNCATED,
		       "totalsize");
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, 10, &err), &err, FDT_ERR_TRUNCATED, "header");
	EXPECT_FDT_ERR(t, fdt_check(NULL, size, &err), &err, FDT_ERR_TRUNCATED, "NULL");
	fdtb_set_hdr(FDTB_H_TOTALSIZE, 20);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT, "totalsize 20");
}

void fdt_rejects_old_version(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_set_hdr(FDTB_H_VERSION, 15);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_VERSION, "version 15");
	fdtb_set_hdr(FDTB_H_VERSION, 17);
	fdtb_set_hdr(FDTB_H_LAST_COMP, 18);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_VERSION,
		       "last_comp_version 18");
}

void fdt_rejects_struct_out_of_range(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_set_hdr(FDTB_H_OFF_STRUCT, 0x10000);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT,
		       "off_dt_struct 0x10000");
	fdtb_set_hdr(FDTB_H_OFF_STRUCT, fdtb_lay.struct_off);
	fdtb_set_hdr(FDTB_H_SIZE_STRINGS, fdtb_lay.strings_size + 1);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT,
		       "size_dt_strings");
	fdtb_set_hdr(FDTB_H_SIZE_STRINGS, fdtb_lay.strings_size);
	fdtb_set_hdr(FDTB_H_OFF_STRINGS, 8); /* inside the header */
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT, "off_dt_strings");
	fdtb_set_hdr(FDTB_H_OFF_STRINGS, fdtb_lay.strings_off);
	fdtb_set_hdr(FDTB_H_OFF_RSVMAP, 0x10000);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT, "off_mem_rsvmap");
}

void fdt_rejects_size_overflow(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	/* In 32-bit arithmetic off + size would wrap to a small, "valid" end. */
	fdtb_set_hdr(FDTB_H_SIZE_STRUCT, 0u - fdtb_lay.struct_off + 0x10);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT, "wraps");
	EXPECT_TRUE(t, fdtb_contains(err.message, "size_dt_struct"));
	fdtb_set_hdr(FDTB_H_SIZE_STRUCT, fdtb_lay.struct_size);
	fdtb_set_hdr(FDTB_H_SIZE_STRINGS, 0xfffffff0u);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_LAYOUT,
		       "size_dt_strings");
}

void fdt_rejects_misaligned(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good());
	fdtb_set_hdr(FDTB_H_OFF_STRUCT, fdtb_lay.struct_off + 2);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_ALIGN, "off_dt_struct");
	fdtb_set_hdr(FDTB_H_OFF_STRUCT, fdtb_lay.struct_off);
	fdtb_set_hdr(FDTB_H_OFF_RSVMAP, fdtb_lay.rsv_off + 4);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_ALIGN, "off_mem_rsvmap");
}

void fdt_rejects_bad_rsvmap(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, fdtb_build_good()), off;
	/* Room for one entry before totalsize, but not for the terminator after it. */
	off = (size - 16) & ~7u;
	fdtb_put_be64(fdtb_blob + off, 0x1000);
	fdtb_put_be64(fdtb_blob + off + 8, 0x1000);
	fdtb_set_hdr(FDTB_H_OFF_RSVMAP, off);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_RSVMAP, "not terminated");

	fdtb_reset();
	fdtb_rsv(0xffffffffffff0000ull, 0x20000);
	fdtb_begin("");
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_RSVMAP, "entry 0");
}

/* ---- Rejections: structure block --------------------------------------------------- */

void fdt_rejects_prop_past_block(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("cpus");
	fdtb_u32(FDT_PROP);
	fdtb_u32(0x1000); /* length far beyond the block */
	fdtb_u32(fdtb_string("reg"));
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_PROP,
		       "node /cpus: property 'reg': length 4096 runs past");
}

void fdt_rejects_nameoff_outside_strings(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	fdtb_reset();
	fdtb_begin("");
	fdtb_prop_str("model", "x");
	fdtb_prop_raw(0x400, "abcd", 4);
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_STRINGS,
		       "name offset 0x400 outside the strings block");
	EXPECT_TRUE(t, fdtb_contains(err.message, "node /:"));
}

void fdt_rejects_unterminated_string(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	fdtb_reset();
	fdtb_begin("");
	fdtb_prop_str("model", "x");
	fdtb_prop_cells("zzz", 1, 5); /* the last name in the strings block */
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	/* Cut the block by one byte: "zzz" loses its NUL. */
	fdtb_set_hdr(FDTB_H_SIZE_STRINGS, fdtb_lay.strings_size - 1);
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_STRINGS,
		       "not NUL-terminated");
}

void fdt_rejects_unterminated_node_name(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	fdtb_reset();
	fdtb_begin("");
	fdtb_u32(FDT_BEGIN_NODE);
	fdtb_raw("abcdefgh", 8); /* no NUL before the block ends */
	size = FDTB_BUILD(t, fdtb_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NAME,
		       "not NUL-terminated");

	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("a/b");
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NAME, "'a/b'");

	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("");
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NAME, "empty node name");
}

void fdt_rejects_unbalanced_nesting(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	unsigned i;

	/* One FDT_END_NODE too many. */
	fdtb_reset();
	fdtb_begin("");
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING,
		       "closes no node");

	/* FDT_END with /a still open. */
	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("a");
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING, "still open");

	/* Balanced but no FDT_END. */
	fdtb_reset();
	fdtb_begin("");
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NOEND, "without FDT_END");

	/* Unbalanced and no FDT_END: names the open node. */
	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("cpus");
	size = FDTB_BUILD(t, fdtb_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NOEND, "node /cpus:");

	/* Two roots. */
	fdtb_reset();
	fdtb_begin("");
	fdtb_end();
	fdtb_begin("");
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING, "second root");

	/* Deeper than the walkers' ancestry stack. */
	fdtb_reset();
	for (i = 0; i <= FDT_MAX_DEPTH; i++)
		fdtb_begin(i ? "n" : "");
	for (i = 0; i <= FDT_MAX_DEPTH; i++)
		fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING, "deeper");
}

void fdt_rejects_misplaced_property(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;

	fdtb_reset();
	fdtb_prop_cells("early", 1, 1);
	fdtb_begin("");
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING,
		       "outside any node");

	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("child");
	fdtb_end();
	fdtb_prop_cells("late", 1, 1);
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_NESTING,
		       "property 'late'");
}

void fdt_rejects_bad_token(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("soc");
	fdtb_u32(7);
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(fdtb_blob, size, &err), &err, FDT_ERR_TOKEN, "bad token 0x7");
	EXPECT_TRUE(t, fdtb_contains(err.message, "node /soc:"));
	EXPECT_EQ(t, err.offset, fdtb_lay.struct_off + 16u);
}

/* ---- Cells readers refuse malformed values ----------------------------------------- */

void fdt_cells_refuse_bad_lengths(struct ktest *t)
{
	struct fdt_error err;
	struct fdt_cells c;
	struct fdt_reg reg;
	struct fdt f;
	uint64_t v;
	unsigned ac, sc;
	uint32_t size;
	int cpu1, dev, bad;

	fdtb_reset();
	fdtb_begin("");
	fdtb_begin("cpus");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 0);
	fdtb_begin("cpu@1");
	fdtb_prop("reg", "\0\0\1", 3);
	fdtb_end();
	fdtb_end();
	fdtb_begin("dev@0");
	fdtb_prop_cells("reg", 2, 0, 0x1000); /* 8 bytes; needs 12 with 2 + 1 cells */
	fdtb_end();
	fdtb_begin("bad");
	fdtb_prop("#address-cells", "\0\1", 2);
	fdtb_begin("x");
	fdtb_prop_cells("reg", 1, 1);
	fdtb_end();
	fdtb_end();
	fdtb_end();
	size = FDTB_BUILD(t, fdtb_finish(true));
	fdtb_init_ok(t, &f, fdtb_blob, size);

	cpu1 = fdt_find_path(&f, "/cpus/cpu@1");
	EXPECT_EQ(t, fdt_reg_init(&f, cpu1, &reg, &err), FDT_ERR_BADVALUE);
	EXPECT_STREQ(t, err.message,
		     "fdt: node /cpus/cpu@1: property 'reg': length 3 not a multiple of 4");
	EXPECT_FALSE(t, fdt_reg_next(&reg, &v, &v));

	dev = fdt_find_path(&f, "/dev@0");
	EXPECT_FDT_ERR(t, fdt_reg_init(&f, dev, &reg, &err), &err, FDT_ERR_BADVALUE,
		       "length 8 not a multiple of 12");
	EXPECT_FDT_ERR(t, fdt_prop_cells(&f, dev, "reg", 3, &c, &err), &err, FDT_ERR_BADVALUE,
		       "node /dev@0: property 'reg'");
	EXPECT_FDT_ERR(t, fdt_prop_cells(&f, dev, "nope", 1, &c, &err), &err, FDT_ERR_NOTFOUND,
		       "property 'nope': missing");

	bad = fdt_find_path(&f, "/bad");
	EXPECT_FDT_ERR(t, fdt_parent_cells(&f, bad, &ac, &sc, &err), &err, FDT_ERR_BADVALUE,
		       "'#address-cells'");
	EXPECT_FDT_ERR(t, fdt_reg_init(&f, fdt_find_path(&f, "/bad/x"), &reg, &err), &err,
		       FDT_ERR_BADVALUE, "node /bad:");

	/* The raw cursor: whole cells only, never past the end. */
	EXPECT_FALSE(t, fdt_cells_init(&c, "\0\0\0\1\0", 5));
	EXPECT_EQ(t, fdt_cells_left(&c), 0u);
	ASSERT_TRUE(t, fdt_cells_init(&c, "\0\0\0\1\0\0\0\2\0\0\0\3", 12));
	EXPECT_FALSE(t, fdt_cells_read(&c, 3, &v)); /* wider than 64 bits */
	ASSERT_TRUE(t, fdt_cells_read(&c, 2, &v));
	EXPECT_EQ(t, v, 0x100000002ull);
	EXPECT_FALSE(t, fdt_cells_read(&c, 2, &v)); /* only one left */
	ASSERT_TRUE(t, fdt_cells_read(&c, 1, &v));
	EXPECT_EQ(t, v, 3ull);
	EXPECT_FALSE(t, fdt_cells_read(&c, 1, &v));
}

/* ---- Fuzz-ish guards --------------------------------------------------------------- */

/* A small tree for the fuzz cases: few nodes, every token kind, a rsvmap entry. */
static uint32_t build_small(void)
{
	fdtb_reset();
	fdtb_rsv(0x1000, 0x2000);
	fdtb_begin("");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 1);
	fdtb_u32(FDT_NOP);
	fdtb_begin("chosen");
	fdtb_prop_str("bootargs", "x=1");
	fdtb_end();
	fdtb_begin("dev@10");
	fdtb_prop_str("compatible", "a,b");
	fdtb_prop_cells("reg", 2, 0x10, 0x20);
	fdtb_prop_cells("phandle", 1, 7);
	fdtb_end();
	fdtb_end();
	return fdtb_finish(true);
}

/* A copy of the first `avail` bytes of fdtb_blob, ending exactly at the end of `fdtb_work`. */
static const uint8_t *tail_copy(size_t avail)
{
	uint8_t *p = fdtb_work + sizeof(fdtb_work) - avail;
	memcpy(p, fdtb_blob, avail);
	return p;
}

void fdt_every_truncation_fails(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = FDTB_BUILD(t, build_small());
	size_t avail;
	unsigned bad = 0;

	ASSERT_EQ(t, fdt_check(tail_copy(size), size, &err), FDT_OK);
	for (avail = 0; avail < size; avail++) {
		int rc = fdt_check(tail_copy(avail), avail, &err);
		if (rc >= 0 || err.code != rc || strncmp(err.message, "fdt: ", 5) != 0) {
			if (bad++ < 3)
				ktest_fail_msg(t, __FILE__, __LINE__,
					       "avail %u: rc %d, message \"%s\"", (unsigned)avail,
					       rc, err.message);
		}
		/* Also truncate the blob itself, claiming a smaller totalsize. */
		if (avail >= FDT_HEADER_SIZE) {
			uint8_t *p = fdtb_work + sizeof(fdtb_work) - avail;
			fdtb_put_be32(p + FDTB_H_TOTALSIZE, (uint32_t)avail);
			EXPECT_LT(t, fdt_check(p, avail, NULL), 0);
		}
	}
	EXPECT_EQ(t, bad, 0u);
}

/* Runs every lookup over a blob that passed fdt_check; must not crash. */
static unsigned exercise(const struct fdt *f)
{
	struct fdt_prop p;
	struct fdt_reg reg;
	char path[64];
	uint64_t a, s;
	unsigned n = 0;
	int node, depth, cur;

	for (node = fdt_next_node(f, -1, &depth); node >= 0;
	     node = fdt_next_node(f, node, &depth)) {
		for (cur = fdt_first_prop(f, node, &p); cur >= 0; cur = fdt_next_prop(f, cur, &p))
			n += p.len;
		if (fdt_reg_init(f, node, &reg, NULL) == FDT_OK)
			while (fdt_reg_next(&reg, &a, &s))
				n++;
		fdt_node_path(f, node, path, sizeof(path));
		n += (unsigned)fdt_parent(f, node) & 1;
		n += fdt_is_compatible(f, node, "a,b");
		n += fdt_prop_string(f, node, "bootargs") != NULL;
	}
	n += (unsigned)fdt_find_path(f, "/dev/x") & 1;
	n += (unsigned)fdt_node_by_phandle(f, 7) & 1;
	n += fdt_rsv_count(f);
	return n;
}

void fdt_corruption_fuzz(struct ktest *t)
{
	struct fdt_error err;
	struct fdt f;
	static uint8_t orig[FDTB_BLOB_MAX];
	uint32_t size = FDTB_BUILD(t, build_small());
	unsigned pos, k, passed = 0, failed = 0;

	memcpy(orig, fdtb_blob, size);
	for (pos = 0; pos < size; pos++) {
		const uint8_t vals[] = {0x00, 0xff, (uint8_t)(orig[pos] ^ 0x01),
					(uint8_t)(orig[pos] ^ 0x80), 0x04};
		for (k = 0; k < ARRAY_SIZE(vals); k++) {
			const uint8_t *p;
			int rc;
			fdtb_blob[pos] = vals[k];
			p = tail_copy(size);
			rc = fdt_init(&f, p, size, &err);
			if (rc == FDT_OK) {
				passed++;
				exercise(&f);
			} else {
				failed++;
				if (err.code != rc || err.message[0] == 0)
					ktest_fail_msg(t, __FILE__, __LINE__,
						       "byte %u = 0x%x: rc %d but err %d \"%s\"",
						       pos, vals[k], rc, err.code, err.message);
			}
		}
		fdtb_blob[pos] = orig[pos];
	}
	ktest_log(t, "%u corruptions rejected, %u accepted and walked", failed, passed);
	EXPECT_GT(t, failed, 0u);
}
