// SPDX-License-Identifier: BSD-2-Clause
/*
 * Tests for lib/fdt: the validator and the lookup helpers.
 *
 * Every blob is built here, by a tiny builder that appends tokens to a
 * structure block and names to a strings block, then lays out header,
 * reservation map, structure and strings like dtc does. Malformed blobs
 * are made by building a good one and then breaking one field, so each
 * rejection test names exactly one fault and checks both the error code
 * and that the message names the field.
 *
 * Invariants: the builder's buffers are static and reset by every case
 * (cases run one at a time); a blob that does not fit fails the case
 * instead of being truncated silently. The fuzz cases place each mutated
 * blob at the very end of a static buffer so that, under a host build
 * with AddressSanitizer, any read past `avail` hits the redzone.
 */
#include "lib/fdt.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* ---- Blob builder ------------------------------------------------------------ */

#define ST_MAX	 2048
#define STR_MAX	 512
#define RSV_MAX	 4
#define BLOB_MAX 4096

static struct builder {
	uint8_t st[ST_MAX];
	uint32_t st_len;
	char str[STR_MAX];
	uint32_t str_len;
	uint64_t rsv[RSV_MAX][2];
	unsigned nr_rsv;
	bool overflow;
} bld;

/* Where b_finish put each block of the last blob. */
static struct layout {
	uint32_t rsv_off, struct_off, struct_size, strings_off, strings_size, total;
} lay;

static uint8_t blob[BLOB_MAX];
static uint8_t work[BLOB_MAX];

/* Header field offsets, to break one at a time. */
enum {
	H_MAGIC = 0,
	H_TOTALSIZE = 4,
	H_OFF_STRUCT = 8,
	H_OFF_STRINGS = 12,
	H_OFF_RSVMAP = 16,
	H_VERSION = 20,
	H_LAST_COMP = 24,
	H_SIZE_STRINGS = 32,
	H_SIZE_STRUCT = 36,
};

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static void set_hdr(uint32_t field, uint32_t v)
{
	put_be32(blob + field, v);
}

static void b_reset(void)
{
	memset(&bld, 0, sizeof(bld));
	memset(blob, 0, sizeof(blob));
}

/* Appends raw bytes to the structure block, zero-padded to 4 bytes. */
static void b_raw(const void *data, uint32_t len)
{
	uint32_t padded = (len + 3u) & ~3u;
	if (bld.st_len + padded > ST_MAX) {
		bld.overflow = true;
		return;
	}
	memcpy(bld.st + bld.st_len, data, len);
	memset(bld.st + bld.st_len + len, 0, padded - len);
	bld.st_len += padded;
}

static void b_u32(uint32_t v)
{
	uint8_t c[4];
	put_be32(c, v);
	b_raw(c, 4);
}

/* Offset of `name` in the strings block, appending it the first time. */
static uint32_t b_string(const char *name)
{
	uint32_t off = 0, len = (uint32_t)strlen(name) + 1;
	while (off < bld.str_len) {
		if (strcmp(bld.str + off, name) == 0)
			return off;
		off += (uint32_t)strlen(bld.str + off) + 1;
	}
	if (bld.str_len + len > STR_MAX) {
		bld.overflow = true;
		return 0;
	}
	memcpy(bld.str + bld.str_len, name, len);
	bld.str_len += len;
	return off;
}

static void b_begin(const char *name)
{
	b_u32(FDT_BEGIN_NODE);
	b_raw(name, (uint32_t)strlen(name) + 1);
}

static void b_end(void)
{
	b_u32(FDT_END_NODE);
}

static void b_prop_raw(uint32_t nameoff, const void *data, uint32_t len)
{
	b_u32(FDT_PROP);
	b_u32(len);
	b_u32(nameoff);
	if (len)
		b_raw(data, len);
}

static void b_prop(const char *name, const void *data, uint32_t len)
{
	b_prop_raw(b_string(name), data, len);
}

static void b_prop_str(const char *name, const char *s)
{
	b_prop(name, s, (uint32_t)strlen(s) + 1);
}

