/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Basic freestanding types shared by every part of Pagoda: lib/base.h (the
 * C base lib/ uses too) plus the kernel's address types.
 *
 * Physical and virtual addresses get distinct types so that a function's
 * signature says which one it wants; the compiler cannot enforce it (both are
 * integers), so names carry the rest: *_pa for physical, *_va for virtual.
 */
#ifndef PAGODA_KERNEL_TYPES_H
#define PAGODA_KERNEL_TYPES_H

#include "lib/base.h"

typedef uint64_t phys_addr_t; /* an address on the memory bus */
typedef uintptr_t virt_addr_t; /* an address the CPU translates */

#endif
