// SPDX-License-Identifier: BSD-2-Clause
/*
 * x86-64 boot CPU entry in C, called by boot.S in long mode on the boot
 * page tables. Order matters: per-CPU GS first (arch_cpu_id), the serial
 * console next (everything after may print or panic), then descriptor
 * tables (exceptions become reportable), then the boot information.
 */
#include "arch/x86_64/ps2kbd.h"
#include "arch/x86_64/x86.h"
#include "boot/multiboot2.h"
#include "boot/pvh.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/console/console.h"
#include "kernel/printk.h"

extern const char __kernel_phys_start[], __kernel_end[];

/*
 * The boot CPU's APIC id as the MADT lists it: the 32-bit x2APIC id from
 * CPUID leaf 0xB when the CPU has that leaf (ids past 255 exist only
 * there), else the 8-bit initial APIC id of leaf 1.
 */
static uint32_t boot_cpu_apic_id(void)
{
	uint32_t a, b, c, d;
	cpuid(0, 0, &a, &b, &c, &d);
	if (a >= 0xB) {
		cpuid(0xB, 0, &a, &b, &c, &d);
		if (b != 0) /* EBX = 0: leaf 0xB not implemented */
			return d;
	}
	cpuid(1, 0, &a, &b, &c, &d);
	return b >> 24;
}

__noreturn void x86_boot_main(uint32_t info_pa, uint32_t protocol)
{
	x86_percpu_init(0, boot_cpu_apic_id());
	x86_serial_init();
	console_puts("\n");
	x86_cpu_tables_init(0);
	x86_cpuinfo_init();

	boot_info.kernel_start = (phys_addr_t)(uintptr_t)__kernel_phys_start;
	boot_info.kernel_end = arch_virt_to_phys(__kernel_end);
	boot_info_add_reserved(boot_info.kernel_start, boot_info.kernel_end - boot_info.kernel_start,
			       "kernel image");
	/* Real-mode IVT/BDA and the AP trampoline page stay out of the allocator. */
	boot_info_add_reserved(0, 0x1000, "real-mode IVT and BIOS data");
	boot_info_add_reserved(AP_TRAMPOLINE_PHYS, 0x1000, "AP trampoline");
	if (protocol == BOOT_PROTO_PVH)
		pvh_parse(info_pa);
	else
		multiboot2_parse(info_pa);
	acpi_init(boot_info.acpi_rsdp, boot_cpu_apic_id());
	x86_fwdump(info_pa, protocol);
	kernel_main();
}

void arch_init(void)
{
	/* First: the kernel's tables are live (vm_map_mmio), and the screen shows the rest. */
	console_screen_init();
	x86_apic_init_boot();
	x86_percpu[0].apic_id = x86_apic_id();
	x86_time_calibrate();
	x86_power_init();
	ps2kbd_init();
}
