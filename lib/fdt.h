/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A small, defensive reader for flattened device trees (DTB, devicetree
 * specification v0.4, chapter 5), written for a kernel that must not trust
 * what the firmware hands it.
 *
 * Usage: fdt_init() runs fdt_check() over the blob and, when it passes,
 * fills a struct fdt holding the validated block bounds. Every other
 * function takes that handle and is a pure function over the blob: no
 * allocation, no global state, no writes to the blob.
 *
 * Invariants:
 *  - Nothing ever reads outside [blob, blob + totalsize), and fdt_check never
 *    outside [blob, blob + avail). The lookup helpers re-check every bound
 *    even though fdt_check has passed: a handle over a blob that changed
 *    underneath gives "not found", never a wild read.
 *  - The blob may sit at any alignment: multi-byte fields are assembled from
 *    single-byte volatile loads (aarch64 with the MMU off faults on unaligned
 *    wider loads, and the compiler would otherwise merge the bytes).
 *  - Errors are negative FDT_ERR_* codes. Functions returning a node return
 *    its handle (>= 0) or a negative code. Functions that take a
 *    struct fdt_error *err (which may be NULL) fill it with a one-line
 *    message of the form "fdt: node /cpus/cpu@1: property 'reg': ...".
 *
 * Node handles are the offset of the node's FDT_BEGIN_NODE token inside the
 * structure block; treat them as opaque.
 */
#ifndef PAGODA_LIB_FDT_H
#define PAGODA_LIB_FDT_H

#include "lib/base.h"

#define FDT_MAGIC      0xd00dfeedu
#define FDT_BEGIN_NODE 1u
#define FDT_END_NODE   2u
#define FDT_PROP       3u
#define FDT_NOP	       4u
#define FDT_END	       9u

/* Oldest layout we read, and the newest a blob may claim compatibility with. */
#define FDT_MIN_VERSION	     16u
#define FDT_MAX_COMP_VERSION 17u
#define FDT_HEADER_SIZE	     40u /* v17 header; v16 lacks the last field (36 bytes) */
/* Deeper trees are rejected so walkers can keep their ancestry on the stack. */
#define FDT_MAX_DEPTH 32

enum fdt_errcode {
	FDT_OK = 0,
	FDT_ERR_TRUNCATED = -1, /* fewer bytes available than the header claims */
	FDT_ERR_MAGIC = -2,
	FDT_ERR_VERSION = -3,
	FDT_ERR_LAYOUT = -4,	 /* a block's offset or size outside totalsize, or wrapping */
	FDT_ERR_ALIGN = -5,	 /* struct block or reservation map misaligned */
	FDT_ERR_RSVMAP = -6,	 /* reservation map unterminated or an entry wraps */
	FDT_ERR_TOKEN = -7,	 /* unknown token in the structure block */
	FDT_ERR_NESTING = -8,	 /* unbalanced nodes, misplaced property, too deep */
	FDT_ERR_NOEND = -9,	 /* structure block ends without FDT_END */
	FDT_ERR_NAME = -10,	 /* node name unterminated, empty or containing '/' */
	FDT_ERR_PROP = -11,	 /* property header or value runs past the block */
	FDT_ERR_STRINGS = -12,	 /* property name offset or string outside strings block */
	FDT_ERR_NOTFOUND = -13,	 /* lookup: no such node or property */
	FDT_ERR_BADVALUE = -14,	 /* lookup: property present but malformed */
	FDT_ERR_BADHANDLE = -15, /* lookup: argument is not a node handle */
};

struct fdt_error {
	int code;	   /* FDT_OK or an FDT_ERR_* */
	uint32_t offset;   /* blob offset where the problem was seen, when known */
	char message[192]; /* NUL-terminated, "" when code is FDT_OK */
};

/* A validated blob. Filled by fdt_init; read-only afterwards. */
struct fdt {
	const uint8_t *blob;
	uint32_t totalsize;
	uint32_t version;
	uint32_t boot_cpuid_phys;
	uint32_t rsvmap_off;
	uint32_t struct_off, struct_size;
	uint32_t strings_off, strings_size;
};

/* One property: name and value point into the blob. */
struct fdt_prop {
	const char *name;
	const uint8_t *data;
	uint32_t len;
};

/*
 * A cursor over a property made of 32-bit big-endian cells. The length is
 * checked when the cursor is made, so reads never split an entry.
 */
struct fdt_cells {
	const uint8_t *data;
	uint32_t len; /* bytes */
	uint32_t pos; /* bytes consumed */
};