/* A property of `n` cells given as uint32_t arguments. */
static void b_prop_cells(const char *name, unsigned n, ...)
{
	uint8_t data[64];
	va_list ap;
	unsigned i;
	if (n > 16) {
		bld.overflow = true;
		return;
	}
	va_start(ap, n);
	for (i = 0; i < n; i++)
		put_be32(data + 4 * i, va_arg(ap, uint32_t));
	va_end(ap);
	b_prop(name, data, 4 * n);
}

static void b_rsv(uint64_t addr, uint64_t size)
{
	if (bld.nr_rsv == RSV_MAX) {
		bld.overflow = true;
		return;
	}
	bld.rsv[bld.nr_rsv][0] = addr;
	bld.rsv[bld.nr_rsv][1] = size;
	bld.nr_rsv++;
}

/*
 * Lays the blob out in `blob` like dtc: header, reservation map,
 * structure block (with FDT_END appended when `end` is set), strings.
 * Returns the total size, or 0 when something did not fit.
 */
static uint32_t b_finish(bool end)
{
	uint32_t off;
	unsigned i;

	if (end)
		b_u32(FDT_END);
	lay.rsv_off = FDT_HEADER_SIZE;
	lay.struct_off = lay.rsv_off + 16 * (bld.nr_rsv + 1);
	lay.struct_size = bld.st_len;
	lay.strings_off = lay.struct_off + lay.struct_size;
	lay.strings_size = bld.str_len;
	lay.total = lay.strings_off + lay.strings_size;
	if (bld.overflow || lay.total > BLOB_MAX)
		return 0;

	memset(blob, 0, sizeof(blob));
	set_hdr(H_MAGIC, FDT_MAGIC);
	set_hdr(H_TOTALSIZE, lay.total);
	set_hdr(H_OFF_STRUCT, lay.struct_off);
	set_hdr(H_OFF_STRINGS, lay.strings_off);
	set_hdr(H_OFF_RSVMAP, lay.rsv_off);
	set_hdr(H_VERSION, 17);
	set_hdr(H_LAST_COMP, 16);
	set_hdr(H_SIZE_STRINGS, lay.strings_size);
	set_hdr(H_SIZE_STRUCT, lay.struct_size);
	for (i = 0, off = lay.rsv_off; i < bld.nr_rsv; i++, off += 16) {
		put_be64(blob + off, bld.rsv[i][0]);
		put_be64(blob + off + 8, bld.rsv[i][1]);
	}
	memcpy(blob + lay.struct_off, bld.st, bld.st_len);
	memcpy(blob + lay.strings_off, bld.str, bld.str_len);
	return lay.total;
}

/* ---- Fixtures ------------------------------------------------------------------ */

#define GIC_PHANDLE 1

/*
 * A QEMU-virt-like tree: memory, three CPUs (one disabled), chosen with an
 * aliased stdout-path, a GICv2 with a phandle, a timer, a PL011 and two
 * reservation-map entries.
 */
static uint32_t build_good(void)
{
	static const char pl011_compat[] = "arm,pl011\0arm,primecell";
	static const char timer_compat[] = "arm,armv8-timer\0arm,armv7-timer";

	b_reset();
	b_rsv(0x48000000, 0x1000);
	b_rsv(0x4f000000, 0x200000);
	b_begin("");
	b_prop_cells("#address-cells", 1, 2);
	b_prop_cells("#size-cells", 1, 2);
	b_prop_str("compatible", "pagoda,test");
	b_prop_cells("interrupt-parent", 1, GIC_PHANDLE);

	b_begin("aliases");
	b_prop_str("serial0", "/pl011@9000000");
	b_end();

	b_begin("chosen");
	b_prop_str("bootargs", "ktest=fdt console=ttyAMA0");
	b_prop_str("stdout-path", "serial0:115200n8");
	b_prop("pagoda,raw", "abc", 3); /* no NUL: not a string */
	b_end();

	b_begin("memory@40000000");
	b_prop_str("device_type", "memory");
	b_prop_cells("reg", 4, 0, 0x40000000, 0, 0x20000000);
	b_end();

	b_begin("cpus");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 0);
	b_begin("cpu@0");
	b_prop_str("device_type", "cpu");
	b_prop_str("compatible", "arm,cortex-a72");
	b_prop_cells("reg", 1, 0);
	b_prop_str("enable-method", "psci");
	b_end();
	b_begin("cpu@1");
	b_prop_str("device_type", "cpu");
	b_prop_cells("reg", 1, 0x101);
	b_prop_str("enable-method", "spin-table");
	b_prop_cells("cpu-release-addr", 2, 0x1, 0x8000fff8);
	b_prop_str("status", "okay");
	b_end();
	b_begin("cpu@2");
	b_prop_str("device_type", "cpu");
	b_prop_cells("reg", 1, 2);
	b_prop_str("status", "disabled");
	b_end();
	b_end();

	b_begin("intc@8000000");
	b_prop_str("compatible", "arm,cortex-a15-gic");
	b_prop_cells("#interrupt-cells", 1, 3);
	b_prop("interrupt-controller", NULL, 0);
	b_prop_cells("reg", 8, 0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x10000);
	b_prop_cells("phandle", 1, GIC_PHANDLE);
	b_end();

	b_begin("timer");
	b_prop("compatible", timer_compat, sizeof(timer_compat));
	b_prop_cells("interrupts", 12, 1, 13, 0xf04, 1, 14, 0xf04, 1, 11, 0xf04, 1, 10, 0xf04);
	b_end();

	b_begin("pl011@9000000");
	b_prop("compatible", pl011_compat, sizeof(pl011_compat));
	b_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
	b_end();

	b_end();
	return b_finish(true);
}

