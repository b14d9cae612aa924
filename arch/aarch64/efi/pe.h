/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PE/COFF constants for the EFI header of the arm64 Image (pe_header.S),
 * from the Microsoft PE/COFF specification. Shared with the linker script,
 * which checks the alignments it promises.
 */
#ifndef PAGODA_ARCH_AARCH64_EFI_PE_H
#define PAGODA_ARCH_AARCH64_EFI_PE_H

/* "MZ" as the first two bytes: `ccmp x18, #0, #0xd, pl`, which only sets flags. */
#define PE_MZ_INSN 0xfa405a4d

#define PE_MACHINE_ARM64	     0xaa64
#define PE_OPT_MAGIC_PE32PLUS	     0x20b
#define PE_SUBSYSTEM_EFI_APPLICATION 10
/* EXECUTABLE_IMAGE | LINE_NUMS_STRIPPED | LOCAL_SYMS_STRIPPED | DEBUG_STRIPPED */
#define PE_FILE_CHARACTERISTICS 0x020e
#define PE_SECTION_SIZE		40
#define PE_SECTION_ALIGN	0x1000
#define PE_FILE_ALIGN		0x200

#define PE_SCN_CODE		0x00000020
#define PE_SCN_INITIALIZED_DATA 0x00000040
#define PE_SCN_MEM_EXECUTE	0x20000000
#define PE_SCN_MEM_READ		0x40000000
#define PE_SCN_MEM_WRITE	0x80000000

#endif
