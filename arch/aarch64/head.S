/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 entry: the Linux arm64 Image header, the boot CPU's path from the
 * loader to C, the secondary CPUs' path from PSCI CPU_ON to C, and the one
 * routine that swaps the boot CPU's kernel tables.
 *
 * The loader (QEMU -kernel, or firmware, or Pagoda's EFI stub) enters
 * _start (or primary_entry) at EL2 or EL1 with the MMU and D-cache off,
 * x0 = physical address of the device tree or of the EFI stub's boot block
 * (efi/stub.c; aarch64_boot_main tells them apart by their magic), and
 * the image anywhere in RAM on a 2 MiB boundary. Until the MMU is on, this
 * code runs at that unknown physical address, so it uses only PC-relative
 * addressing (adr, adrp, literal loads); the image is linked at KERNEL_VMA.
 *
 * Boot CPU: leave EL2 if entered there, zero .bss and the boot page tables,
 * build those tables (layout.h: TTBR0 identity-maps the low 4 GiB, with
 * Device memory where the image's load address says devices are, TTBR1
 * maps the same 4 GiB at the direct-map base and the image at KERNEL_VMA),
 * turn the MMU on, jump to the linked address and call
 * aarch64_boot_main(dtb_pa, image_pa, entry_el) on the boot stack, which
 * sits on top of boot_stack_guard, a page the kernel's tables leave
 * unmapped so that an overflow faults.
 *
 * Secondary CPU: PSCI starts it at secondary_entry (physical) with x0 =
 * the physical address of its struct aarch64_ap_boot. A spin-table CPU
 * (Raspberry Pi) is released to spin_table_entry with x0 = 0 instead; it
 * finds its block in aarch64_spin_boot[] by MPIDR Aff0 and goes on there. The boot tables are
 * gone by then: the block names the kernel's own root for TTBR1 and a
 * temporary table that maps just this stub at its physical address for
 * TTBR0 (smp.c). The stub turns the MMU on with both, jumps to the linked
 * address at once and calls aarch64_secondary_main(cpu), which drops TTBR0.
 *
 * A failure before any console exists (image not 2 MiB aligned, entered at
 * EL3) stops the CPU in a wfe loop: there is nothing to print with yet.
 */
#include "arch/aarch64/efi/cache.h"
#include "arch/aarch64/efi/pe.h"
#include "arch/aarch64/layout.h"

/*
 * \reg = TCR_VALUE with IPS = the CPU's physical address range, capped at
 * 48 bits, and AS = 1 (16-bit ASIDs) when ID_AA64MMFR0_EL1.ASIDBits says
 * the CPU has them. cpuinfo.c reads the ASID width back from TCR_EL1.
 */
.macro tcr_for_cpu reg, tmp
	ldr	\reg, =TCR_VALUE
	mrs	\tmp, id_aa64mmfr0_el1
	and	\tmp, \tmp, #0x7	/* PARange */
	cmp	\tmp, #5		/* 52-bit outputs need 64 KiB pages or LPA2: cap at 48 */
	b.ls	.Ltcr_ips\@
	mov	\tmp, #5
.Ltcr_ips\@:
	bfi	\reg, \tmp, #32, #3	/* IPS */
	mrs	\tmp, id_aa64mmfr0_el1
	ubfx	\tmp, \tmp, #4, #4	/* ASIDBits: 0 = 8 bits, 2 = 16 bits */
	cmp	\tmp, #2
	b.ne	.Ltcr_as\@
	orr	\reg, \reg, #TCR_AS
.Ltcr_as\@:
.endm

/*
 * The Image header, and through code0's "MZ" and res5 also a DOS header
 * whose e_lfanew names the PE/COFF header that follows (efi/pe_header.S):
 * the same file is a UEFI application. Code starts after the 4 KiB of
 * headers, in .text.
 */
	.section .head.text, "ax"
	.globl _start
_start:
	.long	PE_MZ_INSN		/* code0: "MZ", executed as a flag-setting no-op */
	b	primary_entry		/* code1 */
	.quad	0			/* text_offset: load at a 2 MiB boundary */
	.quad	__image_size		/* image_size, .bss and boot tables included */
	.quad	IMAGE_FLAGS
	.quad	0, 0, 0			/* res2-res4 */
	.ascii	"ARM\x64"		/* magic, offset 56 */
	.long	__efi_pe_offset		/* res5: the PE header's offset */

	.text
	.globl primary_entry
primary_entry:
	msr	daifset, #0xf
	mov	x19, x0			/* device tree, physical */
	bl	el2_to_el1
	mov	x21, x0			/* the EL we were entered at */
	adr	x20, _start		/* where we were loaded */
	tst	x20, #(SZ_2M - 1)
	b.ne	early_stop

	/*
	 * .bss and the boot tables are written with the MMU off, so straight
	 * to memory. Invalidate the range before, so no dirty line from the
	 * loader is written back over it later, and after, so the cacheable
	 * view the MMU gives us cannot hit stale lines.
	 */
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __image_end
	bl	dcache_inval_range
	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __image_end
1:	stp	xzr, xzr, [x0], #16
	cmp	x0, x1
	b.lo	1b

	bl	build_boot_tables

	adrp	x0, __bss_start
	add	x0, x0, :lo12:__bss_start
	adrp	x1, __image_end
	bl	dcache_inval_range

	bl	mmu_enable
	ldr	x0, =primary_high
	br	x0

/*
 * \l2 (a table) = 512 2 MiB blocks from physical \base: Normal, except the
 * top \device ones, Device. Clobbers x7-x9; x3 = BLOCK_DEVICE,
 * x4 = BLOCK_NORMAL.
 */
.macro boot_l2_fill l2, base, device
	adrp	x7, \l2
	ldr	x8, =\base
	mov	x9, #0
6:	cmp	x9, #(512 - \device)
	csel	x2, x4, x3, lo
	orr	x2, x2, x8
	str	x2, [x7, x9, lsl #3]
	add	x8, x8, #SZ_2M
	add	x9, x9, #1
	cmp	x9, #512
	b.lo	6b
	orr	x2, x7, #DESC_TABLE
.endm

/*
 * Identity map (TTBR0): L0[0] -> boot_l1_low, one 1 GiB block per entry,
 * unless the image sits in the first GiB (layout.h: a board with RAM at 0,
 * the Raspberry Pis): then GiB 0 and GiB 3 go through 2 MiB blocks whose
 * tops are Device (the peripherals at 0x3F000000 and 0xFC000000).
 * Direct map (TTBR1): L0[DIRECT_MAP_L0_INDEX] -> the same boot_l1_low.
 * Kernel map (TTBR1): L0[KERNEL_L0_INDEX] -> boot_l1_high,
 * L1[KERNEL_L1_INDEX] -> boot_l2_high, whose 2 MiB blocks map the image
 * from x20 (its physical base) up to __kernel_end.
 * Clobbers x0-x6.
 */
build_boot_tables:
	adrp	x0, boot_l0_low
	adrp	x1, boot_l1_low
	orr	x2, x1, #DESC_TABLE
	str	x2, [x0]
	adrp	x0, boot_l0_high
	str	x2, [x0, #(DIRECT_MAP_L0_INDEX * 8)]
	ldr	x3, =BLOCK_DEVICE
	ldr	x4, =BLOCK_NORMAL
	mov	x5, #0
2:	lsl	x6, x5, #30
	cmp	x5, #BOOT_DEVICE_GIB
	csel	x2, x3, x4, lo
	orr	x2, x2, x6
	str	x2, [x1, x5, lsl #3]
	add	x5, x5, #1
	cmp	x5, #BOOT_IDENTITY_GIB
	b.lo	2b
	lsr	x5, x20, #30
	cbnz	x5, 3f			/* loaded above 1 GiB: the layout above stands */
	boot_l2_fill boot_l2_low, 0, BOOT_DEVICE_LOW_BLOCKS
	str	x2, [x1]
	boot_l2_fill boot_l2_top, (3 << 30), BOOT_DEVICE_TOP_BLOCKS
	str	x2, [x1, #24]
3:

	adrp	x0, boot_l0_high
	adrp	x1, boot_l1_high
	adrp	x2, boot_l2_high
	orr	x3, x1, #DESC_TABLE
	str	x3, [x0, #(KERNEL_L0_INDEX * 8)]
	orr	x3, x2, #DESC_TABLE
	str	x3, [x1, #(KERNEL_L1_INDEX * 8)]
	adrp	x5, __kernel_end
	sub	x5, x5, x20		/* image bytes */
	mov	x6, #(SZ_2M - 1)
	add	x5, x5, x6
	lsr	x5, x5, #21		/* 2 MiB blocks; at most 512 (one L2 table) */
	cmp	x5, #512
	b.hi	early_stop
	orr	x3, x20, x4		/* x4: BLOCK_NORMAL */
	mov	x6, #0
4:	str	x3, [x2, x6, lsl #3]
	add	x3, x3, #SZ_2M
	add	x6, x6, #1
	cmp	x6, x5
	b.lo	4b
	ret

/*
 * Turns the boot CPU's MMU on with the boot tables. Runs from the identity
 * map, so the instruction after the SCTLR write is fetched at the same
 * (physical) address with translation on. Clobbers x0-x2.
 */
mmu_enable:
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	tcr_for_cpu x0, x1
	msr	tcr_el1, x0
	adrp	x0, boot_l0_low
	msr	ttbr0_el1, x0
	adrp	x0, boot_l0_high
	msr	ttbr1_el1, x0
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	ldr	x0, =SCTLR_EL1_MMU_ON
	msr	sctlr_el1, x0
	isb
	ret

/*
 * Leaves EL2 for EL1 (returns to x30 at EL1), or just returns at EL1.
 * Returns the entry exception level in x0. Clobbers x9, x10.
 * At EL2: EL1 is AArch64 and nothing traps to EL2 (HCR_EL2 = RW only,
 * timers and counters open to EL1, no FP/SIMD traps), MPIDR/MIDR read at
 * EL1 show the real values, and on a GICv3 CPU the system-register
 * interface is opened to EL1 (ICC_SRE_EL2.Enable | SRE).
 */
el2_to_el1:
	mrs	x0, CurrentEL
	ubfx	x0, x0, #2, #2
	cmp	x0, #1
	b.eq	1f
	cmp	x0, #2
	b.ne	early_stop
	mov	x9, #HCR_EL2_RW
	msr	hcr_el2, x9
	mov	x9, #3			/* CNTHCTL_EL2.EL1PCTEN | EL1PCEN */
	msr	cnthctl_el2, x9
	msr	cntvoff_el2, xzr
	mrs	x9, midr_el1
	msr	vpidr_el2, x9
	mrs	x9, mpidr_el1
	msr	vmpidr_el2, x9
	mov	x9, #0x33ff		/* CPTR_EL2: RES1 bits only, no traps */
	msr	cptr_el2, x9
	msr	hstr_el2, xzr
	mrs	x9, id_aa64pfr0_el1
	ubfx	x9, x9, #24, #4		/* GIC system registers implemented? */
	cbz	x9, 2f
	mrs	x9, s3_4_c12_c9_5	/* ICC_SRE_EL2 */
	mov	x10, #0x9		/* Enable | SRE */
	orr	x9, x9, x10
	msr	s3_4_c12_c9_5, x9
	isb
	msr	s3_4_c12_c11_0, xzr	/* ICH_HCR_EL2: no virtual interrupts */
2:	ldr	x9, =SCTLR_EL1_RES1	/* EL1 MMU and caches off */
	msr	sctlr_el1, x9
	mov	x9, #SPSR_EL1H_MASKED
	msr	spsr_el2, x9
	msr	elr_el2, x30
	isb
	eret
1:	ret

/* Invalidates data cache lines covering [x0, x1) to the point of coherency. Clobbers x2, x3. */
dcache_inval_range:
	dcache_by_line ivac, x0, x1, x2, x3
	ret

early_stop:
	wfe
	b	early_stop

/*
 * void aarch64_idmap_replace_ttbr1(phys_addr_t root, phys_addr_t empty)
 *
 * Called by the boot CPU at this routine's PHYSICAL address, which the
 * boot identity map (still in TTBR0) translates: nothing here touches a
 * TTBR1 address, the stack included. TTBR1 first points at an all-zero
 * table and the TLB is emptied, so that no entry from the boot tables (the
 * image in 2 MiB blocks) ever coexists with one from the kernel's tables
 * (the image in pages) for the same address: a TLB holding both sizes may
 * raise a TLB conflict abort. Only then is the kernel's root installed.
 * Returns to the caller's TTBR1 address, now translated by `root`.
 */
	.globl aarch64_idmap_replace_ttbr1
aarch64_idmap_replace_ttbr1:
	dsb	ish			/* the caller's table writes reach the walker first */
	msr	ttbr1_el1, x1
	isb
	tlbi	vmalle1
	dsb	nsh
	isb
	msr	ttbr1_el1, x0
	isb
	ret

/*
 * PSCI CPU_ON entry, at its physical address, MMU off; x0 = physical
 * address of this CPU's struct aarch64_ap_boot, which the boot CPU cleaned
 * to the point of coherency, so the non-cacheable reads here see it.
 * From aarch64_ap_stub_start to aarch64_ap_stub_end (literal pool
 * included) is what the temporary TTBR0 table maps 1:1: the instructions
 * after the SCTLR write are fetched through it.
 */
	.balign	64
	.globl secondary_entry, spin_table_entry, aarch64_ap_stub_start, aarch64_ap_stub_end
aarch64_ap_stub_start:
/*
 * Spin-table release: the firmware's (or QEMU's) wait loop branches here
 * with x0 = 0, MMU off. The boot CPU put this CPU's boot block address in
 * aarch64_spin_boot[MPIDR.Aff0] and cleaned it to PoC before the release.
 */
spin_table_entry:
	mrs	x1, mpidr_el1
	and	x1, x1, #0xff
	cmp	x1, #AARCH64_CPU_MAX
	b.hs	early_stop
	adrp	x0, aarch64_spin_boot
	add	x0, x0, :lo12:aarch64_spin_boot
	ldr	x0, [x0, x1, lsl #3]
	cbz	x0, early_stop
secondary_entry:
	msr	daifset, #0xf
	mov	x19, x0
	bl	el2_to_el1
	ldp	x20, x21, [x19, #AP_BOOT_TTBR0]	/* TTBR0 (the stub's page), TTBR1 (the kernel) */
	ldp	x22, x23, [x19, #AP_BOOT_STACK]	/* stack top (virtual), logical id */
	ldr	x0, =MAIR_VALUE
	msr	mair_el1, x0
	tcr_for_cpu x0, x1
	msr	tcr_el1, x0
	msr	ttbr0_el1, x20
	msr	ttbr1_el1, x21
	isb
	tlbi	vmalle1
	ic	iallu
	dsb	nsh
	isb
	ldr	x0, =SCTLR_EL1_MMU_ON
	msr	sctlr_el1, x0
	isb
	ldr	x0, =secondary_high
	br	x0
	.ltorg
aarch64_ap_stub_end:

	.ltorg

/* ---- From here on the code runs at its linked (TTBR1) address. -------- */

	.text
primary_high:
	ldr	x0, =boot_stack_top
	mov	sp, x0
	ldr	x0, =aarch64_percpu
	msr	tpidr_el1, x0
	ldr	x0, =exception_vectors
	msr	vbar_el1, x0
	isb
	mov	x29, #0			/* terminates backtraces */
	mov	x30, #0
	mov	x0, x19
	mov	x1, x20
	mov	x2, x21
	bl	aarch64_boot_main
	b	high_stop

/* x22 = stack top, x23 = logical id, from the boot block. */
secondary_high:
	cmp	x23, #AARCH64_CPU_MAX
	b.hs	high_stop
	cbz	x22, high_stop
	mov	sp, x22
	ldr	x0, =aarch64_percpu
	mov	x1, #PERCPU_SIZE
	madd	x0, x23, x1, x0
	msr	tpidr_el1, x0
	ldr	x0, =exception_vectors
	msr	vbar_el1, x0
	isb
	mov	x29, #0
	mov	x30, #0
	mov	x0, x23
	bl	aarch64_secondary_main
high_stop:
	msr	daifset, #0xf
1:	wfi
	b	1b

	.ltorg

/* The boot tables: after __kernel_end, released once the boot CPU has left them. */
	.section .boot_tables, "aw", %nobits
	.balign 4096
boot_l0_low:
	.skip 4096
boot_l1_low:
	.skip 4096
boot_l0_high:
	.skip 4096
boot_l1_high:
	.skip 4096
boot_l2_high:
	.skip 4096
boot_l2_low:				/* GiB 0 and GiB 3 when the image is in GiB 0 */
	.skip 4096
boot_l2_top:
	.skip 4096

	.data
	.balign	64
	.globl aarch64_spin_boot
aarch64_spin_boot:			/* spin-table CPUs' boot blocks, by MPIDR Aff0 (smp.c) */
	.skip	AARCH64_CPU_MAX * 8

	.bss
	.balign 4096
	.globl boot_stack_guard
boot_stack_guard:			/* left unmapped by the kernel's own tables */
	.skip 4096
boot_stack_bottom:
	.skip 16384
boot_stack_top:
