/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's own address space, built by mm_init() on the boot CPU:
 *  - a direct map of all RAM (and small firmware-reserved ranges such as
 *    ACPI tables) at arch_mm_layout.direct_map_base, with the largest
 *    leaves that fit, read-write and never executable;
 *  - the kernel image mapped W^X: text read+execute, rodata read-only,
 *    data and bss read-write, neither of the last two executable;
 *  - an unmapped guard page under every CPU's stack, so an overflow faults
 *    instead of corrupting the neighbour;
 *  - device MMIO mapped uncached by vm_map_mmio() in its own window.
 * The boot page tables are discarded once every CPU runs on these.
 */
#ifndef PAGODA_KERNEL_MM_VM_H
#define PAGODA_KERNEL_MM_VM_H

#include "kernel/mm/pt.h"

extern struct pt kernel_pt;

/* Frames, kernel tables, switch to them. Boot CPU, before other CPUs start. */
void mm_init(void);
/*
 * Maps [pa, pa + size) as uncached device memory and returns the kernel
 * address of `pa`. Panics naming the caller's `what` on failure, because a
 * device the kernel cannot reach is fatal anyway. Any CPU may call it, at
 * once with others (thread context, not from an interrupt handler): each
 * window is reserved under a lock before it is mapped, so windows never
 * overlap. The window's addresses are never reused.
 */
void *vm_map_mmio(phys_addr_t pa, uint64_t size, const char *what);
/* The guard page below CPU `cpu`'s stack (the boot CPU's included). */
virt_addr_t cpu_stack_guard(unsigned cpu);

#endif
