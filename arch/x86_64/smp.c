// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting application processors: copy the real-mode trampoline to its
 * page below 1 MiB, fill its data block (page-table root, stack, entry,
 * logical id), then INIT, 10 ms, SIPI, and a second SIPI only if the CPU
 * has not reported that it started (the Intel SDM sequence).
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "lib/string.h"

struct ap_data {
	uint64_t cr3;
	uint64_t stack;
	uint64_t entry;
	uint32_t cpu;
	uint32_t started;
};

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_data[];
extern char boot_pml4[];

static __noreturn void x86_ap_main(unsigned cpu)
{
	x86_percpu_init(cpu, 0);
	x86_cpu_tables_init(cpu);
	x86_apic_init_ap();
	x86_percpu[cpu].apic_id = x86_apic_id();
	smp_secondary_main(cpu);
}

bool arch_cpu_start(unsigned cpu, void *stack_top)
{
	char *page = arch_phys_to_virt(AP_TRAMPOLINE_PHYS);
	size_t len = (size_t)(ap_trampoline_end - ap_trampoline_start);
	memcpy(page, ap_trampoline_start, len);
	volatile struct ap_data *d =
		(volatile struct ap_data *)(page + (ap_trampoline_data - ap_trampoline_start));
	d->cr3 = arch_virt_to_phys(boot_pml4);
	d->stack = (uint64_t)(uintptr_t)stack_top;
	d->entry = (uint64_t)(uintptr_t)x86_ap_main;
	d->cpu = cpu;
	d->started = 0;

	uint32_t apic_id = (uint32_t)boot_info.cpus[cpu].hw_id;
	uint8_t vector_page = AP_TRAMPOLINE_PHYS >> 12;
	x86_apic_send_init_sipi(apic_id, 0, true);
	time_delay_ns(10000000);
	for (int attempt = 0; attempt < 2; attempt++) {
		x86_apic_send_init_sipi(apic_id, vector_page, false);
		uint64_t deadline = arch_time_ns() + 200000000ull;
		while (arch_time_ns() < deadline)
			if (d->started)
				return true;
	}
	return false;
}
