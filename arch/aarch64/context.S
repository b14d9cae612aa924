/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * arch_setjmp / arch_longjmp (kernel/arch.h). The buffer holds the
 * AAPCS64 callee-saved registers x19-x28, the frame pointer x29, the
 * return address x30, SP and DAIF, in that order (14 of its 24 slots).
 *
 * arch_longjmp may be called from an exception handler (a test timeout
 * from the timer IRQ, an expected fault): kernel exceptions run on the
 * interrupted stack, so resetting SP abandons the exception frame, and
 * restoring DAIF gives back the interrupt mask setjmp saw. The IRQ has
 * been acknowledged and EOI'd before its handler ran, so nothing in the
 * GIC is left active.
 */
	.text
	.globl arch_setjmp
	.type arch_setjmp, %function
arch_setjmp:
	stp	x19, x20, [x0, #0]
	stp	x21, x22, [x0, #16]
	stp	x23, x24, [x0, #32]
	stp	x25, x26, [x0, #48]
	stp	x27, x28, [x0, #64]
	stp	x29, x30, [x0, #80]
	mov	x1, sp
	mrs	x2, daif
	stp	x1, x2, [x0, #96]
	mov	w0, #0
	ret
	.size arch_setjmp, . - arch_setjmp

	.globl arch_longjmp
	.type arch_longjmp, %function
arch_longjmp:
	ldp	x19, x20, [x0, #0]
	ldp	x21, x22, [x0, #16]
	ldp	x23, x24, [x0, #32]
	ldp	x25, x26, [x0, #48]
	ldp	x27, x28, [x0, #64]
	ldp	x29, x30, [x0, #80]
	ldp	x2, x3, [x0, #96]
	mov	sp, x2
	msr	daif, x3
	cmp	w1, #0
	csinc	w0, w1, wzr, ne		/* value, or 1 when value is 0 */
	ret
	.size arch_longjmp, . - arch_longjmp
