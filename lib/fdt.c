// SPDX-License-Identifier: BSD-2-Clause
/*
 * Flattened device tree reader, written from the devicetree specification
 * (v0.4, chapter 5 "Flattened Devicetree (DTB) Format").
 *
 * Two halves. fdt_check() walks the untrusted blob once, in detail, and
 * explains the first problem it meets. The lookup helpers then walk the
 * structure block through next_tag(), which re-checks every bound on every
 * step: they trust nothing fdt_check proved, so a stale or bogus handle
 * yields an error code, never an out-of-bounds read.
 *
 * Names (nodes and properties) with control characters are refused by the
 * check, so every message naming them stays one line.
 *
 * Invariants: no read outside [blob, blob + avail) during the check or
 * outside [blob, blob + totalsize) afterwards; every multi-byte field is
 * read byte by byte through fdt_be32/fdt_be64; every walk advances by at
 * least four bytes per step, so walks over a finite block terminate.
 * Messages are formatted by a small local formatter so this file needs
 * nothing beyond lib/string.h.
 */
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* Header field offsets (all big-endian u32). */
#define HDR_MAGIC	 0
#define HDR_TOTALSIZE	 4
#define HDR_OFF_STRUCT	 8
#define HDR_OFF_STRINGS	 12
#define HDR_OFF_RSVMAP	 16
#define HDR_VERSION	 20
#define HDR_LAST_COMP	 24
#define HDR_BOOT_CPUID	 28
#define HDR_SIZE_STRINGS 32
#define HDR_SIZE_STRUCT	 36
#define HDR_V16_SIZE	 36u
#define RSV_ENTRY_SIZE	 16u

/* ---- Byte access ---------------------------------------------------------- */

/*
 * Volatile byte loads: the compiler may not fuse them into one (possibly
 * unaligned) word load, which would fault on Device memory.
 */
uint32_t fdt_be32(const void *p)
{
	const volatile uint8_t *b = p;
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

uint64_t fdt_be64(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)fdt_be32(b) << 32 | fdt_be32(b + 4);
}

static uint32_t align4(uint32_t x)
{
	return (x + 3u) & ~3u;
}

/* ---- Message formatting ------------------------------------------------------ */

struct msg {
	char *buf;
	size_t size;
	size_t len;
};

/* Appends formatted text to the message, truncating at its end (lib/fmt does the work). */
static void m_vfmt(struct msg *m, const char *fmt, va_list ap)
{
	if (m->len + 1 >= m->size)
		return;
	int n = vsnprintf(m->buf + m->len, m->size - m->len, fmt, ap);
	m->len = MIN(m->len + (size_t)n, m->size - 1);
}

static void m_fmt(struct msg *m, const char *fmt, ...) __printf(2, 3);
static void m_fmt(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	m_vfmt(m, fmt, ap);
	va_end(ap);
}

static void m_str(struct msg *m, const char *s)
{
	m_fmt(m, "%s", s);
}

static void m_chr(struct msg *m, char c)
{
	m_fmt(m, "%c", c);
}

/* Starts err's message; false when there is no err to fill. */
static bool m_begin(struct msg *m, struct fdt_error *err, int code, uint32_t offset)
{
	if (!err)
		return false;
	err->code = code;
	err->offset = offset;
	m->buf = err->message;
	m->size = sizeof(err->message);
	m->len = 0;
	err->message[0] = 0;
	m_str(m, "fdt: ");
	return true;
}

/* ---- Structure-block stepping (lookup side) ------------------------------ */

static const uint8_t *sblock(const struct fdt *f)
{
	return f->blob + f->struct_off;
}

/* The NUL-terminated string at `nameoff` in the strings block, or NULL. */
static const char *string_at(const struct fdt *f, uint32_t nameoff)
{
	const char *s;
	if (nameoff >= f->strings_size)
		return NULL;
	s = (const char *)f->blob + f->strings_off + nameoff;
	if (strnlen(s, f->strings_size - nameoff) == f->strings_size - nameoff)
		return NULL;
	return s;
}

/*
 * Decodes the token at struct offset `off`: its tag and the offset of the
 * token after it. False when the token, a node name or a property value
 * does not fit in the block, or the tag is unknown.
 */
static bool next_tag(const struct fdt *f, int off_in, uint32_t *tag, uint32_t *next)
{
	uint32_t off, rest, len;
	size_t n;
	const uint8_t *s = sblock(f);

	if (off_in < 0)
		return false;
	off = (uint32_t)off_in;
	if ((off & 3) || off > f->struct_size || f->struct_size - off < 4)
		return false;
	rest = f->struct_size - off - 4;
	*tag = fdt_be32(s + off);
	switch (*tag) {
	case FDT_BEGIN_NODE:
		n = strnlen((const char *)s + off + 4, rest);
		if (n == rest)
			return false;
		*next = off + 4 + align4((uint32_t)n + 1);
		return true;
	case FDT_PROP:
		if (rest < 8)
			return false;
		len = fdt_be32(s + off + 4);
		if (len > rest - 8)
			return false;
		*next = off + 12 + align4(len);
		return true;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		*next = off + 4;
		return true;
	default:
		return false;
	}
}

