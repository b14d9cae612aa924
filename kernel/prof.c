// SPDX-License-Identifier: BSD-2-Clause
/*
 * The sampling profiler (prof.h). Each CPU counts in its own table, written
 * only by its own tick (interrupts off), so the tick takes no lock; the
 * tables are read or cleared only while sampling is stopped. Stopping is
 * exact, not timed: a tick marks its CPU's table busy, then (a full
 * fence) looks at `on`; prof_stop clears `on`, then (a full fence) waits
 * for every busy mark to go. Whichever goes second sees the other: a tick
 * either sees `on` cleared and counts nothing, or its busy mark holds
 * prof_stop until its count is done.
 *
 * The caller: a function that has not saved its return address (a leaf,
 * such as arch_cpu_relax, or one in its prologue) has no frame record of
 * its own; the arch tells whether the tick site still holds that return
 * address (arch_prof_leaf_return: it checks that the instruction before
 * it is a direct call to the interrupted function). Otherwise the caller
 * is the return address in the frame record at the frame pointer. Both are
 * read only inside the running stack (thread_stack_bounds), between the
 * stack pointer and its top, so a bogus frame pointer (hand-written
 * assembly) reads nothing it should not. The frame record is the wrong
 * one where a leaf pushed registers without a frame (it names the caller's
 * caller), and in an indirect call's leaf (unknown): a best guess.
 */
#include "kernel/prof.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cpumask.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"

struct prof_pair {
	virt_addr_t fn, caller; /* fn 0: a free entry; caller 0: unknown */
	uint32_t samples;
};

static bool prof_on;
static struct prof_cpu {
	struct prof_pair pairs[PROF_PAIRS];
	uint32_t outside, dropped;
	uint32_t busy; /* a tick of this CPU's is in prof_sample */
} prof_cpu[CPU_MAX];

void prof_start(void)
{
	prof_stop();
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		/* Not `busy`: a tick stalled since before the last stop may still clear it. */
		struct prof_cpu *c = &prof_cpu[cpu];
		memset(c->pairs, 0, sizeof(c->pairs));
		c->outside = c->dropped = 0;
	}
	atomic_store_release(&prof_on, true);
}

void prof_stop(void)
{
	atomic_store_release(&prof_on, false);
	smp_mb(); /* `on` cleared before the look at `busy`: prof_sample's fence pairs */
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		while (atomic_load_acquire(&prof_cpu[cpu].busy))
			arch_cpu_relax();
}

/* The start of the function holding `addr`; 0: none. */
static virt_addr_t function_of(virt_addr_t addr)
{
	uintptr_t offset;
	return symbol_lookup(addr, &offset) ? addr - offset : 0;
}

/* `n` bytes at `addr` lie in the running stack, at or above the stack pointer. */
static bool in_stack(const struct tick_site *site, virt_addr_t addr, virt_addr_t n)
{
	virt_addr_t lo, hi;
	thread_stack_bounds(&lo, &hi);
	lo = MAX(lo, site->sp);
	return addr % sizeof(virt_addr_t) == 0 && addr >= lo && addr < hi && hi - addr >= n;
}

static virt_addr_t caller_of(const struct tick_site *site, virt_addr_t fn)
{
	virt_addr_t ret = 0;
	if (in_stack(site, site->sp, sizeof(virt_addr_t)))
		ret = arch_prof_leaf_return(site, fn);
	if (!ret && in_stack(site, site->fp, 2 * sizeof(virt_addr_t)))
		ret = ((const virt_addr_t *)site->fp)[1]; /* {previous fp, return address} */
	/* A return address points after its call: one byte back is inside the call. */
	return ret ? function_of(ret - 1) : 0;
}

