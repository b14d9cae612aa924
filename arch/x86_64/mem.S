/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bulk zeroing and copying for pages (see arch_mem_zero in kernel/arch.h):
 * string instructions, which modern x86-64 cores run at full cache-line
 * width (ERMS/FSRM) and which TCG executes as one helper loop instead of
 * one translated store per byte. Eight bytes at a time with `rep stosq` /
 * `rep movsq`, then the 0-7 byte tail with the byte forms, so any length
 * and any alignment work; the direction flag is clear at every call (the
 * SysV ABI guarantees it, and no Pagoda code sets it).
 *
 * Both functions touch exactly [dst, dst + n) (and read [src, src + n)).
 */
	.text
	.globl arch_mem_zero
	.type arch_mem_zero, @function
/* void arch_mem_zero(void *dst: rdi, size_t n: rsi) */
arch_mem_zero:
	xorl	%eax, %eax
	movq	%rsi, %rcx
	shrq	$3, %rcx
	rep stosq
	movq	%rsi, %rcx
	andq	$7, %rcx
	rep stosb
	ret
	.size arch_mem_zero, . - arch_mem_zero

	.globl arch_mem_copy
	.type arch_mem_copy, @function
/* void arch_mem_copy(void *dst: rdi, const void *src: rsi, size_t n: rdx) */
arch_mem_copy:
	movq	%rdx, %rcx
	shrq	$3, %rcx
	rep movsq
	movq	%rdx, %rcx
	andq	$7, %rcx
	rep movsb
	ret
	.size arch_mem_copy, . - arch_mem_copy

	.section .note.GNU-stack, "", @progbits
