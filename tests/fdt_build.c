// SPDX-License-Identifier: BSD-2-Clause
/*
 * The fdt suite's blob builder (tests/fdt_build.h): tokens go to a
 * structure block and names to a strings block, and fdtb_finish() lays
 * out header, reservation map, structure and strings like dtc does, so a
 * case can build a good blob and then break exactly one field of it.
 *
 * Invariants: there is one blob at a time, in static buffers that
 * fdtb_reset() clears (cases run one at a time); anything that would not
 * fit sets the overflow flag, and fdtb_finish() then returns 0 rather than
 * a truncated blob. Names are stored once in the strings block, as dtc
 * does, so a name offset is the same for every property that uses it.
 */
#include "lib/fdt.h"
#include "lib/string.h"
#include "tests/fdt_build.h"
#include "tests/ktest.h"

#define ST_MAX	2048
#define STR_MAX 512
#define RSV_MAX 4

static struct builder {
	uint8_t st[ST_MAX];
	uint32_t st_len;
	char str[STR_MAX];
	uint32_t str_len;
	uint64_t rsv[RSV_MAX][2];
	unsigned nr_rsv;
	bool overflow;
} bld;

struct fdtb_layout fdtb_lay;

uint8_t fdtb_blob[FDTB_BLOB_MAX];
uint8_t fdtb_work[FDTB_BLOB_MAX];

void fdtb_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void fdtb_put_be64(uint8_t *p, uint64_t v)
{
	fdtb_put_be32(p, (uint32_t)(v >> 32));
	fdtb_put_be32(p + 4, (uint32_t)v);
}

void fdtb_set_hdr(uint32_t field, uint32_t v)
{
	fdtb_put_be32(fdtb_blob + field, v);
}

void fdtb_reset(void)
{
	memset(&bld, 0, sizeof(bld));
	memset(fdtb_blob, 0, sizeof(fdtb_blob));
}

void fdtb_raw(const void *data, uint32_t len)
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

void fdtb_u32(uint32_t v)
{
	uint8_t c[4];
	fdtb_put_be32(c, v);
	fdtb_raw(c, 4);
}

uint32_t fdtb_string(const char *name)
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

void fdtb_begin(const char *name)
{
	fdtb_u32(FDT_BEGIN_NODE);
	fdtb_raw(name, (uint32_t)strlen(name) + 1);
}

void fdtb_end(void)
{
	fdtb_u32(FDT_END_NODE);
}

void fdtb_prop_raw(uint32_t nameoff, const void *data, uint32_t len)
{
	fdtb_u32(FDT_PROP);
	fdtb_u32(len);
	fdtb_u32(nameoff);
	if (len)
		fdtb_raw(data, len);
}

void fdtb_prop(const char *name, const void *data, uint32_t len)
{
	fdtb_prop_raw(fdtb_string(name), data, len);
}

void fdtb_prop_str(const char *name, const char *s)
{
	fdtb_prop(name, s, (uint32_t)strlen(s) + 1);
}

void fdtb_prop_cells(const char *name, unsigned n, ...)
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
		fdtb_put_be32(data + 4 * i, va_arg(ap, uint32_t));
	va_end(ap);
	fdtb_prop(name, data, 4 * n);
}

void fdtb_rsv(uint64_t addr, uint64_t size)
{
	if (bld.nr_rsv == RSV_MAX) {
		bld.overflow = true;
		return;
	}
	bld.rsv[bld.nr_rsv][0] = addr;
	bld.rsv[bld.nr_rsv][1] = size;
	bld.nr_rsv++;
}

uint32_t fdtb_finish(bool end)
{
	uint32_t off;
	unsigned i;

	if (end)
		fdtb_u32(FDT_END);
	fdtb_lay.rsv_off = FDT_HEADER_SIZE;
	fdtb_lay.struct_off = fdtb_lay.rsv_off + 16 * (bld.nr_rsv + 1);
	fdtb_lay.struct_size = bld.st_len;
	fdtb_lay.strings_off = fdtb_lay.struct_off + fdtb_lay.struct_size;
	fdtb_lay.strings_size = bld.str_len;
	fdtb_lay.total = fdtb_lay.strings_off + fdtb_lay.strings_size;
	if (bld.overflow || fdtb_lay.total > FDTB_BLOB_MAX)
		return 0;

	memset(fdtb_blob, 0, sizeof(fdtb_blob));
	fdtb_set_hdr(FDTB_H_MAGIC, FDT_MAGIC);
	fdtb_set_hdr(FDTB_H_TOTALSIZE, fdtb_lay.total);
	fdtb_set_hdr(FDTB_H_OFF_STRUCT, fdtb_lay.struct_off);
	fdtb_set_hdr(FDTB_H_OFF_STRINGS, fdtb_lay.strings_off);
	fdtb_set_hdr(FDTB_H_OFF_RSVMAP, fdtb_lay.rsv_off);
	fdtb_set_hdr(FDTB_H_VERSION, 17);
	fdtb_set_hdr(FDTB_H_LAST_COMP, 16);
	fdtb_set_hdr(FDTB_H_SIZE_STRINGS, fdtb_lay.strings_size);
	fdtb_set_hdr(FDTB_H_SIZE_STRUCT, fdtb_lay.struct_size);
	for (i = 0, off = fdtb_lay.rsv_off; i < bld.nr_rsv; i++, off += 16) {
		fdtb_put_be64(fdtb_blob + off, bld.rsv[i][0]);
		fdtb_put_be64(fdtb_blob + off + 8, bld.rsv[i][1]);
	}
	memcpy(fdtb_blob + fdtb_lay.struct_off, bld.st, bld.st_len);
	memcpy(fdtb_blob + fdtb_lay.strings_off, bld.str, bld.str_len);
	return fdtb_lay.total;
}

