// SPDX-License-Identifier: BSD-2-Clause
/*
 * tlb_trace suite: the shootdown event ring (kernel/mm/tlb_trace.h) records
 * what really happened, in the order it happened, and nothing when stopped.
 *
 * The unmaps run in an mm that other CPUs hold: a resident thread spins in
 * it on each of them (not lazy, so each is a real target), and the unmap
 * runs in a thread of the mm on the test's CPU. Tracing is started and
 * stopped inside that thread, around the one operation, so the ring holds
 * only the operation's events. `shootdown_scenario` is what `make trace`
 * boots (with trace.scenario=shootdown, which also dumps the ring to the
 * console for tools/trace_plot.py).
 */
#include "kernel/cmdline.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb.h"
#include "kernel/mm/tlb_trace.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define UVA(off)  (arch_mm_layout.user_base + GiB(7) + (off))
#define SPIN_VA	  UVA(MiB(8)) /* the residents' page: a leaf table of its own */
#define TWO_PAGES UVA(0)      /* unmapping the first keeps the leaf table */
#define BIG	  UVA(MiB(2)) /* 32 pages alone in their leaf table: unmapping frees it */
#define BIG_PAGES 32
#define RO	  UVA(MiB(4)) /* 8 pages made read-only */
#define RO_PAGES  8

/* `make trace`'s boot: run the scenario and print the ring (tools/trace_plot.py reads it). */
enum trace_scenario { TRACE_SCENARIO_NONE, TRACE_SCENARIO_SHOOTDOWN };
CMDLINE_PARAM(trace_scenario_param, .key = "trace.scenario", .kind = CMDLINE_ENUM,
	      .values = "none|shootdown", .def = "none",
	      .help = "tlb_trace.shootdown_scenario prints its event ring (make trace)");

/* An mm held by `want` CPUs, the test's own included, and what to run in it. */
struct held {
	struct mm *mm;
	bool stop;
	uint32_t spinning;
	struct thread *resident[CPU_MAX];
	cpumask_t holders;
	void (*op)(struct held *h);
	int err;
};

static void spin_in_mm(void *arg)
{
	struct held *h = arg;
	*(volatile uint64_t *)(SPIN_VA + 64 * arch_cpu_id()) = 1; /* loads the mm here */
	atomic_fetch_add(&h->spinning, 1);
	while (!atomic_load_acquire(&h->stop))
		arch_cpu_relax();
}

static void run_op(void *arg)
{
	struct held *h = arg;
	h->op(h);
}

/* Starts residents on up to want - 1 other CPUs, runs h->op in the mm here, stops them. */
static void run_held(struct ktest *t, struct held *h, unsigned want)
{
	unsigned me = arch_cpu_id(), n = 0;
	h->holders = cpumask_of(me);
	for_each_cpu(cpu, cpumask_read(&cpu_online_mask))
	{
		if (cpu == me || n + 1 >= want)
			continue;
		h->resident[cpu] = thread_create_mm("resident", cpu, h->mm, spin_in_mm, h);
		ASSERT_TRUE(t, h->resident[cpu] != NULL);
		cpumask_set(&h->holders, cpu);
		n++;
	}
	while (atomic_load_acquire(&h->spinning) < n)
		thread_sleep_ns(1000000);
	struct thread *th = thread_create_mm("op", me, h->mm, run_op, h);
	ASSERT_TRUE(t, th != NULL);
	thread_join(th);
	atomic_store_release(&h->stop, true);
	for (unsigned cpu = 0; cpu < CPU_MAX; cpu++)
		if (h->resident[cpu])
			thread_join(h->resident[cpu]);
	EXPECT_EQ(t, h->err, 0);
}

