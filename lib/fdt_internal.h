/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the files of the device tree reader share and nothing else
 * includes: private to lib/fdt*.c. The message formatter, so validation
 * and lookups word their errors alike, and the structure-block stepping
 * the property lookups walk with.
 *
 * Invariants: the stepping helpers re-check every bound against the
 * struct fdt they are given, so callers may pass any handle or offset;
 * messages are truncated to their buffer, never overflow it.
 */
#ifndef PAGODA_LIB_FDT_INTERNAL_H
#define PAGODA_LIB_FDT_INTERNAL_H

#include "lib/fdt.h"

#define FDT_RSV_ENTRY_SIZE 16u

static inline uint32_t fdt_align4(uint32_t x)
{
	return (x + 3u) & ~3u;
}

/* ---- Message formatting (lib/fdt.c) ------------------------------------- */

struct fdt_msg {
	char *buf;
	size_t size;
	size_t len;
};

/*
 * Append to the message formatted text, a string or one character,
 * truncating at its end (lib/fmt does the formatting).
 */
void fdt_msg_vfmt(struct fdt_msg *m, const char *fmt, va_list ap);
void fdt_msg_str(struct fdt_msg *m, const char *s);
void fdt_msg_chr(struct fdt_msg *m, char c);
/* Starts err's message; false when there is no err to fill. */
bool fdt_msg_begin(struct fdt_msg *m, struct fdt_error *err, int code, uint32_t offset);

/* ---- Structure-block stepping (lib/fdt.c) -------------------------------- */

static inline const uint8_t *fdt_sblock(const struct fdt *f)
{
	return f->blob + f->struct_off;
}

/* The NUL-terminated string at `nameoff` in the strings block, or NULL. */
const char *fdt_string_at(const struct fdt *f, uint32_t nameoff);
/*
 * Decodes the token at struct offset `off_in`: its tag and the offset of the
 * token after it. False when the token, a node name or a property value
 * does not fit in the block, or the tag is unknown.
 */
bool fdt_next_tag(const struct fdt *f, int off_in, uint32_t *tag, uint32_t *next);
/*
 * Is `node` the offset of a BEGIN_NODE token? If so, and `after` is not
 * NULL, *after gets the offset of the token after it (the node's first
 * property or child); false for any other offset or token.
 */
bool fdt_is_node(const struct fdt *f, int node, uint32_t *after);
/* The child of `node` named by path component [comp, comp + len). */
int fdt_child_named(const struct fdt *f, int node, const char *comp, size_t len);
/*
 * Fills err with a message naming the node (when node >= 0) and the
 * property (when prop is not NULL); returns code.
 */
int fdt_lookup_fail(struct fdt_error *err, int code, const struct fdt *f, int node,
		    const char *prop, const char *fmt, ...) __printf(6, 7);

#endif
