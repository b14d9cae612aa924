// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting secondary CPUs and sending IPIs on aarch64.
 *
 * arch_cpu_start() publishes the CPU's stack top in aarch64_secondary_stack
 * and asks PSCI CPU_ON to start the CPU (MPIDR from boot_info) at the
 * physical address of head.S's secondary_entry, with its logical id as
 * the context id. The stub turns the MMU on with the boot CPU's tables
 * before it reads anything written by C, so no cache maintenance is
 * needed for the stack slot: every CPU sees it through the coherent
 * cacheable mapping.
 *
 * Spin-table CPUs (enable-method "spin-table", e.g. Raspberry Pi firmware)
 * are not supported yet: arch_cpu_start reports them and returns false.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"

uint64_t aarch64_secondary_stack[CPU_MAX];

__noreturn void aarch64_secondary_main(unsigned cpu);

__noreturn void aarch64_secondary_main(unsigned cpu)
{
	aarch64_percpu_init(cpu);
	__asm__ __volatile__("msr daifclr, #4" ::: "memory"); /* report SErrors */
	gic_init_cpu();
	smp_secondary_main(cpu);
}

bool arch_cpu_start(unsigned cpu, void *stack_top)
{
	uint64_t mpidr = boot_info.cpus[cpu].hw_id;
	if (fdt_platform.cpu_enable == CPU_ENABLE_SPIN_TABLE) {
		printk("smp: cpu%u (MPIDR %#lx): spin-table start is not supported yet", cpu,
		       (unsigned long)mpidr);
		return false;
	}
	if (fdt_platform.psci == PSCI_NONE) {
		printk("smp: cpu%u (MPIDR %#lx): no PSCI in the device tree to start it", cpu,
		       (unsigned long)mpidr);
		return false;
	}
	atomic_store_release(&aarch64_secondary_stack[cpu], (uint64_t)(uintptr_t)stack_top);
	dsb(ish);
	int64_t ret = aarch64_psci_call(fdt_platform.psci_cpu_on, mpidr,
					arch_virt_to_phys(secondary_entry), cpu);
	if (ret != 0) {
		printk("smp: cpu%u (MPIDR %#lx): PSCI CPU_ON failed: %ld (%s)", cpu,
		       (unsigned long)mpidr, (long)ret, aarch64_psci_error(ret));
		return false;
	}
	return true;
}

void arch_ipi_send(cpumask_t targets, enum ipi_kind kind)
{
	/*
	 * An ordinary SGI: a CPU spinning with IRQs masked will not take
	 * IPI_STOP (x86 uses an NMI; GICv3 pseudo-NMIs could do it later).
	 */
	gic_send_sgi(targets, (unsigned)kind);
}
