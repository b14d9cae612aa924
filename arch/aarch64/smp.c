// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting secondary CPUs and sending IPIs on aarch64.
 *
 * A secondary starts directly on the kernel's own tables; the boot tables
 * are gone by then. arch_cpu_start() builds a small private table tree
 * (struct pt) that maps only head.S's start-up stub at its physical
 * address, because the instructions right after the MMU is turned on are
 * still fetched there. It fills the CPU's struct aarch64_ap_boot (that
 * tree for TTBR0, kernel_pt's root for TTBR1, the stack top, the logical
 * id), cleans it to the point of coherency (the stub reads it with the
 * MMU, hence the caches, off) and has the board start the CPU (MPIDR from
 * boot_info) with the block's physical address: PSCI CPU_ON at the stub
 * with it as the context id (virt), or a spin-table release (the
 * Raspberry Pis, spin_table.c).
 *
 * The stub jumps to the kernel half at once; aarch64_secondary_main then
 * drops TTBR0 (arch_mm_switch_kernel), and only after that reports that it
 * started. arch_cpu_start waits for that report (bounded) and destroys the
 * stub's tree: no CPU can still walk it. A CPU that never reports keeps
 * its tree forever, since it might still be on its way through the stub.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

#define AP_REPORT_TIMEOUT_NS 1000000000ull

_Static_assert(offsetof(struct aarch64_ap_boot, ttbr0) == AP_BOOT_TTBR0, "AP_BOOT_TTBR0");
_Static_assert(offsetof(struct aarch64_ap_boot, ttbr1) == AP_BOOT_TTBR1, "AP_BOOT_TTBR1");
_Static_assert(offsetof(struct aarch64_ap_boot, stack) == AP_BOOT_STACK, "AP_BOOT_STACK");
_Static_assert(offsetof(struct aarch64_ap_boot, cpu) == AP_BOOT_CPU, "AP_BOOT_CPU");
_Static_assert(sizeof(struct aarch64_ap_boot) == AP_BOOT_SIZE, "AP_BOOT_SIZE");

static struct aarch64_ap_boot ap_boot[CPU_MAX];
/*
 * Per CPU: it reached C without TTBR0. One flag each, because starts go on
 * after a CPU that timed out, and a late one must not overwrite the
 * report of the CPU started after it.
 */
static bool ap_started[CPU_MAX];

__noreturn void aarch64_secondary_main(unsigned cpu);

__noreturn void aarch64_secondary_main(unsigned cpu)
{
	aarch64_percpu_init(cpu);
	arch_mm_switch_kernel(kernel_pt.root);
	__atomic_store_n(&ap_started[cpu], true, __ATOMIC_RELEASE);
	/* Before the checks that can panic and the GIC: a late CPU parks here. */
	smp_secondary_claim(cpu, false);
	aarch64_cpuinfo_check(cpu);
	__asm__ __volatile__("msr daifclr, #4" ::: "memory"); /* report SErrors */
	gic_init_cpu();
	smp_secondary_main(cpu);
}

/* The stub's pages at their physical addresses, executable at EL1, for TTBR0. */
static int map_stub(struct pt *pt)
{
	int err = pt_init(pt);
	if (err)
		return err;
	phys_addr_t start = ALIGN_DOWN(arch_virt_to_phys(aarch64_ap_stub_start), PAGE_SIZE);
	phys_addr_t end = ALIGN_UP(arch_virt_to_phys(aarch64_ap_stub_end), PAGE_SIZE);
	err = pt_map(pt, start, start, end - start, PT_READ | PT_EXEC);
	if (err)
		pt_destroy(pt);
	return err;
}

bool arch_cpu_start(unsigned cpu, void *stack_top)
{
	uint64_t mpidr = boot_info.cpus[cpu].hw_id;
	struct pt stub;
	int err = map_stub(&stub);
	if (err) {
		printk("smp: cpu%u: no memory for its start-up mapping (%d)", cpu, err);
		return false;
	}
	struct aarch64_ap_boot *b = &ap_boot[cpu];
	b->ttbr0 = stub.root;
	b->ttbr1 = kernel_pt.root;
	b->stack = (uint64_t)(uintptr_t)stack_top;
	b->cpu = cpu;
	aarch64_dcache_clean_inval(b, sizeof(*b));

	if (!platform->cpu_start(cpu, mpidr, arch_virt_to_phys(b))) {
		pt_destroy(&stub);
		return false;
	}
	uint64_t deadline = arch_time_ns() + AP_REPORT_TIMEOUT_NS;
	while (!__atomic_load_n(&ap_started[cpu], __ATOMIC_ACQUIRE)) {
		if (arch_time_ns() > deadline) {
			printk(
			    "smp: cpu%u (MPIDR %#lx) never reached C; its start-up mapping stays",
			    cpu, (unsigned long)mpidr);
			return false;
		}
		arch_cpu_relax();
	}
	pt_destroy(&stub);
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
