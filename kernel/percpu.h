/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Per-CPU data: one struct cpu per logical CPU, indexed by arch_cpu_id().
 * A field is written only by its own CPU unless its comment says otherwise;
 * fields read by other CPUs are accessed with atomics.
 */
#ifndef PAGODA_KERNEL_PERCPU_H
#define PAGODA_KERNEL_PERCPU_H

#include "kernel/arch.h"

#define CPU_STACK_SIZE (16 * 1024)

struct arch_jmpbuf;

struct cpu {
	unsigned id;
	uint64_t hw_id;
	bool online; /* set once by the CPU itself when it enters the idle loop */
	/* enum cpu_start_state; compare-and-swapped by the boot CPU and by the CPU itself. */
	uint32_t start_state;
	void *stack_top;
	uint64_t ticks; /* timer interrupts taken */
	uint64_t irqs; /* interrupts of any kind taken */
	/* Non-zero while the running thread must not be preempted (spinlocks held). */
	unsigned preempt_count;
};

/*
 * An application processor's start, decided once by a compare-and-swap
 * from CPU_START_WAITING: the CPU itself claims CPU_START_JOINING when it
 * reaches generic code, or the boot CPU, out of patience, sets
 * CPU_START_ABANDONED; a CPU that arrives to find itself abandoned parks
 * for good instead of joining a system that has stopped counting it.
 */
enum cpu_start_state { CPU_START_WAITING, CPU_START_JOINING, CPU_START_ABANDONED };

extern struct cpu cpus[CPU_MAX];
/* CPUs that have come online; written atomically by each CPU for itself. */
extern cpumask_t cpu_online_mask;
extern unsigned cpu_count; /* CPUs counted online at boot: those that claimed their place */

static inline struct cpu *this_cpu(void)
{
	return &cpus[arch_cpu_id()];
}

#endif
