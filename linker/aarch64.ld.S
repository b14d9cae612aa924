/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 kernel layout. The whole image is linked at KERNEL_VMA (the top
 * 2 GiB, reached through TTBR1) and runs from wherever the loader put it:
 * head.S maps KERNEL_VMA onto the physical load address, so the image is
 * correct at any 2 MiB-aligned address. The arm64 Image header (.head.text)
 * must be the first bytes of the file; the Image is an objcopy -O binary of
 * this ELF, so .bss must come last and hold no file contents.
 *
 * Text, rodata and data+bss each start on a 4 KiB boundary, because the
 * kernel's own tables map them with different permissions (text RX, rodata
 * R, data and bss RW; arch/aarch64/mm.c). __kernel_end closes what those
 * tables map. The boot page tables come after it: they are part of the
 * image the loader must leave alone (__image_end, the header's image_size,
 * and boot_info's kernel extent include them), but the kernel's tables do
 * not map them, and once the boot CPU has left them their frames go back
 * to the frame allocator.
 *
 * .ksyms (the embedded symbol table) comes after .text, at the end of
 * .rodata, so that embedding it moves no function between the two links.
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
		__rodata_start = .;
		*(.rodata .rodata.*)
		. = ALIGN(8);
		__ktest_suites_start = .;
		KEEP(*(.ktest_suites))
		__ktest_suites_end = .;
		. = ALIGN(8);
		__bench_scenarios_start = .;
		KEEP(*(SORT(.bench_scenarios.*)))
		__bench_scenarios_end = .;
		. = ALIGN(8);
		__cmdline_params_start = .;
		KEEP(*(.cmdline_params))
		__cmdline_params_end = .;
		. = ALIGN(8);
		KEEP(*(.ksyms))
		__rodata_end = .;
	}
	. = ALIGN(4096);
	.data : {
		__data_start = .;
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
	.boot_tables (NOLOAD) : {
		boot_tables_start = .;
		*(.boot_tables)
		. = ALIGN(4096);
		boot_tables_end = .;
	}
	__image_end = .;
	__image_size = __image_end - __kernel_start;

	/DISCARD/ : {
		*(.comment) *(.note*) *(.eh_frame*)
	}
}