uint32_t fdtb_build_good(void)
{
	static const char pl011_compat[] = "arm,pl011\0arm,primecell";
	static const char timer_compat[] = "arm,armv8-timer\0arm,armv7-timer";

	fdtb_reset();
	fdtb_rsv(0x48000000, 0x1000);
	fdtb_rsv(0x4f000000, 0x200000);
	fdtb_begin("");
	fdtb_prop_cells("#address-cells", 1, 2);
	fdtb_prop_cells("#size-cells", 1, 2);
	fdtb_prop_str("compatible", "pagoda,test");
	fdtb_prop_cells("interrupt-parent", 1, FDTB_GIC_PHANDLE);

	fdtb_begin("aliases");
	fdtb_prop_str("serial0", "/pl011@9000000");
	fdtb_end();

	fdtb_begin("chosen");
	fdtb_prop_str("bootargs", "ktest=fdt console=ttyAMA0");
	fdtb_prop_str("stdout-path", "serial0:115200n8");
	fdtb_prop("pagoda,raw", "abc", 3); /* no NUL: not a string */
	fdtb_end();

	fdtb_begin("memory@40000000");
	fdtb_prop_str("device_type", "memory");
	fdtb_prop_cells("reg", 4, 0, 0x40000000, 0, 0x20000000);
	fdtb_end();

	fdtb_begin("cpus");
	fdtb_prop_cells("#address-cells", 1, 1);
	fdtb_prop_cells("#size-cells", 1, 0);
	fdtb_begin("cpu@0");
	fdtb_prop_str("device_type", "cpu");
	fdtb_prop_str("compatible", "arm,cortex-a72");
	fdtb_prop_cells("reg", 1, 0);
	fdtb_prop_str("enable-method", "psci");
	fdtb_end();
	fdtb_begin("cpu@1");
	fdtb_prop_str("device_type", "cpu");
	fdtb_prop_cells("reg", 1, 0x101);
	fdtb_prop_str("enable-method", "spin-table");
	fdtb_prop_cells("cpu-release-addr", 2, 0x1, 0x8000fff8);
	fdtb_prop_str("status", "okay");
	fdtb_end();
	fdtb_begin("cpu@2");
	fdtb_prop_str("device_type", "cpu");
	fdtb_prop_cells("reg", 1, 2);
	fdtb_prop_str("status", "disabled");
	fdtb_end();
	fdtb_end();

	fdtb_begin("intc@8000000");
	fdtb_prop_str("compatible", "arm,cortex-a15-gic");
	fdtb_prop_cells("#interrupt-cells", 1, 3);
	fdtb_prop("interrupt-controller", NULL, 0);
	fdtb_prop_cells("reg", 8, 0, 0x08000000, 0, 0x10000, 0, 0x08010000, 0, 0x10000);
	fdtb_prop_cells("phandle", 1, FDTB_GIC_PHANDLE);
	fdtb_end();

	fdtb_begin("timer");
	fdtb_prop("compatible", timer_compat, sizeof(timer_compat));
	fdtb_prop_cells("interrupts", 12, 1, 13, 0xf04, 1, 14, 0xf04, 1, 11, 0xf04, 1, 10, 0xf04);
	fdtb_end();

	fdtb_begin("pl011@9000000");
	fdtb_prop("compatible", pl011_compat, sizeof(pl011_compat));
	fdtb_prop_cells("reg", 4, 0, 0x09000000, 0, 0x1000);
	fdtb_end();

	fdtb_end();
	return fdtb_finish(true);
}

bool fdtb_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	for (; *hay; hay++)
		if (strncmp(hay, needle, n) == 0)
			return true;
	return n == 0;
}

void fdtb_expect_err(struct ktest *t, const char *file, int line, int rc,
		     const struct fdt_error *err, int code, const char *what)
{
	if (rc != code || err->code != code)
		ktest_fail_msg(t, file, line, "expected %s, got %s (err %s): \"%s\"",
			       fdt_strerror(code), fdt_strerror(rc), fdt_strerror(err->code),
			       err->message);
	else if (!fdtb_contains(err->message, what) || !fdtb_contains(err->message, "fdt: "))
		ktest_fail_msg(t, file, line, "message \"%s\" does not mention \"%s\"",
			       err->message, what);
}

void fdtb_init_ok(struct ktest *t, struct fdt *f, const void *b, size_t size)
{
	struct fdt_error err;
	int rc = fdt_init(f, b, size, &err);
	if (rc != FDT_OK) {
		ktest_fail_msg(t, __FILE__, __LINE__, "fdt_init: %s: %s", fdt_strerror(rc),
			       err.message);
		ktest_abort(t);
	}
}
