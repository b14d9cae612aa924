// SPDX-License-Identifier: BSD-2-Clause
/*
 * Address spaces: creation and teardown. The rest of an mm's life is in
 * the files around this one: switch.c loads it on a CPU, fault.c fills its
 * pages, vma.c maps and unmaps its ranges.
 *
 * Invariants:
 *  - A new mm has an empty user half, the kernel half every mm shares
 *    (arch_mm_root_init), no ASID yet, and TLB generation 1 (a CPU at
 *    generation 0 has never caught up with anything).
 *  - An mm is destroyed only once no thread uses it (users == 0). Before
 *    its tables go, every CPU that may still hold it lets go of it (a
 *    kernel thread borrowed it, or a tagged TLB kept its entries after
 *    switching away); then its mappings and tables go through one teardown
 *    gather; its ASID is released only after that, when no CPU holds an
 *    entry tagged with it.
 *  - Every mm from mm_create until mm_destroy begins is on the live list
 *    (for audits, mm_for_each_live); off it, nobody audits it any more.
 *  - A thread is counted in `users` under the live list's lock, so a walk
 *    of the list that checks and acts in one hold sees it or precedes it.
 */
#include "kernel/mm/mm.h"
#include "kernel/cmdline.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/notifier.h"
#include "kernel/printk.h"
#include "kernel/xcall.h"

static struct mutex live_lock = MUTEX_INIT;
static struct mm *live_list;

/* Calls fn for each mm on the list until one returns non-zero. Caller holds live_lock. */
static int walk_live(int (*fn)(struct mm *mm, void *arg), void *arg)
{
	int ret = 0;
	for (struct mm *mm = live_list; mm && !ret; mm = mm->live_next)
		ret = fn(mm, arg);
	return ret;
}

int mm_for_each_live(int (*fn)(struct mm *mm, void *arg), void *arg)
{
	mutex_lock(&live_lock);
	int ret = walk_live(fn, arg);
	mutex_unlock(&live_lock);
	return ret;
}

int mm_for_each_live_checked(int (*check)(struct mm *mm, void *arg),
			     int (*fn)(struct mm *mm, void *arg), void (*commit)(void *arg),
			     void (*release)(struct mm *mm, void *arg), void *arg)
{
	mutex_lock(&live_lock);
	struct mm *failed = NULL;
	int ret = 0;
	for (struct mm *mm = live_list; mm; mm = mm->live_next)
		if ((ret = check(mm, arg)) != 0) {
			failed = mm;
			break;
		}
	if (!ret)
		ret = walk_live(fn, arg);
	if (!ret && commit)
		commit(arg);
	/* The list cannot change in the hold: these are exactly the mms whose check passed. */
	if (release)
		for (struct mm *mm = live_list; mm != failed; mm = mm->live_next)
			release(mm, arg);
	mutex_unlock(&live_lock);
	return ret;
}

struct mm *mm_create(void)
{
	phys_addr_t pa;
	if (mm_alloc_fails(MM_ALLOC_MM) || frame_alloc_zeroed(&pa) != 0)
		return NULL;
	struct mm *mm = kva(pa);
	if (pt_init(&mm->pt) != 0) {
		frame_free(pa, 0);
		return NULL;
	}
	arch_mm_root_init(mm->pt.root);
	mm->lock = (struct rwsem)RWSEM_INIT;
	mm->ring_lock = (spinlock_t)SPINLOCK_INIT;
	mm->vma_lock = (spinlock_t)SPINLOCK_INIT;
	mm->vma_wait = (struct wait_queue)WAIT_QUEUE_INIT;
	mm->asid = 0;
	mm->tlb_gen = 1; /* 0 means "never caught up" in a CPU's state */
	mutex_lock(&live_lock);
	mm->live_next = live_list;
	live_list = mm;
	mutex_unlock(&live_lock);
	return mm;
}

CMDLINE_PARAM(mm_test_users_unlocked_param, .key = "mm.test_users_unlocked", .kind = CMDLINE_FLAG,
	      .def = "off",
	      .help = "test only: count a new thread of an mm without the live list's lock (the mm "
		      "suite must fail)");

/* Read once at boot (mm_live_setup), not on every thread start. */
static bool users_unlocked;

void mm_live_setup(void)
{
	users_unlocked = cmdline_has("mm.test_users_unlocked");
	if (users_unlocked)
		printk("mm: WARNING: threads counted without the live list's lock "
		       "(mm.test_users_unlocked): tests must fail");
}

void mm_add_user(struct mm *mm)
{
	if (users_unlocked) {
		/* Broken on purpose: a live-list walk may see the mm idle, then used. */
		atomic_fetch_add(&mm->users, 1);
		return;
	}
	mutex_lock(&live_lock);
	atomic_fetch_add(&mm->users, 1);
	mutex_unlock(&live_lock);
}

/* Cross-call: this CPU lets go of the mm (switch.c). */
static void unload_here(void *mm)
{
	mm_unload_here(mm);
}

void mm_unload_everywhere(struct mm *mm)
{
	cpumask_t targets = cpumask_read(&mm->cpus);
	cpumask_set(&targets, arch_cpu_id());
	xcall(targets, unload_here, mm, XCALL_WAIT);
}

void mm_destroy(struct mm *mm)
{
	if (mm->users)
		panic("mm_destroy: %u threads still use this mm", mm->users);
	mutex_lock(&live_lock); /* an audit of this mm finishes first */
	struct mm **link = &live_list;
	while (*link && *link != mm)
		link = &(*link)->live_next;
	if (*link)
		*link = mm->live_next;
	mutex_unlock(&live_lock);
	/* CPUs that borrowed it for a kernel thread let go of it first. */
	mm_unload_everywhere(mm);

	/* Secondary MMUs let go of it before its tables and frames do. */
	mn_mm_release(mm);
	down_write(&mm->lock);
	/*
	 * Checked under the lock: an SVA unbind racing teardown may still be in
	 * an ordinary gather before (it holds the lock for read, so the write
	 * hold waits for it); after, only a TLB batch (tlb_batch.h), which
	 * holds no lock while its gather waits for the round, can still count
	 * here.
	 */
	if (atomic_load_acquire(&mm->gathers_active))
		panic("mm_destroy: a TLB batch (tlb_batch.h) still holds this mm");
	struct mmu_gather g;
	tlb_gather_begin(&g, mm, true);
	vma_unmap_all(mm, &g);
	tlb_gather_finish(&g);
	up_write(&mm->lock);
	mn_mm_free(mm);
	/* Its tagged entries are gone everywhere (the flush above): the id may be reused. */
	asid_release(mm);

	frame_free(mm->pt.root, 0);
	frame_free(kva_to_pa(mm), 0);
}
