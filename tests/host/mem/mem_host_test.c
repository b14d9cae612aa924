// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host test of the architectures' bulk zeroing and copying
 * (arch/x86_64/mem.S, arch/aarch64/mem.S; contract in kernel/arch.h):
 * the very assembly the kernel links, built for a user program (natively
 * for x86-64, as a static aarch64 program run under qemu-user for arm64,
 * which also executes DC ZVA).
 *
 * Every length from 0 to 300 at every destination (and source) offset 0
 * to 63 within a cache-line-aligned buffer, then page-sized and larger
 * lengths around 4 KiB and 8 KiB at every offset: the bytes in
 * [dst, dst + n) must be zero (or equal the source), 64 guard bytes on
 * each side must be untouched, and the source must be unchanged. Any
 * difference prints the case and fails.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void arch_mem_zero(void *dst, size_t n);
void arch_mem_copy(void *dst, const void *src, size_t n);

#define GUARD  64
#define MAXLEN (8192 + 300)
#define BUF    (GUARD + 64 + MAXLEN + GUARD)

static _Alignas(4096) unsigned char dst_buf[BUF], src_buf[BUF], want[BUF];
static unsigned long cases, failures;

/* Bytes a case with length n can touch, guards included: all that is filled and compared. */
static size_t span(size_t n)
{
	return GUARD + 64 + n + GUARD;
}

static void fill_pattern(unsigned char *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (unsigned char)(i * 131u + seed * 7u + 1u) | 1u; /* never 0 */
}

static void check(const char *what, size_t off, size_t soff, size_t n)
{
	cases++;
	if (memcmp(dst_buf, want, span(n)) == 0)
		return;
	size_t i = 0;
	while (dst_buf[i] == want[i])
		i++;
	if (failures++ < 10)
		printf("FAIL %s: n=%zu dst offset %zu src offset %zu: byte %zd from dst is %#x, "
		       "expected %#x\n",
		       what, n, off, soff, (ssize_t)i - (ssize_t)(GUARD + off), dst_buf[i], want[i]);
}

static void zero_case(size_t off, size_t n)
{
	if (n > MAXLEN || off >= 64)
		abort();
	fill_pattern(dst_buf, span(n), (unsigned)(n + off));
	memcpy(want, dst_buf, span(n));
	memset(want + GUARD + off, 0, n);
	arch_mem_zero(dst_buf + GUARD + off, n);
	check("zero", off, 0, n);
}

static void copy_case(size_t off, size_t soff, size_t n)
{
	if (n > MAXLEN || off >= 64 || soff >= 64)
		abort();
	fill_pattern(dst_buf, span(n), (unsigned)(n + off));
	fill_pattern(src_buf, span(n), (unsigned)(n + soff + 99));
	static unsigned char src_before[BUF];
	memcpy(src_before, src_buf, span(n));
	memcpy(want, dst_buf, span(n));
	memcpy(want + GUARD + off, src_buf + GUARD + soff, n);
	arch_mem_copy(dst_buf + GUARD + off, src_buf + GUARD + soff, n);
	check("copy", off, soff, n);
	if (memcmp(src_before, src_buf, span(n)) != 0 && failures++ < 10)
		printf("FAIL copy: n=%zu offsets %zu/%zu: the source changed\n", n, off, soff);
}

int main(void)
{
	static const size_t big[] = {4095, 4096, 4097, 4160, 8191, 8192, 8193, 8192 + 300};
	for (size_t off = 0; off < 64; off++) {
		for (size_t n = 0; n <= 300; n++) {
			zero_case(off, n);
			for (size_t soff = 0; soff < 64; soff += (n < 40 ? 1 : 5))
				copy_case(off, soff, n);
		}
		for (size_t k = 0; k < sizeof(big) / sizeof(big[0]); k++) {
			zero_case(off, big[k]);
			copy_case(off, off, big[k]);
			copy_case(off, (off + 8) % 64, big[k]);
			copy_case(off, (off + 3) % 64, big[k]);
		}
	}
	printf("mem host test: %lu cases, %lu failed\n", cases, failures);
	return failures ? 1 : 0;
}
