/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Physical frames: a buddy allocator over boot_info's usable memory minus
 * every reserved range, and a struct page for every frame between the
 * lowest and highest usable address.
 *
 * Invariants:
 *  - a frame is in exactly one state: free (in one buddy list, as part of
 *    one block, or on one CPU's cache of single frames), allocated, or
 *    reserved (never handed out);
 *  - frame_free_count() is the number of free 4 KiB frames, exact while no
 *    CPU allocates or frees (it adds the lists' count and each cache's), so
 *    tests can compare it before and after to find leaks;
 *  - allocation never panics: it returns -ENOMEM and the caller decides.
 */
#ifndef PAGODA_KERNEL_MM_FRAME_H
#define PAGODA_KERNEL_MM_FRAME_H

#include "kernel/types.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE (1ul << PAGE_SHIFT)
#define FRAME_MAX_ORDER 10 /* largest block: 2^10 frames = 4 MiB */

enum page_flags {
	PAGE_FREE = 1u << 0, /* head of a free buddy block */
	PAGE_RESERVED = 1u << 1, /* never allocatable (hole, image, firmware) */
	PAGE_TABLE = 1u << 2, /* holds a page table */
	PAGE_POISONED = 1u << 3, /* freed with poisoning on: checked when next allocated */
	PAGE_CACHED = 1u << 4, /* a free single frame on a CPU's cache (frame.c), not in the lists */
};

/*
 * Per-frame metadata. Page-table pages use pt_level and pt_tlb_gen (the
 * per-table TLB generation, for deferred flush tracking).
 */
struct page {
	struct page *next, *prev; /* buddy free list, when PAGE_FREE */
	uint32_t refcount;
	uint16_t flags;
	uint8_t order; /* block order, valid on a free block's head */
	uint8_t pt_level;
	uint64_t pt_tlb_gen;
};

/*
 * Builds the allocator from boot_info; call once, on the boot CPU. Only
 * memory the boot tables reach (below arch_mm_layout.boot_mapped_limit) is
 * handed out until frame_init_late(), called once the direct map covers
 * all RAM, adds the rest.
 */
void frame_init(void);
void frame_init_late(void);
/*
 * Allocates 2^order contiguous, naturally aligned frames. Returns 0 and
 * the physical address in *pa, or -ENOMEM. Contents are not cleared.
 */
int frame_alloc(unsigned order, phys_addr_t *pa);
/* frame_alloc(0) then zero-fill. */
int frame_alloc_zeroed(phys_addr_t *pa);
/* Returns a block to the allocator; `order` must match its allocation. */
void frame_free(phys_addr_t pa, unsigned order);
/* Hands reserved frames in [start, end) to the allocator (boot-only memory). */
void frame_release_reserved(phys_addr_t start, phys_addr_t end);

/*
 * Hands the single frames this CPU has cached back to the buddy lists,
 * where they can merge (frame.c keeps freed single frames per CPU first).
 */
void frame_cache_drain(void);
/* Free frames: in the buddy lists and in every CPU's cache (exact once CPUs are quiet). */
uint64_t frame_free_count(void);
/*
 * Is the frame at `pa` inside a free block right now? (false outside the
 * managed range.) For audits: the answer may be stale once it returns
 * unless the caller keeps the frame from changing hands.
 */
bool frame_is_free(phys_addr_t pa);
uint64_t frame_total_count(void); /* frames the allocator manages, free or not */
struct page *frame_to_page(phys_addr_t pa); /* NULL outside the managed range */
phys_addr_t page_to_frame(const struct page *page);

/*
 * Test hook: after `n` more successful allocations, every allocation fails
 * with -ENOMEM until frame_fail_clear(). Used to prove that callers back
 * out cleanly from a failure at any point.
 */
void frame_fail_after(unsigned n);
void frame_fail_clear(void);

/*
 * Debug aid: while on, every freed frame is filled with FRAME_POISON at
 * the moment it is freed, so a write through a stale translation after
 * the free shows up as a changed word.
 */
#define FRAME_POISON 0x5Au
void frame_poison_on_free(bool on);
/*
 * A frame freed with poisoning on is checked when it is next allocated:
 * a changed byte means something wrote to it while it was free (a stale
 * translation, a device that was not told). Each such frame is counted
 * here and its address kept in frame_poison_last; tests read deltas.
 */
extern uint64_t frame_poison_violations;
extern phys_addr_t frame_poison_last;

/* A kernel pointer to physical memory through the direct map. */
void *kva(phys_addr_t pa);
phys_addr_t kva_to_pa(const void *va);

#endif
