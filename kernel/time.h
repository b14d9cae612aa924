/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Time in generic code: arch_time_ns() for reading the clock, and a hook
 * the tick calls on the boot CPU (the test framework uses it for per-case
 * timeouts). The arch acknowledges and re-arms its timer before calling
 * timer_tick(), so the hook may leave the interrupt by longjmp.
 */
#ifndef PAGODA_KERNEL_TIME_H
#define PAGODA_KERNEL_TIME_H

#include "kernel/arch.h"

/* Busy-waits for at least `ns` nanoseconds (bounded waits only). */
void time_delay_ns(uint64_t ns);
/* Called from timer_tick on CPU 0; NULL when unused. */
extern void (*timer_tick_hook)(void);

#endif
