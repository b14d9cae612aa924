/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The tlb suite's shared parts: its cases live in tlb_test.c (the table
 * of cases), tlb_late_test.c and tlb_race_test.c; this header gives them
 * the user addresses and the helpers they share. Test code only.
 */
#ifndef PAGODA_TESTS_TLB_TEST_H
#define PAGODA_TESTS_TLB_TEST_H

#include "kernel/cpumask.h"
#include "kernel/mm/mm.h"
#include "tests/ktest.h"

/* The suite's user addresses: 4 GiB into the user half, clear of other suites. */
#define UVA(off) (arch_mm_layout.user_base + GiB(4) + (off))

/* Every online CPU but this one. */
cpumask_t tlb_test_others(void);
/* A fresh mm with `pages` populated at UVA(0) and a page for residents at UVA(16 MiB). */
struct mm *tlb_test_mm_with(uint64_t pages);

/* tlb_late_test.c */
void deferral_reaches_cpu_that_switched_in(struct ktest *t);
void completion_stops_at_a_lagging_target(struct ktest *t);
/* tlb_race_test.c */
void concurrent_gathers_fewer_full_flushes(struct ktest *t);
void asid_rollover_keeps_mms_apart(struct ktest *t);

#endif