static bool is_node(const struct fdt *f, int node, uint32_t *after)
{
	uint32_t tag, next;
	if (!next_tag(f, node, &tag, &next) || tag != FDT_BEGIN_NODE)
		return false;
	if (after)
		*after = next;
	return true;
}

int fdt_root(const struct fdt *f)
{
	uint32_t off = 0, tag, next;
	while (next_tag(f, (int)off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE)
			return (int)off;
		if (tag != FDT_NOP)
			break;
		off = next;
	}
	return FDT_ERR_NOTFOUND;
}

/*
 * Fills stack[0..*depth) with the handles from the root down to and
 * including `target`.
 */
static int ancestry(const struct fdt *f, int target, int stack[FDT_MAX_DEPTH], int *depth)
{
	uint32_t tag, next;
	int off = fdt_root(f), d = 0;

	if (off < 0)
		return off;
	if (!is_node(f, target, NULL))
		return FDT_ERR_BADHANDLE;
	while (next_tag(f, off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE) {
			if (d == FDT_MAX_DEPTH)
				return FDT_ERR_NESTING;
			stack[d++] = off;
			if (off == target) {
				*depth = d;
				return FDT_OK;
			}
		} else if (tag == FDT_END_NODE) {
			if (--d <= 0)
				break;
		} else if (tag == FDT_END) {
			break;
		}
		off = (int)next;
	}
	return FDT_ERR_BADHANDLE;
}

static void m_node_path(struct msg *m, const struct fdt *f, int node)
{
	int stack[FDT_MAX_DEPTH], depth, i;
	if (ancestry(f, node, stack, &depth) != FDT_OK) {
		m_str(m, "<bad node>");
		return;
	}
	if (depth == 1)
		m_chr(m, '/');
	for (i = 1; i < depth; i++) {
		m_chr(m, '/');
		m_str(m, fdt_node_name(f, stack[i]));
	}
}

static int lookup_fail(struct fdt_error *err, int code, const struct fdt *f, int node,
		       const char *prop, const char *fmt, ...) __printf(6, 7);
static int lookup_fail(struct fdt_error *err, int code, const struct fdt *f, int node,
		       const char *prop, const char *fmt, ...)
{
	struct msg m;
	va_list ap;
	if (!m_begin(&m, err, code, node >= 0 ? f->struct_off + (uint32_t)node : 0))
		return code;
	if (node >= 0) {
		m_str(&m, "node ");
		m_node_path(&m, f, node);
		m_str(&m, ": ");
	}
	if (prop)
		m_fmt(&m, "property '%s': ", prop);
	va_start(ap, fmt);
	m_vfmt(&m, fmt, ap);
	va_end(ap);
	return code;
}

int fdt_error_set(struct fdt_error *err, int code, const struct fdt *fdt, int node,
		  const char *prop, const char *what)
{
	return lookup_fail(err, code, fdt, node, prop, "%s", what);
}

/* ---- Validation ----------------------------------------------------------- */

struct checker {
	struct fdt_error *err;
	const uint8_t *blob;
	uint32_t struct_off;
	/* Names of the open nodes, root first; valid NUL-terminated strings. */
	const char *names[FDT_MAX_DEPTH];
	int depth;
};

static int fail(struct checker *c, int code, uint32_t offset, const char *fmt, ...) __printf(4, 5);
static int fail(struct checker *c, int code, uint32_t offset, const char *fmt, ...)
{
	struct msg m;
	va_list ap;
	int i;
	if (!m_begin(&m, c->err, code, offset))
		return code;
	if (c->depth > 0) {
		m_str(&m, "node ");
		if (c->depth == 1)
			m_chr(&m, '/');
		for (i = 1; i < c->depth; i++) {
			m_chr(&m, '/');
			m_str(&m, c->names[i]);
		}
		m_str(&m, ": ");
	}
	va_start(ap, fmt);
	m_vfmt(&m, fmt, ap);
	va_end(ap);
	return code;
}

/* A block [off, off + size) must lie after the header and inside totalsize. */
static int check_block(struct checker *c, uint32_t field, const char *off_name, uint32_t off,
		       const char *size_name, uint32_t size, uint32_t hdr_size, uint32_t total)
{
	if (off < hdr_size)
		return fail(c, FDT_ERR_LAYOUT, field, "header: %s 0x%x overlaps the header",
			    off_name, off);
	if ((uint64_t)off + size > UINT32_MAX)
		return fail(c, FDT_ERR_LAYOUT, field, "header: %s 0x%x + %s 0x%x wraps past 4 GiB",
			    off_name, off, size_name, size);
	if (off + size > total)
		return fail(c, FDT_ERR_LAYOUT, field,
			    "header: %s 0x%x + %s 0x%x ends past totalsize 0x%x", off_name, off,
			    size_name, size, total);
	return FDT_OK;
}

