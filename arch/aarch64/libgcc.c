// SPDX-License-Identifier: BSD-2-Clause
/*
 * libgcc helpers that aarch64 Pagoda must not take from libgcc.a.
 *
 * With -mgeneral-regs-only, GCC turns __builtin_popcount*() into calls to
 * __popcountdi2, and Debian's libgcc implements that with SIMD (cnt,
 * addv). The kernel leaves FP/SIMD disabled (CPACR_EL1.FPEN = 0) and never
 * saves the vector registers, so that would trap, and with FP enabled an
 * interrupt running the same helper would corrupt the interrupted one's
 * v0. Objects are linked before libgcc.a, so this definition wins.
 */
#include "kernel/types.h"

int __popcountdi2(long long x);

int __popcountdi2(long long x)
{
	uint64_t v = (uint64_t)x;
	v = v - ((v >> 1) & 0x5555555555555555ull);
	v = (v & 0x3333333333333333ull) + ((v >> 2) & 0x3333333333333333ull);
	v = (v + (v >> 4)) & 0x0F0F0F0F0F0F0F0Full;
	return (int)((v * 0x0101010101010101ull) >> 56);
}