/* A small tree for the fuzz cases: few nodes, every token kind, a rsvmap entry. */
static uint32_t build_small(void)
{
	b_reset();
	b_rsv(0x1000, 0x2000);
	b_begin("");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 1);
	b_u32(FDT_NOP);
	b_begin("chosen");
	b_prop_str("bootargs", "x=1");
	b_end();
	b_begin("dev@10");
	b_prop_str("compatible", "a,b");
	b_prop_cells("reg", 2, 0x10, 0x20);
	b_prop_cells("phandle", 1, 7);
	b_end();
	b_end();
	return b_finish(true);
}

static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

/* rc and err must both carry `code`, and the message must mention `what`. */
static void expect_err(struct ktest *t, const char *file, int line, int rc,
		       const struct fdt_error *err, int code, const char *what)
{
	if (rc != code || err->code != code)
		ktest_fail_msg(t, file, line, "expected %s, got %s (err %s): \"%s\"",
			       fdt_strerror(code), fdt_strerror(rc), fdt_strerror(err->code),
			       err->message);
	else if (!contains(err->message, what) || !contains(err->message, "fdt: "))
		ktest_fail_msg(t, file, line, "message \"%s\" does not mention \"%s\"",
			       err->message, what);
}

#define EXPECT_FDT_ERR(t, rc, err, code, what)                                                     \
	expect_err(t, __FILE__, __LINE__, rc, err, code, what)

/* Builds, then fails the case at once if the builder ran out of room. */
#define BUILD(t, expr)                                                                             \
	({                                                                                         \
		uint32_t size_ = (expr);                                                           \
		ASSERT_NE(t, size_, 0u);                                                           \
		size_;                                                                             \
	})

static void init_ok(struct ktest *t, struct fdt *f, const void *b, size_t size)
{
	struct fdt_error err;
	int rc = fdt_init(f, b, size, &err);
	if (rc != FDT_OK) {
		ktest_fail_msg(t, __FILE__, __LINE__, "fdt_init: %s: %s", fdt_strerror(rc),
			       err.message);
		ktest_abort(t);
	}
}

/* ---- Well-formed blobs ------------------------------------------------------------ */

static void fdt_good_blob_passes(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	EXPECT_EQ(t, fdt_check(blob, size, &err), FDT_OK);
	EXPECT_EQ(t, err.code, FDT_OK);
	EXPECT_STREQ(t, err.message, "");
	/* Extra bytes after totalsize are fine; err may be NULL. */
	EXPECT_EQ(t, fdt_check(blob, sizeof(blob), NULL), FDT_OK);
	EXPECT_EQ(t, fdt_peek_totalsize(blob), size);
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
	EXPECT_EQ(t, fdt_node_by_phandle(f, GIC_PHANDLE), gic);

	node = fdt_find_path(f, "serial0");
	ASSERT_GE(t, node, 0);
	EXPECT_STREQ(t, fdt_node_name(f, node), "pl011@9000000");
}

