/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The EFI stub's internal interface (arch/aarch64/efi/). The stub runs
 * under the firmware, before head.S: MMU on with the firmware's identity
 * map, .bss not yet zeroed by Pagoda, no console, no per-CPU data. So its
 * files call nothing of the kernel's, keep no state in globals, and use
 * only PC-relative addressing (tools/efi_pic_check.sh checks their
 * objects): they run wherever the firmware loaded the image.
 */
#ifndef PAGODA_ARCH_AARCH64_EFI_STUB_H
#define PAGODA_ARCH_AARCH64_EFI_STUB_H

#include "boot/efi.h"
#include "boot/efi_block.h"

/* Test-only ways to hand the kernel a wrong block (`efi.break=` on the command line). */
enum efi_stub_break {
	EFI_BREAK_NONE,
	EFI_BREAK_MAGIC,	  /* a wrong magic: the kernel must panic naming it */
	EFI_BREAK_VERSION,	  /* a wrong version: likewise */
	EFI_BREAK_RUNTIME_USABLE, /* runtime-services RAM listed as usable too */
};

/* The PE entry point: the firmware (or GRUB's StartImage) calls it; it returns only on failure. */
efi_status_t efi_pe_entry(efi_handle_t image, struct efi_system_table *st);

/* Writes ASCII `s` through ConOut ("\n" becomes "\r\n"); does nothing without ConOut. */
void efi_con_puts(struct efi_system_table *st, const char *s);
/* Prints "efi: <what>: status 0x<status>" and returns status, for the firmware. */
efi_status_t efi_con_fail(struct efi_system_table *st, const char *what, efi_status_t status);
/* Prints "efi: <what> 0x<value>". */
void efi_con_hex(struct efi_system_table *st, const char *what, uint64_t value);

/*
 * Fills blk's mem and kept arrays (and counts) from an EFI memory map of
 * `map_size` bytes whose entries are `desc_size` apart: usable RAM is
 * loader, boot-services and conventional memory with the write-back
 * attribute; kept RAM is what the firmware keeps (reserved, runtime
 * services, ACPI tables and NVS, PAL code, unusable). Both come out sorted
 * with touching ranges merged. Pure computation: safe after
 * ExitBootServices.
 */
void efi_block_fill_memory(struct efi_boot_block *blk, const void *map, uint64_t map_size,
			   uint64_t desc_size, enum efi_stub_break brk);

/* LoadOptions (UTF-16, `bytes` long) into ASCII `out`; see efi/cmdline.c. */
void efi_cmdline_from_utf16(char *out, size_t out_size, const efi_char16_t *in, uint32_t bytes);
/* The efi.break= word of an ASCII command line. */
enum efi_stub_break efi_cmdline_break(const char *cmdline);

/* efi/enter.S: cleans, turns the MMU and D-cache off, jumps to entry with x0 = block. */
__noreturn void efi_enter_kernel(phys_addr_t entry, phys_addr_t block, uint64_t block_size,
				 phys_addr_t image, uint64_t image_size);

#endif
