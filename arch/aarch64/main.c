// SPDX-License-Identifier: BSD-2-Clause
/*
 * aarch64 boot CPU entry in C, called by head.S with the MMU on, running
 * at the linked address on the boot stack, TPIDR_EL1 and VBAR_EL1 set.
 * Order matters: the early console first (everything after may print or
 * panic), the clock (printk timestamps), then the device tree, which names
 * the board (platform/), the real console, the interrupt controller, the
 * timer and PSCI.
 *
 * The early console is the PL011 of the board guessed from the CPU and the
 * load address (platform_guess), and only when the boot map makes its
 * address Device memory: on a Raspberry Pi virt's 0x09000000 is RAM, and
 * writing UART registers there would corrupt it. So a missing or wrong
 * device tree on a Pi is still reported on the Pi's UART: x0 holding ATAGs
 * instead of a tree, or a tree whose memory does not hold the image. x0 from
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
#include "arch/aarch64/platform/platform.h"
#include "boot/acpi_arm.h"
#include "boot/efi_block.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/console/console.h"
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"

/* __image_end: the boot tables included, so they stay reserved until mm.c releases them. */
extern const char __image_end[];

static unsigned entry_el;
static phys_addr_t early_uart;
static const struct platform_ops *guessed; /* from the CPU and load address, or NULL */

__noreturn void aarch64_boot_main(phys_addr_t boot_pa, phys_addr_t image_pa, uint64_t el);

/* A device tree's first word (0xd00dfeed, big-endian) as a little-endian load reads it. */
#define FDT_MAGIC_LE 0xedfe0dd0u
/* ATAG_CORE: what a 32-bit-style loader leaves at x0 = 0x100 when given no device tree. */
#define ATAG_CORE 0x54410001u

bool aarch64_boot_map_device(phys_addr_t pa)
{
	phys_addr_t image_pa = aarch64_image_pa;
	const uint64_t gib = 1ul << 30, top = (uint64_t)BOOT_DEVICE_TOP_BLOCKS * SZ_2M;
	const uint64_t low = (uint64_t)BOOT_DEVICE_LOW_BLOCKS * SZ_2M;
	if (image_pa >= gib)
		return pa < (uint64_t)BOOT_DEVICE_GIB * gib;
	return (pa >= gib - low && pa < gib) ||
	       (pa >= BOOT_IDENTITY_GIB * gib - top && pa < BOOT_IDENTITY_GIB * gib);
}

/* The early console: the guessed board's UARTs, each only when the boot map makes it Device. */
static void early_console(phys_addr_t image_pa)
{
	guessed = platform_guess(image_pa);
	if (guessed && guessed->early_uart && aarch64_boot_map_device(guessed->early_uart)) {
		early_uart = guessed->early_uart;
		aarch64_uart_set_clock(guessed->uart_clock_hz);
	}
	aarch64_uart_init(early_uart);
	if (guessed && guessed->early_console_init)
		guessed->early_console_init();
}

/* The loaded image must lie in RAM the device tree describes, or the tree is another machine's. */
static void check_image_in_ram(phys_addr_t image_pa)
{
	for (unsigned i = 0; i < boot_info.nr_mem; i++)
		if (boot_info.mem[i].type == BOOT_MEM_USABLE && image_pa >= boot_info.mem[i].base &&
		    image_pa - boot_info.mem[i].base < boot_info.mem[i].size)
			return;
	panic("aarch64_boot_main: the device tree (\"%s\") has no memory at the image (%#lx): "
	      "a device tree for another machine?",
	      fdt_platform.board, (unsigned long)image_pa);
}

/*
 * Memory the kernel will use must not be Device in the boot map: zeroing it
 * there (dc zva) faults before any handler can say why. Checks each usable
 * range's first and last 2 MiB block and the windows' starts inside it.
 */
static void check_ram_not_device(phys_addr_t image_pa)
{
	const uint64_t gib = 1ul << 30;
	const phys_addr_t windows[] = {gib - (uint64_t)BOOT_DEVICE_LOW_BLOCKS * SZ_2M,
				       BOOT_IDENTITY_GIB * gib -
					   (uint64_t)BOOT_DEVICE_TOP_BLOCKS * SZ_2M};
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *m = &boot_info.mem[i];
		if (m->type != BOOT_MEM_USABLE || !m->size)
			continue;
		bool bad = aarch64_boot_map_device(m->base) ||
			   aarch64_boot_map_device(m->base + m->size - 1);
		for (unsigned w = 0; w < sizeof(windows) / sizeof(windows[0]); w++)
			bad |= image_pa < gib && windows[w] >= m->base &&
			       windows[w] - m->base < m->size;
		if (bad)
			panic("aarch64_boot_main: RAM [%#lx, %#lx) from the device tree overlaps the "
			      "boot map's Device window (layout.h): a board this rule does not know",
			      (unsigned long)m->base, (unsigned long)(m->base + m->size));
	}
}

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
		       (unsigned long)early_uart);
		return;
	}
	if (!arch_phys_to_virt(uart))
		panic("aarch64_boot_main: console UART %#lx is outside the boot mappings (4 GiB)",
		      (unsigned long)uart);
	if (uart != early_uart) {
		aarch64_uart_set_clock(platform->uart_clock_hz);
		aarch64_uart_init(uart);
	}
	if (platform->console_init)
		platform->console_init();
}

__noreturn void aarch64_boot_main(phys_addr_t boot_pa, phys_addr_t image_pa, uint64_t el)
{
	phys_addr_t dtb_pa;

	aarch64_image_pa = image_pa;
	entry_el = (unsigned)el;
	aarch64_percpu_init(0);
	early_console(image_pa);
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
	const uint32_t *first = arch_phys_to_virt(boot_pa);
	if (first[0] != FDT_MAGIC_LE && first[1] == ATAG_CORE)
		panic("aarch64_boot_main: x0 = %#lx holds ATAGs, not a device tree: give the "
		      "board's DTB (QEMU -dtb, or the firmware's device_tree=)",
		      (unsigned long)boot_pa);
	if (first[0] != FDT_MAGIC_LE)
		dtb_pa = efi_boot(boot_pa);
	if (dtb_pa) {
		fdt_boot_parse(dtb_pa, aarch64_this_cpu()->mpidr);
		/* A known board other than the one the CPU and load address say: another's DTB. */
		if (platform_select() && guessed && platform != guessed)
			panic("aarch64_boot_main: the device tree is for %s (\"%s\"), but CPU part "
			      "%#lx with the image at %#lx is %s: wrong DTB for this board",
			      platform->name, fdt_platform.board,
			      (unsigned long)(read_sysreg(midr_el1) >> 4) & 0xFFF,
			      (unsigned long)image_pa, guessed->name);
		if (!boot_info.efi_memory_map)
			check_image_in_ram(image_pa);
		check_ram_not_device(image_pa);
	}
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
	platform->power_init();
	if (platform->screen_init && platform->screen_init())
		console_screen_init();
	printk("time: counter %lu Hz, virtual timer INTID %u, %u Hz tick",
	       (unsigned long)aarch64_timer_hz(), intid, TIMER_HZ);
}