static int check_rsvmap(struct checker *c, uint32_t rsv, uint32_t total)
{
	uint64_t e, addr, size;
	unsigned i;
	for (i = 0;; i++) {
		e = rsv + (uint64_t)i * RSV_ENTRY_SIZE;
		if (e + RSV_ENTRY_SIZE > total)
			return fail(c, FDT_ERR_RSVMAP, rsv,
				    "memreserve: map at 0x%x not terminated inside totalsize 0x%x",
				    rsv, total);
		addr = fdt_be64(c->blob + e);
		size = fdt_be64(c->blob + e + 8);
		if (!addr && !size)
			return FDT_OK;
		if (size > UINT64_MAX - addr)
			return fail(c, FDT_ERR_RSVMAP, (uint32_t)e,
				    "memreserve: entry %u: address 0x%llx + size 0x%llx wraps", i,
				    (unsigned long long)addr, (unsigned long long)size);
	}
}

/* Index of the first control character (below 0x20, or 0x7f) in s[0..n), or -1. */
static int control_char(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return (int)i;
	return -1;
}

/* Walks the structure block token by token; c->depth tracks the open nodes. */
static int check_struct(struct checker *c, const struct fdt *f)
{
	const uint8_t *s = c->blob + f->struct_off;
	uint32_t size = f->struct_size, pos = 0, tag, len, nameoff;
	uint64_t has_child = 0; /* bit d: the node at depth d has had a subnode */
	bool seen_root = false;
	const char *name;
	size_t n;

	for (;;) {
		uint32_t at = f->struct_off + pos; /* blob offset, for messages */
		if (pos > size || size - pos < 4) {
			if (c->depth > 0)
				return fail(c, FDT_ERR_NOEND, at,
					    "struct block ends at offset 0x%x inside this node, "
					    "without FDT_END_NODE/FDT_END",
					    f->struct_off + size);
			return fail(c, FDT_ERR_NOEND, at,
				    "struct block ends at offset 0x%x without FDT_END",
				    f->struct_off + size);
		}
		tag = fdt_be32(s + pos);
		switch (tag) {
		case FDT_BEGIN_NODE:
			if (c->depth == 0 && seen_root)
				return fail(c, FDT_ERR_NESTING, at,
					    "second root node at offset 0x%x", at);
			n = strnlen((const char *)s + pos + 4, size - pos - 4);
			if (n == size - pos - 4)
				return fail(
				    c, FDT_ERR_NAME, at,
				    "node name at offset 0x%x not NUL-terminated inside the "
				    "struct block",
				    at + 4);
			name = (const char *)s + pos + 4;
			if (c->depth > 0 && n == 0)
				return fail(c, FDT_ERR_NAME, at, "empty node name at offset 0x%x",
					    at);
			/* Names end up in one-line messages: no control characters. */
			if (control_char(name, n) >= 0)
				return fail(c, FDT_ERR_NAME, at,
					    "node name at offset 0x%x has control character 0x%02x",
					    at + 4, (unsigned char)name[control_char(name, n)]);
			if (c->depth > 0 && strchr(name, '/'))
				return fail(c, FDT_ERR_NAME, at, "node name '%s' contains '/'",
					    name);
			if (c->depth == FDT_MAX_DEPTH)
				return fail(c, FDT_ERR_NESTING, at,
					    "subnode '%s' nested deeper than %u levels", name,
					    FDT_MAX_DEPTH);
			if (c->depth > 0)
				has_child |= 1ull << (c->depth - 1);
			has_child &= ~(1ull << c->depth);
			c->names[c->depth++] = name;
			seen_root = true;
			pos += 4 + align4((uint32_t)n + 1);
			break;
		case FDT_END_NODE:
			if (c->depth == 0)
				return fail(c, FDT_ERR_NESTING, at,
					    "FDT_END_NODE at offset 0x%x closes no node", at);
			c->depth--;
			pos += 4;
			break;
		case FDT_PROP:
			if (c->depth == 0)
				return fail(c, FDT_ERR_NESTING, at,
					    "property at offset 0x%x outside any node", at);
			if (size - pos < 12)
				return fail(c, FDT_ERR_PROP, at,
					    "property header at offset 0x%x runs past the struct "
					    "block",
					    at);
			len = fdt_be32(s + pos + 4);
			nameoff = fdt_be32(s + pos + 8);
			if (nameoff >= f->strings_size)
				return fail(c, FDT_ERR_STRINGS, at,
					    "property at offset 0x%x: name offset 0x%x outside the "
					    "strings block (size 0x%x)",
					    at, nameoff, f->strings_size);
			name = string_at(f, nameoff);
			if (!name)
				return fail(
				    c, FDT_ERR_STRINGS, at,
				    "property at offset 0x%x: name at strings offset 0x%x not "
				    "NUL-terminated inside the strings block",
				    at, nameoff);
			if (control_char(name, strlen(name)) >= 0)
				return fail(
				    c, FDT_ERR_STRINGS, at,
				    "property at offset 0x%x: name at strings offset 0x%x has "
				    "control character 0x%02x",
				    at, nameoff,
				    (unsigned char)name[control_char(name, strlen(name))]);
			if (len > size - pos - 12)
				return fail(c, FDT_ERR_PROP, at,
					    "property '%s': length %u runs past the struct block "
					    "(%u bytes left)",
					    name, len, size - pos - 12);
			if (has_child & (1ull << (c->depth - 1)))
				return fail(c, FDT_ERR_NESTING, at,
					    "property '%s' at offset 0x%x follows a subnode", name,
					    at);
			pos += 12 + align4(len);
			break;
		case FDT_NOP:
			pos += 4;
			break;
		case FDT_END:
			if (c->depth > 0)
				return fail(c, FDT_ERR_NESTING, at,
					    "FDT_END at offset 0x%x with %u node(s) still open", at,
					    (unsigned)c->depth);
			if (!seen_root)
				return fail(c, FDT_ERR_NESTING, at,
					    "FDT_END at offset 0x%x before any root node", at);
			return FDT_OK;
		default:
			return fail(c, FDT_ERR_TOKEN, at, "bad token 0x%x at offset 0x%x", tag, at);
		}
	}
}

