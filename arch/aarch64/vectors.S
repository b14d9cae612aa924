/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The EL1 exception vector table (VBAR_EL1) and its common entry path.
 *
 * Every slot makes the stack look the same: it reserves a struct
 * aarch64_frame (aarch64.h) on the current stack, saves x0/x1, puts its
 * slot number in x0 and branches to exception_entry, which saves the rest
 * (x2-x30, the interrupted SP, ELR, SPSR, ESR, FAR) and a frame record
 * {x29, ELR + 4} so that backtraces walk from the handler through the
 * interrupted function (a backtrace names ret - 1: ELR + 4 keeps that
 * inside the instruction at ELR, even at the first one of a function). Then aarch64_exception(slot, frame) runs; when it
 * returns, ELR and SPSR are reloaded from the frame (the handler may have
 * moved ELR, and a nested exception may have overwritten the registers)
 * and eret resumes the interrupted code.
 *
 * Kernel exceptions run on the interrupted stack (Pagoda only runs at EL1
 * with SP_EL1), which is what lets a handler leave by arch_longjmp.
 * FRAME_SIZE is a multiple of 16, so SP stays aligned.
 */
#include "arch/aarch64/layout.h"

.macro VENTRY slot
	.balign 0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\slot
	b	exception_entry
.endm

	.text
	.balign 2048
	.globl exception_vectors
exception_vectors:
	VENTRY	(VEC_CUR_SP0 + VEC_SYNC)
	VENTRY	(VEC_CUR_SP0 + VEC_IRQ)
	VENTRY	(VEC_CUR_SP0 + VEC_FIQ)
	VENTRY	(VEC_CUR_SP0 + VEC_SERROR)
	VENTRY	(VEC_CUR_SPX + VEC_SYNC)
	VENTRY	(VEC_CUR_SPX + VEC_IRQ)
	VENTRY	(VEC_CUR_SPX + VEC_FIQ)
	VENTRY	(VEC_CUR_SPX + VEC_SERROR)
	VENTRY	(VEC_LOWER_64 + VEC_SYNC)
	VENTRY	(VEC_LOWER_64 + VEC_IRQ)
	VENTRY	(VEC_LOWER_64 + VEC_FIQ)
	VENTRY	(VEC_LOWER_64 + VEC_SERROR)
	VENTRY	(VEC_LOWER_32 + VEC_SYNC)
	VENTRY	(VEC_LOWER_32 + VEC_IRQ)
	VENTRY	(VEC_LOWER_32 + VEC_FIQ)
	VENTRY	(VEC_LOWER_32 + VEC_SERROR)

exception_entry:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	add	x1, sp, #FRAME_SIZE
	stp	x30, x1, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #FRAME_ELR]
	mrs	x3, esr_el1
	mrs	x4, far_el1
	stp	x3, x4, [sp, #FRAME_ESR]
	add	x3, x2, #4		/* backtraces print ret - 1: keep that inside ELR's insn */
	stp	x29, x3, [sp, #FRAME_RECORD]
	add	x29, sp, #FRAME_RECORD
	mov	x1, sp
	bl	aarch64_exception

	ldp	x2, x3, [sp, #FRAME_ELR]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	add	sp, sp, #FRAME_SIZE
	eret