/* A cursor over a node's `reg` entries, cells taken from its parent. */
struct fdt_reg {
	struct fdt_cells cells;
	unsigned addr_cells, size_cells;
};

/* ---- Validation --------------------------------------------------------- */

/*
 * Validates the whole blob at `blob`, reading at most `avail` bytes: header
 * fields, block bounds and alignment, the reservation map and a full walk
 * of the structure block. Returns FDT_OK or a negative FDT_ERR_* and, when
 * `err` is not NULL, fills it with the code and a message naming the field,
 * node path and property. Never panics.
 */
int fdt_check(const void *blob, size_t avail, struct fdt_error *err);
/* fdt_check, then fills *fdt for the lookup functions. Same return and err. */
int fdt_init(struct fdt *fdt, const void *blob, size_t avail, struct fdt_error *err);
/*
 * The header's totalsize, or 0 when the magic is wrong. Reads 8 bytes: use
 * it to learn how much to map before calling fdt_check.
 */
uint32_t fdt_peek_totalsize(const void *blob);
/* A short name for an FDT_ERR_* code ("FDT_ERR_MAGIC"). */
const char *fdt_strerror(int code);

/* Big-endian loads from any alignment. */
uint32_t fdt_be32(const void *p);
uint64_t fdt_be64(const void *p);

/* ---- Nodes -------------------------------------------------------------- */

/* The root node. */
int fdt_root(const struct fdt *fdt);
/*
 * The node at `path`: absolute ("/cpus/cpu@0") or starting with an alias
 * ("serial0", "serial0/child"). A component without '@' also matches a
 * node whose name is that component plus a unit address ("/memory" finds
 * "/memory@40000000"); the first match wins. Empty components are ignored.
 */
int fdt_find_path(const struct fdt *fdt, const char *path);
/* Like fdt_find_path, looking only at the first `len` bytes of `path`. */
int fdt_find_path_n(const struct fdt *fdt, const char *path, size_t len);
/* The value of /aliases/<name> (an absolute path), or NULL. */
const char *fdt_alias(const struct fdt *fdt, const char *name, size_t name_len);
/* The node's name with unit address ("cpu@0"; "" for the root), or NULL for a bad handle. */
const char *fdt_node_name(const struct fdt *fdt, int node);
/* First child of `node` / next sibling of `node`; FDT_ERR_NOTFOUND when none. */
int fdt_first_child(const struct fdt *fdt, int node);
int fdt_next_sibling(const struct fdt *fdt, int node);
#define fdt_for_each_child(fdt, parent, child)                                                     \
	for ((child) = fdt_first_child((fdt), (parent)); (child) >= 0;                             \
	     (child) = fdt_next_sibling((fdt), (child)))
/*
 * The node after `node` in document order (depth first); a negative `node`
 * yields the root and sets *depth to 0. When `depth` is not NULL it is
 * moved by the nesting change (+1 into a child, -n back out to an
 * ancestor's sibling). FDT_ERR_NOTFOUND after the last node.
 */
int fdt_next_node(const struct fdt *fdt, int node, int *depth);
/* The parent of `node`; FDT_ERR_NOTFOUND for the root. Walks from the root. */
int fdt_parent(const struct fdt *fdt, int node);
/*
 * Writes the absolute path of `node` to buf (always NUL-terminated when
 * size > 0). Returns FDT_OK, or FDT_ERR_BADVALUE when it did not fit.
 */
int fdt_node_path(const struct fdt *fdt, int node, char *buf, size_t size);
/*
 * The next node after `from` (negative: from the root, inclusive) whose
 * `compatible` list contains `compat`.
 */
int fdt_find_compatible(const struct fdt *fdt, int from, const char *compat);
/* The node whose "phandle" (or legacy "linux,phandle") is `phandle`. */
int fdt_node_by_phandle(const struct fdt *fdt, uint32_t phandle);
/* status absent, "okay" or "ok". */
bool fdt_node_okay(const struct fdt *fdt, int node);

/* ---- Properties --------------------------------------------------------- */

/* Finds property `name` of `node`; FDT_OK and *out filled, or FDT_ERR_NOTFOUND. */
int fdt_get_prop(const struct fdt *fdt, int node, const char *name, struct fdt_prop *out);
/*
 * Property iteration: fdt_first_prop/fdt_next_prop return a cursor (>= 0)
 * and fill *out, or FDT_ERR_NOTFOUND after the last property.
 */
