/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PE/COFF header that makes the arm64 Image also a UEFI application
 * (BOOTAA64.EFI, or what GRUB's `linux` command hands to LoadImage). The
 * Image header's first word is an instruction whose bytes start with "MZ"
 * and its res5 word (offset 60, the DOS header's e_lfanew) points here, at
 * offset 64: the same file boots as a raw Image under QEMU's -kernel and
 * as a PE32+ image under firmware.
 *
 * Invariants: relative virtual address == file offset for every byte, so
 * the firmware's loaded copy is laid out exactly like the raw Image (the
 * stub hands the loaded copy straight to head.S). The headers fill the
 * first 4 KiB; two sections follow, each starting on a 4 KiB boundary:
 * .text (code and read-only data, RX) and .data (data, then .bss and the
 * boot tables as the zero-filled tail of its virtual size, RW). There are
 * no base relocations: the stub and head.S run at any address because they
 * use only PC-relative addressing (tools/efi_pic_check.sh checks the
 * stub's objects). The sizes come from the linker script (__efi_*).
 * tools/pe_check.py validates the built Image.
 */
#include "arch/aarch64/efi/pe.h"

	.section .head.pe, "a"
	.balign	8
	.globl efi_pe_header
efi_pe_header:
	.ascii	"PE\0\0"
	/* COFF file header */
	.short	PE_MACHINE_ARM64
	.short	(section_table_end - section_table) / PE_SECTION_SIZE
	.long	0			/* TimeDateStamp */
	.long	0, 0			/* PointerToSymbolTable, NumberOfSymbols */
	.short	section_table - optional_header
	.short	PE_FILE_CHARACTERISTICS

optional_header:
	.short	PE_OPT_MAGIC_PE32PLUS
	.byte	0, 0			/* linker version */
	.long	__efi_text_size		/* SizeOfCode */
	.long	__efi_data_vsize	/* SizeOfInitializedData */
	.long	0			/* SizeOfUninitializedData */
	.long	__efi_entry_rva		/* AddressOfEntryPoint */
	.long	__efi_text_rva		/* BaseOfCode */
	.quad	0			/* ImageBase: the firmware picks; nothing to relocate */
	.long	PE_SECTION_ALIGN
	.long	PE_FILE_ALIGN
	.short	0, 0			/* OS version */
	.short	0, 0			/* image version */
	.short	0, 0			/* subsystem version */
	.long	0			/* Win32VersionValue */
	.long	__efi_image_size	/* SizeOfImage: .bss and boot tables included */
	.long	__efi_text_rva		/* SizeOfHeaders */
	.long	0			/* CheckSum */
	.short	PE_SUBSYSTEM_EFI_APPLICATION
	.short	0			/* DllCharacteristics */
	.quad	0, 0, 0, 0		/* stack and heap reserve and commit */
	.long	0			/* LoaderFlags */
	.long	(optional_header_end - data_directories) / 8
data_directories:
	.quad	0			/* export table */
	.quad	0			/* import table */
	.quad	0			/* resource table */
	.quad	0			/* exception table */
	.quad	0			/* certificate table */
	.quad	0			/* base relocation table: none */
optional_header_end:

section_table:
	.ascii	".text\0\0\0"
	.long	__efi_text_size		/* VirtualSize */
	.long	__efi_text_rva		/* VirtualAddress */
	.long	__efi_text_size		/* SizeOfRawData */
	.long	__efi_text_rva		/* PointerToRawData */
	.long	0, 0			/* relocations, line numbers */
	.short	0, 0
	.long	PE_SCN_CODE | PE_SCN_MEM_EXECUTE | PE_SCN_MEM_READ

	.ascii	".data\0\0\0"
	.long	__efi_data_vsize
	.long	__efi_data_rva
	.long	__efi_data_raw
	.long	__efi_data_rva
	.long	0, 0
	.short	0, 0
	.long	PE_SCN_INITIALIZED_DATA | PE_SCN_MEM_READ | PE_SCN_MEM_WRITE
section_table_end:
