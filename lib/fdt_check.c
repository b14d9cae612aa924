// SPDX-License-Identifier: BSD-2-Clause
/*
 * Validation of an untrusted DTB. fdt_check() walks the blob once, in
 * detail, and explains the first problem it meets; fdt_init() hands out a
 * struct fdt only for a blob that passed; fdt_strerror() names each error
 * code.
 *
 * Names (nodes and properties) with control characters are refused, so
 * every message naming them, here or from the lookups, stays one line.
 *
 * Invariants: no read outside [blob, blob + avail): each header field is
 * read only once avail covers it, and each block only once check_block has
 * put it inside totalsize, itself no more than avail; every multi-byte
 * field is read byte by byte through fdt_be32/fdt_be64; the walk advances
 * by at least four bytes per token, so it terminates. fdt_peek_totalsize,
 * which has no avail, reads the first eight bytes only.
 */
#include "lib/fdt_internal.h"
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
	struct fdt_msg m;
	va_list ap;
	int i;
	if (!fdt_msg_begin(&m, c->err, code, offset))
		return code;
	if (c->depth > 0) {
		fdt_msg_str(&m, "node ");
		if (c->depth == 1)
			fdt_msg_chr(&m, '/');
		for (i = 1; i < c->depth; i++) {
			fdt_msg_chr(&m, '/');
			fdt_msg_str(&m, c->names[i]);
		}
		fdt_msg_str(&m, ": ");
	}
	va_start(ap, fmt);
	fdt_msg_vfmt(&m, fmt, ap);
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
		e = rsv + (uint64_t)i * FDT_RSV_ENTRY_SIZE;
		if (e + FDT_RSV_ENTRY_SIZE > total)
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
			pos += 4 + fdt_align4((uint32_t)n + 1);
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
			name = fdt_string_at(f, nameoff);
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
			pos += 12 + fdt_align4(len);
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
	rc = check_block(&c, HDR_OFF_RSVMAP, "off_mem_rsvmap", rsv, "one entry", FDT_RSV_ENTRY_SIZE,
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
