/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64_semihosting_call(op, arg): one Arm semihosting request (A64
 * uses `hlt #0xf000`, op in w0, the parameter block address in x1, the
 * result back in x0).
 *
 * Without a semihosting host (QEMU without -semihosting, real hardware)
 * the hlt raises an undefined-instruction exception. The synchronous
 * exception handler recognises this one instruction by its address,
 * aarch64_semihosting_insn, sets x0 to -1 and resumes after it, so
 * callers learn that semihosting is missing instead of faulting.
 */
	.text
	.globl aarch64_semihosting_call
	.type aarch64_semihosting_call, %function
aarch64_semihosting_call:
	.globl aarch64_semihosting_insn
aarch64_semihosting_insn:
	hlt	#0xf000
	ret
	.size aarch64_semihosting_call, . - aarch64_semihosting_call
