/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bulk zeroing and copying for pages (see arch_mem_zero in kernel/arch.h).
 *
 * Zeroing uses DC ZVA, which zeroes one naturally aligned block (its size
 * is 4 << DCZID_EL0.BS bytes, 64 on most cores) in one instruction, when
 * DCZID_EL0.DZP says it is permitted and the range holds at least two
 * blocks; otherwise, and for the unaligned head and the tail, pairs of
 * zero registers (STP, 16 bytes) and single bytes. Copying moves 64 bytes
 * per loop with four LDP/STP pairs when source and destination share
 * their alignment modulo 8 (after a byte head aligns both), else bytes.
 *
 * Every access is naturally aligned for its size, so the code is correct
 * with SCTLR_EL1.A set and under -mstrict-align rules; it needs Normal
 * memory (DC ZVA faults on Device memory), so it is for RAM with the MMU
 * on, never for MMIO. Both functions touch exactly [dst, dst + n).
 */
	.text
	.globl arch_mem_zero
	.type arch_mem_zero, %function
/* void arch_mem_zero(void *dst: x0, size_t n: x1) */
arch_mem_zero:
	mrs	x2, dczid_el0
	tbnz	x2, #4, .Lzero_pairs		/* DZP: DC ZVA prohibited */
	and	x2, x2, #15
	mov	x3, #4
	lsl	x3, x3, x2			/* x3 = block size in bytes */
	cmp	x1, x3, lsl #1
	b.lo	.Lzero_pairs			/* too short to hold an aligned block */
	sub	x4, x3, #1
.Lzero_head:					/* bytes up to the block boundary */
	tst	x0, x4
	b.eq	.Lzero_blocks
	strb	wzr, [x0], #1
	sub	x1, x1, #1
	b	.Lzero_head
.Lzero_blocks:
	cmp	x1, x3
	b.lo	.Lzero_pairs
	dc	zva, x0
	add	x0, x0, x3
	sub	x1, x1, x3
	b	.Lzero_blocks
.Lzero_pairs:					/* align to 16, then 16 bytes per STP */
	tst	x0, #15
	b.eq	.Lzero_pair_loop
	cbz	x1, .Lzero_done
	strb	wzr, [x0], #1
	sub	x1, x1, #1
	b	.Lzero_pairs
.Lzero_pair_loop:
	cmp	x1, #16
	b.lo	.Lzero_tail
	stp	xzr, xzr, [x0], #16
	sub	x1, x1, #16
	b	.Lzero_pair_loop
.Lzero_tail:
	cbz	x1, .Lzero_done
	strb	wzr, [x0], #1
	sub	x1, x1, #1
	b	.Lzero_tail
.Lzero_done:
	ret
	.size arch_mem_zero, . - arch_mem_zero

	.globl arch_mem_copy
	.type arch_mem_copy, %function
/* void arch_mem_copy(void *dst: x0, const void *src: x1, size_t n: x2) */
arch_mem_copy:
	eor	x3, x0, x1
	tst	x3, #7
	b.ne	.Lcopy_tail			/* alignments differ: bytes only */
.Lcopy_head:					/* bytes until both are 8-aligned */
	tst	x0, #7
	b.eq	.Lcopy_64
	cbz	x2, .Lcopy_done
	ldrb	w4, [x1], #1
	strb	w4, [x0], #1
	sub	x2, x2, #1
	b	.Lcopy_head
.Lcopy_64:
	cmp	x2, #64
	b.lo	.Lcopy_8
	ldp	x4, x5, [x1]
	ldp	x6, x7, [x1, #16]
	ldp	x8, x9, [x1, #32]
	ldp	x10, x11, [x1, #48]
	stp	x4, x5, [x0]
	stp	x6, x7, [x0, #16]
	stp	x8, x9, [x0, #32]
	stp	x10, x11, [x0, #48]
	add	x1, x1, #64
	add	x0, x0, #64
	sub	x2, x2, #64
	b	.Lcopy_64
.Lcopy_8:
	cmp	x2, #8
	b.lo	.Lcopy_tail
	ldr	x4, [x1], #8
	str	x4, [x0], #8
	sub	x2, x2, #8
	b	.Lcopy_8
.Lcopy_tail:
	cbz	x2, .Lcopy_done
	ldrb	w4, [x1], #1
	strb	w4, [x0], #1
	sub	x2, x2, #1
	b	.Lcopy_tail
.Lcopy_done:
	ret
	.size arch_mem_copy, . - arch_mem_copy

	.section .note.GNU-stack, "", %progbits
