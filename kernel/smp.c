// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bringing up the other CPUs and the per-CPU table. The boot CPU starts the
 * application processors one at a time and waits (bounded) for each to
 * report online, so logical ids are assigned in firmware order and a CPU
 * that never answers is reported, not waited for forever.
 *
 * A CPU given up on may still arrive later (a slow board, or x86's
 * smp.test_give_up): the boot CPU has reported the count and moved on, so
 * the late CPU must not join cpu_online_mask behind its back. Joining and
 * giving up race on one compare-and-swap of cpus[i].start_state; the loser
 * follows the winner (the late CPU parks, or the boot CPU waits the few
 * microseconds a claimed CPU needs to come online).
 *
 * Each application processor then becomes its own idle thread: with
 * nothing to run it sits in arch_cpu_idle() (hlt/wfi), woken only by
 * interrupts, the tick and IPIs.
 */
#include "kernel/entry.h"
#include "kernel/smp.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/vm.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"

struct cpu cpus[CPU_MAX];
cpumask_t cpu_online_mask;
unsigned cpu_count = 1;

/* Each stack sits on top of a page the kernel tables leave unmapped. */
struct cpu_stack {
	uint8_t guard[PAGE_SIZE];
	uint8_t stack[CPU_STACK_SIZE];
};
static struct cpu_stack cpu_stacks[CPU_MAX] __aligned(PAGE_SIZE);
extern char boot_stack_guard[]; /* provided by the arch's entry code */

virt_addr_t cpu_stack_guard(unsigned cpu)
{
	/* The boot CPU keeps running on the stack the arch's entry code set up. */
	if (cpu == 0)
		return (virt_addr_t)boot_stack_guard;
	return (virt_addr_t)cpu_stacks[cpu].guard;
}

void smp_init_boot_cpu(void)
{
	struct cpu *c = &cpus[0];
	c->id = 0;
	c->hw_id = boot_info.cpus[0].hw_id;
	c->online = true;
	cpumask_set_atomic(&cpu_online_mask, 0);
}

CMDLINE_PARAM(smp_test_late_param, .key = "smp.test_late", .kind = CMDLINE_U64, .min = 0,
	      .max = CPU_MAX - 1, .def = "0",
	      .help = "test-only: the boot CPU gives up on this AP as soon as it answers, and the "
		      "AP waits for that before it claims its place, so it arrives late (0: none)");

CMDLINE_PARAM(smp_test_late_joins_param, .key = "smp.test_late_joins", .kind = CMDLINE_FLAG,
	      .def = "off",
	      .help = "test only: a CPU given up on joins anyway when it arrives, with "
		      "smp.test_late or x86's smp.test_give_up (the smp suite must fail)");

_Static_assert(CPU_START_WAITING == 0, "cpus[] starts zeroed: every CPU waiting");

/* smp.test_late's CPU (0: none); set before any AP starts, read-only after. */
static unsigned test_late_cpu;
static bool test_late_joins; /* broken on purpose: no park (smp.test_late_joins) */

/* Waits up to `ns` for CPU `c` to come online; true if it did. */
static bool wait_online(struct cpu *c, uint64_t ns)
{
	uint64_t deadline = arch_time_ns() + ns;
	while (!atomic_load_acquire(&c->online)) {
		if (arch_time_ns() > deadline)
			return false;
		arch_cpu_relax();
	}
	return true;
}

/*
 * The boot CPU gives up on `c`. False if the CPU claimed its start first:
 * then it is joining, and the caller must wait for it after all.
 */
static bool give_up(struct cpu *c)
{
	uint32_t waiting = CPU_START_WAITING;
	return atomic_cmpxchg(&c->start_state, &waiting, CPU_START_ABANDONED);
}

