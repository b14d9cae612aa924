/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * SMP bring-up in generic terms: the boot CPU is logical CPU 0; the others
 * get ids 1..n-1 in the order boot_info lists them.
 */
#ifndef PAGODA_KERNEL_SMP_H
#define PAGODA_KERNEL_SMP_H

#include "kernel/xcall.h"

/* Fills cpus[0] and marks the boot CPU online. */
void smp_init_boot_cpu(void);
/* Starts every other CPU in boot_info, waiting up to 2 s for each. */
void smp_start_secondaries(void);


#endif
