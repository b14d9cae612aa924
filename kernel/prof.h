/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A sampling profiler: while it runs, every CPU's timer tick counts the
 * function its interrupt came from and that function's caller (the
 * kernel's own symbol table, symbols.c), so a benchmark can say where its
 * time went: "arch_cpu_relax called from tlb_wait_done", not just "spinning".
 *
 * What it can see: a tick is taken only with interrupts on, so time spent
 * with them off (a spinlock held, an IPI's wait in a handler) is charged to
 * the function that turned them back on, and a CPU halted in its idle loop
 * is charged to the idle loop. At TIMER_HZ per CPU a second gives a
 * hundred samples a CPU: enough to rank the few places that matter, not to
 * time a short function. The caller is a best guess (prof.c says how): "?"
 * where no frame record could be trusted. Each CPU counts up to PROF_PAIRS
 * (function, caller) pairs; samples of further pairs count as `dropped`.
 */
#ifndef PAGODA_KERNEL_PROF_H
#define PAGODA_KERNEL_PROF_H

#include "kernel/entry.h"
#include "kernel/types.h"

#define PROF_PAIRS 256

/* Clears the counts and starts sampling on every CPU. */
void prof_start(void);
/*
 * Stops sampling (or, stopped, stays so), and returns once no tick counts
 * any more (it spins, briefly); the counts stay.
 */
void prof_stop(void);
/* From the timer tick, interrupts off: counts where it interrupted, if sampling. */
void prof_sample(const struct tick_site *site);
#define PROF_ANY (~(virt_addr_t)0)
/*
 * The samples counted since prof_start in the function that starts at
 * `fn` called from the one that starts at `caller` (0: unknown); either
 * may be PROF_ANY.
 */
uint32_t prof_samples(virt_addr_t fn, virt_addr_t caller);
/*
 * Prints the `top` (function, caller) pairs with the most samples, most
 * first, one line each: "PROF <tag> fn=<name> caller=<name> samples=<n>
 * pct=<percent of all>", then "PROF <tag> total=<samples> outside=<not in
 * a function> dropped=<n>". Call after prof_stop.
 */
void prof_print(const char *tag, unsigned top);

#endif
