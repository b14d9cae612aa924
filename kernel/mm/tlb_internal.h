/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the files of the TLB layer: tlb.c (the flush engine),
 * tlb_stats.c (counters and trace), tlb_config.c (command line) and
 * switch.c (the TLB side of a context switch). Not for other subsystems:
 * they read the counters through tlb_counters_cpu() and
 * tlb_counters_total() (tlb.h).
 */
#ifndef PAGODA_KERNEL_MM_TLB_INTERNAL_H
#define PAGODA_KERNEL_MM_TLB_INTERNAL_H

#include "kernel/mm/tlb.h"

struct mm;

/* Every CPU's counters (defined in tlb_stats.c); a CPU updates only its own entry. */
extern struct tlb_counters tlb_cpu_counters[CPU_MAX];

/*
 * Brings this CPU, which stands at generation `from` of `mm` and translates
 * through mm's tables, up to the generation of `mm` it reads now: it replays
 * the ranges of the generations it missed from the ring, or flushes the
 * whole mm when it cannot (tlb.c). Returns the generation reached.
 * Interrupts off.
 */
uint64_t tlb_catch_up(struct mm *mm, uint64_t from);

#endif
