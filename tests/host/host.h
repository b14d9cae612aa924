/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Host-side test support for the generic page-table code (kernel/mm/pt.c,
 * pt_walk.c): the controls of the fake architecture (fake_pt_arch.c) and of
 * the host stubs (host_stubs.c) that the test program (pt_host_test.c)
 * drives.
 *
 * None of this is built into the kernel: the kernel's Makefile compiles
 * the files directly in tests/, not those in tests/host/; tools/host_test.mk
 * builds these for the host.
 */
#ifndef PAGODA_TESTS_HOST_HOST_H
#define PAGODA_TESTS_HOST_HOST_H

#include "kernel/mm/frame.h"
#include "kernel/mm/pt.h"

/* ---- Fake architecture (fake_pt_arch.c) -------------------------------- */

/* Which levels arch_pt_leaf_allowed() accepts. */
enum fake_leaf_mode {
	FAKE_LEAVES_ALL,     /* 4 KiB, 2 MiB and 1 GiB leaves */
	FAKE_LEAVES_NO_1G,   /* 4 KiB and 2 MiB (a CPU without 1 GiB pages) */
	FAKE_LEAVES_4K_ONLY, /* only level 0: no blocks at all */
};
extern enum fake_leaf_mode fake_leaf_mode;
/* What arch_pt_needs_bbm() answers (false after fake_arch_reset). */
extern bool fake_bbm;

/*
 * Selects the descriptor encoding: 0 is the hand-written table documented in
 * fake_pt_arch.c; any other value n generates a fully scrambled layout (every
 * field, each address bit included, at a pseudo-random position per level)
 * from seed n. Only change it while no tree exists.
 */
void fake_arch_set_layout(unsigned layout);
unsigned fake_arch_get_layout(void);
void fake_arch_print_layout(void);

struct fake_arch_counters {
	uint64_t pte_writes;   /* arch_pte_write calls */
	uint64_t page_flushes; /* arch_tlb_flush_local_page calls */
	uint64_t full_flushes; /* arch_tlb_flush_local_full calls */
	uint64_t violations;   /* contract violations seen (each also panics) */
};
extern struct fake_arch_counters fake_arch;

/* Resets the counters, the leaf mode (ALL), break-before-make (off) and the layout (0). */
void fake_arch_reset(void);
/*
 * A nonzero descriptor that arch_pte_kind() reports as absent at `level`
 * (valid bit clear, or valid and the must-be-clear bit set), with other bits
 * pseudo-random from `seed`: generic code must treat it exactly like 0.
 */
pte_t fake_pte_absent_junk(unsigned level, uint64_t seed);

/* ---- Event log (host_stubs.c), written by the stubs and the fake arch --- */

enum host_event_kind {
	EV_ALLOC,	/* a = pa */
	EV_ALLOC_FAIL,	/* injected failure */
	EV_FREE,	/* a = pa, b = order */
	EV_PTE_WRITE,	/* a = slot address, b = old value, c = new value */
	EV_FLUSH_PAGE,	/* a = va */
	EV_FLUSH_FULL,
	EV_KERNEL_FLUSH, /* tlb_flush_kernel_range: a = start, b = pages, c = full */
};
struct host_event {
	enum host_event_kind kind;
	unsigned level;
	uint64_t a, b, c, d;
};
void host_event_log(enum host_event_kind kind, unsigned level, uint64_t a, uint64_t b, uint64_t c,
		    uint64_t d);
void host_events_reset(void);
size_t host_event_count(void);
const struct host_event *host_event_get(size_t i);
/* True when events were dropped since the last reset (the log is bounded). */
bool host_events_overflowed(void);

/* ---- Frames (host_stubs.c) ---------------------------------------------- */

/*
 * Frames come from aligned_alloc(); a frame's "physical address" is its
 * pointer value plus host_pa_offset (0 by default, so kva(pa) == (void *)pa;
 * a nonzero offset proves generic code never confuses the two).
 */
extern phys_addr_t host_pa_offset;
/* frame_to_page(): a side table of struct page when true, NULL when false. */
extern bool host_frame_pages;

uint64_t host_live_frames(void);	 /* 4 KiB frames currently allocated */
bool host_frame_is_live(phys_addr_t pa); /* pa lies inside an allocated block */
extern uint64_t host_alloc_attempts;	 /* frame_alloc calls, failed ones included */
extern uint64_t host_alloc_failures;	 /* injected failures */
/* Frames freed while their struct page still said PAGE_TABLE. */
extern uint64_t host_freed_marked_table;
/* Frees every live frame (recovery after a failed case); returns how many. */
uint64_t host_frames_release_all(void);

/* ---- Panic, locks, interrupts (host_stubs.c) ----------------------------- */

/*
 * When set, panic() calls it with the message after printing (the test
 * harness longjmps out, failing the current case); when NULL, panic()
 * aborts.
 */
extern void (*host_panic_hook)(const char *msg);
extern bool host_irqs_enabled; /* the fake interrupt flag */
extern uint64_t host_kernel_flushes; /* tlb_flush_kernel_range calls */
void host_stubs_reset(void);   /* injection off, pages on, offset 0, irqs on */

/* ---- arm64 range TLBI operands (tlbi_range_host_test.c) ----------------- */

/* Decodes arch/aarch64/tlbi_range.h's operations for many runs; returns the wrong ones. */
unsigned tlbi_range_host_check(void);

#endif
