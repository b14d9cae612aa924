/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Thread context switch (see kernel/arch.h). The callee-saved registers go
 * on the old thread's stack and its stack pointer into from->sp; the new
 * thread's registers come off its own stack, and `ret` resumes it where it
 * last called arch_context_switch (or, the first time, at its entry).
 */
	.text
	.globl arch_context_switch
arch_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
