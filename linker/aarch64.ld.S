/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 kernel layout. The whole image is linked at KERNEL_VMA (the top
 * 2 GiB, reached through TTBR1) and runs from wherever the loader put it:
 * head.S maps KERNEL_VMA onto the physical load address, so the image is
 * correct at any 2 MiB-aligned address. The arm64 Image header (.head.text)
 * must be the first bytes of the file; the Image is an objcopy -O binary of
 * this ELF, so .bss must come last and hold no file contents.
 *
 * .ksyms (the embedded symbol table) comes after .text, at the end of
 * .rodata, so that embedding it moves no function between the two links.
 * __image_size (the header's image_size) covers .bss and the boot page
 * tables, so the loader places nothing there.
 */
#include "arch/aarch64/layout.h"

OUTPUT_FORMAT("elf64-littleaarch64")
OUTPUT_ARCH(aarch64)
ENTRY(_start)

SECTIONS
{
	. = KERNEL_VMA;
	__kernel_start = .;
	.text : {
		__text_start = .;
		KEEP(*(.head.text))
		*(.text .text.*)
		__text_end = .;
	}
	. = ALIGN(4096);
	.rodata : {
		*(.rodata .rodata.*)
		. = ALIGN(8);
		__ktest_suites_start = .;
		KEEP(*(.ktest_suites))
		__ktest_suites_end = .;
		. = ALIGN(8);
		KEEP(*(.ksyms))
	}
	. = ALIGN(4096);
	.data : {
		*(.data .data.*)
	}
	.bss (NOLOAD) : ALIGN(16) {
		__bss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	. = ALIGN(4096);
	__kernel_end = .;
	__image_size = __kernel_end - __kernel_start;

	/DISCARD/ : {
		*(.comment) *(.note*) *(.eh_frame*)
	}
}
