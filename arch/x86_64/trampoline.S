/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Application-processor trampoline. A SIPI starts an AP in real mode at
 * AP_TRAMPOLINE_PHYS; this blob is copied there by arch_cpu_start and
 * takes the AP through protected mode into long mode directly on the
 * kernel's own page tables (which map this page at its physical address
 * while CPUs start), then calls the C entry in the higher half with the
 * stack and logical CPU id left in its data block.
 *
 * All addresses inside are computed relative to the copy, since the code
 * is assembled at a different address than it runs. APs are started one at
 * a time, so one data block suffices.
 */
#include "arch/x86_64/layout.h"

#define REL(sym) (AP_TRAMPOLINE_PHYS + ((sym) - ap_trampoline_start))

	.section .rodata
	.balign 16
	.globl ap_trampoline_start
ap_trampoline_start:
	.code16
	cli
	cld
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl REL(tr_gdt_ptr)
	movl %cr0, %eax
	orl $1, %eax
	movl %eax, %cr0
	ljmpl $0x08, $REL(tr_protected)

	.code32
tr_protected:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(1 << 5), %eax /* PAE */
	movl %eax, %cr4
	movl REL(tr_cr3), %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax /* LME, NXE */
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16)), %eax /* PG, WP */
	movl %eax, %cr0
	ljmpl $0x18, $REL(tr_long)

	.code64
tr_long:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movq REL(tr_stack), %rsp
	movl REL(tr_cpu), %edi
	movq REL(tr_entry), %rax
	xorl %ebp, %ebp
	call *%rax
1:	hlt
	jmp 1b

	.balign 8
tr_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff /* 0x10: data */
	.quad 0x00af9a000000ffff /* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_ptr:
	.short tr_gdt_end - tr_gdt - 1
	.long REL(tr_gdt)

	.balign 8
	.globl ap_trampoline_data
ap_trampoline_data:
tr_cr3:	.quad 0
tr_stack: .quad 0
tr_entry: .quad 0
tr_cpu:	.long 0
	.long 0
	.globl ap_trampoline_end
ap_trampoline_end:
