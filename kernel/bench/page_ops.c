// SPDX-License-Identifier: BSD-2-Clause
/*
 * page_zero and page_copy: what the fast arch_mem_zero/arch_mem_copy
 * (kernel/arch.h) buy over the byte loops lib/string.c uses for memset and
 * memcpy, which page allocation used before them. Each operation zeroes
 * (or copies) one 4 KiB page of a 64-page kernel buffer, walking through
 * the buffer so caches do not hold the whole working set on a real
 * machine; the *_bytes scenarios do the same with a byte loop, the
 * baseline, in the same boot. Compare their ns per op as a ratio: no
 * absolute time means anything under TCG.
 *
 * No TLB activity happens here; the common counters stay at 0.
 */
#include "kernel/bench/bench.h"
#include "kernel/mm/frame.h"

#define PAGE_OPS_ORDER 6 /* 64 pages */
#define PAGE_OPS_PAGES (1u << PAGE_OPS_ORDER)

enum page_op { ZERO_FAST, ZERO_BYTES, COPY_FAST, COPY_BYTES };

/* The byte loops lib/string.c runs; volatile so the compiler keeps them bytewise. */
static void zero_bytes(volatile uint8_t *d, size_t n)
{
	while (n--)
		*d++ = 0;
}

static void copy_bytes(volatile uint8_t *d, const volatile uint8_t *s, size_t n)
{
	while (n--)
		*d++ = *s++;
}

static void page_ops_run(const char *name, enum page_op op)
{
	phys_addr_t dst_pa, src_pa;
	if (frame_alloc(PAGE_OPS_ORDER, &dst_pa)) {
		bench_fail(name, "frame_alloc", 0);
		return;
	}
	if (frame_alloc(PAGE_OPS_ORDER, &src_pa)) {
		frame_free(dst_pa, PAGE_OPS_ORDER);
		bench_fail(name, "frame_alloc", 0);
		return;
	}
	uint8_t *dst = kva(dst_pa), *src = kva(src_pa);
	uint64_t ops = bench_scaled(512);
	struct bench_snap a, b;
	bench_snap_take(&a, NULL);
	for (uint64_t i = 0; i < ops; i++) {
		size_t off = (i % PAGE_OPS_PAGES) * PAGE_SIZE;
		switch (op) {
		case ZERO_FAST: arch_mem_zero(dst + off, PAGE_SIZE); break;
		case ZERO_BYTES: zero_bytes(dst + off, PAGE_SIZE); break;
		case COPY_FAST: arch_mem_copy(dst + off, src + off, PAGE_SIZE); break;
		case COPY_BYTES: copy_bytes(dst + off, src + off, PAGE_SIZE); break;
		}
	}
	bench_snap_take(&b, NULL);
	bench_report(name, ops, &a, &b);
	frame_free(src_pa, PAGE_OPS_ORDER);
	frame_free(dst_pa, PAGE_OPS_ORDER);
}

static void bench_page_zero(void)
{
	page_ops_run("page_zero", ZERO_FAST);
}
static void bench_page_zero_bytes(void)
{
	page_ops_run("page_zero_bytes", ZERO_BYTES);
}
static void bench_page_copy(void)
{
	page_ops_run("page_copy", COPY_FAST);
}
static void bench_page_copy_bytes(void)
{
	page_ops_run("page_copy_bytes", COPY_BYTES);
}

BENCH_SCENARIO(page_zero_scenario, "page_zero", 80, bench_page_zero);
BENCH_SCENARIO(page_zero_bytes_scenario, "page_zero_bytes", 81, bench_page_zero_bytes);
BENCH_SCENARIO(page_copy_scenario, "page_copy", 82, bench_page_copy);
BENCH_SCENARIO(page_copy_bytes_scenario, "page_copy_bytes", 83, bench_page_copy_bytes);
