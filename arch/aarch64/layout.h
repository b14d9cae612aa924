/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 memory layout and translation constants, shared by assembly, C
 * and (through the preprocessor) the linker script.
 *
 * Virtual layout (4 KiB granule, 48-bit VAs: T0SZ = T1SZ = 16). The kernel
 * half is TTBR1, 0xFFFF000000000000 and up; one level-0 entry maps 512 GiB:
 *
 *   0xFFFF000000000000 + 64 TiB  direct map: kva(pa) = DIRECT_MAP_BASE + pa
 *                                (L0 entries 0-127)
 *   0xFFFF400000000000 +  1 TiB  MMIO window, vm_map_mmio() (L0 128-129)
 *   0xFFFF500000000000 +  1 TiB  test window, only tests map here (L0 160-161)
 *   0xFFFFFFFF80000000 +  2 GiB  kernel image (L0 511, L1 510-511)
 *
 * The lower half (TTBR0) is empty once a CPU runs on the kernel's tables:
 * TTBR0 points at an all-zero table and TCR_EL1.EPD0 forbids walks, so any
 * low address faults. Only while a CPU starts does TTBR0 hold something:
 * the boot CPU's identity map, or a secondary's one-page stub mapping.
 *
 * Boot tables (head.S, used only until mm_init switches the boot CPU):
 *  - TTBR0: the low BOOT_IDENTITY_GIB GiB of physical memory mapped 1:1.
 *    Which parts are Device is decided from the image's load address, the
 *    one thing known before the device tree is read, never from a board
 *    switch. Image at or above 1 GiB (QEMU virt, RAM from 1 GiB): 1 GiB
 *    blocks, [0, 1 GiB) Device-nGnRE (virt's MMIO window), the rest Normal
 *    write-back. Image below 1 GiB (RAM at 0: Raspberry Pi 3 and 4):
 *    GiB 0 and GiB 3 in 2 MiB blocks, Normal except the top 16 MiB of
 *    GiB 0 (BOOT_DEVICE_LOW_BLOCKS: the Pi 3's peripherals at 0x3F000000;
 *    the firmware's smallest GPU share, gpu_mem=16, ends the Pis' RAM
 *    there, so no usable RAM is ever Device) and the top 64 MiB of GiB 3
 *    (BOOT_DEVICE_TOP_BLOCKS: the Pi 4's peripherals from 0xFC000000, where
 *    its second RAM range ends); GiBs
 *    1-2 Normal (the Pi 3's local block at 0x40000000 is mapped only later,
 *    by vm_map_mmio). The MMU-enable code and the TTBR1 replacement run here.
 *  - TTBR1 L0[0]: the same level-1 table, so the same 4 GiB also appear at
 *    DIRECT_MAP_BASE: arch_phys_to_virt() returns direct-map addresses
 *    from the first C instruction, and they stay valid after the switch.
 *  - TTBR1 L0[511]: the image at KERNEL_VMA with 2 MiB blocks onto
 *    wherever the loader put it (the arm64 Image protocol promises a
 *    2 MiB boundary with text_offset 0).
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

#define KERNEL_VMA	 UL(0xFFFFFFFF80000000)
#define DIRECT_MAP_BASE	 UL(0xFFFF000000000000)
#define DIRECT_MAP_SIZE	 UL(0x0000400000000000)
#define MMIO_BASE	 UL(0xFFFF400000000000)
#define MMIO_SIZE	 UL(0x0000010000000000)
#define TEST_WINDOW_BASE UL(0xFFFF500000000000)
#define TEST_WINDOW_SIZE UL(0x0000010000000000)

/* Table slots that translate KERNEL_VMA: bits 47:39 and 38:30 of the address. */
#define KERNEL_L0_INDEX	    511
#define KERNEL_L1_INDEX	    510
#define DIRECT_MAP_L0_INDEX 0
#define BOOT_IDENTITY_GIB   4
#define BOOT_DEVICE_GIB	    1 /* identity GiBs below this one are Device memory */
#define BOOT_DEVICE_LOW_BLOCKS 8  /* image below 1 GiB: Device 2 MiB blocks atop GiB 0 */
#define BOOT_DEVICE_TOP_BLOCKS 32 /* and atop GiB 3 */

#define SZ_2M 0x200000

/* Linux arm64 Image header flags: little endian, 4 KiB pages, place anywhere. */
#define IMAGE_FLAGS ((1 << 1) | (1 << 3))

/* MAIR_EL1 attribute indexes. */
#define MT_DEVICE_nGnRE 0
#define MT_NORMAL	1
#define MT_NORMAL_NC	2
#define MAIR_VALUE	0x44FF04 /* idx0 Device-nGnRE, idx1 Normal WB RW-alloc, idx2 Normal NC */

/*
 * Translation descriptor bits for the boot tables (stage 1, 4 KiB granule;
 * levels here are the architecture's, L0 = root). pt.c has the full list.
 */
#define DESC_VALID    0x1
#define DESC_TABLE    0x3 /* valid + table at L0-L2 */
#define DESC_BLOCK    0x1 /* valid + block at L1-L2 */
#define DESC_ATTR(i)  ((i) << 2)
#define DESC_SH_INNER (3 << 8)
#define DESC_AF	      (1 << 10)
#define DESC_PXN      (UL(1) << 53)
#define DESC_UXN      (UL(1) << 54)

/* Boot blocks: EL1 RWX (the identity map runs the MMU-enable code), EL0 never. */
#define BLOCK_NORMAL (DESC_BLOCK | DESC_ATTR(MT_NORMAL) | DESC_SH_INNER | DESC_AF | DESC_UXN)
#define BLOCK_DEVICE (DESC_BLOCK | DESC_ATTR(MT_DEVICE_nGnRE) | DESC_AF | DESC_PXN | DESC_UXN)

/*
 * TCR_EL1: T0SZ = T1SZ = 16, 4 KiB granules, walks inner shareable and
 * write-back cacheable. IPS and AS are filled in at run time from
 * ID_AA64MMFR0_EL1 (head.S, tcr_for_cpu).
 * TCR_EPD0 turns off walks through TTBR0 once a CPU no longer needs it.
 */
#define TCR_VALUE 0xB5103510
#define TCR_EPD0  (1 << 7)
#define TCR_AS	  (UL(1) << 36) /* 16-bit ASIDs (set at boot when the CPU has them) */

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

/* struct aarch64_ap_boot (aarch64.h), read by secondary_entry with the MMU off. */
#define AP_BOOT_TTBR0 0
#define AP_BOOT_TTBR1 8
#define AP_BOOT_STACK 16
#define AP_BOOT_CPU   24
#define AP_BOOT_SIZE  64 /* one cache line (CTR_EL0 minimum line is 16 bytes) */

/* Address spaces (struct mm, TTBR0) map user memory here: above 4 MiB, below 128 TiB. */
#define USER_BASE 0x0000000000400000
#define USER_TOP 0x0000800000000000

#endif
