/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The page-table audit: checks every live address space's tables against
 * its VMAs and the frame allocator, and the kernel's tables against the
 * allocator, and names the first thing it finds wrong in one line.
 *
 * What it holds the tables to (kernel/mm/audit.c says why each rule is a
 * rule of the pt and mm code):
 *  - every table reached is an allocated frame marked PAGE_TABLE at its
 *    level, never a free frame; below an mm's root none is empty;
 *  - every leaf of an mm lies inside one VMA, maps an allocated frame (an
 *    anonymous VMA's own page: refcount 1, not a table; a physical VMA's
 *    page at the VMA's offset) with permissions no wider than the VMA's,
 *    and is never global;
 *  - no table's TLB generation is ahead of its mm's;
 *  - an mm's VMAs are sorted, disjoint and inside the user half, and none
 *    is owned by a change or dying (the audit holds mm->lock for write,
 *    so no change is running).
 */
#ifndef PAGODA_KERNEL_MM_AUDIT_H
#define PAGODA_KERNEL_MM_AUDIT_H

#include "kernel/types.h"

struct mm;

/*
 * Audits every live address space and the kernel's tables. Returns 0, or
 * -EFAULT with the first violation described in `why` (one line, cut to
 * `len` bytes). Thread context (takes each mm's lock); the address spaces
 * may be in use, their tables are read under their locks.
 */
int mm_audit_all(char *why, size_t len);
/* The same for one address space, which the caller keeps alive. */
int mm_audit_mm(struct mm *mm, char *why, size_t len);

#endif
