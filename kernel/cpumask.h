/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A set of logical CPUs as one 64-bit word: Pagoda supports at most
 * CPU_MAX CPUs, so sets are values that can be copied, compared and updated
 * atomically in one instruction. Logical CPU ids are dense, 0 is the boot CPU.
 */
#ifndef PAGODA_KERNEL_CPUMASK_H
#define PAGODA_KERNEL_CPUMASK_H

#include "kernel/atomic.h"

#define CPU_MAX 16

typedef struct cpumask {
	uint64_t bits;
} cpumask_t;

#define CPUMASK_NONE ((cpumask_t){0})

static inline cpumask_t cpumask_of(unsigned cpu)
{
	return (cpumask_t){1ull << cpu};
}
static inline bool cpumask_test(cpumask_t m, unsigned cpu)
{
	return (m.bits >> cpu) & 1;
}
static inline void cpumask_set(cpumask_t *m, unsigned cpu)
{
	m->bits |= 1ull << cpu;
}
static inline void cpumask_clear(cpumask_t *m, unsigned cpu)
{
	m->bits &= ~(1ull << cpu);
}
static inline bool cpumask_empty(cpumask_t m)
{
	return m.bits == 0;
}
static inline unsigned cpumask_weight(cpumask_t m)
{
	return (unsigned)__builtin_popcountll(m.bits);
}
static inline cpumask_t cpumask_and(cpumask_t a, cpumask_t b)
{
	return (cpumask_t){a.bits & b.bits};
}
/* Atomic variants for masks shared between CPUs (an mm's CPU set, the online set). */
static inline void cpumask_set_atomic(cpumask_t *m, unsigned cpu)
{
	atomic_fetch_or(&m->bits, 1ull << cpu);
}
static inline void cpumask_clear_atomic(cpumask_t *m, unsigned cpu)
{
	atomic_fetch_and(&m->bits, ~(1ull << cpu));
}
static inline cpumask_t cpumask_read(const cpumask_t *m)
{
	return (cpumask_t){atomic_load_acquire(&m->bits)};
}

#define for_each_cpu(cpu, mask)                                                                    \
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)                                               \
		if (cpumask_test((mask), cpu))

#endif