static void fdt_lookups_on_good_blob(struct ktest *t)
{
	struct fdt f;
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);
	check_good_lookups(t, &f);
}

static void fdt_unaligned_blob(struct ktest *t)
{
	struct fdt f;
	uint32_t size = BUILD(t, build_good());
	size_t shift;
	for (shift = 1; shift < 8; shift += 2) {
		memcpy(work + shift, blob, size);
		init_ok(t, &f, work + shift, size);
		check_good_lookups(t, &f);
	}
}

static void fdt_find_path_forms(struct ktest *t)
{
	struct fdt f;
	int cpu0, pl011;
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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
	b_reset();
	b_begin("");
	b_prop_cells("#address-cells", 1, 2);
	b_prop_cells("#size-cells", 1, 1);
	b_begin("soc");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 1);
	b_prop_cells("ranges", 4, 0x7e000000, 0, 0xfe000000, 0x1800000);
	b_begin("serial@7e201000");
	b_prop_cells("reg", 2, 0x7e201000, 0x200);
	b_end();
	b_begin("flat");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 1);
	b_prop("ranges", none, 0);
	b_begin("dev@7e100000");
	b_prop_cells("reg", 2, 0x7e100000, 0x100);
	b_end();
	b_end();
	b_end();
	b_begin("nobus");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 1);
	b_begin("dev@10");
	b_prop_cells("reg", 2, 0x10, 0x10);
	b_end();
	b_end();
	b_end();
	return b_finish(true);
}

static void fdt_ranges_translate(struct ktest *t)
{
	struct fdt f;
	struct fdt_error err;
	uint64_t pa = 0;
	uint32_t size = BUILD(t, build_buses());
	init_ok(t, &f, blob, size);
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
	uint32_t size = BUILD(t, build_good());
	init_ok(t, &f, blob, size);

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

	b_reset();
	b_u32(FDT_NOP);
	b_begin("");
	b_u32(FDT_NOP);
	b_prop_cells("#address-cells", 1, 1);
	b_u32(FDT_NOP);
	b_begin("dev@10");
	b_u32(FDT_NOP);
	b_prop_cells("reg", 2, 0x10, 0x20);
	b_u32(FDT_NOP);
	b_end();
	b_u32(FDT_NOP);
	b_end();
	b_u32(FDT_NOP);
	size = BUILD(t, b_finish(true));
	init_ok(t, &f, blob, size);
	node = fdt_find_path(&f, "/dev");
	ASSERT_GE(t, node, 0);
	EXPECT_EQ(t, fdt_reg_get(&f, node, 0, &a, &s, NULL), FDT_OK);
	EXPECT_EQ(t, a, 0x10ull);
	EXPECT_EQ(t, s, 0x20ull);
	EXPECT_EQ(t, fdt_next_sibling(&f, node), FDT_ERR_NOTFOUND);

	/* Version 16 has no size_dt_struct: the walk stops at FDT_END. */
	set_hdr(H_VERSION, 16);
	set_hdr(H_SIZE_STRUCT, 0xdeadbeef);
	EXPECT_EQ(t, fdt_init(&f, blob, size, &err), FDT_OK);
	EXPECT_GE(t, fdt_find_path(&f, "/dev@10"), 0);
}

/* ---- Rejections: header ---------------------------------------------------------- */

static void fdt_rejects_bad_magic(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	set_hdr(H_MAGIC, 0xfeedd00d);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_MAGIC, "magic 0xfeedd00d");
	EXPECT_EQ(t, fdt_peek_totalsize(blob), 0u);
}

static void fdt_rejects_truncated(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	EXPECT_FDT_ERR(t, fdt_check(blob, size - 1, &err), &err, FDT_ERR_TRUNCATED, "totalsize");
	EXPECT_FDT_ERR(t, fdt_check(blob, 10, &err), &err, FDT_ERR_TRUNCATED, "header");
	EXPECT_FDT_ERR(t, fdt_check(NULL, size, &err), &err, FDT_ERR_TRUNCATED, "NULL");
	set_hdr(H_TOTALSIZE, 20);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "totalsize 20");
}

