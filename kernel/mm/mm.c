// SPDX-License-Identifier: BSD-2-Clause
/*
 * Address spaces: creation, teardown, switching, and user page faults.
 *
 * Switching follows the order the shootdown relies on: the CPU first adds
 * itself to mm->cpus (a sequentially consistent RMW), and only then loads
 * the mm's root and looks at any TLB state. A flusher changes the tables
 * first and reads mm->cpus afterwards; so either it sees this CPU and
 * flushes it, or this CPU loads the root after the change and cannot have
 * cached the old entry.
 */
#include "kernel/entry.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/errno.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"
#include "kernel/xcall.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"

struct mm *mm_create(void)
{
	phys_addr_t pa;
	if (frame_alloc_zeroed(&pa) != 0)
		return NULL;
	struct mm *mm = kva(pa);
	if (pt_init(&mm->pt) != 0) {
		frame_free(pa, 0);
		return NULL;
	}
	arch_mm_root_init(mm->pt.root);
	mm->lock = (struct mutex)MUTEX_INIT;
	mm->asid = 0;
	mm->tlb_gen = 1; /* 0 means "never caught up" in a CPU's state */
	return mm;
}

static void drop_mm_here(void *arg)
{
	struct mm *mm = arg;
	unsigned me = arch_cpu_id();
	struct tlb_cpu_state *s = &tlb_cpu[me];
	tlb_forget_mm(me, mm);
	if (s->loaded == mm) {
		arch_mm_deactivate();
		s->loaded = NULL;
		s->lazy = false;
		struct thread *cur = thread_current();
		if (cur && cur->active_mm == mm)
			cur->active_mm = NULL;
		if (arch_tlb_caps()->switch_flushes)
			cpumask_clear_atomic(&mm->cpus, me);
	}
	/*
	 * A tagged TLB may still hold entries of this mm's id (a CPU that ran
	 * it and switched away). Drop them here, once no root of this mm is
	 * loaded: the teardown flush below skips CPUs that no longer hold the
	 * mm, and the id may be given to another mm right after.
	 */
	if (!arch_tlb_caps()->switch_flushes)
		arch_tlb_flush_user_full(asid_hw(mm));
}

void mm_destroy(struct mm *mm)
{
	if (mm->users)
		panic("mm_destroy: %u threads still use this mm", mm->users);
	/* CPUs that borrowed it for a kernel thread let go of it first. */
	cpumask_t targets = cpumask_read(&mm->cpus);
	cpumask_set(&targets, arch_cpu_id());
	xcall(targets, drop_mm_here, mm, XCALL_WAIT);

	mutex_lock(&mm->lock);
	struct mmu_gather g;
	tlb_gather_begin(&g, mm, true);
	vma_unmap_all(mm, &g);
	tlb_gather_finish(&g);
	mutex_unlock(&mm->lock);
	/* Its tagged entries are gone everywhere (the flush above): the id may be reused. */
	asid_release(mm);

	frame_free(mm->pt.root, 0);
	frame_free(kva_to_pa(mm), 0);
}

void thread_set_mm(struct thread *t, struct mm *mm)
{
	t->mm = mm;
	atomic_fetch_add(&mm->users, 1);
}

void mm_switch_thread(struct thread *prev, struct thread *next)
{
	(void)prev;
	unsigned me = arch_cpu_id();
	struct tlb_cpu_state *s = &tlb_cpu[me];
	struct mm *target = next->mm;
	if (!target) {
		/* A kernel thread borrows whatever is loaded and touches no user address. */
		next->active_mm = s->loaded;
		if (s->loaded)
			atomic_store_release(&s->lazy, true);
		return;
	}
	next->active_mm = target;
	if (s->loaded == target) {
		if (s->lazy)
			tlb_leave_lazy(me, target);
		return;
	}
	struct mm *old = s->loaded;
	/*
	 * The switch-in ordering (docs/tlb.md, "Switching in"):
	 *  1. the ASID is chosen first, so that a flusher that reads the mm's
	 *     ASID after our fence and finds the old one bumped the generation
	 *     before we read it below (and we flush that change ourselves);
	 *  2. we publish that we hold the mm (cpus, loaded, not lazy), then a
	 *     full fence, then read the generation: a flusher bumps, fences,
	 *     then reads whom to interrupt, so one of us sees the other;
	 *  3. on an untagged TLB the generation is read BEFORE loading the
	 *     root: loading it flushes, but the walker may refill from the
	 *     tables at once, so only changes published before the flush may
	 *     be counted as flushed by it. A later bump finds us in `cpus`
	 *     and its request is not skipped as already done.
	 */
	unsigned asid = asid_for_switch(target);
	cpumask_set_atomic(&target->cpus, me);
	atomic_store_release(&s->loaded, target);
	atomic_store_release(&s->lazy, false);
	smp_mb();
	if (arch_tlb_caps()->switch_flushes) {
		uint64_t gen = atomic_load_acquire(&target->tlb_gen);
		if (tlb_broken_is(TLB_BREAK_SWITCH_ORDER)) {
			arch_mm_activate(target->pt.root, asid);
			tlb_switch_test_hook(target);
			gen = atomic_load_acquire(&target->tlb_gen); /* the old order, on purpose */
		} else {
			arch_mm_activate(target->pt.root, asid);
			tlb_switch_test_hook(target);
		}
		tlb_gen_loaded(me, gen);
		if (old)
			cpumask_clear_atomic(&old->cpus, me);
	} else {
		/*
		 * Tagged entries may remain from an earlier visit: catch up from
		 * its slot (or flush the ASID) before the walker can use them.
		 */
		tlb_switch_tagged(me, old, target);
		arch_mm_activate(target->pt.root, asid);
	}
}