static int check(struct fdt *f, const void *blob, size_t avail, struct fdt_error *err)
{
	struct checker c = {.err = err, .blob = blob};
	uint32_t magic, version, last_comp, hdr_size, total, rsv;
	int rc;

	if (err) {
		err->code = FDT_OK;
		err->offset = 0;
		err->message[0] = 0;
	}
	if (!blob)
		return fail(&c, FDT_ERR_TRUNCATED, 0, "header: no blob (NULL pointer)");
	if (avail < 4)
		return fail(&c, FDT_ERR_TRUNCATED, 0,
			    "header: only %llu bytes available, the header needs %u",
			    (unsigned long long)avail, FDT_HEADER_SIZE);
	magic = fdt_be32(c.blob + HDR_MAGIC);
	if (magic != FDT_MAGIC)
		return fail(&c, FDT_ERR_MAGIC, HDR_MAGIC, "header: magic 0x%x is not 0x%x", magic,
			    FDT_MAGIC);
	if (avail < HDR_LAST_COMP + 4)
		return fail(&c, FDT_ERR_TRUNCATED, 0,
			    "header: only %llu bytes available, the header needs %u",
			    (unsigned long long)avail, FDT_HEADER_SIZE);
	version = fdt_be32(c.blob + HDR_VERSION);
	last_comp = fdt_be32(c.blob + HDR_LAST_COMP);
	if (version < FDT_MIN_VERSION)
		return fail(&c, FDT_ERR_VERSION, HDR_VERSION, "header: version %u older than %u",
			    version, FDT_MIN_VERSION);
	if (last_comp > FDT_MAX_COMP_VERSION)
		return fail(&c, FDT_ERR_VERSION, HDR_LAST_COMP,
			    "header: last_comp_version %u newer than %u", last_comp,
			    FDT_MAX_COMP_VERSION);
	if (last_comp > version)
		return fail(&c, FDT_ERR_VERSION, HDR_LAST_COMP,
			    "header: last_comp_version %u above version %u", last_comp, version);
	hdr_size = version >= 17 ? FDT_HEADER_SIZE : HDR_V16_SIZE;
	if (avail < hdr_size)
		return fail(&c, FDT_ERR_TRUNCATED, 0,
			    "header: only %llu bytes available, the header needs %u",
			    (unsigned long long)avail, hdr_size);

	total = fdt_be32(c.blob + HDR_TOTALSIZE);
	if (total < hdr_size)
		return fail(&c, FDT_ERR_LAYOUT, HDR_TOTALSIZE,
			    "header: totalsize %u smaller than the %u-byte header", total,
			    hdr_size);
	if (total > avail)
		return fail(&c, FDT_ERR_TRUNCATED, HDR_TOTALSIZE,
			    "header: totalsize %u exceeds the %llu bytes available", total,
			    (unsigned long long)avail);
	if (total > INT32_MAX)
		return fail(&c, FDT_ERR_LAYOUT, HDR_TOTALSIZE, "header: totalsize %u too large",
			    total);

	memset(f, 0, sizeof(*f));
	f->blob = blob;
	f->totalsize = total;
	f->version = version;
	f->boot_cpuid_phys = fdt_be32(c.blob + HDR_BOOT_CPUID);
	f->struct_off = fdt_be32(c.blob + HDR_OFF_STRUCT);
	f->strings_off = fdt_be32(c.blob + HDR_OFF_STRINGS);
	f->strings_size = fdt_be32(c.blob + HDR_SIZE_STRINGS);
	rsv = fdt_be32(c.blob + HDR_OFF_RSVMAP);
	f->rsvmap_off = rsv;

	/* Alignment first: a misaligned offset is the more specific complaint. */
	if (f->struct_off & 3)
		return fail(&c, FDT_ERR_ALIGN, HDR_OFF_STRUCT,
			    "header: off_dt_struct 0x%x not 4-byte aligned", f->struct_off);
	if (rsv & 7)
		return fail(&c, FDT_ERR_ALIGN, HDR_OFF_RSVMAP,
			    "header: off_mem_rsvmap 0x%x not 8-byte aligned", rsv);

	if (version >= 17) {
		f->struct_size = fdt_be32(c.blob + HDR_SIZE_STRUCT);
	} else {
		/* v16 has no size_dt_struct: the block may run to the end. */
		if (f->struct_off > total)
			return fail(&c, FDT_ERR_LAYOUT, HDR_OFF_STRUCT,
				    "header: off_dt_struct 0x%x past totalsize 0x%x", f->struct_off,
				    total);
		f->struct_size = total - f->struct_off;
	}
	rc = check_block(&c, HDR_OFF_STRUCT, "off_dt_struct", f->struct_off, "size_dt_struct",
			 f->struct_size, hdr_size, total);
	if (rc)
		return rc;
	rc = check_block(&c, HDR_OFF_STRINGS, "off_dt_strings", f->strings_off, "size_dt_strings",
			 f->strings_size, hdr_size, total);
	if (rc)
		return rc;
	rc = check_block(&c, HDR_OFF_RSVMAP, "off_mem_rsvmap", rsv, "one entry", RSV_ENTRY_SIZE,
			 hdr_size, total);
	if (rc)
		return rc;
	rc = check_rsvmap(&c, rsv, total);
	if (rc)
		return rc;
	c.struct_off = f->struct_off;
	return check_struct(&c, f);
}

