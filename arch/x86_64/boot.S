/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x86-64 entry from a Multiboot2 loader (GRUB, under SeaBIOS or OVMF) or
 * through the PVH boot protocol (QEMU's `-kernel`, via the ELF note below).
 *
 * GRUB enters _start in 32-bit protected mode, paging off, with EAX = the
 * Multiboot2 magic and EBX = the physical address of the boot information.
 * A PVH loader enters pvh_start in the same mode with EBX = the physical
 * address of struct hvm_start_info (checked in C, boot/pvh.c). Both entries
 * keep EBX in EDI and the protocol (BOOT_PROTO_*, layout.h) in EBP, then share
 * one path: it checks that the CPU has long mode, zeroes .bss,
 * builds temporary boot page tables (the low 4 GiB with 2 MiB pages, both
 * identity-mapped and at the direct-map base DIRECT_MAP_BASE, and the top
 * 2 GiB mapping physical 0..2 GiB for the kernel),
 * enables long mode and calls x86_boot_main(info, protocol) in the higher
 * half. EDI and EBP are not touched between the entries and that call.
 *
 * This code runs at its physical address (section .boot is linked there),
 * so it may only reference high-half symbols as (symbol - KERNEL_VMA).
 * Failures before the console exists are reported by writing a letter to
 * COM1 directly and halting.
 */
#include "arch/x86_64/layout.h"

#define MB2_MAGIC 0xe85250d6
#define MB2_ARCH_I386 0
#define MB2_BOOT_MAGIC 0x36d76289
#define MB2_HEADER_TAG_FRAMEBUFFER 5
#define MB2_HEADER_TAG_OPTIONAL 1
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_PS 0x80

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/*
	 * Framebuffer tag (type 5), optional: ask for 1024x768 at 32 bpp, so GRUB
	 * leaves a linear framebuffer under SeaBIOS (VBE) and OVMF (GOP) for the
	 * screen console; without one (or with gfxpayload=text) it hands EGA text.
	 */
	.balign 8
	.short MB2_HEADER_TAG_FRAMEBUFFER, MB2_HEADER_TAG_OPTIONAL
	.long 20
	.long 1024, 768, 32
	/* end tag */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

	/*
	 * PVH: the 32-bit physical entry point, as an ELF note (PT_NOTE) named
	 * "Xen". 4-byte aligned like every ELF note: QEMU finds the descriptor
	 * after the name rounded up to the segment's alignment, and reads it as
	 * a 64-bit value from a 64-bit ELF.
	 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4 /* namesz */
	.long 8 /* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start
	.balign 4

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $(boot_stack_top - KERNEL_VMA), %esp
	cmpl $MB2_BOOT_MAGIC, %eax
	jne fail_magic
	movl %ebx, %edi /* keep the boot information pointer in EDI */
	movl $BOOT_PROTO_MB2, %ebp
	jmp boot_common

	.globl pvh_start
pvh_start:
	cli
	cld
	movl $(boot_stack_top - KERNEL_VMA), %esp
	movl %ebx, %edi /* struct hvm_start_info, validated in C */
	movl $BOOT_PROTO_PVH, %ebp

boot_common:

	/* Long mode available? CPUID 0x80000001 EDX bit 29. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb fail_longmode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz fail_longmode

	/* Zero .bss (GRUB does, but the protocol does not promise it). */
	movl %edi, %esi
	movl $(__bss_start - KERNEL_VMA), %edi
	movl $(__bss_end - KERNEL_VMA), %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	/* And the boot page tables. */
	movl $boot_tables_start, %edi
	movl $boot_tables_end, %ecx
	subl %edi, %ecx
	rep stosb
	movl %esi, %edi

	/* PD entries: BOOT_IDENTITY_GIB * 512 entries of 2 MiB, uncached above 3 GiB (MMIO). */
	movl $boot_pd, %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $(PTE_P | PTE_W | PTE_PS), %eax
	cmpl $(3 * 512), %ecx
	jb 2f
	orl $(PTE_PCD | PTE_PWT), %eax
2:	movl %eax, (%ebx, %ecx, 8)
	movl %ecx, %eax
	shrl $11, %eax /* bits 32+ of the physical address: entry / 2048 */
	movl %eax, 4(%ebx, %ecx, 8)
	incl %ecx
	cmpl $(BOOT_IDENTITY_GIB * 512), %ecx
	jb 1b

	/* Low PDPT: one entry per GiB of the identity map. */
	movl $boot_pdpt_low, %ebx
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $12, %eax
	addl $boot_pd, %eax
	orl $(PTE_P | PTE_W), %eax
	movl %eax, (%ebx, %ecx, 8)
	incl %ecx
	cmpl $BOOT_IDENTITY_GIB, %ecx
	jb 1b

	/* High PDPT: entries 510 and 511 (-2 GiB) map physical 0..2 GiB. */
	movl $(boot_pd + PTE_P + PTE_W), %eax
	movl %eax, boot_pdpt_high + 510 * 8
	addl $4096, %eax
	movl %eax, boot_pdpt_high + 511 * 8

	/* The same low PDPT serves the identity map and the direct map (PML4 256). */
	movl $(boot_pdpt_low + PTE_P + PTE_W), %eax
	movl %eax, boot_pml4
	movl %eax, boot_pml4 + 256 * 8
	movl $(boot_pdpt_high + PTE_P + PTE_W), %eax
	movl %eax, boot_pml4 + 511 * 8

	/* PAE, then EFER.LME and NXE, then paging. */
	movl %cr4, %eax
	orl $(1 << 5), %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $0xC0000080, %ecx
	rdmsr
	orl $((1 << 8) | (1 << 11)), %eax
	wrmsr
	movl %cr0, %eax
	orl $((1 << 31) | (1 << 16) | 1), %eax /* PG, WP, PE */
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $GDT_KERNEL_CODE, $long_mode_entry

fail_magic:
	movb $'M', %al
	jmp early_fail
fail_longmode:
	movb $'L', %al
early_fail:
	movw $0x3f8, %dx
	outb %al, %dx
1:	hlt
	jmp 1b

	.code64
long_mode_entry:
	movw $GDT_KERNEL_DATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	/* EDI still holds the boot information's physical address: first argument. */
	movl %edi, %edi
	movl %ebp, %esi /* the protocol: second argument */
	xorl %ebp, %ebp /* terminates backtraces */
	movabsq $x86_boot_main, %rax
	call *%rax
1:	hlt
	jmp 1b

	.section .boot.data, "aw"
	.balign 16
	.globl boot_gdt
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff /* 0x10: data */
boot_gdt_end:
	.globl boot_gdt_ptr
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.section .boot.bss, "aw", @nobits
	.balign 4096
	.globl boot_tables_start, boot_tables_end
boot_tables_start:
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_pd:
	.skip 4096 * BOOT_IDENTITY_GIB
boot_tables_end:

	.bss
	.balign 4096
	.globl boot_stack_guard
boot_stack_guard: /* left unmapped by the kernel's own tables */
	.skip 4096
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip 16384
boot_stack_top:
