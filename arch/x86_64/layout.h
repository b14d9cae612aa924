/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x86-64 memory layout constants, shared by assembly, C and (through the
 * preprocessor) the linker script. The kernel runs in the top 2 GiB
 * (-mcmodel=kernel) at KERNEL_VMA + physical address; it is loaded at
 * KERNEL_PHYS by GRUB.
 */
#ifndef PAGODA_ARCH_X86_64_LAYOUT_H
#define PAGODA_ARCH_X86_64_LAYOUT_H

#define KERNEL_VMA 0xFFFFFFFF80000000
#define KERNEL_PHYS 0x200000
/* kva(pa) = DIRECT_MAP_BASE + pa (PML4 entries 256-383, 64 TiB). */
#define DIRECT_MAP_BASE 0xFFFF800000000000
#define DIRECT_MAP_SIZE 0x0000400000000000
/* Device mappings (PML4 384-385), and a window only tests map into (PML4 416). */
#define MMIO_BASE 0xFFFFC00000000000
#define MMIO_SIZE 0x0000010000000000
#define TEST_WINDOW_BASE 0xFFFFD00000000000
#define TEST_WINDOW_SIZE 0x0000010000000000
/* Address spaces (struct mm) map user memory here: above 4 MiB, below the canonical hole. */
#define USER_BASE 0x0000000000400000
#define USER_TOP 0x0000800000000000
/* Where the AP real-mode trampoline is copied (below 1 MiB, page aligned). */
#define AP_TRAMPOLINE_PHYS 0x8000
/* Boot tables identity-map this much physical memory (and the high half maps 2 GiB). */
#define BOOT_IDENTITY_GIB 4

/* How boot.S was entered: x86_boot_main's second argument. */
#define BOOT_PROTO_MB2 0 /* _start, from a Multiboot2 loader (GRUB) */
#define BOOT_PROTO_PVH 1 /* pvh_start, through the PVH ELF note (QEMU -kernel) */

#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_TSS 0x18

#endif
