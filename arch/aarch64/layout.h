/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 memory layout and translation constants, shared by assembly, C
 * and (through the preprocessor) the linker script.
 *
 * Virtual layout (4 KiB granule, 48-bit VAs: T0SZ = T1SZ = 16):
 *  - TTBR1: the kernel image is linked at KERNEL_VMA (top 2 GiB, as on
 *    x86-64) and mapped with 2 MiB blocks onto wherever the loader put it.
 *    The image must start on a 2 MiB boundary (the arm64 Image protocol
 *    promises that with text_offset 0).
 *  - TTBR0: the low BOOT_IDENTITY_GIB GiB of physical memory mapped 1:1
 *    with 1 GiB blocks: [0, 1 GiB) as Device-nGnRE (the MMIO window of
 *    QEMU virt), the rest as Normal write-back (RAM on virt starts at
 *    1 GiB). arch_phys_to_virt() is the identity over this window.
 *
 * Invariant: KERNEL_VMA is 1 GiB aligned, so the image's 2 MiB blocks fill
 * one level-2 table reached from fixed level-0 and level-1 slots.
 */
#ifndef PAGODA_ARCH_AARCH64_LAYOUT_H
#define PAGODA_ARCH_AARCH64_LAYOUT_H

/* A 64-bit constant in C, a plain number in assembly and the linker script. */
#ifdef __ASSEMBLY__
#define UL(x) x
#else
#define UL(x) x##UL
#endif

#define KERNEL_VMA UL(0xFFFFFFFF80000000)
/* Table slots that translate KERNEL_VMA: bits 47:39 and 38:30 of the address. */
#define KERNEL_L0_INDEX	  511
#define KERNEL_L1_INDEX	  510
#define BOOT_IDENTITY_GIB 4
#define BOOT_DEVICE_GIB	  1 /* identity GiBs below this one are Device memory */

#define SZ_2M 0x200000

/* Linux arm64 Image header flags: little endian, 4 KiB pages, place anywhere. */
#define IMAGE_FLAGS ((1 << 1) | (1 << 3))

/* MAIR_EL1 attribute indexes. */
#define MT_DEVICE_nGnRE 0
#define MT_NORMAL	1
#define MT_NORMAL_NC	2
#define MAIR_VALUE	0x44FF04 /* idx0 Device-nGnRE, idx1 Normal WB RW-alloc, idx2 Normal NC */

/* Translation descriptor bits (stage 1, 4 KiB granule). */
#define PTE_VALID    0x1
#define PTE_TABLE    0x3 /* valid + table at levels 0-2 */
#define PTE_BLOCK    0x1 /* valid + block at levels 1-2 */
#define PTE_ATTR(i)  ((i) << 2)
#define PTE_SH_INNER (3 << 8)
#define PTE_AF	     (1 << 10)
#define PTE_PXN	     (UL(1) << 53)
#define PTE_UXN	     (UL(1) << 54)

/* Kernel image and RAM: EL1 RWX (the identity map runs the MMU-enable code), EL0 never. */
#define BLOCK_NORMAL (PTE_BLOCK | PTE_ATTR(MT_NORMAL) | PTE_SH_INNER | PTE_AF | PTE_UXN)
#define BLOCK_DEVICE (PTE_BLOCK | PTE_ATTR(MT_DEVICE_nGnRE) | PTE_AF | PTE_PXN | PTE_UXN)

/*
 * TCR_EL1: T0SZ = T1SZ = 16, 4 KiB granules, walks inner shareable and
 * write-back cacheable. IPS is filled in at run time from ID_AA64MMFR0_EL1.
 */
#define TCR_VALUE 0xB5103510

/* SCTLR_EL1: RES1 bits of ARMv8.0 with the MMU, both caches and SP alignment checks on. */
#define SCTLR_EL1_RES1	 0x30D00800
#define SCTLR_EL1_MMU_ON (SCTLR_EL1_RES1 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12))

/* Leaving EL2: AArch64 EL1, EL1h with D, A, I, F masked. */
#define HCR_EL2_RW	 (UL(1) << 31)
#define SPSR_EL1H_MASKED 0x3C5

/* Exception vector slots, in VBAR order: four groups of sync, IRQ, FIQ, SError. */
#define VEC_CUR_SP0  0
#define VEC_CUR_SPX  4
#define VEC_LOWER_64 8
#define VEC_LOWER_32 12
#define VEC_SYNC     0
#define VEC_IRQ	     1
#define VEC_FIQ	     2
#define VEC_SERROR   3

/* struct aarch64_frame (aarch64.h): x0-x30, sp, elr, spsr, esr, far, frame record. */
#define FRAME_SP     (31 * 8)
#define FRAME_ELR    (32 * 8)
#define FRAME_ESR    (34 * 8)
#define FRAME_RECORD (36 * 8)
#define FRAME_SIZE   (38 * 8)

/* CPU_MAX (kernel/cpumask.h) for assembly; aarch64 C code checks they agree. */
#define AARCH64_CPU_MAX 16

/* Size of struct aarch64_percpu: the secondary entry indexes the array with it. */
#define PERCPU_SIZE 64

#endif
