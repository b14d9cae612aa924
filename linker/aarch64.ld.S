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
 * The first 4 KiB hold the Image header and the PE/COFF header that make
 * the Image a UEFI application too (efi/pe_header.S; RVA == file offset);
 * .data ends on the PE file alignment so its raw size is whole.
 *
 * .ksyms (the embedded symbol table) comes after .text, at the end of
 * .rodata, so that embedding it moves no function between the two links.
 */
#include "arch/aarch64/efi/pe.h"
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
		KEEP(*(.head.pe))
		. = ALIGN(PE_SECTION_ALIGN);
		__efi_text_start = .;
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
		/*
		 * The GOT (addresses of the weak symbols: symbols.c's table) is
		 * data too: left an orphan section after .data, it fell outside
		 * the PE .data section's raw bytes, so a UEFI loader zero-filled it
		 * and every symbol lookup failed under UEFI (the prof suite caught it).
		 */
		*(.got .got.plt)
		/* the PE .data section's raw bytes end on a file-alignment boundary */
		. = ALIGN(PE_FILE_ALIGN);
		__efi_data_end = .;
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

	/* The PE/COFF header's numbers (efi/pe_header.S): RVA == file offset. */
	__efi_pe_offset = efi_pe_header - __kernel_start;
	__efi_text_rva = __efi_text_start - __kernel_start;
	__efi_text_size = __data_start - __efi_text_start;
	__efi_data_rva = __data_start - __kernel_start;
	__efi_data_raw = __efi_data_end - __data_start;
	__efi_data_vsize = __image_end - __data_start;
	__efi_entry_rva = efi_pe_entry - __kernel_start;
	__efi_image_size = __image_size;
	ASSERT(__efi_pe_offset == 64, "the PE header must follow the 64-byte Image header")
	ASSERT(__efi_text_rva == PE_SECTION_ALIGN, "the PE headers must fit in their 4 KiB")
	ASSERT((__efi_data_rva % PE_SECTION_ALIGN) == 0, "PE .data must start on a section boundary")

	/DISCARD/ : {
		*(.comment) *(.note*) *(.eh_frame*)
	}
}
