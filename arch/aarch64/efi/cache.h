/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Assembly macro shared by head.S and the EFI stub's exit (efi/enter.S):
 * one data-cache maintenance operation over a range, line by line, with
 * the line size read from CTR_EL0 (it differs between CPUs).
 */
#ifndef PAGODA_ARCH_AARCH64_EFI_CACHE_H
#define PAGODA_ARCH_AARCH64_EFI_CACHE_H

#ifdef __ASSEMBLY__
/* `dc \op` on every line covering [\start, \end); clobbers \start, \t1, \t2; ends with dsb sy. */
.macro dcache_by_line op, start, end, t1, t2
	mrs	\t2, ctr_el0
	ubfx	\t2, \t2, #16, #4	/* DminLine: log2 of the line size in words */
	mov	\t1, #4
	lsl	\t1, \t1, \t2
	sub	\t2, \t1, #1
	bic	\start, \start, \t2
.Ldcache_loop\@:
	dc	\op, \start
	add	\start, \start, \t1
	cmp	\start, \end
	b.lo	.Ldcache_loop\@
	dsb	sy
.endm
#endif

#endif