int fdt_check(const void *blob, size_t avail, struct fdt_error *err)
{
	struct fdt f;
	return check(&f, blob, avail, err);
}

int fdt_init(struct fdt *fdt, const void *blob, size_t avail, struct fdt_error *err)
{
	struct fdt f;
	int rc = check(&f, blob, avail, err);
	if (rc == FDT_OK)
		*fdt = f;
	else
		memset(fdt, 0, sizeof(*fdt));
	return rc;
}

uint32_t fdt_peek_totalsize(const void *blob)
{
	const uint8_t *b = blob;
	if (!b || fdt_be32(b + HDR_MAGIC) != FDT_MAGIC)
		return 0;
	return fdt_be32(b + HDR_TOTALSIZE);
}

const char *fdt_strerror(int code)
{
	switch (code) {
	case FDT_OK:
		return "FDT_OK";
	case FDT_ERR_TRUNCATED:
		return "FDT_ERR_TRUNCATED";
	case FDT_ERR_MAGIC:
		return "FDT_ERR_MAGIC";
	case FDT_ERR_VERSION:
		return "FDT_ERR_VERSION";
	case FDT_ERR_LAYOUT:
		return "FDT_ERR_LAYOUT";
	case FDT_ERR_ALIGN:
		return "FDT_ERR_ALIGN";
	case FDT_ERR_RSVMAP:
		return "FDT_ERR_RSVMAP";
	case FDT_ERR_TOKEN:
		return "FDT_ERR_TOKEN";
	case FDT_ERR_NESTING:
		return "FDT_ERR_NESTING";
	case FDT_ERR_NOEND:
		return "FDT_ERR_NOEND";
	case FDT_ERR_NAME:
		return "FDT_ERR_NAME";
	case FDT_ERR_PROP:
		return "FDT_ERR_PROP";
	case FDT_ERR_STRINGS:
		return "FDT_ERR_STRINGS";
	case FDT_ERR_NOTFOUND:
		return "FDT_ERR_NOTFOUND";
	case FDT_ERR_BADVALUE:
		return "FDT_ERR_BADVALUE";
	case FDT_ERR_BADHANDLE:
		return "FDT_ERR_BADHANDLE";
	default:
		return "FDT_ERR_?";
	}
}

/* ---- Nodes ------------------------------------------------------------------ */

const char *fdt_node_name(const struct fdt *f, int node)
{
	if (!is_node(f, node, NULL))
		return NULL;
	return (const char *)sblock(f) + node + 4;
}

