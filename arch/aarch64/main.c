// SPDX-License-Identifier: BSD-2-Clause
/*
 * aarch64 boot CPU entry in C, called by head.S with the MMU on, running
 * at the linked address on the boot stack, TPIDR_EL1 and VBAR_EL1 set.
 * Order matters: the early console first (everything after may print or
 * panic), the clock (printk timestamps), then the device tree, which names
 * the real console, the interrupt controller, the timer and PSCI. x0 from
 * head.S is either the device tree (QEMU -kernel) or the EFI stub's boot
 * block (UEFI): the first word tells them apart; under UEFI memory comes
 * from the block and the device tree (or ACPI) from the firmware's
 * configuration table.
 *
 * arch_init() runs later from kernel_main, after mm_init: the GIC (mapped
 * with vm_map_mmio then) and the timer interrupt.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "boot/acpi_arm.h"
#include "boot/efi_block.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"

#ifndef AARCH64_EARLY_UART_BASE
#define AARCH64_EARLY_UART_BASE 0x09000000
#endif

/* __image_end: the boot tables included, so they stay reserved until mm.c releases them. */
extern const char __image_end[];

static unsigned entry_el;

__noreturn void aarch64_boot_main(phys_addr_t boot_pa, phys_addr_t image_pa, uint64_t el);

/* A device tree's first word (0xd00dfeed, big-endian) as a little-endian load reads it. */
#define FDT_MAGIC_LE 0xedfe0dd0u

/*
 * x0 was not a device tree: it must be the EFI stub's boot block
 * (efi_boot_parse panics naming what is wrong otherwise). Returns the
 * DTB the firmware gave, or 0 after an ACPI-only platform was read.
 */
static phys_addr_t efi_boot(phys_addr_t block)
{
	phys_addr_t dtb = efi_boot_parse(block);
	unsigned usable = 0;

	for (unsigned i = 0; i < boot_info.nr_mem; i++)
		usable += boot_info.mem[i].type == BOOT_MEM_USABLE;
	printk("boot: UEFI, %s, %u memory ranges from the EFI map",
	       dtb		     ? "DTB from the EFI config table"
	       : boot_info.acpi_rsdp ? "ACPI only (no DTB in the EFI config table)"
				     : "no DTB and no ACPI RSDP",
	       usable);
	if (dtb) {
		if (!arch_phys_to_virt(dtb))
			panic("aarch64_boot_main: device tree at %#lx is outside the boot mappings "
			      "(4 GiB)",
			      (unsigned long)dtb);
		return dtb;
	}
	if (!boot_info.acpi_rsdp)
		panic("aarch64_boot_main: the firmware gave neither a device tree nor ACPI tables");
	acpi_arm_boot_parse(boot_info.acpi_rsdp, aarch64_this_cpu()->mpidr);
	return 0;
}

static void switch_console(void)
{
	phys_addr_t uart = fdt_platform.uart_base;
	if (!uart) {
		printk("console: the device tree names no PL011 console; keeping %#lx",
		       (unsigned long)AARCH64_EARLY_UART_BASE);
		return;
	}
	if (!arch_phys_to_virt(uart))
		panic("aarch64_boot_main: console UART %#lx is outside the boot mappings (4 GiB)",
		      (unsigned long)uart);
	if (uart != AARCH64_EARLY_UART_BASE)
		aarch64_uart_init(uart);
}

__noreturn void aarch64_boot_main(phys_addr_t boot_pa, phys_addr_t image_pa, uint64_t el)
{
	phys_addr_t dtb_pa;

	aarch64_image_pa = image_pa;
	entry_el = (unsigned)el;
	aarch64_percpu_init(0);
	aarch64_uart_init(AARCH64_EARLY_UART_BASE);
	console_puts("\n");
	aarch64_time_init();
	__asm__ __volatile__("msr daifclr, #4" ::: "memory"); /* report SErrors */

	boot_info.kernel_start = image_pa;
	boot_info.kernel_end = arch_virt_to_phys(__image_end);
	boot_info_add_reserved(boot_info.kernel_start,
			       boot_info.kernel_end - boot_info.kernel_start, "kernel image");
	boot_info.loader_name = "QEMU -kernel (arm64 Image protocol)";
	if (!boot_pa)
		panic("aarch64_boot_main: no device tree (x0 = 0): boot the Image, not the ELF");
	if (!arch_phys_to_virt(boot_pa))
		panic("aarch64_boot_main: x0 = %#lx is outside the boot mappings (4 GiB)",
		      (unsigned long)boot_pa);
	dtb_pa = boot_pa;
	if (*(const uint32_t *)arch_phys_to_virt(boot_pa) != FDT_MAGIC_LE)
		dtb_pa = efi_boot(boot_pa);
	if (dtb_pa)
		fdt_boot_parse(dtb_pa, aarch64_this_cpu()->mpidr);
	switch_console();
	aarch64_cpuinfo_init();
	kernel_main();
}

void arch_init(void)
{
	static const char *const conduits[] = {"none", "hvc", "smc"};
	printk("arch: entered at EL%u, image at %#lx, MPIDR %#lx, PSCI %s", entry_el,
	       (unsigned long)aarch64_image_pa, (unsigned long)aarch64_this_cpu()->mpidr,
	       fdt_platform.psci <= PSCI_SMC ? conduits[fdt_platform.psci] : "?");
	unsigned intid = aarch64_timer_intid(); /* checks the counter and the device tree */
	gic_init();
	gic_init_cpu();
	printk("time: counter %lu Hz, virtual timer INTID %u, %u Hz tick",
	       (unsigned long)aarch64_timer_hz(), intid, TIMER_HZ);
}