void smp_start_secondaries(void)
{
	unsigned n = boot_info.nr_cpus;
	uint64_t late = 0;
	test_late_joins = cmdline_has("smp.test_late_joins"); /* with any give-up, x86's too */
	if (cmdline_get_u64("smp.test_late", &late) && late) {
		test_late_cpu = (unsigned)late;
		printk("smp: WARNING: cpu%u made late on purpose (smp.test_late): it must park, "
		       "and smp.all_cpus_online must fail",
		       test_late_cpu);
	}
	for (unsigned i = 1; i < n; i++) {
		struct cpu *c = &cpus[i];
		c->id = i;
		c->hw_id = boot_info.cpus[i].hw_id;
		c->stack_top = cpu_stacks[i].stack + CPU_STACK_SIZE;
		/* cpus[] starts zeroed, CPU_START_WAITING, and each CPU is started once. */
		bool answered = arch_cpu_start(i, c->stack_top);
		if (i == test_late_cpu && give_up(c)) {
			printk("smp: cpu%u given up on at once (smp.test_late)", i);
			continue;
		}
		if (!answered && give_up(c)) {
			printk("smp: cpu%u (hw id %#lx) did not start", i, (unsigned long)c->hw_id);
			continue;
		}
		if (!wait_online(c, 2000000000ull) && give_up(c)) {
			printk("smp: cpu%u (hw id %#lx) never came online", i,
			       (unsigned long)c->hw_id);
			continue;
		}
		/* It claimed its place first: it is a few stores from online. */
		if (!wait_online(c, 2000000000ull))
			panic(
			    "smp_start_secondaries: cpu%u claimed its start but never came online",
			    i);
		cpu_count++;
	}
	/* The count the start protocol keeps equal to the online mask. */
	printk("smp: %u of %u CPUs online", cpu_count, boot_info.nr_cpus_firmware);
}

void smp_secondary_claim(unsigned cpu, bool late_on_purpose)
{
	if (late_on_purpose || cpu == test_late_cpu) {
		/* Test-only: arrive after the boot CPU decided (bounded: never a hang). */
		uint64_t deadline = arch_time_ns() + 5000000000ull;
		while (atomic_load_acquire(&cpus[cpu].start_state) == CPU_START_WAITING &&
		       arch_time_ns() < deadline)
			arch_cpu_relax();
	}
	uint32_t waiting = CPU_START_WAITING;
	if (atomic_cmpxchg(&cpus[cpu].start_state, &waiting, CPU_START_JOINING))
		return;
	/* Too late: the boot CPU has counted without this CPU. */
	if (!test_late_joins) {
		printk("started after the boot CPU gave up on it: parked, not online");
		/*
		 * Last, after the print's own walks: drop what the walker
		 * cached. The kernel's table changes are shot down on online
		 * CPUs only, and this one never will be; halted with
		 * interrupts off, it walks nothing more.
		 */
		arch_tlb_flush_local_full();
		arch_cpu_halt();
	}
	printk("started after the boot CPU gave up on it: joining anyway (smp.test_late_joins)");
}

void smp_secondary_main(unsigned cpu)
{
	/* Its run queue exists before anyone can see it online and give it a thread. */
	sched_init_cpu(cpu);
	arch_timer_start();
	cpumask_set_atomic(&cpu_online_mask, cpu);
	/*
	 * Kernel mapping changes are flushed on the CPUs online when they are
	 * made (tlb_flush_kernel_range). One made while this CPU was on its way
	 * did not reach it: online first, then (full fence) drop everything.
	 */
	smp_mb();
	arch_tlb_flush_local_full();
	atomic_store_release(&cpus[cpu].online, true);
	printk("online (hw id %#lx)", (unsigned long)cpus[cpu].hw_id);
	sched_idle_loop();
}

void ipi_handle(enum ipi_kind kind)
{
	this_cpu()->irqs++;
	switch (kind) {
	case IPI_CALL:
		xcall_handle_ipi();
		break;
	case IPI_STOP:
		arch_cpu_halt();
	case IPI_RESCHEDULE:
		/* Wakes the CPU; sched_irq_exit() on the way out picks up new work. */
		sched_request_resched();
		break;
	case IPI_WAKE:
		xcall_handle_wake();
		break;
	case IPI_KIND_COUNT:
		break;
	}
}