int fdt_first_child(const struct fdt *f, int node)
{
	uint32_t off, tag, next;
	if (!is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	while (next_tag(f, (int)off, &tag, &next)) {
		if (tag == FDT_BEGIN_NODE)
			return (int)off;
		if (tag != FDT_PROP && tag != FDT_NOP)
			break;
		off = next;
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_next_sibling(const struct fdt *f, int node)
{
	uint32_t off, tag, next;
	int depth = 0;
	if (!is_node(f, node, NULL))
		return FDT_ERR_BADHANDLE;
	/* Skip the node's own subtree, then look at what follows at its level. */
	for (off = (uint32_t)node; next_tag(f, (int)off, &tag, &next); off = next) {
		if (tag == FDT_BEGIN_NODE) {
			if (depth == 0 && off != (uint32_t)node)
				return (int)off;
			depth++;
		} else if (tag == FDT_END_NODE) {
			if (depth == 0)
				break; /* the parent closes: no more siblings */
			depth--;
		} else if (tag == FDT_END) {
			break;
		}
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_next_node(const struct fdt *f, int node, int *depth)
{
	uint32_t off, tag, next;
	int d = 0;
	if (node < 0) {
		if (depth)
			*depth = 0;
		return fdt_root(f);
	}
	if (!is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	for (; next_tag(f, (int)off, &tag, &next); off = next) {
		if (tag == FDT_BEGIN_NODE) {
			if (depth)
				*depth += d + 1;
			return (int)off;
		}
		if (tag == FDT_END_NODE)
			d--;
		else if (tag == FDT_END)
			break;
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_parent(const struct fdt *f, int node)
{
	int stack[FDT_MAX_DEPTH], depth, rc;
	rc = ancestry(f, node, stack, &depth);
	if (rc != FDT_OK)
		return rc;
	return depth >= 2 ? stack[depth - 2] : FDT_ERR_NOTFOUND;
}

int fdt_node_path(const struct fdt *f, int node, char *buf, size_t size)
{
	struct msg m = {.buf = buf, .size = size, .len = 0};
	int stack[FDT_MAX_DEPTH], depth, rc, i;
	size_t need = 0;

	if (size)
		buf[0] = 0;
	rc = ancestry(f, node, stack, &depth);
	if (rc != FDT_OK)
		return rc;
	if (depth == 1) {
		m_chr(&m, '/');
		need = 1;
	}
	for (i = 1; i < depth; i++) {
		const char *name = fdt_node_name(f, stack[i]);
		m_chr(&m, '/');
		m_str(&m, name);
		need += 1 + strlen(name);
	}
	return need < size ? FDT_OK : FDT_ERR_BADVALUE;
}

static bool has_char(const char *s, char c, size_t len)
{
	size_t i;
	for (i = 0; i < len; i++)
		if (s[i] == c)
			return true;
	return false;
}

/* Whether node name `name` is what path component [comp, comp + len) asks for. */
static bool name_matches(const char *name, const char *comp, size_t len)
{
	if (strncmp(name, comp, len) != 0 || strnlen(name, len) != len)
		return false;
	if (name[len] == 0)
		return true;
	/* "memory" matches "memory@40000000" when the component gives no unit address. */
	return name[len] == '@' && !has_char(comp, '@', len);
}

/* The child of `node` named by path component [comp, comp + len). */
static int child_named(const struct fdt *f, int node, const char *comp, size_t len)
{
	int child;
	fdt_for_each_child(f, node, child)
	{
		if (name_matches(fdt_node_name(f, child), comp, len))
			return child;
	}
	return FDT_ERR_NOTFOUND;
}

/* Follows the components of [p, end) from `node`; empty components are skipped. */
static int walk_path(const struct fdt *f, int node, const char *p, const char *end)
{
	while (p < end && node >= 0) {
		const char *q = p;
		while (q < end && *q != '/')
			q++;
		if (q > p)
			node = child_named(f, node, p, (size_t)(q - p));
		p = q < end ? q + 1 : q;
	}
	return node;
}

int fdt_find_path_n(const struct fdt *f, const char *path, size_t len)
{
	const char *end, *q, *alias;
	int root = fdt_root(f);

	if (root < 0)
		return root;
	if (!path)
		return FDT_ERR_NOTFOUND;
	len = strnlen(path, len);
	end = path + len;
	if (len == 0)
		return FDT_ERR_NOTFOUND;
	if (path[0] == '/')
		return walk_path(f, root, path, end);
	/* An alias, then optionally more components below the aliased node. */
	for (q = path; q < end && *q != '/'; q++)
		;
	alias = fdt_alias(f, path, (size_t)(q - path));
	if (!alias || alias[0] != '/')
		return FDT_ERR_NOTFOUND;
	return walk_path(f, walk_path(f, root, alias, alias + strlen(alias)), q, end);
}

int fdt_find_path(const struct fdt *f, const char *path)
{
	return fdt_find_path_n(f, path, path ? strlen(path) : 0);
}

int fdt_find_compatible(const struct fdt *f, int from, const char *compat)
{
	int node = from;
	while ((node = fdt_next_node(f, node, NULL)) >= 0)
		if (fdt_is_compatible(f, node, compat))
			return node;
	return FDT_ERR_NOTFOUND;
}

int fdt_node_by_phandle(const struct fdt *f, uint32_t phandle)
{
	int node = -1;
	uint32_t v;
	/* 0 and ~0 are reserved: "no phandle" and "unresolved" in overlays. */
	if (phandle == 0 || phandle == UINT32_MAX)
		return FDT_ERR_NOTFOUND;
	while ((node = fdt_next_node(f, node, NULL)) >= 0) {
		if (fdt_prop_u32(f, node, "phandle", &v) && v == phandle)
			return node;
		if (fdt_prop_u32(f, node, "linux,phandle", &v) && v == phandle)
			return node;
	}
	return FDT_ERR_NOTFOUND;
}

bool fdt_node_okay(const struct fdt *f, int node)
{
	struct fdt_prop p;
	const char *s;
	if (fdt_get_prop(f, node, "status", &p) != FDT_OK)
		return true;
	s = fdt_prop_string(f, node, "status");
	return s && (strcmp(s, "okay") == 0 || strcmp(s, "ok") == 0);
}

/* ---- Properties --------------------------------------------------------------- */

/* The first property token at or after `off` within the current node. */
static int prop_scan(const struct fdt *f, uint32_t off, struct fdt_prop *out)
{
	uint32_t tag, next;
	const uint8_t *s = sblock(f);
	for (; next_tag(f, (int)off, &tag, &next); off = next) {
		if (tag == FDT_NOP)
			continue;
		if (tag != FDT_PROP)
			break;
		out->name = string_at(f, fdt_be32(s + off + 8));
		if (!out->name)
			continue; /* unreadable name: invisible rather than wrong */
		out->len = fdt_be32(s + off + 4);
		out->data = s + off + 12;
		return (int)off;
	}
	return FDT_ERR_NOTFOUND;
}

int fdt_first_prop(const struct fdt *f, int node, struct fdt_prop *out)
{
	uint32_t off;
	if (!is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	return prop_scan(f, off, out);
}

int fdt_next_prop(const struct fdt *f, int cursor, struct fdt_prop *out)
{
	uint32_t tag, next;
	if (!next_tag(f, cursor, &tag, &next) || tag != FDT_PROP)
		return FDT_ERR_BADHANDLE;
	return prop_scan(f, next, out);
}

/* Property lookup with a name of `len` bytes (not necessarily NUL-terminated). */
static int get_prop_n(const struct fdt *f, int node, const char *name, size_t len,
		      struct fdt_prop *out)
{
	struct fdt_prop p;
	int cur;
	for (cur = fdt_first_prop(f, node, &p); cur >= 0; cur = fdt_next_prop(f, cur, &p)) {
		if (strnlen(p.name, len + 1) == len && strncmp(p.name, name, len) == 0) {
			*out = p;
			return FDT_OK;
		}
	}
	return cur == FDT_ERR_BADHANDLE ? cur : FDT_ERR_NOTFOUND;
}

int fdt_get_prop(const struct fdt *f, int node, const char *name, struct fdt_prop *out)
{
	return get_prop_n(f, node, name, strlen(name), out);
}

static const char *prop_as_string(const struct fdt_prop *p)
{
	if (p->len == 0 || strnlen((const char *)p->data, p->len) == p->len)
		return NULL;
	return (const char *)p->data;
}

const char *fdt_prop_string(const struct fdt *f, int node, const char *name)
{
	struct fdt_prop p;
	if (fdt_get_prop(f, node, name, &p) != FDT_OK)
		return NULL;
	return prop_as_string(&p);
}

const char *fdt_alias(const struct fdt *f, const char *name, size_t name_len)
{
	struct fdt_prop p;
	int aliases = child_named(f, fdt_root(f), "aliases", 7);
	if (aliases < 0 || !name || strnlen(name, name_len) != name_len || name_len == 0)
		return NULL;
	if (get_prop_n(f, aliases, name, name_len, &p) != FDT_OK)
		return NULL;
	return prop_as_string(&p);
}

bool fdt_prop_u32(const struct fdt *f, int node, const char *name, uint32_t *out)
{
	struct fdt_prop p;
	if (fdt_get_prop(f, node, name, &p) != FDT_OK || p.len != 4)
		return false;
	*out = fdt_be32(p.data);
	return true;
}

bool fdt_prop_u64(const struct fdt *f, int node, const char *name, uint64_t *out)
{
	struct fdt_prop p;
	if (fdt_get_prop(f, node, name, &p) != FDT_OK)
		return false;
	if (p.len == 8)
		*out = fdt_be64(p.data);
	else if (p.len == 4)
		*out = fdt_be32(p.data);
	else
		return false;
	return true;
}

bool fdt_stringlist_contains(const uint8_t *data, uint32_t len, const char *s)
{
	size_t want = strlen(s), n;
	uint32_t pos = 0;
	while (pos < len) {
		n = strnlen((const char *)data + pos, len - pos);
		if (n == len - pos)
			break; /* unterminated tail: not a string */
		if (n == want && memcmp(data + pos, s, n) == 0)
			return true;
		pos += (uint32_t)n + 1;
	}
	return false;
}

bool fdt_is_compatible(const struct fdt *f, int node, const char *compat)
{
	struct fdt_prop p;
	if (fdt_get_prop(f, node, "compatible", &p) != FDT_OK)
		return false;
	return fdt_stringlist_contains(p.data, p.len, compat);
}

/* ---- Cells and reg --------------------------------------------------------------- */

bool fdt_cells_init(struct fdt_cells *c, const void *data, uint32_t len)
{
	c->data = data;
	c->len = len;
	c->pos = 0;
	if (len % 4) {
		c->len = 0;
		return false;
	}
	return true;
}

unsigned fdt_cells_left(const struct fdt_cells *c)
{
	return c->pos <= c->len ? (c->len - c->pos) / 4 : 0;
}

bool fdt_cells_read(struct fdt_cells *c, unsigned n, uint64_t *out)
{
	if (n > 2 || fdt_cells_left(c) < n)
		return false;
	if (n == 0)
		*out = 0;
	else if (n == 1)
		*out = fdt_be32(c->data + c->pos);
	else
		*out = fdt_be64(c->data + c->pos);
	c->pos += 4 * n;
	return true;
}

int fdt_prop_cells(const struct fdt *f, int node, const char *name, unsigned entry_cells,
		   struct fdt_cells *c, struct fdt_error *err)
{
	struct fdt_prop p;
	int rc;

	fdt_cells_init(c, NULL, 0);
	rc = fdt_get_prop(f, node, name, &p);
	if (rc == FDT_ERR_BADHANDLE)
		return lookup_fail(err, rc, f, -1, name, "not a node handle");
	if (rc != FDT_OK)
		return lookup_fail(err, FDT_ERR_NOTFOUND, f, node, name, "missing");
	if (p.len % 4)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				   "length %u not a multiple of 4", p.len);
	if (entry_cells > 64)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				   "entries of %u cells are implausible", entry_cells);
	if (entry_cells && p.len % (4 * entry_cells))
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				   "length %u not a multiple of %u (entries of %u cells)", p.len,
				   4 * entry_cells, entry_cells);
	fdt_cells_init(c, p.data, p.len);
	return FDT_OK;
}

static int cells_prop(const struct fdt *f, int node, const char *name, unsigned dflt, unsigned *out,
		      struct fdt_error *err)
{
	struct fdt_prop p;
	uint32_t v;
	*out = dflt;
	if (fdt_get_prop(f, node, name, &p) != FDT_OK)
		return FDT_OK;
	if (p.len != 4)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				   "length %u, expected one cell", p.len);
	v = fdt_be32(p.data);
	if (v > 4)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, name, "value %u exceeds 4", v);
	*out = v;
	return FDT_OK;
}

int fdt_parent_cells(const struct fdt *f, int parent, unsigned *addr_cells, unsigned *size_cells,
		     struct fdt_error *err)
{
	int rc;
	if (!is_node(f, parent, NULL))
		return lookup_fail(err, FDT_ERR_BADHANDLE, f, -1, NULL, "not a node handle");
	rc = cells_prop(f, parent, "#address-cells", 2, addr_cells, err);
	if (rc)
		return rc;
	return cells_prop(f, parent, "#size-cells", 1, size_cells, err);
}

int fdt_reg_init(const struct fdt *f, int node, struct fdt_reg *reg, struct fdt_error *err)
{
	unsigned ac = 2, sc = 1;
	int parent, rc;

	fdt_cells_init(&reg->cells, NULL, 0);
	reg->addr_cells = reg->size_cells = 0;
	if (!is_node(f, node, NULL))
		return lookup_fail(err, FDT_ERR_BADHANDLE, f, -1, "reg", "not a node handle");
	parent = fdt_parent(f, node);
	if (parent >= 0) {
		rc = fdt_parent_cells(f, parent, &ac, &sc, err);
		if (rc)
			return rc;
	}
	if (ac > 2 || sc > 2)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, "reg",
				   "parent's #address-cells %u / #size-cells %u exceed 64 bits", ac,
				   sc);
	if (ac + sc == 0)
		return lookup_fail(err, FDT_ERR_BADVALUE, f, node, "reg",
				   "parent has #address-cells and #size-cells 0");
	rc = fdt_prop_cells(f, node, "reg", ac + sc, &reg->cells, err);
	if (rc)
		return rc;
	reg->addr_cells = ac;
	reg->size_cells = sc;
	return FDT_OK;
}

bool fdt_reg_next(struct fdt_reg *reg, uint64_t *addr, uint64_t *size)
{
	struct fdt_cells save = reg->cells;
	if (reg->addr_cells + reg->size_cells == 0)
		return false;
	if (fdt_cells_read(&reg->cells, reg->addr_cells, addr) &&
	    fdt_cells_read(&reg->cells, reg->size_cells, size))
		return true;
	reg->cells = save;
	return false;
}

unsigned fdt_reg_count(const struct fdt_reg *reg)
{
	unsigned entry = reg->addr_cells + reg->size_cells;
	return entry ? reg->cells.len / (4 * entry) : 0;
}

int fdt_reg_get(const struct fdt *f, int node, unsigned index, uint64_t *addr, uint64_t *size,
		struct fdt_error *err)
{
	struct fdt_reg reg;
	unsigned i;
	int rc = fdt_reg_init(f, node, &reg, err);
	if (rc)
		return rc;
	for (i = 0; i <= index; i++)
		if (!fdt_reg_next(&reg, addr, size))
			return lookup_fail(err, FDT_ERR_NOTFOUND, f, node, "reg",
					   "no entry %u (has %u)", index, fdt_reg_count(&reg));
	return FDT_OK;
}

/* ---- Memory reservation map ------------------------------------------------- */

bool fdt_rsv_get(const struct fdt *f, unsigned index, uint64_t *addr, uint64_t *size)
{
	uint64_t e, a, s;
	unsigned i;
	for (i = 0;; i++) {
		e = f->rsvmap_off + (uint64_t)i * RSV_ENTRY_SIZE;
		if (e + RSV_ENTRY_SIZE > f->totalsize)
			return false;
		a = fdt_be64(f->blob + e);
		s = fdt_be64(f->blob + e + 8);
		if (!a && !s)
			return false;
		if (i == index) {
			*addr = a;
			*size = s;
			return true;
		}
	}
}

unsigned fdt_rsv_count(const struct fdt *f)
{
	uint64_t a, s;
	unsigned n = 0;
	while (fdt_rsv_get(f, n, &a, &s))
		n++;
	return n;
}
