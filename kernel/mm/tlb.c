// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shootdown engine (see tlb.h).
 *
 * Lazy CPUs and the initiator race: the initiator marks a lazy CPU stale
 * and then re-reads its lazy flag; the CPU clears its lazy flag and then
 * reads stale. Each side orders its store before its load with a full
 * barrier, so at least one of them sees the other: either the initiator
 * sees lazy == false and includes the CPU, or the CPU sees stale and
 * flushes the whole mm itself before using it.
 */
#include "kernel/mm/tlb.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/xcall.h"

struct tlb_cpu_state tlb_cpu[CPU_MAX];
static struct tlb_counters counters[CPU_MAX];

static void flush_here(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &counters[me];
	if (!arch_mm_holds_translations(asid_hw(req->mm), tlb_cpu[me].loaded == req->mm)) {
		c->not_loaded++;
		return;
	}
	uint64_t pages = (req->end - req->start) >> req->stride_shift;
	if (req->full || req->freed_tables || pages > TLB_RANGE_PAGES_MAX) {
		arch_tlb_flush_user_all(asid_hw(req->mm));
		c->local_full_flushes++;
		return;
	}
	for (virt_addr_t va = req->start; va < req->end; va += 1ull << req->stride_shift)
		arch_tlb_flush_user_page(asid_hw(req->mm), va);
	c->local_page_flushes += pages;
}

static void flush_handler(void *arg)
{
	flush_here(arg);
}

void tlb_flush_mm_range(const struct tlb_flush_request *req)
{
	unsigned me = arch_cpu_id();
	struct tlb_counters *c = &counters[me];
	cpumask_t targets = cpumask_read(&req->mm->cpus);
	cpumask_set(&targets, me); /* the initiator may hold stale entries too */
	for_each_cpu(cpu, targets)
	{
		if (cpu == me || req->freed_tables || !atomic_load_acquire(&tlb_cpu[cpu].lazy))
			continue;
		atomic_store_relaxed(&tlb_cpu[cpu].stale, true);
		smp_mb();
		if (atomic_load_relaxed(&tlb_cpu[cpu].lazy)) {
			cpumask_clear(&targets, cpu);
			c->lazy_skipped++;
		}
	}
	c->requests++;
	c->remote_targets += cpumask_weight(targets) - 1;
	xcall(targets, flush_handler, (void *)req, XCALL_WAIT);
}

void tlb_leave_lazy(unsigned cpu, struct mm *mm)
{
	atomic_store_relaxed(&tlb_cpu[cpu].lazy, false);
	smp_mb();
	if (atomic_load_relaxed(&tlb_cpu[cpu].stale)) {
		atomic_store_relaxed(&tlb_cpu[cpu].stale, false);
		arch_tlb_flush_user_all(asid_hw(mm));
		counters[cpu].local_full_flushes++;
	}
}

struct tlb_counters tlb_counters_cpu(unsigned cpu)
{
	return counters[cpu];
}

struct tlb_counters tlb_counters_total(void)
{
	struct tlb_counters t = {0};
	for (unsigned i = 0; i < CPU_MAX; i++) {
		t.requests += counters[i].requests;
		t.remote_targets += counters[i].remote_targets;
		t.lazy_skipped += counters[i].lazy_skipped;
		t.local_page_flushes += counters[i].local_page_flushes;
		t.local_full_flushes += counters[i].local_full_flushes;
		t.not_loaded += counters[i].not_loaded;
	}
	return t;
}

static struct tlb_trace_event *trace_buf;
static unsigned trace_cap, trace_len;

void tlb_trace_start(struct tlb_trace_event *buf, unsigned capacity)
{
	trace_len = 0;
	trace_cap = capacity;
	atomic_store_release(&trace_buf, buf);
}

unsigned tlb_trace_stop(void)
{
	atomic_store_release(&trace_buf, NULL);
	return MIN(trace_len, trace_cap);
}

void tlb_trace_event(enum tlb_trace_kind kind, uint64_t arg)
{
	struct tlb_trace_event *buf = atomic_load_acquire(&trace_buf);
	if (!buf)
		return;
	unsigned i = atomic_fetch_add(&trace_len, 1);
	if (i < trace_cap)
		buf[i] = (struct tlb_trace_event){kind, arg};
}
