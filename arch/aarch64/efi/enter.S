/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The EFI stub's last step (efi/stub.c calls it after ExitBootServices):
 * leave the firmware's MMU-on world for head.S's entry contract.
 *
 * The firmware ran with the MMU and caches on and an identity map, so the
 * image (and the stub's copy of it, if it moved it) and the boot block may
 * sit in dirty cache lines. head.S reads and runs them with the MMU off,
 * straight from memory, and later invalidates .bss lines: so every line of
 * the image and the block is cleaned to the point of coherency first. Then
 * the MMU and the D-cache are turned off at the current exception level
 * (EL2 or EL1: the firmware's), the I-cache is emptied, and head.S's
 * primary_entry is entered at its physical address with x0 = the block.
 * This code runs from the identity map, so the fetch after the SCTLR write
 * comes from the same address untranslated. Nothing here touches the
 * stack once the MMU is off.
 */
#include "arch/aarch64/efi/cache.h"

/*
 * void efi_enter_kernel(phys_addr_t entry, phys_addr_t block, uint64_t block_size,
 *                       phys_addr_t image, uint64_t image_size): does not return.
 */
	.text
	.globl efi_enter_kernel
efi_enter_kernel:
	msr	daifset, #0xf
	mov	x19, x0
	mov	x20, x1
	add	x1, x3, x4
	mov	x0, x3
	dcache_by_line cvac, x0, x1, x5, x6
	add	x1, x20, x2
	mov	x0, x20
	dcache_by_line cvac, x0, x1, x5, x6
	mrs	x0, CurrentEL
	ubfx	x0, x0, #2, #2
	cmp	x0, #2
	b.eq	1f
	mrs	x0, sctlr_el1
	bic	x0, x0, #(1 << 0)	/* M: MMU off */
	bic	x0, x0, #(1 << 2)	/* C: D-cache off */
	msr	sctlr_el1, x0
	isb
	b	2f
1:	mrs	x0, sctlr_el2
	bic	x0, x0, #(1 << 0)
	bic	x0, x0, #(1 << 2)
	msr	sctlr_el2, x0
	isb
2:	ic	iallu
	dsb	nsh
	isb
	mov	x0, x20
	br	x19