static struct mm *mm_with_pages(struct ktest *t, virt_addr_t va, unsigned pages)
{
	struct mm *mm = mm_create();
	if (!mm)
		return NULL;
	EXPECT_EQ(t, vm_map_anon(mm, va, pages * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, vm_populate(mm, va, pages * PAGE_SIZE), 0);
	EXPECT_EQ(t, vm_map_anon(mm, SPIN_VA, PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, vm_populate(mm, SPIN_VA, PAGE_SIZE), 0);
	return mm;
}

#define RECS_MAX 4096
static struct tlb_trace_rec recs[RECS_MAX];

/* Index of the first event of `kind` on `cpu` at or after `from`, or -1. */
static int find(unsigned n, int from, unsigned cpu, enum tlb_ev kind)
{
	for (int i = from < 0 ? 0 : from; i < (int)n; i++)
		if (recs[i].cpu == cpu && recs[i].kind == kind)
			return i;
	return -1;
}

static unsigned count(unsigned n, unsigned cpu, enum tlb_ev kind)
{
	unsigned c = 0;
	for (unsigned i = 0; i < n; i++)
		c += recs[i].cpu == cpu && recs[i].kind == kind;
	return c;
}

/* Reads the ring; no event may be lost, and each CPU's timestamps never go back. */
static unsigned read_ring(struct ktest *t)
{
	uint64_t lost = 0;
	unsigned n = tlb_trace_ring_read(recs, RECS_MAX, &lost);
	EXPECT_EQ(t, lost, 0u);
	EXPECT_LT(t, n, (unsigned)RECS_MAX);
	uint64_t last[CPU_MAX] = {0};
	for (unsigned i = 0; i < n; i++) {
		EXPECT_GE(t, recs[i].ns, last[recs[i].cpu]);
		last[recs[i].cpu] = recs[i].ns;
	}
	return n;
}

static void traced_unmap_one(struct held *h)
{
	*(volatile uint64_t *)TWO_PAGES = 1; /* cached here, so there is something to flush */
	tlb_trace_ring_clear();
	tlb_trace_ring_enable(true);
	h->err = vm_unmap(h->mm, TWO_PAGES, PAGE_SIZE);
	tlb_trace_ring_enable(false);
}

/* Does the flush event at i cover `va` (a range of pages from a, or the whole mm)? */
static bool covers(unsigned i, virt_addr_t va)
{
	return recs[i].b == 0 || (recs[i].a <= va && va < recs[i].a + recs[i].b * PAGE_SIZE);
}

/*
 * A 1-page unmap in an mm that every online CPU (up to 4) holds: the
 * initiator records unmap start, the gathered page, then (IPIs) the send,
 * its own invalidation of the page, the acknowledgement, the page's free
 * and unmap end, in that order; every other holder receives the IPI from
 * the initiator after it was sent and invalidates the page before the
 * page is freed (timestamps across CPUs: one clock). With a hardware
 * broadcast the initiator's one broadcast invalidation sits between the
 * gather and the free, and no other CPU records anything.
 * tlb.break=free_before_flush (the gather frees first) makes it fail.
 */
static void one_page_unmap_in_causal_order(struct ktest *t)
{
	if (cpumask_weight(cpumask_read(&cpu_online_mask)) < 2)
		KTEST_SKIP(t, "needs a second CPU");
	static struct held h;
	memset(&h, 0, sizeof(h));
	h.mm = mm_with_pages(t, TWO_PAGES, 2);
	ASSERT_TRUE(t, h.mm != NULL);
	h.op = traced_unmap_one;
	unsigned me = arch_cpu_id();
	run_held(t, &h, 4);
	unsigned n = read_ring(t);
	ktest_log(t, "%u events on %u CPUs", n, cpumask_weight(h.holders));

	int start = find(n, 0, me, TLB_EV_UNMAP_START);
	int gather = find(n, start, me, TLB_EV_GATHER_PAGES);
	int free = find(n, gather, me, TLB_EV_FREE_PAGE);
	int end = find(n, free, me, TLB_EV_UNMAP_END);
	ASSERT_GE(t, start, 0);
	EXPECT_EQ(t, recs[start].a, TWO_PAGES);
	ASSERT_GT(t, gather, start);
	EXPECT_EQ(t, recs[gather].b, 1u);
	ASSERT_GT(t, free, gather);
	EXPECT_EQ(t, recs[free].a, recs[gather].a); /* the page gathered is the page freed */
	EXPECT_EQ(t, count(n, me, TLB_EV_FREE_PAGE), 1u);
	EXPECT_GT(t, end, free);
	if (tlb_broadcast) {
		int b = find(n, gather, me, TLB_EV_BCAST_END);
		EXPECT_GT(t, b, gather);
		EXPECT_LT(t, b, free);
		EXPECT_EQ(t, count(n, me, TLB_EV_IPI_SEND), 0u);
		for (unsigned i = 0; i < n; i++)
			EXPECT_EQ(t, recs[i].cpu, me);
		mm_destroy(h.mm);
		return;
	}
	int send = find(n, gather, me, TLB_EV_IPI_SEND);
	int own = find(n, send, me, TLB_EV_FLUSH_END);
	int acked = find(n, send, me, TLB_EV_IPI_ACKED);
	ASSERT_GT(t, send, gather);
	EXPECT_EQ(t, recs[send].b, cpumask_weight(h.holders) - 1);
	EXPECT_GT(t, own, send);
	EXPECT_TRUE(t, own >= 0 && covers(own, TWO_PAGES));
	EXPECT_LT(t, own, free);
	EXPECT_GT(t, acked, send);
	EXPECT_LT(t, acked, free);
	for_each_cpu(cpu, h.holders)
	{
		if (cpu == me)
			continue;
		int recv = find(n, 0, cpu, TLB_EV_IPI_RECV);
		int flushed = find(n, recv, cpu, TLB_EV_FLUSH_END);
		ktest_log(t, "cpu%u: ipi_recv at %d, flush_end at %d (send %d, free %d)", cpu, recv,
			  flushed, send, free);
		EXPECT_EQ(t, count(n, cpu, TLB_EV_IPI_RECV), 1u);
		ASSERT_GE(t, recv, 0);
		EXPECT_EQ(t, recs[recv].a, me);
		EXPECT_GE(t, recs[recv].ns, recs[send].ns);
		ASSERT_GT(t, flushed, recv);
		EXPECT_TRUE(t, covers(flushed, TWO_PAGES));
		EXPECT_LE(t, recs[flushed].ns, recs[free].ns);
	}
	mm_destroy(h.mm);
}

/*
 * Stopped means stopped: an unmap with tracing off leaves the ring empty,
 * and the same unmap with it on does not (the ring works). Runs on one
 * CPU. tlb.break=trace_records_off (stopping is ignored) makes it fail.
 */
static void disabled_records_nothing(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, TWO_PAGES, 2);
	ASSERT_TRUE(t, mm != NULL);
	tlb_trace_ring_enable(false);
	tlb_trace_ring_clear();
	EXPECT_EQ(t, vm_unmap(mm, TWO_PAGES, PAGE_SIZE), 0);
	unsigned off = read_ring(t);
	tlb_trace_ring_enable(true);
	EXPECT_EQ(t, vm_unmap(mm, TWO_PAGES + PAGE_SIZE, PAGE_SIZE), 0);
	tlb_trace_ring_enable(false);
	unsigned on = read_ring(t);
	ktest_log(t, "events: %u with tracing off, %u with it on", off, on);
	EXPECT_EQ(t, off, 0u);
	EXPECT_GT(t, on, 0u);
	EXPECT_GE(t, find(on, 0, arch_cpu_id(), TLB_EV_UNMAP_START), 0);
	mm_destroy(mm);
}

struct dump_check {
	struct ktest *t;
	unsigned lines, n;
	bool begin_ok, end_ok;
};

static void check_line(const char *line, void *ctx)
{
	struct dump_check *d = ctx;
	unsigned i = d->lines++;
	if (i == 0) {
		char want[64];
		snprintf(want, sizeof(want), "trace: begin events=%u lost=0 ", d->n);
		d->begin_ok = strncmp(line, want, strlen(want)) == 0;
		return;
	}
	if (i == d->n + 1) {
		d->end_ok = strcmp(line, "trace: end") == 0;
		return;
	}
	/* Event i - 1, as tlb_trace_ring_read() gave it: "trace: <ns> <cpu> <kind> 0x<a> 0x<b>". */
	char want[96];
	const struct tlb_trace_rec *r = &recs[i - 1];
	snprintf(want, sizeof(want), "trace: %lu %u %s 0x%lx 0x%lx", (unsigned long)r->ns, r->cpu,
		 tlb_trace_kind_name(r->kind), (unsigned long)r->a, (unsigned long)r->b);
	if (i - 1 < RECS_MAX && strcmp(line, want) != 0)
		ktest_fail_msg(d->t, __FILE__, __LINE__, "line %u: '%s', expected '%s'", i, line,
			       want);
}

/*
 * The dump prints a header naming the number of events, one line per event
 * in the order tlb_trace_ring_read() gives them, and an end line; after a
 * clear it prints no event.
 */
static void dump_prints_one_line_per_event(struct ktest *t)
{
	struct mm *mm = mm_with_pages(t, TWO_PAGES, 2);
	ASSERT_TRUE(t, mm != NULL);
	tlb_trace_ring_clear();
	tlb_trace_ring_enable(true);
	EXPECT_EQ(t, vm_unmap(mm, TWO_PAGES, 2 * PAGE_SIZE), 0);
	tlb_trace_ring_enable(false);
	struct dump_check d = {.t = t, .n = read_ring(t)};
	EXPECT_GT(t, d.n, 0u);
	tlb_trace_ring_dump(check_line, &d);
	EXPECT_EQ(t, d.lines, d.n + 2);
	EXPECT_TRUE(t, d.begin_ok);
	EXPECT_TRUE(t, d.end_ok);
	tlb_trace_ring_clear();
	d = (struct dump_check){.t = t, .n = 0};
	tlb_trace_ring_dump(check_line, &d);
	EXPECT_EQ(t, d.lines, 2u);
	EXPECT_TRUE(t, d.begin_ok && d.end_ok);
	mm_destroy(mm);
}

static void scenario_ops(struct held *h)
{
	for (unsigned i = 0; i < BIG_PAGES; i++)
		*(volatile uint64_t *)(BIG + i * PAGE_SIZE) = i;
	for (unsigned i = 0; i < RO_PAGES; i++)
		*(volatile uint64_t *)(RO + i * PAGE_SIZE) = i;
	*(volatile uint64_t *)TWO_PAGES = 1;
	tlb_trace_ring_clear();
	tlb_trace_ring_enable(true);
	h->err |= vm_unmap(h->mm, TWO_PAGES, PAGE_SIZE);
	h->err |= vm_unmap(h->mm, BIG, BIG_PAGES * PAGE_SIZE);
	h->err |= vm_protect(h->mm, RO, RO_PAGES * PAGE_SIZE, PT_READ);
	tlb_trace_ring_enable(false);
}

static void emit_printk(const char *line, void *ctx)
{
	(void)ctx;
	printk("%s", line);
}

/*
 * `make trace`'s scenario: an mm held on 4 CPUs (fewer if fewer are
 * online), a 1-page munmap, a 32-page munmap that frees its leaf table,
 * and an mprotect of 8 pages to read-only, all traced. Each operation is
 * in the ring, and with IPIs every other holder received one per
 * operation (the table's free makes the 32-page one a full flush).
 * With trace.scenario=shootdown the ring is printed.
 */
static void shootdown_scenario(struct ktest *t)
{
	static struct held h;
	memset(&h, 0, sizeof(h));
	h.mm = mm_with_pages(t, TWO_PAGES, 2);
	ASSERT_TRUE(t, h.mm != NULL);
	EXPECT_EQ(t, vm_map_anon(h.mm, BIG, BIG_PAGES * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	EXPECT_EQ(t, vm_map_anon(h.mm, RO, RO_PAGES * PAGE_SIZE, PT_READ | PT_WRITE), 0);
	h.op = scenario_ops;
	unsigned me = arch_cpu_id();
	run_held(t, &h, 4);
	unsigned n = read_ring(t);
	ktest_log(t, "%u events on %u CPUs, tlb %s", n, cpumask_weight(h.holders),
		  tlb_broadcast ? "broadcast" : "IPIs");
	EXPECT_EQ(t, count(n, me, TLB_EV_UNMAP_START), 2u);
	EXPECT_EQ(t, count(n, me, TLB_EV_PROTECT_START), 1u);
	EXPECT_EQ(t, count(n, me, TLB_EV_FREE_PAGE), 1u + BIG_PAGES);
	EXPECT_GE(t, count(n, me, TLB_EV_FREE_TABLE), 1u);
	for_each_cpu(cpu, h.holders) if (cpu != me && !tlb_broadcast)
	    EXPECT_EQ(t, count(n, cpu, TLB_EV_IPI_RECV), 3u);
	if (cmdline_enum("trace.scenario") == TRACE_SCENARIO_SHOOTDOWN)
		tlb_trace_ring_dump(emit_printk, NULL);
	mm_destroy(h.mm);
}

static const struct ktest_case tlb_trace_cases[] = {
    KTEST_CASE(one_page_unmap_in_causal_order),
    KTEST_CASE(disabled_records_nothing),
    KTEST_CASE(dump_prints_one_line_per_event),
    KTEST_CASE(shootdown_scenario),
    KTEST_END,
};
KTEST_SUITE(tlb_trace_suite, "tlb_trace", tlb_trace_cases);