static void count(struct prof_cpu *c, const struct tick_site *site)
{
	virt_addr_t fn = function_of(site->pc);
	if (!fn) {
		c->outside++;
		return;
	}
	virt_addr_t caller = caller_of(site, fn);
	/* The product's top bits mix every bit of both (x86 functions are 16-byte aligned). */
	uint64_t h = (fn ^ (caller << 13) ^ (caller >> 11)) * 0x9e3779b97f4a7c15ull;
	unsigned i = (unsigned)(h >> 56) % PROF_PAIRS;
	for (unsigned n = 0; n < PROF_PAIRS; n++, i = (i + 1) % PROF_PAIRS) {
		struct prof_pair *p = &c->pairs[i];
		if (p->fn == 0) {
			p->fn = fn;
			p->caller = caller;
		}
		if (p->fn == fn && p->caller == caller) {
			p->samples++;
			return;
		}
	}
	c->dropped++;
}

void prof_sample(const struct tick_site *site)
{
	if (!atomic_load_relaxed(&prof_on))
		return; /* the common case, and a cheap one */
	struct prof_cpu *c = &prof_cpu[arch_cpu_id()];
	atomic_store_relaxed(&c->busy, 1);
	smp_mb(); /* busy before the look at `on`: prof_stop's fence pairs */
	if (atomic_load_acquire(&prof_on))
		count(c, site);
	atomic_store_release(&c->busy, 0);
}

uint32_t prof_samples(virt_addr_t fn, virt_addr_t caller)
{
	uint32_t n = 0;
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		for (unsigned i = 0; i < PROF_PAIRS; i++) {
			const struct prof_pair *p = &prof_cpu[cpu].pairs[i];
			if (p->fn && (fn == PROF_ANY || p->fn == fn) &&
			    (caller == PROF_ANY || p->caller == caller))
				n += p->samples;
		}
	return n;
}

/* Every CPU's pairs, one entry per pair (not in the tick: only after prof_stop). */
static struct prof_pair merged[PROF_PAIRS * 2];

static unsigned merge(uint64_t *total, uint32_t *outside, uint32_t *dropped)
{
	unsigned used = 0;
	*total = *outside = *dropped = 0;
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		struct prof_cpu *c = &prof_cpu[cpu];
		*outside += c->outside;
		*dropped += c->dropped;
		for (unsigned i = 0; i < PROF_PAIRS; i++) {
			const struct prof_pair *p = &c->pairs[i];
			if (!p->samples)
				continue;
			unsigned k = 0;
			while (k < used && (merged[k].fn != p->fn || merged[k].caller != p->caller))
				k++;
			if (k == used && used == ARRAY_SIZE(merged)) {
				*dropped += p->samples;
				continue;
			}
			if (k == used)
				merged[used++] =
				    (struct prof_pair){.fn = p->fn, .caller = p->caller};
			merged[k].samples += p->samples;
		}
	}
	*total = *outside + *dropped;
	for (unsigned k = 0; k < used; k++)
		*total += merged[k].samples;
	return used;
}

static const char *name_of(virt_addr_t fn)
{
	uintptr_t offset;
	const char *name = fn ? symbol_lookup(fn, &offset) : NULL;
	return name ? name : "?";
}

void prof_print(const char *tag, unsigned top)
{
	uint64_t total;
	uint32_t outside, dropped;
	unsigned used = merge(&total, &outside, &dropped);
	/* Selection of the largest, `top` times: few entries, and not a hot path. */
	for (unsigned k = 0; k < top && k < used; k++) {
		unsigned best = k;
		for (unsigned i = k + 1; i < used; i++)
			if (merged[i].samples > merged[best].samples)
				best = i;
		struct prof_pair p = merged[best];
		merged[best] = merged[k];
		merged[k] = p;
		console_write("PROF %s fn=%s caller=%s samples=%u pct=%u.%u\n", tag, name_of(p.fn),
			      name_of(p.caller), p.samples,
			      (unsigned)((uint64_t)p.samples * 100 / total),
			      (unsigned)((uint64_t)p.samples * 1000 / total % 10));
	}
	console_write("PROF %s total=%lu outside=%u dropped=%u\n", tag, (unsigned long)total,
		      outside, dropped);
}
