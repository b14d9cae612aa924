// SPDX-License-Identifier: BSD-2-Clause
/*
 * Flattened device tree reader, written from the devicetree specification
 * (v0.4, chapter 5 "Flattened Devicetree (DTB) Format"): byte access, the
 * message formatter, structure-block stepping and the node lookups.
 * Validation lives in lib/fdt_check.c; properties, cells, reg and the
 * memory reservation map in lib/fdt_prop.c.
 *
 * The lookups trust nothing fdt_check proved about the structure block:
 * they walk it through fdt_next_tag(), which re-checks every bound on every
 * step, so a stale or bogus handle yields an error code, never an
 * out-of-bounds read.
 *
 * Invariants: no read outside the struct and strings blocks the struct fdt
 * describes, which fdt_check has put inside [blob, blob + totalsize);
 * every multi-byte field is read byte by byte through fdt_be32/fdt_be64;
 * every walk advances by at least four bytes per step, so walks over a
 * finite block terminate. Messages are truncated to their buffer, never
 * overflow it.
 */
#include "lib/fdt_internal.h"
#include "lib/fmt.h"
#include "lib/string.h"

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

/* ---- Message formatting ------------------------------------------------------ */

void fdt_msg_vfmt(struct fdt_msg *m, const char *fmt, va_list ap)
{
	if (m->len + 1 >= m->size)
		return;
	int n = vsnprintf(m->buf + m->len, m->size - m->len, fmt, ap);
	m->len = MIN(m->len + (size_t)n, m->size - 1);
}

static void fdt_msg_fmt(struct fdt_msg *m, const char *fmt, ...) __printf(2, 3);
static void fdt_msg_fmt(struct fdt_msg *m, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fdt_msg_vfmt(m, fmt, ap);
	va_end(ap);
}

void fdt_msg_str(struct fdt_msg *m, const char *s)
{
	fdt_msg_fmt(m, "%s", s);
}

void fdt_msg_chr(struct fdt_msg *m, char c)
{
	fdt_msg_fmt(m, "%c", c);
}

bool fdt_msg_begin(struct fdt_msg *m, struct fdt_error *err, int code, uint32_t offset)
{
	if (!err)
		return false;
	err->code = code;
	err->offset = offset;
	m->buf = err->message;
	m->size = sizeof(err->message);
	m->len = 0;
	err->message[0] = 0;
	fdt_msg_str(m, "fdt: ");
	return true;
}

/* ---- Structure-block stepping (lookup side) ------------------------------ */

const char *fdt_string_at(const struct fdt *f, uint32_t nameoff)
{
	const char *s;
	if (nameoff >= f->strings_size)
		return NULL;
	s = (const char *)f->blob + f->strings_off + nameoff;
	if (strnlen(s, f->strings_size - nameoff) == f->strings_size - nameoff)
		return NULL;
	return s;
}

bool fdt_next_tag(const struct fdt *f, int off_in, uint32_t *tag, uint32_t *next)
{
	uint32_t off, rest, len;
	size_t n;
	const uint8_t *s = fdt_sblock(f);

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
		*next = off + 4 + fdt_align4((uint32_t)n + 1);
		return true;
	case FDT_PROP:
		if (rest < 8)
			return false;
		len = fdt_be32(s + off + 4);
		if (len > rest - 8)
			return false;
		*next = off + 12 + fdt_align4(len);
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

bool fdt_is_node(const struct fdt *f, int node, uint32_t *after)
{
	uint32_t tag, next;
	if (!fdt_next_tag(f, node, &tag, &next) || tag != FDT_BEGIN_NODE)
		return false;
	if (after)
		*after = next;
	return true;
}

int fdt_root(const struct fdt *f)
{
	uint32_t off = 0, tag, next;
	while (fdt_next_tag(f, (int)off, &tag, &next)) {
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
	if (!fdt_is_node(f, target, NULL))
		return FDT_ERR_BADHANDLE;
	while (fdt_next_tag(f, off, &tag, &next)) {
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

static void fdt_msg_node_path(struct fdt_msg *m, const struct fdt *f, int node)
{
	int stack[FDT_MAX_DEPTH], depth, i;
	if (ancestry(f, node, stack, &depth) != FDT_OK) {
		fdt_msg_str(m, "<bad node>");
		return;
	}
	if (depth == 1)
		fdt_msg_chr(m, '/');
	for (i = 1; i < depth; i++) {
		fdt_msg_chr(m, '/');
		fdt_msg_str(m, fdt_node_name(f, stack[i]));
	}
}

int fdt_lookup_fail(struct fdt_error *err, int code, const struct fdt *f, int node,
		    const char *prop, const char *fmt, ...)
{
	struct fdt_msg m;
	va_list ap;
	if (!fdt_msg_begin(&m, err, code, node >= 0 ? f->struct_off + (uint32_t)node : 0))
		return code;
	if (node >= 0) {
		fdt_msg_str(&m, "node ");
		fdt_msg_node_path(&m, f, node);
		fdt_msg_str(&m, ": ");
	}
	if (prop)
		fdt_msg_fmt(&m, "property '%s': ", prop);
	va_start(ap, fmt);
	fdt_msg_vfmt(&m, fmt, ap);
	va_end(ap);
	return code;
}

int fdt_error_set(struct fdt_error *err, int code, const struct fdt *fdt, int node,
		  const char *prop, const char *what)
{
	return fdt_lookup_fail(err, code, fdt, node, prop, "%s", what);
}

/* ---- Nodes ------------------------------------------------------------------ */

const char *fdt_node_name(const struct fdt *f, int node)
{
	if (!fdt_is_node(f, node, NULL))
		return NULL;
	return (const char *)fdt_sblock(f) + node + 4;
}

int fdt_first_child(const struct fdt *f, int node)
{
	uint32_t off, tag, next;
	if (!fdt_is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	while (fdt_next_tag(f, (int)off, &tag, &next)) {
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
	if (!fdt_is_node(f, node, NULL))
		return FDT_ERR_BADHANDLE;
	/* Skip the node's own subtree, then look at what follows at its level. */
	for (off = (uint32_t)node; fdt_next_tag(f, (int)off, &tag, &next); off = next) {
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
	if (!fdt_is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	for (; fdt_next_tag(f, (int)off, &tag, &next); off = next) {
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
	struct fdt_msg m = {.buf = buf, .size = size, .len = 0};
	int stack[FDT_MAX_DEPTH], depth, rc, i;
	size_t need = 0;

	if (size)
		buf[0] = 0;
	rc = ancestry(f, node, stack, &depth);
	if (rc != FDT_OK)
		return rc;
	if (depth == 1) {
		fdt_msg_chr(&m, '/');
		need = 1;
	}
	for (i = 1; i < depth; i++) {
		const char *name = fdt_node_name(f, stack[i]);
		fdt_msg_chr(&m, '/');
		fdt_msg_str(&m, name);
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

int fdt_child_named(const struct fdt *f, int node, const char *comp, size_t len)
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
			node = fdt_child_named(f, node, p, (size_t)(q - p));
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
