// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting application processors: copy the real-mode trampoline to its
 * page below 1 MiB, fill its data block (page-table root, stack, entry,
 * logical id), then INIT, 10 ms, SIPI, and a second SIPI only if the CPU
 * has not reported that it started (the Intel SDM sequence).
 *
 * The AP turns paging on with the kernel's own tables, so while it starts
 * the trampoline page is also mapped at its physical address (the code
 * runs there until it jumps to the higher half); the mapping is removed as
 * soon as the AP reports from C, which it does only after flushing its own
 * TLB (it is not online yet, so the unmap's shootdown does not reach it).
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/time.h"
#include "lib/string.h"

struct ap_data {
	uint64_t cr3;
	uint64_t stack;
	uint64_t entry;
	uint32_t cpu;
	uint32_t reserved;
};

static volatile int ap_started = -1; /* logical id of the AP that last reached C */

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_data[];

static __noreturn void x86_ap_main(unsigned cpu)
{
	x86_percpu_init(cpu, 0);
	/*
	 * Flush (arch_mm_switch_kernel) before reporting: the boot CPU then
	 * unmaps the trampoline and frees its tables, and this CPU is not
	 * online yet, so that unmap's flush does not reach it.
	 */
	arch_mm_switch_kernel(kernel_pt.root);
	__atomic_store_n(&ap_started, (int)cpu, __ATOMIC_RELEASE);
	x86_cpu_tables_init(cpu);
	x86_apic_init_ap();
	x86_percpu[cpu].apic_id = x86_apic_id();
	smp_secondary_main(cpu);
}

bool arch_cpu_start(unsigned cpu, void *stack_top)
{
	uint32_t apic_id = (uint32_t)boot_info.cpus[cpu].hw_id;
	if (!x86_apic_can_address(apic_id)) {
		printk("smp: cpu%u: APIC id %#x needs x2APIC mode, which this CPU does not offer",
		       cpu, apic_id);
		return false;
	}
	char *page = arch_phys_to_virt(AP_TRAMPOLINE_PHYS);
	size_t len = (size_t)(ap_trampoline_end - ap_trampoline_start);
	memcpy(page, ap_trampoline_start, len);
	volatile struct ap_data *d =
		(volatile struct ap_data *)(page + (ap_trampoline_data - ap_trampoline_start));
	if (kernel_pt.root >= GiB(4))
		panic("arch_cpu_start: kernel root %#lx is above 4 GiB, out of reach of 32-bit "
		      "mode",
		      (unsigned long)kernel_pt.root);
	d->cr3 = kernel_pt.root;
	d->stack = (uint64_t)(uintptr_t)stack_top;
	d->entry = (uint64_t)(uintptr_t)x86_ap_main;
	d->cpu = cpu;
	int err = pt_map(&kernel_pt, AP_TRAMPOLINE_PHYS, AP_TRAMPOLINE_PHYS, PAGE_SIZE,
			 PT_READ | PT_WRITE | PT_EXEC);
	if (err)
		panic("arch_cpu_start: cannot map the trampoline page: %d", err);

	uint8_t vector_page = AP_TRAMPOLINE_PHYS >> 12;
	x86_apic_send_init_sipi(apic_id, 0, true);
	time_delay_ns(10000000);
	bool started = false;
	for (int attempt = 0; attempt < 2 && !started; attempt++) {
		x86_apic_send_init_sipi(apic_id, vector_page, false);
		uint64_t deadline = arch_time_ns() + 200000000ull;
		while (arch_time_ns() < deadline && !started)
			started = __atomic_load_n(&ap_started, __ATOMIC_ACQUIRE) == (int)cpu;
	}
	pt_unmap(&kernel_pt, AP_TRAMPOLINE_PHYS, PAGE_SIZE);
	return started;
}
