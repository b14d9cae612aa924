/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x86-64 kernel layout. The 32-bit entry (.boot*) is linked at its
 * physical load address; everything else runs in the top 2 GiB at
 * KERNEL_VMA + physical. .ksyms (the embedded symbol table) comes after
 * .text so that embedding it moves no function between the two links.
 * The PVH entry note (.note.Xen) is the only note kept.
 */
#include "arch/x86_64/layout.h"

OUTPUT_FORMAT("elf64-x86-64")
ENTRY(_start)

SECTIONS
{
	. = KERNEL_PHYS;
	__kernel_phys_start = .;
	.boot : {
		KEEP(*(.multiboot))
		*(.boot.text)
		*(.boot.data)
	}
	/* The PVH entry note (boot.S): kept, and so given a PT_NOTE segment by ld. */
	.note.Xen : {
		KEEP(*(.note.Xen))
	}
	.boot.bss (NOLOAD) : ALIGN(4096) {
		*(.boot.bss)
	}

	. = ALIGN(4096) + KERNEL_VMA;
	__kernel_start = .;
	.text : AT(ADDR(.text) - KERNEL_VMA) {
		__text_start = .;
		*(.text .text.*)
		__text_end = .;
	}
	. = ALIGN(4096);
	.rodata : AT(ADDR(.rodata) - KERNEL_VMA) {
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
	.data : AT(ADDR(.data) - KERNEL_VMA) {
		__data_start = .;
		*(.data .data.*)
	}
	.bss : AT(ADDR(.bss) - KERNEL_VMA) {
		__bss_start = .;
		*(.bss .bss.* COMMON)
		. = ALIGN(16);
		__bss_end = .;
	}
	. = ALIGN(4096);
	__kernel_end = .;

	/DISCARD/ : {
		*(.comment) *(.note*) *(.eh_frame*)
	}
}