static void fdt_rejects_old_version(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	set_hdr(H_VERSION, 15);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_VERSION, "version 15");
	set_hdr(H_VERSION, 17);
	set_hdr(H_LAST_COMP, 18);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_VERSION,
		       "last_comp_version 18");
}

static void fdt_rejects_struct_out_of_range(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	set_hdr(H_OFF_STRUCT, 0x10000);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT,
		       "off_dt_struct 0x10000");
	set_hdr(H_OFF_STRUCT, lay.struct_off);
	set_hdr(H_SIZE_STRINGS, lay.strings_size + 1);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "size_dt_strings");
	set_hdr(H_SIZE_STRINGS, lay.strings_size);
	set_hdr(H_OFF_STRINGS, 8); /* inside the header */
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "off_dt_strings");
	set_hdr(H_OFF_STRINGS, lay.strings_off);
	set_hdr(H_OFF_RSVMAP, 0x10000);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "off_mem_rsvmap");
}

static void fdt_rejects_size_overflow(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	/* In 32-bit arithmetic off + size would wrap to a small, "valid" end. */
	set_hdr(H_SIZE_STRUCT, 0u - lay.struct_off + 0x10);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "wraps");
	EXPECT_TRUE(t, contains(err.message, "size_dt_struct"));
	set_hdr(H_SIZE_STRUCT, lay.struct_size);
	set_hdr(H_SIZE_STRINGS, 0xfffffff0u);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_LAYOUT, "size_dt_strings");
}

static void fdt_rejects_misaligned(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good());
	set_hdr(H_OFF_STRUCT, lay.struct_off + 2);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_ALIGN, "off_dt_struct");
	set_hdr(H_OFF_STRUCT, lay.struct_off);
	set_hdr(H_OFF_RSVMAP, lay.rsv_off + 4);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_ALIGN, "off_mem_rsvmap");
}

static void fdt_rejects_bad_rsvmap(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_good()), off;
	/* Room for one entry before totalsize, but not for the terminator after it. */
	off = (size - 16) & ~7u;
	put_be64(blob + off, 0x1000);
	put_be64(blob + off + 8, 0x1000);
	set_hdr(H_OFF_RSVMAP, off);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_RSVMAP, "not terminated");

	b_reset();
	b_rsv(0xffffffffffff0000ull, 0x20000);
	b_begin("");
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_RSVMAP, "entry 0");
}

/* ---- Rejections: structure block --------------------------------------------------- */

static void fdt_rejects_prop_past_block(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	b_reset();
	b_begin("");
	b_begin("cpus");
	b_u32(FDT_PROP);
	b_u32(0x1000); /* length far beyond the block */
	b_u32(b_string("reg"));
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_PROP,
		       "node /cpus: property 'reg': length 4096 runs past");
}

static void fdt_rejects_nameoff_outside_strings(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	b_reset();
	b_begin("");
	b_prop_str("model", "x");
	b_prop_raw(0x400, "abcd", 4);
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_STRINGS,
		       "name offset 0x400 outside the strings block");
	EXPECT_TRUE(t, contains(err.message, "node /:"));
}

static void fdt_rejects_unterminated_string(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	b_reset();
	b_begin("");
	b_prop_str("model", "x");
	b_prop_cells("zzz", 1, 5); /* the last name in the strings block */
	b_end();
	size = BUILD(t, b_finish(true));
	/* Cut the block by one byte: "zzz" loses its NUL. */
	set_hdr(H_SIZE_STRINGS, lay.strings_size - 1);
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_STRINGS, "not NUL-terminated");
}

static void fdt_rejects_unterminated_node_name(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	b_reset();
	b_begin("");
	b_u32(FDT_BEGIN_NODE);
	b_raw("abcdefgh", 8); /* no NUL before the block ends */
	size = BUILD(t, b_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NAME, "not NUL-terminated");

	b_reset();
	b_begin("");
	b_begin("a/b");
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NAME, "'a/b'");

	b_reset();
	b_begin("");
	b_begin("");
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NAME, "empty node name");
}

