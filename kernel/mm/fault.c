// SPDX-License-Identifier: BSD-2-Clause
/*
 * User page faults, and populating anonymous memory ahead of them. An
 * anonymous page is filled with a fresh zero frame on first touch (or by
 * vm_populate, as if touched); a fault on a page that is mapped and allows
 * the access is a stale, stricter TLB entry left by a permission upgrade
 * (upgrades flush nothing, see gather.h): the entry is dropped on this CPU
 * and the access retried. Everything else is refused, and the caller
 * (fault_dispatch) decides what a refused fault means.
 *
 * Invariants:
 *  - Faults are resolved under mm->lock held for read, a sleeping lock:
 *    only for a fault from a context that had interrupts on and may be
 *    preempted, and with interrupts on again for as long as it takes.
 *    Faults on several CPUs, populate, and the table work of unmaps and
 *    protects of other ranges run side by side; pt->lock orders their
 *    table edits. A fault checks its VMA and installs its page in one
 *    vma_lock section. Two faults on one page: the second finds the page
 *    with pt_query there, and frees the zero page it made (faults_raced).
 *  - A fault never fills inside a range being unmapped: the unmap marks
 *    its VMAs dying under vma_lock before its first table edit, and a
 *    fault refuses a dying VMA (vma.c).
 *  - A fault never takes a permission away (that would need a flush it
 *    does not send): it gives a mapped page the VMA's permissions only
 *    when the entry's are within them; while a change in flight owns the
 *    VMA with permissions the entry exceeds (a protect that both adds and
 *    removes), it waits for that change to end (mm.break=fault_removes_perm
 *    does not, and concur.fault_beside_a_mixed_protect_takes_nothing must
 *    fail).
 *  - A page is filled only inside an anonymous VMA whose permissions allow
 *    the access, with the VMA's attributes; the frame then belongs to the
 *    VMA (freed when it is unmapped or discarded).
 *  - Filling maps into a hole, which no TLB caches: it flushes nothing.
 */
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/percpu.h"

static bool access_allowed(unsigned attrs, const struct fault_info *info)
{
	if (info->write && !(attrs & PT_WRITE))
		return false;
	if (info->exec && !(attrs & PT_EXEC))
		return false;
	return true;
}

/* Are the permissions of `attrs` a subset of those of `allowed`? */
static bool perms_within(unsigned attrs, unsigned allowed)
{
	const unsigned perms = PT_READ | PT_WRITE | PT_EXEC;
	return !(attrs & perms & ~allowed);
}

/*
 * Decides and acts on one page, under vma_lock, so the VMA it checks cannot
 * die (an unmap marks it under the same lock) before the page is in:
 * 0 resolved, -EFAULT refused, -EINVAL (populate) not anonymous memory,
 * -EAGAIN a zero page is needed first (*frame is 0: make one, call again),
 * -EBUSY a change in flight owns the VMA and must end first (wait, call
 * again), or pt_map's error. A zero page made and not used stays in *frame.
 * `info` NULL: populate (a read, and a mapped page is simply done).
 */
static int resolve(struct mm *mm, virt_addr_t page, const struct fault_info *info,
		   phys_addr_t *frame)
{
	irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
	const struct vma *v = vma_find(mm, page);
	struct pt_query_result q;
	int err = 0;
	/* The reserved window's VMA is the kernel's (no PT_USER): no fault there is resolved. */
	if (!v || v->dying || !(v->attrs & PT_USER) || (info && !access_allowed(v->attrs, info))) {
		err = info ? -EFAULT : -EINVAL;
	} else if (pt_query(&mm->pt, page, &q)) {
		if (!info) {
			err = v->kind == VMA_ANON ? 0 : -EINVAL;
		} else if (access_allowed(q.attrs, info)) {
			/* Mapped, and the mapping allows it: a stale stricter TLB entry. */
			arch_tlb_flush_user_page(asid_hw(mm), page);
			atomic_fetch_add(&mm->stats.faults_spurious, 1);
		} else if (v->kind == VMA_ANON && v->owner && !perms_within(q.attrs, v->attrs) &&
			   !mm_broken_is(MM_BREAK_FAULT_REMOVES_PERM)) {
			/*
			 * A change in flight (a protect that both adds and takes
			 * away) gave the VMA its new permissions before its walk
			 * reached this entry. Taking the VMA's permissions now would
			 * remove one with no flush, and the change's walk would then
			 * find nothing to record: wait until it is done.
			 */
			err = -EBUSY;
		} else if (v->kind == VMA_ANON) {
			/*
			 * Write-protected by soft-dirty tracking (or a protect that
			 * upgraded the VMA has not reached this entry yet), the VMA
			 * allowing the access: give the page the VMA's permissions,
			 * marked as written. The entry's permissions are within the
			 * VMA's (checked above for a change in flight; otherwise the
			 * entry was made from the VMA), so this only adds: nothing to
			 * flush or notify.
			 */
			err = pt_protect(&mm->pt, page, PAGE_SIZE, v->attrs | PT_SOFT_DIRTY);
			if (!err)
				atomic_fetch_add(&mm->stats.faults_soft_dirty, 1);
		} else {
			err = -EFAULT;
		}
	} else if (v->kind != VMA_ANON) {
		err = info ? -EFAULT : -EINVAL;
	} else if (!*frame) {
		err = -EAGAIN;
	} else {
		/* A new page counts as written for soft-dirty tracking. */
		err = pt_map(&mm->pt, page, *frame, PAGE_SIZE,
			     v->attrs | PT_SOFT_DIRTY | PT_PAGES_ONLY);
		/* Broken on purpose (fill_leak): a failed fill's page leaks. */
		if (!err || mm_broken_is(MM_BREAK_FILL_LEAK))
			*frame = 0;
		if (!err)
			atomic_fetch_add(&mm->stats.faults_filled, 1);
	}
	spin_unlock_irqrestore(&mm->vma_lock, flags);
	if (err == -EFAULT)
		atomic_fetch_add(&mm->stats.faults_refused, 1);
	return err;
}

