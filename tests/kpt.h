/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What the kpt suite (kpt_test.c) lends other suites that change kernel
 * mappings under readers: a direct look at the kernel's leaf slots, for a
 * test that points an entry elsewhere without the kernel's help.
 */
#ifndef PAGODA_TESTS_KPT_H
#define PAGODA_TESTS_KPT_H

#include "kernel/mm/pt.h"

/*
 * The level-0 slot of kernel_pt that maps `va`, or NULL (no leaf table
 * there: unmapped, or a block). The caller keeps the tree from changing.
 */
pte_t *kpt_kernel_page_slot(virt_addr_t va);

#endif