static void fdt_rejects_unbalanced_nesting(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	unsigned i;

	/* One FDT_END_NODE too many. */
	b_reset();
	b_begin("");
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "closes no node");

	/* FDT_END with /a still open. */
	b_reset();
	b_begin("");
	b_begin("a");
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "still open");

	/* Balanced but no FDT_END. */
	b_reset();
	b_begin("");
	b_end();
	size = BUILD(t, b_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NOEND, "without FDT_END");

	/* Unbalanced and no FDT_END: names the open node. */
	b_reset();
	b_begin("");
	b_begin("cpus");
	size = BUILD(t, b_finish(false));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NOEND, "node /cpus:");

	/* Two roots. */
	b_reset();
	b_begin("");
	b_end();
	b_begin("");
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "second root");

	/* Deeper than the walkers' ancestry stack. */
	b_reset();
	for (i = 0; i <= FDT_MAX_DEPTH; i++)
		b_begin(i ? "n" : "");
	for (i = 0; i <= FDT_MAX_DEPTH; i++)
		b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "deeper");
}

static void fdt_rejects_misplaced_property(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;

	b_reset();
	b_prop_cells("early", 1, 1);
	b_begin("");
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "outside any node");

	b_reset();
	b_begin("");
	b_begin("child");
	b_end();
	b_prop_cells("late", 1, 1);
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_NESTING, "property 'late'");
}

static void fdt_rejects_bad_token(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size;
	b_reset();
	b_begin("");
	b_begin("soc");
	b_u32(7);
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	EXPECT_FDT_ERR(t, fdt_check(blob, size, &err), &err, FDT_ERR_TOKEN, "bad token 0x7");
	EXPECT_TRUE(t, contains(err.message, "node /soc:"));
	EXPECT_EQ(t, err.offset, lay.struct_off + 16u);
}

/* ---- Cells readers refuse malformed values ----------------------------------------- */

static void fdt_cells_refuse_bad_lengths(struct ktest *t)
{
	struct fdt_error err;
	struct fdt_cells c;
	struct fdt_reg reg;
	struct fdt f;
	uint64_t v;
	unsigned ac, sc;
	uint32_t size;
	int cpu1, dev, bad;

	b_reset();
	b_begin("");
	b_begin("cpus");
	b_prop_cells("#address-cells", 1, 1);
	b_prop_cells("#size-cells", 1, 0);
	b_begin("cpu@1");
	b_prop("reg", "\0\0\1", 3);
	b_end();
	b_end();
	b_begin("dev@0");
	b_prop_cells("reg", 2, 0, 0x1000); /* 8 bytes; needs 12 with 2 + 1 cells */
	b_end();
	b_begin("bad");
	b_prop("#address-cells", "\0\1", 2);
	b_begin("x");
	b_prop_cells("reg", 1, 1);
	b_end();
	b_end();
	b_end();
	size = BUILD(t, b_finish(true));
	init_ok(t, &f, blob, size);

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

/* A copy of the first `avail` bytes of blob, ending exactly at the end of `work`. */
static const uint8_t *tail_copy(size_t avail)
{
	uint8_t *p = work + sizeof(work) - avail;
	memcpy(p, blob, avail);
	return p;
}

static void fdt_every_truncation_fails(struct ktest *t)
{
	struct fdt_error err;
	uint32_t size = BUILD(t, build_small());
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
			uint8_t *p = work + sizeof(work) - avail;
			put_be32(p + H_TOTALSIZE, (uint32_t)avail);
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

static void fdt_corruption_fuzz(struct ktest *t)
{
	struct fdt_error err;
	struct fdt f;
	static uint8_t orig[BLOB_MAX];
	uint32_t size = BUILD(t, build_small());
	unsigned pos, k, passed = 0, failed = 0;

	memcpy(orig, blob, size);
	for (pos = 0; pos < size; pos++) {
		const uint8_t vals[] = {0x00, 0xff, (uint8_t)(orig[pos] ^ 0x01),
					(uint8_t)(orig[pos] ^ 0x80), 0x04};
		for (k = 0; k < ARRAY_SIZE(vals); k++) {
			const uint8_t *p;
			int rc;
			blob[pos] = vals[k];
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
		blob[pos] = orig[pos];
	}
	ktest_log(t, "%u corruptions rejected, %u accepted and walked", failed, passed);
	EXPECT_GT(t, failed, 0u);
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
