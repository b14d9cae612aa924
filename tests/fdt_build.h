/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fdt suite's blob builder (tests/fdt_build.c) and the checks its
 * cases share. The suite's cases live in fdt_test.c (well-formed blobs,
 * and the table of cases) and fdt_reject_test.c (malformed blobs and the
 * fuzz guards); both build every blob they test here. Test code only.
 *
 * A blob is built by appending tokens to a structure block and names to a
 * strings block, then laid out like dtc does by fdtb_finish(). The builder
 * keeps one blob at a time in static buffers: fdtb_reset() starts a new
 * one, and cases run one at a time, so no case sees another's blob. A blob
 * that does not fit is reported by fdtb_finish() returning 0 (FDTB_BUILD
 * fails the case), never truncated silently.
 */
#ifndef PAGODA_TESTS_FDT_BUILD_H
#define PAGODA_TESTS_FDT_BUILD_H

#include "lib/fdt.h"
#include "tests/ktest.h"

/* The largest blob the builder lays out; also the size of fdtb_work. */
#define FDTB_BLOB_MAX 4096

/* The phandle fdtb_build_good() gives its GIC, which the root names as interrupt-parent. */
#define FDTB_GIC_PHANDLE 1

/* Header field offsets, for cases that break one field at a time. */
enum {
	FDTB_H_MAGIC = 0,
	FDTB_H_TOTALSIZE = 4,
	FDTB_H_OFF_STRUCT = 8,
	FDTB_H_OFF_STRINGS = 12,
	FDTB_H_OFF_RSVMAP = 16,
	FDTB_H_VERSION = 20,
	FDTB_H_LAST_COMP = 24,
	FDTB_H_SIZE_STRINGS = 32,
	FDTB_H_SIZE_STRUCT = 36,
};

/* Where fdtb_finish() put each block of the last blob, for cases that move one. */
struct fdtb_layout {
	uint32_t rsv_off, struct_off, struct_size, strings_off, strings_size, total;
};

/* The last blob fdtb_finish() laid out; zeroed by fdtb_reset(). */
extern uint8_t fdtb_blob[FDTB_BLOB_MAX];
/* Scratch the size of fdtb_blob, for copies at other alignments or at its end. */
extern uint8_t fdtb_work[FDTB_BLOB_MAX];
/* The layout of fdtb_blob; valid after an fdtb_finish() that returned non-zero. */
extern struct fdtb_layout fdtb_lay;

/* Stores `v` big-endian at `p` (4 or 8 bytes), at any alignment. */
void fdtb_put_be32(uint8_t *p, uint32_t v);
void fdtb_put_be64(uint8_t *p, uint64_t v);
/* Overwrites one header field (an FDTB_H_* offset) of fdtb_blob. */
void fdtb_set_hdr(uint32_t field, uint32_t v);

/* Starts a new blob: empty blocks, no reservations, fdtb_blob zeroed. */
void fdtb_reset(void);
/* Appends `len` raw bytes to the structure block, zero-padded to a 4-byte multiple. */
void fdtb_raw(const void *data, uint32_t len);
/* Appends one big-endian cell (a token or a value) to the structure block. */
void fdtb_u32(uint32_t v);
/* Offset of `name` in the strings block, appending it the first time. */
uint32_t fdtb_string(const char *name);
/* FDT_BEGIN_NODE with `name` ("" for the root), and the matching FDT_END_NODE. */
void fdtb_begin(const char *name);
void fdtb_end(void);
/* A property whose name is at `nameoff` in the strings block, which need not hold it. */
void fdtb_prop_raw(uint32_t nameoff, const void *data, uint32_t len);
/* A property named `name` with `len` bytes of `data` (NULL when len is 0). */
void fdtb_prop(const char *name, const void *data, uint32_t len);
/* A property holding the string `s` with its NUL. */
void fdtb_prop_str(const char *name, const char *s);
/* A property of `n` (at most 16) cells, given as uint32_t arguments. */
void fdtb_prop_cells(const char *name, unsigned n, ...);
/* Adds a reservation-map entry (at most 4 a blob). */
void fdtb_rsv(uint64_t addr, uint64_t size);
/*
 * Lays the blob out in fdtb_blob like dtc: header (version 17), reservation
 * map, structure block (with FDT_END appended when `end` is set), strings;
 * fills fdtb_lay. Returns the total size, or 0 when something did not fit.
 */
uint32_t fdtb_finish(bool end);

/*
 * Builds a QEMU-virt-like tree into fdtb_blob: memory, three CPUs (one
 * disabled), chosen with an aliased stdout-path, a GICv2 with phandle
 * FDTB_GIC_PHANDLE, a timer, a PL011 and two reservation-map entries.
 * Returns its size, or 0 if it did not fit.
 */
uint32_t fdtb_build_good(void);

/* Whether `needle` occurs in the NUL-terminated `hay` ("" occurs everywhere). */
bool fdtb_contains(const char *hay, const char *needle);
/*
 * Fails the case (at file:line, without aborting) unless `rc` and err->code
 * are both `code` and err->message mentions both "fdt: " and `what`.
 */
void fdtb_expect_err(struct ktest *t, const char *file, int line, int rc,
		     const struct fdt_error *err, int code, const char *what);
/* fdt_init() of `size` bytes at `b` into `f`; on failure fails and aborts the case. */
void fdtb_init_ok(struct ktest *t, struct fdt *f, const void *b, size_t size);

#define EXPECT_FDT_ERR(t, rc, err, code, what)                                                     \
	fdtb_expect_err(t, __FILE__, __LINE__, rc, err, code, what)

/* Evaluates a build (`expr` returns its size), failing the case at once if it ran out of room. */
#define FDTB_BUILD(t, expr)                                                                        \
	({                                                                                         \
		uint32_t size_ = (expr);                                                           \
		ASSERT_NE(t, size_, 0u);                                                           \
		size_;                                                                             \
	})

/* fdt_reject_test.c: malformed blobs, the cells readers, the fuzz guards. */
void fdt_rejects_bad_magic(struct ktest *t);
void fdt_rejects_truncated(struct ktest *t);
void fdt_rejects_old_version(struct ktest *t);
void fdt_rejects_struct_out_of_range(struct ktest *t);
void fdt_rejects_size_overflow(struct ktest *t);
void fdt_rejects_misaligned(struct ktest *t);
void fdt_rejects_bad_rsvmap(struct ktest *t);
void fdt_rejects_prop_past_block(struct ktest *t);
void fdt_rejects_nameoff_outside_strings(struct ktest *t);
void fdt_rejects_unterminated_string(struct ktest *t);
void fdt_rejects_unterminated_node_name(struct ktest *t);
void fdt_rejects_unbalanced_nesting(struct ktest *t);
void fdt_rejects_misplaced_property(struct ktest *t);
void fdt_rejects_bad_token(struct ktest *t);
void fdt_cells_refuse_bad_lengths(struct ktest *t);
void fdt_every_truncation_fails(struct ktest *t);
void fdt_corruption_fuzz(struct ktest *t);

#endif
