/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Atomics and memory ordering for generic code, built on the compiler's
 * __atomic builtins so that kernel/ needs no inline assembly. Every operation
 * names its ordering; the default for read-modify-write is sequentially
 * consistent because the shootdown protocol relies on store->load ordering
 * (see docs on mm_switch ordering) and a student should not have to prove a
 * weaker order correct to read the code.
 */
#ifndef PAGODA_KERNEL_ATOMIC_H
#define PAGODA_KERNEL_ATOMIC_H

#include "kernel/types.h"

#define atomic_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define atomic_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define atomic_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define atomic_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define atomic_fetch_add(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_sub(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_or(p, v) __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define atomic_fetch_and(p, v) __atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define atomic_exchange(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define atomic_add_return(p, v) __atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
/* Returns true and stores desired if *p == *expected; else loads *p into *expected. */
#define atomic_cmpxchg(p, expected, desired)                                                       \
	__atomic_compare_exchange_n((p), (expected), (desired), false, __ATOMIC_SEQ_CST,           \
				    __ATOMIC_SEQ_CST)

/* Full barrier: orders all earlier loads and stores before all later ones. */
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
/* Stops the compiler, not the CPU, from reordering around this point. */
#define barrier() __atomic_signal_fence(__ATOMIC_SEQ_CST)

#endif
