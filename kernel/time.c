// SPDX-License-Identifier: BSD-2-Clause
/*
 * The periodic tick: counts ticks per CPU, samples for the profiler (prof.h)
 * and runs the boot CPU's hook.
 */
#include "kernel/entry.h"
#include "kernel/time.h"
#include "kernel/percpu.h"
#include "kernel/prof.h"
#include "kernel/sched/sched_internal.h"

void (*timer_tick_hook)(void);

void timer_tick(const struct tick_site *site)
{
	struct cpu *c = this_cpu();
	c->ticks++;
	c->irqs++;
	prof_sample(site);
	sched_tick();
	if (c->id == 0 && timer_tick_hook)
		timer_tick_hook();
}

void time_delay_ns(uint64_t ns)
{
	uint64_t end = arch_time_ns() + ns;
	while (arch_time_ns() < end)
		arch_cpu_relax();
}
