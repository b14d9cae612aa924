// SPDX-License-Identifier: BSD-2-Clause
/*
 * Starting application processors: copy the real-mode trampoline to its
 * page below 1 MiB, fill its data block (page-table root, stack, entry,
 * logical id), then INIT, 10 ms, SIPI, and a second SIPI only if the CPU
 * has not reported that it started (the Intel SDM sequence).
 *
 * The AP turns paging on with the kernel's own tables, so while it starts
 * the trampoline page is also mapped at its physical address (the code
 * runs there until it jumps to the higher half); the mapping is removed
 * once the AP has joined cpu_online_mask, so that the unmap's shootdown
 * reaches it (rule 12, docs/tlb.md): the unmap frees the tables under the
 * page, and a walk the AP's walker cached after its early flush (a
 * speculative one of a low address) must not outlive them. An AP that
 * reports but does not join within 2 s pins the page mapped (no table is
 * ever freed under it), and every later AP reuses that mapping.
 *
 * One trampoline serves every AP in turn. An AP that has not reported when
 * the BSP gives up may still be running it, late: it would read the next
 * AP's data block (its stack and logical id) or run into an unmapped page.
 * So after a give-up the trampoline is left as it is, mapped, for that AP
 * alone, and no further AP is started (INIT would not reliably stop it:
 * QEMU's TCG let such an AP run on) until that AP has reached C, past the
 * trampoline's code and data: there it claims its place (kernel/smp.c:
 * the boot CPU's give-up and the AP's claim race on one compare-and-swap)
 * and either comes online, or parks, not online, and pins the page mapped.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "lib/string.h"

struct ap_data {
	uint64_t cr3;
	uint64_t stack;
	uint64_t entry;
	uint32_t cpu;
	uint32_t reserved;
};

CMDLINE_PARAM(smp_test_give_up_param, .key = "smp.test_give_up", .kind = CMDLINE_U64, .min = 0,
	      .max = CPU_MAX - 1, .def = "0",
	      .help = "test-only (x86-64): give up starting this AP at once, as if it were late (0: none)");

static volatile int ap_started = -1; /* logical id of the AP that last reached C */
static int trampoline_held_by = -1; /* an AP given up on that may still run the trampoline */
static bool trampoline_mapped;	    /* mapped now: an AP is starting, or it is pinned */
/* Never unmapped again: an AP reported from C but never joined (its walker may hold its tables). */
static bool trampoline_pinned;
static unsigned give_up_cpu; /* smp.test_give_up's CPU (0: none), read by that AP */

extern const char ap_trampoline_start[], ap_trampoline_end[], ap_trampoline_data[];

static __noreturn void x86_ap_main(unsigned cpu)
{
	x86_percpu_init(cpu, 0);
	/*
	 * A full flush, globals included, of what the walker cached on the way
	 * in. The trampoline's unmap does not rely on it any more: it waits
	 * until this CPU is online, so its own shootdown reaches it.
	 */
	arch_mm_switch_kernel(kernel_pt.root);
	__atomic_store_n(&ap_started, (int)cpu, __ATOMIC_RELEASE);
	x86_cpu_tables_init(cpu);
	/* An IDT first (an NMI must find one), then the claim before the APIC can panic. */
	smp_secondary_claim(cpu, cpu == give_up_cpu);
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
	if (trampoline_held_by >= 0 &&
	    __atomic_load_n(&ap_started, __ATOMIC_ACQUIRE) == trampoline_held_by) {
		/*
		 * It reached C after all: past the trampoline's code and data
		 * block. Online (it claimed in time) or not (parked, or about
		 * to), its walker may hold the page's tables only if it is
		 * outside the mask a later unmap's shootdown reads: pin them.
		 */
		if (!atomic_load_acquire(&cpus[trampoline_held_by].online))
			trampoline_pinned = true;
		trampoline_held_by = -1;
	}
	if (trampoline_held_by >= 0) {
		printk("smp: cpu%u not started: cpu%d may still be running the trampoline", cpu,
		       trampoline_held_by);
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
	uint64_t give_up = 0;
	if (cmdline_get_u64("smp.test_give_up", &give_up))
		give_up_cpu = (unsigned)give_up; /* before the SIPI: the AP reads it */
	if (!trampoline_mapped) {
		int err = pt_map(&kernel_pt, AP_TRAMPOLINE_PHYS, AP_TRAMPOLINE_PHYS, PAGE_SIZE,
				 PT_READ | PT_WRITE | PT_EXEC);
		if (err)
			panic("arch_cpu_start: cannot map the trampoline page: %d", err);
		trampoline_mapped = true;
	}

	uint8_t vector_page = AP_TRAMPOLINE_PHYS >> 12;
	x86_apic_send_init_sipi(apic_id, 0, true);
	time_delay_ns(10000000);
	bool started = false;
	/* Test-only (smp.test_give_up=N): give up on cpuN at once, as if it were slow. */
	bool impatient = cpu == give_up_cpu;
	for (int attempt = 0; attempt < 2 && !started; attempt++) {
		x86_apic_send_init_sipi(apic_id, vector_page, false);
		uint64_t deadline = arch_time_ns() + (impatient ? 0 : 200000000ull);
		while (arch_time_ns() < deadline && !started)
			started = __atomic_load_n(&ap_started, __ATOMIC_ACQUIRE) == (int)cpu;
	}
	if (!started) {
		/* Late or lost: the trampoline stays its own until it reports from C. */
		trampoline_held_by = (int)cpu;
		return false;
	}
	/*
	 * Unmap only once it is online: the unmap frees the tables under the
	 * page, and its shootdown reaches the CPUs in cpu_online_mask when it
	 * reads the mask (rule 12). Until then this CPU's walker may hold a
	 * (speculative) walk through those tables that nothing would drop.
	 * tools/model/kpt.pml starts its CPU's checks at its join, so it does
	 * not cover this window. Not online in time: the page stays mapped for
	 * good, since this CPU may still be running (or parked: kernel/smp.c)
	 * outside the mask any later unmap's shootdown would read.
	 */
	uint64_t online_by = arch_time_ns() + 2000000000ull;
	while (!cpumask_test(cpumask_read(&cpu_online_mask), cpu) && arch_time_ns() < online_by)
		arch_cpu_relax();
	if (!cpumask_test(cpumask_read(&cpu_online_mask), cpu))
		trampoline_pinned = true;
	if (!trampoline_pinned) {
		pt_unmap(&kernel_pt, AP_TRAMPOLINE_PHYS, PAGE_SIZE);
		trampoline_mapped = false;
	}
	return true;
}
