/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Thread context switch (see kernel/arch.h). The AAPCS64 callee-saved
 * registers x19-x28, the frame pointer x29 and the return address x30 go
 * on the old thread's stack, 96 bytes, and its SP into from->sp; the new
 * thread's come off its own stack, and `ret` resumes it where it last
 * called arch_context_switch (or, the first time, at aarch64_thread_start,
 * see arch_context_init in cpu.c). The frame is a multiple of 16 bytes, so
 * SP stays aligned. Pagoda keeps FP/SIMD off, so no vector state exists.
 *
 * A switch may happen inside an IRQ handler (sched_irq_exit): the
 * interrupted thread's exception frame, with its ELR and SPSR, stays on its
 * own stack below this frame, and vectors.S reloads ELR/SPSR from that
 * frame before eret, so each thread returns to its own interrupted code.
 */
	.text
	.globl arch_context_switch
	.type arch_context_switch, %function
arch_context_switch:
	sub	sp, sp, #96
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	mov	sp, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	add	sp, sp, #96
	ret
	.size arch_context_switch, . - arch_context_switch

/* A new thread's first instructions: entry is in x19; it never returns. */
	.globl aarch64_thread_start
	.type aarch64_thread_start, %function
aarch64_thread_start:
	mov	x29, #0
	mov	x30, #0
	br	x19
	.size aarch64_thread_start, . - aarch64_thread_start