int fdt_first_prop(const struct fdt *fdt, int node, struct fdt_prop *out);
int fdt_next_prop(const struct fdt *fdt, int cursor, struct fdt_prop *out);
/*
 * A string property: non-NULL only when present and NUL-terminated inside
 * its length (for a string list, the first string).
 */
const char *fdt_prop_string(const struct fdt *fdt, int node, const char *name);
/* A property that is exactly one cell / one or two cells. False when absent or malformed. */
bool fdt_prop_u32(const struct fdt *fdt, int node, const char *name, uint32_t *out);
bool fdt_prop_u64(const struct fdt *fdt, int node, const char *name, uint64_t *out);
/* Whether the string list `compatible` of `node` contains `compat` exactly. */
bool fdt_is_compatible(const struct fdt *fdt, int node, const char *compat);
/* Whether the string list `data`/`len` contains `s`; ignores an unterminated tail. */
bool fdt_stringlist_contains(const uint8_t *data, uint32_t len, const char *s);

/* ---- Cells, #address-cells, reg ------------------------------------------ */

/*
 * Opens property `name` of `node` as cells in entries of `entry_cells`
 * cells (0: any whole number of cells). FDT_ERR_NOTFOUND when absent;
 * FDT_ERR_BADVALUE when the length is not a multiple of 4 bytes or of the
 * entry size.
 */
int fdt_prop_cells(const struct fdt *fdt, int node, const char *name, unsigned entry_cells,
		   struct fdt_cells *cells, struct fdt_error *err);
/* A cursor over raw data; false when len is not a multiple of 4. */
bool fdt_cells_init(struct fdt_cells *cells, const void *data, uint32_t len);
/* Cells not yet consumed. */
unsigned fdt_cells_left(const struct fdt_cells *cells);
/*
 * Reads an n-cell big-endian number (n = 0..2; 0 reads nothing and yields
 * 0). False, consuming nothing, when fewer than n cells are left or n > 2.
 */
bool fdt_cells_read(struct fdt_cells *cells, unsigned n, uint64_t *out);
/*
 * #address-cells and #size-cells that `parent` sets for its children
 * (defaults 2 and 1). FDT_ERR_BADVALUE when a property is not one cell or
 * is larger than 4.
 */
int fdt_parent_cells(const struct fdt *fdt, int parent, unsigned *addr_cells, unsigned *size_cells,
		     struct fdt_error *err);
/*
 * Opens `reg` of `node` with its parent's cell sizes. FDT_ERR_NOTFOUND when
 * absent; FDT_ERR_BADVALUE when the length is not a whole number of
 * entries or a cell size exceeds 2 (64 bits). No `ranges` translation.
 */
int fdt_reg_init(const struct fdt *fdt, int node, struct fdt_reg *reg, struct fdt_error *err);
/* Next (address, size) pair; false after the last. */
bool fdt_reg_next(struct fdt_reg *reg, uint64_t *addr, uint64_t *size);
/* Number of entries the cursor holds in total. */
unsigned fdt_reg_count(const struct fdt_reg *reg);
/* Entry `index` of `node`'s reg; FDT_ERR_NOTFOUND past the last entry. */
int fdt_reg_get(const struct fdt *fdt, int node, unsigned index, uint64_t *addr, uint64_t *size,
		struct fdt_error *err);

/*
 * Translates `addr` (size `size`), an address in `node`'s reg, to a CPU
 * physical address through the `ranges` of every ancestor below the root
 * (lib/fdt_ranges.c). FDT_ERR_NOTFOUND, with the bus named, when a bus has
 * no ranges or no entry holds the whole range.
 */
int fdt_translate(const struct fdt *fdt, int node, uint64_t addr, uint64_t size, uint64_t *out,
		  struct fdt_error *err);

/* ---- Memory reservation map --------------------------------------------- */

/* Entry `index` of the /memreserve/ map; false at the terminator. */
bool fdt_rsv_get(const struct fdt *fdt, unsigned index, uint64_t *addr, uint64_t *size);
unsigned fdt_rsv_count(const struct fdt *fdt);

/* ---- Error messages --------------------------------------------------------- */

/*
 * Fills err (if not NULL) with `code` and "fdt: node <path>: property
 * '<prop>': <what>" (prop may be NULL; node negative omits the node). For
 * callers reporting semantic errors in the same shape. Returns `code`.
 */
int fdt_error_set(struct fdt_error *err, int code, const struct fdt *fdt, int node,
		  const char *prop, const char *what);

#endif