static bool access_allowed(unsigned attrs, const struct fault_info *info)
{
	if (info->write && !(attrs & PT_WRITE))
		return false;
	if (info->exec && !(attrs & PT_EXEC))
		return false;
	return true;
}

bool mm_handle_fault(const struct fault_info *info)
{
	virt_addr_t va = info->address;
	if (info->kind != FAULT_PAGE || va < arch_mm_layout.user_base ||
	    va >= arch_mm_layout.user_top)
		return false;
	struct thread *t = thread_current();
	struct mm *mm = t ? t->mm : NULL;
	/*
	 * Filling takes mm->lock, a sleeping lock: only for a fault from a
	 * context that had interrupts on (a thread touching its memory, on its
	 * own stack), and with them on again for as long as it takes. A fault
	 * under a spinlock or with interrupts off is not resolved here.
	 */
	if (!mm || !info->irqs_were_on || this_cpu()->preempt_count)
		return false;
	virt_addr_t page = ALIGN_DOWN(va, PAGE_SIZE);
	bool handled = false;
	arch_irq_enable();
	mutex_lock(&mm->lock);
	struct vma *v = vma_find(mm, va);
	struct pt_query_result q;
	if (!v || !access_allowed(v->attrs, info)) {
		mm->stats.faults_refused++;
	} else if (pt_query(&mm->pt, page, &q)) {
		/* Mapped, and the mapping allows it: a stale stricter TLB entry. */
		if (access_allowed(q.attrs, info)) {
			arch_tlb_flush_user_page(asid_hw(mm), page);
			mm->stats.faults_spurious++;
			handled = true;
		} else {
			mm->stats.faults_refused++;
		}
	} else if (v->kind == VMA_ANON) {
		handled = vm_fault_fill(mm, page, v) == 0;
	}
	mutex_unlock(&mm->lock);
	arch_irq_disable();
	return handled;
}

/* Maps a fresh zero page at `page` of anonymous VMA `v`. mm->lock held. */
int vm_fault_fill(struct mm *mm, virt_addr_t page, const struct vma *v)
{
	phys_addr_t pa;
	int err = frame_alloc_zeroed(&pa);
	if (err)
		return err;
	err = pt_map(&mm->pt, page, pa, PAGE_SIZE, v->attrs | PT_PAGES_ONLY);
	if (err) {
		frame_free(pa, 0);
		return err;
	}
	mm->stats.faults_filled++;
	return 0;
}

int vm_populate(struct mm *mm, virt_addr_t va, uint64_t size)
{
	/* A range that wraps past the top would make the loop below run forever. */
	if (!size || va + size < va)
		return -EINVAL;
	virt_addr_t first = ALIGN_DOWN(va, PAGE_SIZE), end = ALIGN_UP(va + size, PAGE_SIZE);
	if (end < first || !vm_user_range_ok(first, end - first))
		return -EINVAL;
	int err = 0;
	mutex_lock(&mm->lock);
	for (virt_addr_t p = ALIGN_DOWN(va, PAGE_SIZE); p < va + size && !err; p += PAGE_SIZE) {
		struct vma *v = vma_find(mm, p);
		struct pt_query_result q;
		if (!v || v->kind != VMA_ANON)
			err = -EINVAL;
		else if (!pt_query(&mm->pt, p, &q))
			err = vm_fault_fill(mm, p, v);
	}
	mutex_unlock(&mm->lock);
	return err;
}
