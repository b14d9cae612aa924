/* SPDX-License-Identifier: BSD-2-Clause */
/* Scheduler entry points for the tick; not for general use. */
#ifndef PAGODA_KERNEL_SCHED_INTERNAL_H
#define PAGODA_KERNEL_SCHED_INTERNAL_H

/* Wakes due sleepers and asks for a reschedule when others are runnable. Interrupts off. */
void sched_tick(void);

#endif
