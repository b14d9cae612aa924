/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Address spaces (struct mm). Filled in by the address-space work; the
 * scheduler calls mm_switch_thread() on every thread switch.
 */
#ifndef PAGODA_KERNEL_MM_MM_H
#define PAGODA_KERNEL_MM_MM_H

#include "kernel/sched/thread.h"

/* Loads next's address space (or keeps the current one, lazily, for a kernel thread). */
void mm_switch_thread(struct thread *prev, struct thread *next);

#endif
