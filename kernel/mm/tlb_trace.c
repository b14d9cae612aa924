// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shootdown event ring (the contract is in tlb_trace.h): one ring per
 * CPU, merged by timestamp when read.
 *
 * Invariants: a ring's `head` and its slots are written only by its own
 * CPU, with interrupts off, so no two writers meet and no lock is taken.
 * Event i lives in slot i % TLB_TRACE_RING_SLOTS and is valid while the
 * slot's seq is i + 1: the writer zeroes seq before it fills the slot and
 * publishes i + 1 after (release), and the reader checks seq before and
 * after copying, so a slot being rewritten is skipped as lost. clear()
 * moves each ring's `base` up to its head instead of touching the slots,
 * which is why it needs no cooperation from the writers.
 */
#include "kernel/mm/tlb_trace.h"
#include "kernel/cpumask.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/sync/wait.h"
#include "kernel/time.h"
#include "lib/fmt.h"

#define TLB_TRACE_RING_SLOTS 512

struct tlb_trace_slot {
	uint64_t seq; /* index + 1 while valid, 0 while being written */
	uint64_t ns, a, b;
	uint32_t kind;
};

struct tlb_trace_cpu_ring {
	uint64_t head; /* events ever recorded on this CPU */
	uint64_t base; /* events below it were cleared */
	struct tlb_trace_slot slots[TLB_TRACE_RING_SLOTS];
} __aligned(64);

bool tlb_trace_ring_on;
static struct tlb_trace_cpu_ring rings[CPU_MAX];

static const char *const kind_names[TLB_EV_KINDS] = {
    [TLB_EV_UNMAP_START] = "unmap_start",
    [TLB_EV_UNMAP_END] = "unmap_end",
    [TLB_EV_PROTECT_START] = "protect_start",
    [TLB_EV_PROTECT_END] = "protect_end",
    [TLB_EV_GATHER_PAGES] = "gather_pages",
    [TLB_EV_GATHER_TABLE] = "gather_table",
    [TLB_EV_GEN_BUMP] = "gen_bump",
    [TLB_EV_DEFER] = "defer",
    [TLB_EV_FLUSH_BEGIN] = "flush_begin",
    [TLB_EV_FLUSH_END] = "flush_end",
    [TLB_EV_BCAST_BEGIN] = "bcast_begin",
    [TLB_EV_BCAST_END] = "bcast_end",
    [TLB_EV_IPI_SEND] = "ipi_send",
    [TLB_EV_IPI_RECV] = "ipi_recv",
    [TLB_EV_IPI_ACKED] = "ipi_acked",
    [TLB_EV_CATCH_UP] = "catch_up",
    [TLB_EV_SKIP] = "skip",
    [TLB_EV_FREE_PAGE] = "free_page",
    [TLB_EV_FREE_TABLE] = "free_table",
    [TLB_EV_BCAST_SYNC] = "bcast_sync",
};

