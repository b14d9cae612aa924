// SPDX-License-Identifier: BSD-2-Clause
/*
 * How the soak (soak_test.c) says what went wrong: the first failure's
 * report, and the last changes made to the soak's pages, kept in a ring of
 * SOAK_RING events so that a stale access can be read against the changes
 * around it.
 *
 * Invariants: the ring is written by the pages' owners (any CPU, no lock:
 * a slot is claimed by an atomic increment, so two writers never share
 * one) and read only after the threads stopped; a report that is not a
 * stale access (`broken`) is printed as FAILED, never as STALE, so the
 * negative checks cannot take it for their catch.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"
#include "lib/string.h"
#include "tests/soak.h"

#define SOAK_RING 32 /* changes kept for the report */

static const char *const op_names[] = {"?",	     "map",	"unmap",	 "protect ro",
				       "protect rw", "reclaim", "reclaim (open)"};

struct soak_event {
	uint64_t ns;
	uint16_t cpu, slot;
	uint32_t op;
	uint64_t gen;
	phys_addr_t frame;
};

static struct {
	struct soak_event ring[SOAK_RING];
	uint64_t next;
} log;

void soak_log_reset(void)
{
	memset(&log, 0, sizeof(log));
}

void soak_log_change(unsigned slot, enum soak_op op, uint64_t gen, phys_addr_t frame)
{
	uint64_t i = atomic_fetch_add(&log.next, 1) % SOAK_RING;
	log.ring[i] = (struct soak_event){
	    arch_time_ns(), (uint16_t)arch_cpu_id(), (uint16_t)slot, op, gen, frame};
}

uint64_t soak_changes_logged(void)
{
	return atomic_load_relaxed(&log.next);
}

void soak_print_report(const struct soak_report *r, phys_addr_t now)
{
	static const char *const states[] = {"unmapped", "read-write", "read-only"};
	if (r->broken) {
		printk("soak: FAILED on cpu%u%s%s: %s", r->cpu, r->engine ? ", by " : "",
		       r->engine ? r->engine : "", r->what);
		return;
	}
	if (r->kernel) {
		printk(
		    "soak: STALE ACCESS on cpu%u at kernel %#lx (soak thread %u's page, read): %s",
		    r->cpu, (unsigned long)r->va, r->slot, r->what);
		printk("soak:   saw %#lx; the page: version %lu, seq %u -> %u; frame %#lx, "
		       "previous frame %#lx",
		       (unsigned long)r->seen_va, (unsigned long)r->gen, r->seq_before,
		       r->seq_after, (unsigned long)r->frame, (unsigned long)r->prev_frame);
		return;
	}
	if (r->walk) {
		printk("soak: STALE ACCESS on cpu%u at %#lx (shadow TLB): %s", r->cpu,
		       (unsigned long)r->va, r->what);
		return;
	}
	if (r->engine)
		printk("soak: STALE DMA by %s (stream %u, on cpu%u) at IOVA %#lx (page %u, %s): %s",
		       r->engine, r->stream, r->cpu, (unsigned long)r->va, r->slot,
		       r->write ? "write" : "read", r->what);
	else
		printk("soak: STALE ACCESS on cpu%u at %#lx (page %u, %s): %s", r->cpu,
		       (unsigned long)r->va, r->slot, r->write ? "read+write" : "read", r->what);
	printk("soak:   saw tag %#lx generation %lu; the page: generation %lu, %s, seq %u -> %u",
	       (unsigned long)r->seen_va, (unsigned long)r->seen_gen, (unsigned long)r->gen,
	       r->state < 3 ? states[r->state] : "?", r->seq_before, r->seq_after);
	printk("soak:   frame %#lx, previous frame %#lx, translates to %#lx now",
	       (unsigned long)r->frame, (unsigned long)r->prev_frame, (unsigned long)now);
}

void soak_print_events(void)
{
	uint64_t end = atomic_load_acquire(&log.next);
	uint64_t first = end > SOAK_RING ? end - SOAK_RING : 0;
	printk("soak:   the last %lu changes, oldest first:", (unsigned long)(end - first));
	for (uint64_t i = first; i < end; i++) {
		const struct soak_event *e = &log.ring[i % SOAK_RING];
		printk("soak:     %lu.%06lu cpu%u page %u %s gen %lu frame %#lx",
		       (unsigned long)(e->ns / 1000000000), (unsigned long)(e->ns / 1000 % 1000000),
		       e->cpu, e->slot, e->op < ARRAY_SIZE(op_names) ? op_names[e->op] : "?",
		       (unsigned long)e->gen, (unsigned long)e->frame);
	}
	struct tlb_counters c = tlb_counters_total();
	printk("soak:   TLB: %lu requests, %lu remote targets, %lu skipped by generation, %lu lazy "
	       "skipped, %lu switched-away skipped, %lu completed skips, %lu switch catch-ups",
	       (unsigned long)c.requests, (unsigned long)c.remote_targets,
	       (unsigned long)c.skipped_by_gen, (unsigned long)c.lazy_skipped,
	       (unsigned long)c.switched_away_skipped, (unsigned long)c.completed_skips,
	       (unsigned long)c.switch_catch_ups);
	soak_dma_print();
}