/* A zeroed frame for a hole: 0 or -ENOMEM (also when failure injection says so). */
static int make_zero_page(phys_addr_t *frame)
{
	return mm_alloc_fails(MM_ALLOC_FILL) ? -ENOMEM : frame_alloc_zeroed(frame);
}

/*
 * Resolves `page` (mm->lock held for read), making its zero page outside
 * vma_lock and waiting outside it for a change that must end first.
 * *spare: a zero page the caller made ahead (0: none), taken if the page
 * is a hole; what is left of it (not taken, or made here and not used)
 * stays in *spare for the caller to use or free. *filled: the page was a
 * hole and took a zero page. `hole_err` non-zero: a hole fails with it
 * rather than make a zero page (the caller's attempt to make one failed).
 */
static int resolve_page(struct mm *mm, virt_addr_t page, const struct fault_info *info,
			phys_addr_t *spare, bool *filled, int hole_err)
{
	bool made = false;
	int err;
	for (;;) {
		phys_addr_t before = *spare;
		err = resolve(mm, page, info, spare);
		*filled = err == 0 && before && !*spare;
		if (err != -EAGAIN && err != -EBUSY)
			break;
		if (err == -EBUSY) {
			/* The change ends with no new hold of mm->lock: safe to wait in ours. */
			vma_wait_unowned(mm, page);
			continue;
		}
		/* Zeroing is slow: done before vma_lock, used only if the page is still a hole. */
		err = hole_err ? hole_err : make_zero_page(spare);
		if (err)
			break;
		made = true;
	}
	/* Made here and resolved without it: another fault filled the page meanwhile. */
	if (made && *spare && err == 0)
		atomic_fetch_add(&mm->stats.faults_raced, 1);
	return err;
}

bool mm_handle_fault(struct mm *mm, const struct fault_info *info)
{
	virt_addr_t va = info->address;
	if (info->kind != FAULT_PAGE || va < arch_mm_layout.user_base ||
	    va >= arch_mm_layout.user_top)
		return false;
	/*
	 * Filling takes mm->lock (read), a sleeping lock: only for a fault from a
	 * context that had interrupts on (a thread touching its memory, on its
	 * own stack), and with them on again for as long as it takes. A fault
	 * under a spinlock or with interrupts off is not resolved here.
	 */
	if (!mm || !info->irqs_were_on || this_cpu()->preempt_count)
		return false;
	arch_irq_enable();
	down_read(&mm->lock);
	phys_addr_t spare = 0;
	bool filled;
	bool handled = resolve_page(mm, ALIGN_DOWN(va, PAGE_SIZE), info, &spare, &filled, 0) == 0;
	up_read(&mm->lock);
	if (spare)
		frame_free(spare, 0);
	arch_irq_disable();
	return handled;
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
	/*
	 * A populate mostly fills holes: the first page's zero page, and once a
	 * page took its zero page the next one's, is made before its look under
	 * vma_lock, which then finds the hole and fills it at once, not in a
	 * second pass (one lock round trip, VMA lookup and walk less per page).
	 * A page found mapped leaves it for the next; the last one left is
	 * freed. A zero page that cannot be made ahead fails the populate
	 * (-ENOMEM) if its page is a hole, and is no error otherwise: a failed
	 * allocation a hole needed is never absorbed by trying again (the
	 * failure-injection suite checks that each one is reported).
	 */
	phys_addr_t spare = 0;
	bool filled = false;
	down_read(&mm->lock);
	for (virt_addr_t p = first; p < va + size && !err; p += PAGE_SIZE) {
		int ahead_err = (p == first || filled) && !spare ? make_zero_page(&spare) : 0;
		err = resolve_page(mm, p, NULL, &spare, &filled, ahead_err);
	}
	up_read(&mm->lock);
	if (spare)
		frame_free(spare, 0);
	return err;
}
