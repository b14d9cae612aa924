// SPDX-License-Identifier: BSD-2-Clause
/*
 * Generic side of synchronous exceptions. The arch decodes its syndrome
 * into a struct fault_info and calls fault_dispatch() before printing
 * anything. First the address space gets a chance (a user page filled on
 * first touch, a spurious fault after a permission upgrade): then the arch
 * retries the instruction. Otherwise, if the running thread armed a fault
 * fixture (ktest_expect_fault), the fault is recorded and execution resumes
 * at the fixture by longjmp. Otherwise the arch prints its full report and
 * panics.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"

uint64_t breakpoints_resumed[CPU_MAX];

bool fault_dispatch(const struct fault_info *info)
{
	struct thread *t = thread_current();
	if (mm_handle_fault(t ? t->mm : NULL, info))
		return true;
	struct arch_jmpbuf *fixup = t ? t->fault_fixup : NULL;
	if (!fixup)
		return false;
	t->fault_fixup = NULL; /* one shot: a fault in the recovery path is fatal */
	if (t->fault_record)
		*t->fault_record = *info;
	arch_longjmp(fixup, 1);
}
