// SPDX-License-Identifier: BSD-2-Clause
/*
 * Generic side of synchronous exceptions. The arch decodes its syndrome
 * into a struct fault_info and calls fault_dispatch() before printing
 * anything; if a fault fixture is armed on this CPU (ktest_expect_fault),
 * the fault is recorded and execution resumes at the fixture by longjmp.
 * Otherwise fault_dispatch returns and the arch prints its full report and
 * panics.
 */
#include "kernel/arch.h"
#include "kernel/percpu.h"

uint64_t breakpoints_resumed[CPU_MAX];

void fault_dispatch(const struct fault_info *info)
{
	struct cpu *c = this_cpu();
	struct arch_jmpbuf *fixup = c->fault_fixup;
	if (!fixup)
		return;
	c->fault_fixup = NULL; /* one shot: a fault in the recovery path is fatal */
	if (c->fault_record)
		*c->fault_record = *info;
	arch_longjmp(fixup, 1);
}