const char *tlb_trace_kind_name(enum tlb_ev kind)
{
	if ((unsigned)kind >= TLB_EV_KINDS || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

void tlb_trace_ring_record(enum tlb_ev kind, uint64_t a, uint64_t b)
{
	/* Interrupts off: nothing else on this CPU can append between our steps. */
	irqflags_t flags = arch_irq_save();
	/*
	 * Checked again with interrupts off: a thread preempted between
	 * tlb_ev()'s test and here must not record after tracing stopped and a
	 * reader cleared or began to read.
	 */
	if (!atomic_load_relaxed(&tlb_trace_ring_on)) {
		arch_irq_restore(flags);
		return;
	}
	struct tlb_trace_cpu_ring *r = &rings[arch_cpu_id()];
	uint64_t i = r->head;
	struct tlb_trace_slot *s = &r->slots[i % TLB_TRACE_RING_SLOTS];
	atomic_store_relaxed(&s->seq, 0);
	smp_wmb();
	s->ns = arch_time_ns();
	s->a = a;
	s->b = b;
	s->kind = kind;
	atomic_store_release(&s->seq, i + 1);
	atomic_store_release(&r->head, i + 1);
	arch_irq_restore(flags);
}

void tlb_trace_ring_enable(bool on)
{
	/* tlb.break=trace_records_off: stopping is ignored (the tlb_trace tests must fail). */
	if (!on && tlb_broken_is(TLB_BREAK_TRACE_RECORDS_OFF))
		on = true;
	atomic_store_release(&tlb_trace_ring_on, on);
}

void tlb_trace_ring_clear(void)
{
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		atomic_store_release(&rings[cpu].base, atomic_load_acquire(&rings[cpu].head));
}

/* ---- Reading: a k-way merge of the CPUs' rings by timestamp ---------------- */

struct cursor {
	uint64_t next, end; /* events [next, end) of this ring are still to read */
	bool have;	    /* `rec` holds the ring's next valid event */
	struct tlb_trace_rec rec;
};

struct merge {
	struct cursor c[CPU_MAX];
	uint64_t lost;
};

/*
 * One reader at a time (a test, `make trace`'s dump, the console's `trace
 * dump`): the merge state is too big for a stack, so it is shared.
 */
static struct mutex reader_lock = MUTEX_INIT;
static struct merge reader_merge;

/* Loads cursor `cpu`'s next valid event, counting the ones overwritten meanwhile. */
static void cursor_fill(struct merge *m, unsigned cpu)
{
	struct cursor *c = &m->c[cpu];
	const struct tlb_trace_cpu_ring *r = &rings[cpu];
	while (!c->have && c->next < c->end) {
		uint64_t i = c->next++;
		const struct tlb_trace_slot *s = &r->slots[i % TLB_TRACE_RING_SLOTS];
		if (atomic_load_acquire(&s->seq) != i + 1) {
			m->lost++;
			continue;
		}
		struct tlb_trace_rec rec = {.ns = READ_ONCE(s->ns),
					    .a = READ_ONCE(s->a),
					    .b = READ_ONCE(s->b),
					    .cpu = cpu,
					    .kind = (enum tlb_ev)READ_ONCE(s->kind)};
		smp_rmb();
		if (atomic_load_relaxed(&s->seq) != i + 1) {
			m->lost++;
			continue;
		}
		c->rec = rec;
		c->have = true;
	}
}

static void merge_start(struct merge *m)
{
	m->lost = 0;
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		struct cursor *c = &m->c[cpu];
		uint64_t head = atomic_load_acquire(&rings[cpu].head);
		uint64_t base = atomic_load_acquire(&rings[cpu].base);
		uint64_t oldest = head > TLB_TRACE_RING_SLOTS ? head - TLB_TRACE_RING_SLOTS : 0;
		c->next = MAX(base, oldest);
		c->end = head;
		c->have = false;
		m->lost += c->next - MIN(base, c->next); /* overwritten since the clear */
		cursor_fill(m, cpu);
	}
}

/* The earliest event left (ties: the lower CPU); false when none is left. */
static bool merge_next(struct merge *m, struct tlb_trace_rec *out)
{
	struct cursor *best = NULL;
	unsigned best_cpu = 0;
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++) {
		struct cursor *c = &m->c[cpu];
		if (c->have && (!best || c->rec.ns < best->rec.ns)) {
			best = c;
			best_cpu = cpu;
		}
	}
	if (!best)
		return false;
	*out = best->rec;
	best->have = false;
	cursor_fill(m, best_cpu);
	return true;
}

unsigned tlb_trace_ring_read(struct tlb_trace_rec *out, unsigned cap, uint64_t *lost)
{
	struct merge *m = &reader_merge;
	mutex_lock(&reader_lock);
	merge_start(m);
	unsigned n = 0;
	struct tlb_trace_rec rec;
	while (n < cap && merge_next(m, &rec))
		out[n++] = rec;
	if (lost)
		*lost = m->lost;
	mutex_unlock(&reader_lock);
	return n;
}

void tlb_trace_ring_dump(void (*emit)(const char *line, void *ctx), void *ctx)
{
	struct merge *m = &reader_merge;
	char line[96];
	mutex_lock(&reader_lock);
	/* A first pass counts, so the header can say how many lines follow. */
	merge_start(m);
	uint64_t events = 0;
	struct tlb_trace_rec rec;
	while (merge_next(m, &rec))
		events++;
	/* Online, not "with events": a reader draws a lane even for a CPU that did nothing. */
	unsigned cpus = cpumask_weight(cpumask_read(&cpu_online_mask));
	merge_start(m);
	snprintf(line, sizeof(line), "trace: begin events=%lu lost=%lu cpus=%u",
		 (unsigned long)events, (unsigned long)m->lost, cpus);
	emit(line, ctx);
	while (events-- && merge_next(m, &rec)) {
		snprintf(line, sizeof(line), "trace: %lu %u %s 0x%lx 0x%lx", (unsigned long)rec.ns,
			 rec.cpu, tlb_trace_kind_name(rec.kind), (unsigned long)rec.a,
			 (unsigned long)rec.b);
		emit(line, ctx);
	}
	emit("trace: end", ctx);
	mutex_unlock(&reader_lock);
}
