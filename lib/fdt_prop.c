// SPDX-License-Identifier: BSD-2-Clause
/*
 * Properties of a node, the cells of their values (`reg` decoded through
 * the parent's #address-cells and #size-cells) and the memory reservation
 * map.
 *
 * Like the node lookups, these trust nothing fdt_check proved about the
 * structure block: every step goes through fdt_next_tag(), so a stale handle
 * or cursor gives an error code, never an out-of-bounds read.
 *
 * Invariants: no read outside [blob, blob + totalsize): a property's value
 * is read only within the length fdt_next_tag found inside the struct block,
 * cells only within their property, and a reservation entry only when it
 * ends inside totalsize; every multi-byte field is read byte by byte
 * through fdt_be32/fdt_be64.
 */
#include "lib/fdt_internal.h"
#include "lib/string.h"

/* ---- Properties --------------------------------------------------------------- */

/* The first property token at or after `off` within the current node. */
static int prop_scan(const struct fdt *f, uint32_t off, struct fdt_prop *out)
{
	uint32_t tag, next;
	const uint8_t *s = fdt_sblock(f);
	for (; fdt_next_tag(f, (int)off, &tag, &next); off = next) {
		if (tag == FDT_NOP)
			continue;
		if (tag != FDT_PROP)
			break;
		out->name = fdt_string_at(f, fdt_be32(s + off + 8));
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
	if (!fdt_is_node(f, node, &off))
		return FDT_ERR_BADHANDLE;
	return prop_scan(f, off, out);
}

int fdt_next_prop(const struct fdt *f, int cursor, struct fdt_prop *out)
{
	uint32_t tag, next;
	if (!fdt_next_tag(f, cursor, &tag, &next) || tag != FDT_PROP)
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
	int aliases = fdt_child_named(f, fdt_root(f), "aliases", 7);
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
		return fdt_lookup_fail(err, rc, f, -1, name, "not a node handle");
	if (rc != FDT_OK)
		return fdt_lookup_fail(err, FDT_ERR_NOTFOUND, f, node, name, "missing");
	if (p.len % 4)
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				       "length %u not a multiple of 4", p.len);
	if (entry_cells > 64)
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				       "entries of %u cells are implausible", entry_cells);
	if (entry_cells && p.len % (4 * entry_cells))
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				       "length %u not a multiple of %u (entries of %u cells)",
				       p.len, 4 * entry_cells, entry_cells);
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
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, name,
				       "length %u, expected one cell", p.len);
	v = fdt_be32(p.data);
	if (v > 4)
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, name, "value %u exceeds 4",
				       v);
	*out = v;
	return FDT_OK;
}

int fdt_parent_cells(const struct fdt *f, int parent, unsigned *addr_cells, unsigned *size_cells,
		     struct fdt_error *err)
{
	int rc;
	if (!fdt_is_node(f, parent, NULL))
		return fdt_lookup_fail(err, FDT_ERR_BADHANDLE, f, -1, NULL, "not a node handle");
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
	if (!fdt_is_node(f, node, NULL))
		return fdt_lookup_fail(err, FDT_ERR_BADHANDLE, f, -1, "reg", "not a node handle");
	parent = fdt_parent(f, node);
	if (parent >= 0) {
		rc = fdt_parent_cells(f, parent, &ac, &sc, err);
		if (rc)
			return rc;
	}
	if (ac > 2 || sc > 2)
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, "reg",
				       "parent's #address-cells %u / #size-cells %u exceed 64 bits",
				       ac, sc);
	if (ac + sc == 0)
		return fdt_lookup_fail(err, FDT_ERR_BADVALUE, f, node, "reg",
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
			return fdt_lookup_fail(err, FDT_ERR_NOTFOUND, f, node, "reg",
					       "no entry %u (has %u)", index, fdt_reg_count(&reg));
	return FDT_OK;
}

/* ---- Memory reservation map ------------------------------------------------- */

bool fdt_rsv_get(const struct fdt *f, unsigned index, uint64_t *addr, uint64_t *size)
{
	uint64_t e, a, s;
	unsigned i;
	for (i = 0;; i++) {
		e = f->rsvmap_off + (uint64_t)i * FDT_RSV_ENTRY_SIZE;
		if (e + FDT_RSV_ENTRY_SIZE > f->totalsize)
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
