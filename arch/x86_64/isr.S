/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Interrupt and exception entry stubs for all 256 vectors.
 *
 * Each stub makes the stack look the same whatever the vector: it pushes a
 * zero where the CPU pushed no error code, then the vector number, then
 * jumps to isr_common, which saves every general register as a struct
 * x86_frame (arch/x86_64/x86.h) and calls x86_interrupt(frame). The
 * CPU aligned RSP to 16 before its own pushes, and 22 quadwords keep it
 * aligned for the call.
 */
	.text
	.code64

.macro STUB vec
	.balign 16
isr_stub_\vec:
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

	.altmacro
.macro STUB_ADDR vec
	.quad isr_stub_\vec
.endm

	.set vec, 0
	.rept 256
	STUB %vec
	.set vec, vec + 1
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call x86_interrupt
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl isr_stub_table
isr_stub_table:
	.set vec, 0
	.rept 256
	STUB_ADDR %vec
	.set vec, vec + 1
	.endr

/* arch_setjmp / arch_longjmp: see kernel/arch.h. Layout: rbx rbp r12-r15 rsp rip rflags. */
	.text
	.globl arch_setjmp
arch_setjmp:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	pushfq
	popq %rax
	movq %rax, 64(%rdi)
	xorl %eax, %eax
	ret

	.globl arch_longjmp
arch_longjmp:
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	incl %eax
1:	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	pushq 64(%rdi)
	popfq
	jmpq *56(%rdi)
