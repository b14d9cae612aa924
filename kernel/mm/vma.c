// SPDX-License-Identifier: BSD-2-Clause
/*
 * The mappings of an address space: a sorted, singly linked list of VMAs,
 * and the operations that change them together with the page tables.
 *
 * Locking (docs/mm.md, "Locking"): every operation holds mm->lock for
 * read; the VMA list and every VMA's fields change only under vma_lock, a
 * spinlock; a change first owns the VMAs of its range (waiting while
 * another change owns one), and then walks the tables with no VMA lock,
 * so changes of disjoint ranges and faults run side by side, pt->lock
 * excluding their table edits. An unmap marks its VMAs dying before its
 * walk: a fault checks its VMA and installs its page under vma_lock, so it
 * never fills a range whose unmap has begun.
 *
 * When an operation changes tables it runs one mmu_gather: all its
 * unhooking is flushed once at the end, and frames are freed only after
 * that flush. Subscribers (notifier.h) hear of it first:
 * invalidate_range_start before the first entry changes, range end after
 * the flush; a change that only adds permissions tells nobody. An
 * operation that may split VMAs takes the two spare VMAs it could need
 * before it changes anything, so it cannot fail halfway.
 *
 * The reserved window (mm.h) is the one exception to "every VMA is the
 * user's": its VMA is mapped kernel-only by vm_map_reserved, counted, and
 * every user call that would touch the window is refused before anything
 * changes.
 */
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/notifier.h"
#include "kernel/mm/tlb_trace.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"

#define VMA_POOL_SIZE 1024

static struct vma vma_pool[VMA_POOL_SIZE];
static struct vma *vma_free_list;
static virt_addr_t window_start, window_end; /* the reserved window; end 0: none */
static bool vma_pool_ready;
static spinlock_t vma_pool_lock = SPINLOCK_INIT;

/*
 * `n` zeroed VMAs in out[] under one pool lock (an unmap needs two spares,
 * and every lock is on the hot path); false, with none taken, if any of
 * them fails. Each is asked of the failure injection in turn, as separate
 * allocations would be, so the sites keep their order.
 */
static bool vma_alloc_n(struct vma **out, unsigned n)
{
	bool fails = false;
	for (unsigned i = 0; i < n; i++)
		fails |= mm_alloc_fails(MM_ALLOC_VMA);
	if (fails)
		return false;
	irqflags_t flags = spin_lock_irqsave(&vma_pool_lock);
	if (!vma_pool_ready) {
		for (unsigned i = 0; i < VMA_POOL_SIZE; i++) {
			vma_pool[i].next = vma_free_list;
			vma_free_list = &vma_pool[i];
		}
		vma_pool_ready = true;
	}
	struct vma *taken = vma_free_list;
	unsigned got = 0;
	for (; got < n && vma_free_list; got++) {
		out[got] = vma_free_list;
		vma_free_list = vma_free_list->next;
	}
	if (got < n) {
		vma_free_list = taken; /* the pool ran dry: put back what was taken */
		got = 0;
	}
	spin_unlock_irqrestore(&vma_pool_lock, flags);
	for (unsigned i = 0; i < got; i++)
		memset(out[i], 0, sizeof(*out[i]));
	return got == n;
}

static struct vma *vma_alloc(void)
{
	struct vma *v;
	return vma_alloc_n(&v, 1) ? v : NULL;
}

/* Returns a chain of VMAs (linked through `next`, NULL-terminated) to the pool under one lock. */
static void vma_free_chain(struct vma *chain)
{
	if (!chain)
		return;
	struct vma *last = chain;
	while (last->next)
		last = last->next;
	irqflags_t flags = spin_lock_irqsave(&vma_pool_lock);
	last->next = vma_free_list;
	vma_free_list = chain;
	spin_unlock_irqrestore(&vma_pool_lock, flags);
}

static void vma_free(struct vma *v)
{
	if (v)
		v->next = NULL;
	vma_free_chain(v);
}

bool vm_user_range_ok(virt_addr_t va, uint64_t size)
{
	return size && IS_ALIGNED(va, PAGE_SIZE) && IS_ALIGNED(size, PAGE_SIZE) &&
	       va >= arch_mm_layout.user_base && va + size > va &&
	       va + size <= arch_mm_layout.user_top;
}

/*
 * What a user mapping may ask for: permissions only. PT_GLOBAL would let
 * its entries survive every ASID switch and flush by ASID (shared with
 * every address space); PT_DEVICE and the hardware-set bits are the
 * kernel's to choose.
 */
static bool user_attrs_ok(unsigned attrs)
{
	return !(attrs & ~(PT_READ | PT_WRITE | PT_EXEC | PT_USER));
}

struct vma *vma_find(struct mm *mm, virt_addr_t va)
{
	for (struct vma *v = mm->vmas; v && v->start <= va; v = v->next)
		if (va < v->end)
			return v;
	return NULL;
}

static void vma_insert(struct mm *mm, struct vma *n)
{
	struct vma **link = &mm->vmas;
	while (*link && (*link)->start < n->start)
		link = &(*link)->next;
	n->next = *link;
	*link = n;
}

/* vma_lock held: does a VMA overlap [start, end)? With `owned`, only one a change owns. */
static bool overlaps_any(struct mm *mm, virt_addr_t start, virt_addr_t end, bool owned)
{
	for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
		if (start < v->end && (!owned || v->owner))
			return true;
	return false;
}

struct claim {
	struct mm *mm;
	virt_addr_t start, end;
	irqflags_t flags;
};

/* Wait condition, under the queue's lock (interrupts off): does no change own the range? */
static bool range_free(void *arg)
{
	struct claim *c = arg;
	spin_lock(&c->mm->vma_lock);
	bool free = !overlaps_any(c->mm, c->start, c->end, true);
	spin_unlock(&c->mm->vma_lock);
	return free;
}

/*
 * Returns with vma_lock held (its flags in `c`) once no change owns a VMA
 * overlapping the range; with !blockable, false instead of sleeping. A
 * change lets go of its range under vma_lock and wakes vma_wait after, so
 * a waiter either sees the range free or is queued before the wake.
 */
static bool wait_range_free(struct claim *c, bool blockable)
{
	for (;;) {
		c->flags = spin_lock_irqsave(&c->mm->vma_lock);
		if (!overlaps_any(c->mm, c->start, c->end, true))
			return true;
		spin_unlock_irqrestore(&c->mm->vma_lock, c->flags);
		if (!blockable)
			return false;
		wait_queue_wait(&c->mm->vma_wait, range_free, c);
	}
}

void vma_wait_unowned(struct mm *mm, virt_addr_t va)
{
	struct claim c = {mm, va, va + PAGE_SIZE, 0};
	wait_range_free(&c, true);
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
}

static int map_common(struct mm *mm, virt_addr_t va, phys_addr_t pa, uint64_t size,
		      unsigned attrs, enum vma_kind kind)
{
	if (!vm_user_range_ok(va, size) || !user_attrs_ok(attrs) ||
	    vm_in_reserved_window(va, size) || (kind == VMA_PHYS && !IS_ALIGNED(pa, PAGE_SIZE)))
		return -EINVAL;
	struct vma *v = vma_alloc();
	if (!v)
		return -ENOMEM;
	*v = (struct vma){.start = va, .end = va + size, .attrs = attrs | PT_USER, .kind = kind,
			  .pa = pa};
	down_read(&mm->lock);
	/* A range an unmap still owns is not free yet: wait for that unmap to end. */
	struct claim c = {mm, va, va + size, 0};
	wait_range_free(&c, true);
	int err = overlaps_any(mm, va, va + size, false) ? -EEXIST : 0;
	/*
	 * 4 KiB leaves only, so that a later partial unmap never needs to
	 * split a block. Under vma_lock: a user tree's pt_map never waits for
	 * other CPUs, and no fault sees the VMA before its pages.
	 */
	if (!err && kind == VMA_PHYS)
		err = pt_map(&mm->pt, va, pa, size, v->attrs | PT_PAGES_ONLY);
	if (!err)
		vma_insert(mm, v);
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
	up_read(&mm->lock);
	if (err)
		vma_free(v);
	return err;
}

int vm_map_anon(struct mm *mm, virt_addr_t va, uint64_t size, unsigned attrs)
{
	return map_common(mm, va, 0, size, attrs, VMA_ANON);
}

int vm_map_phys(struct mm *mm, virt_addr_t va, phys_addr_t pa, uint64_t size, unsigned attrs)
{
	return map_common(mm, va, pa, size, attrs, VMA_PHYS);
}

/*
 * Cuts the VMA `me` owns across `at` so that `at` falls on a VMA boundary,
 * using the spare (a change cuts at most twice: once at each end). A VMA
 * that `me` does not own is not the change's to cut: one a map inserted
 * into a hole of the range after the claim comes after the change.
 * vma_lock held; the new tail is owned by `me` too.
 */
static void split_at(struct mm *mm, virt_addr_t at, struct vma **spare, const void *me)
{
	struct vma *v = vma_find(mm, at);
	if (!v || v->start == at || v->owner != me)
		return;
	struct vma *tail = *spare;
	*spare = NULL;
	*tail = *v;
	tail->start = at;
	if (v->kind == VMA_PHYS)
		tail->pa = v->pa + (at - v->start);
	v->end = at;
	v->next = tail;
}

enum vma_op { VMA_OP_UNMAP, VMA_OP_PROTECT, VMA_OP_DISCARD, VMA_OP_CLEAR_SOFT_DIRTY };

static const enum mn_event op_event[] = {
	[VMA_OP_UNMAP] = MN_EVENT_UNMAP,
	[VMA_OP_PROTECT] = MN_EVENT_PROTECTION_VMA,
	[VMA_OP_DISCARD] = MN_EVENT_CLEAR,
	[VMA_OP_CLEAR_SOFT_DIRTY] = MN_EVENT_SOFT_DIRTY,
};

/* vma_lock held: would giving [start, end) `attrs` take a permission away from any VMA there? */
static bool protect_downgrades(struct mm *mm, virt_addr_t start, virt_addr_t end, unsigned attrs)
{
	for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
		if (v->end > start && (v->attrs & ~attrs & (PT_READ | PT_WRITE | PT_EXEC)))
			return true;
	return false;
}

/*
 * Changes one VMA's part [s, e) of the range in the tables. `v` is a copy
 * taken under vma_lock: the VMA itself is the caller's (owned), but the
 * walk runs without vma_lock, beside faults and other changes.
 */
static int change_vma(struct mm *mm, const struct vma *v, virt_addr_t s, virt_addr_t e,
		      enum vma_op op, struct mmu_gather *g)
{
	switch (op) {
	case VMA_OP_UNMAP:
		return pt_unmap_gather(&mm->pt, s, e - s, g, v->kind == VMA_ANON);
	case VMA_OP_PROTECT:
		return pt_protect_gather(&mm->pt, s, e - s, v->attrs, g);
	case VMA_OP_DISCARD:
		return v->kind == VMA_ANON ? pt_unmap_gather(&mm->pt, s, e - s, g, true) : 0;
	case VMA_OP_CLEAR_SOFT_DIRTY:
		/* Write-protect so that the next write faults and marks the page again. */
		if (v->kind != VMA_ANON || !(v->attrs & PT_WRITE))
			return 0;
		if (mn_broken_is(MN_BREAK_SOFT_DIRTY_KEEP_WRITE))
			return pt_protect_gather(&mm->pt, s, e - s, v->attrs | PT_CLEAR_SOFT_DIRTY, g);
		return pt_protect_gather(&mm->pt, s, e - s,
					 (v->attrs & ~PT_WRITE) | PT_CLEAR_SOFT_DIRTY, g);
	}
	return 0;
}

/* vma_lock held: every VMA overlapping [va, end) becomes owned by `me` (NULL: by nobody). */
static void own_range(struct mm *mm, virt_addr_t va, virt_addr_t end, const void *me)
{
	for (struct vma *v = mm->vmas; v && v->start < end; v = v->next)
		if (v->end > va)
			v->owner = me;
}

/*
 * vma_lock held, the range owned and cut at its ends: an unmap's VMAs die
 * (faults refuse them from now on, so nothing is filled in the range while
 * its tables are cleared), a protect's get their new attributes. Only the
 * VMAs `me` owns: the change walks only those (change_tables) and lets go
 * only of those (release_range), so a VMA mapped into a hole of the range
 * meanwhile must stay as its map made it.
 */
static void mark_range(struct mm *mm, virt_addr_t va, virt_addr_t end, enum vma_op op,
		       unsigned attrs, const void *me)
{
	for (struct vma *v = mm->vmas; v && v->start < end; v = v->next) {
		if (v->end <= va || (v->owner != me && !mm_broken_is(MM_BREAK_MARK_UNOWNED)))
			continue;
		if (op == VMA_OP_UNMAP) {
			v->unlink_at_end = true;
			/* Broken on purpose: faults still fill while the tables are cleared. */
			v->dying = !mm_broken_is(MM_BREAK_UNMAP_NO_EXCLUSION);
		} else if (op == VMA_OP_PROTECT)
			v->attrs = attrs | PT_USER;
	}
}

/*
 * Ends a change: under vma_lock, every VMA `me` owns is released and an
 * unmap's are taken off the list (returned, to be freed); then the changes
 * and maps waiting for the range are woken.
 */
static struct vma *release_range(struct mm *mm, const void *me)
{
	struct vma *dead = NULL;
	irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
	for (struct vma **link = &mm->vmas; *link;) {
		struct vma *v = *link;
		if (v->owner != me) {
			link = &v->next;
			continue;
		}
		v->owner = NULL;
		if (!v->unlink_at_end) {
			link = &v->next;
			continue;
		}
		*link = v->next;
		v->next = dead;
		dead = v;
	}
	spin_unlock_irqrestore(&mm->vma_lock, flags);
	wait_queue_wake_all(&mm->vma_wait);
	return dead;
}

void (*vm_test_change_stage)(struct mm *mm, virt_addr_t va, virt_addr_t end,
			     enum vm_change_stage stage);

/* The test hook, for the unmaps and protects it watches. */
static void change_stage(struct mm *mm, virt_addr_t va, virt_addr_t end, enum vma_op op,
			 enum vm_change_stage stage)
{
	if (vm_test_change_stage && (op == VMA_OP_UNMAP || op == VMA_OP_PROTECT))
		vm_test_change_stage(mm, va, end, stage);
}

/*
 * The table work of the change on every VMA piece inside [va, end) that `me`
 * owns: each is copied under vma_lock and walked without it.
 */
static int change_tables(struct mm *mm, const void *me, virt_addr_t va, virt_addr_t end,
			 enum vma_op op, struct mmu_gather *g)
{
	int err = 0;
	for (virt_addr_t at = va; at < end && !err;) {
		struct vma copy = {0};
		irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
		for (const struct vma *v = mm->vmas; v && v->start < end; v = v->next)
			if (v->owner == me && v->end > at) {
				copy = *v;
				break;
			}
		spin_unlock_irqrestore(&mm->vma_lock, flags);
		if (!copy.end)
			break;
		virt_addr_t stop = MIN(copy.end, end);
		err = change_vma(mm, &copy, MAX(copy.start, at), stop, op, g);
		at = stop;
	}
	return err;
}

int vma_own_page(struct mm *mm, virt_addr_t va, const void *me, struct vma *copy)
{
	down_read(&mm->lock);
	struct claim c = {mm, va, va + PAGE_SIZE, 0};
	wait_range_free(&c, true);
	struct vma *v = vma_find(mm, va);
	if (v) {
		v->owner = me;
		*copy = *v;
	}
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
	return v ? 0 : -EINVAL;
}

void vma_disown(struct mm *mm, const void *me)
{
	/* Nothing it owns was marked to be unlinked: nothing comes back to free. */
	if (release_range(mm, me))
		panic("vma_disown: an owned VMA was to be unlinked");
	up_read(&mm->lock);
}

/*
 * The lock rules (docs/mm.md, "Locking"): a change holds mm->lock for read
 * throughout. Under vma_lock it waits until no other change owns a VMA in
 * its range, then owns them; it tells subscribers; under vma_lock again it
 * cuts the VMAs at its ends and marks them (dying, new attributes). The
 * table work, the gather's flush and the notifier's range end then run
 * with no VMA lock, beside faults and changes of other ranges, with
 * pt->lock excluding table edits. Last, under vma_lock, it lets go of the
 * range and unlinks an unmap's VMAs.
 */
static int change_range(struct mm *mm, virt_addr_t va, uint64_t size, enum vma_op op,
			unsigned attrs, bool blockable)
{
	if (!vm_user_range_ok(va, size) || (op == VMA_OP_PROTECT && !user_attrs_ok(attrs)))
		return -EINVAL;
	struct vma *spare[2];
	if (!vma_alloc_n(spare, 2))
		return -ENOMEM;
	virt_addr_t end = va + size;
	struct mmu_gather g; /* its address names the change as the owner of its VMAs */
	const void *me = &g;
	int err = 0;
	struct claim c = {mm, va, end, 0};
	if (blockable)
		down_read(&mm->lock);
	else if (!down_read_trylock(&mm->lock))
		err = -EAGAIN;
	if (!err && !wait_range_free(&c, blockable)) {
		up_read(&mm->lock);
		err = -EAGAIN;
	}
	if (err) {
		vma_free(spare[0]);
		vma_free(spare[1]);
		return err;
	}
	own_range(mm, va, end, me);
	/* A promotion needs no flush, so no subscriber needs to hear of it either. */
	bool notify = op != VMA_OP_PROTECT || protect_downgrades(mm, va, end, attrs) ||
		      mn_broken_is(MN_BREAK_NO_PROMOTION_SKIP);
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
	change_stage(mm, va, end, op, VM_CHANGE_CLAIMED);
	struct mn_range range = {.mm = mm,
				 .start = va,
				 .end = end,
				 .event = op_event[op],
				 .flags = blockable ? MN_RANGE_BLOCKABLE : 0};
	if (notify && (err = mn_invalidate_start(&range)) != 0) {
		/* Refused: back off with nothing changed (owning cut nothing). */
		release_range(mm, me);
		up_read(&mm->lock);
		vma_free(spare[0]);
		vma_free(spare[1]);
		return err;
	}
	irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
	if (op == VMA_OP_UNMAP || op == VMA_OP_PROTECT) {
		split_at(mm, va, &spare[0], me);
		split_at(mm, end, &spare[1], me);
	}
	mark_range(mm, va, end, op, attrs, me);
	spin_unlock_irqrestore(&mm->vma_lock, flags);
	change_stage(mm, va, end, op, VM_CHANGE_MARKED);

	/* Discards free frames like an unmap; soft-dirty clearing write-protects. */
	bool unmapping = op == VMA_OP_UNMAP || op == VMA_OP_DISCARD;
	tlb_ev(unmapping ? TLB_EV_UNMAP_START : TLB_EV_PROTECT_START, va, end);
	tlb_gather_begin(&g, mm, false);
	err = change_tables(mm, me, va, end, op, &g);
	change_stage(mm, va, end, op, VM_CHANGE_WALKED);
	tlb_gather_finish(&g);
	tlb_ev(unmapping ? TLB_EV_UNMAP_END : TLB_EV_PROTECT_END, va, end);
	if (notify)
		mn_invalidate_end(&range);
	struct vma *dead = release_range(mm, me);
	up_read(&mm->lock);
	/* The spares a cut did not use go back with the dead VMAs, under one lock. */
	for (unsigned i = 0; i < 2; i++)
		if (spare[i]) {
			spare[i]->next = dead;
			dead = spare[i];
		}
	vma_free_chain(dead);
	/* The VMAs were cut at the boundaries, so no block split can be needed: cannot fail. */
	if (err)
		panic("change_range: page-table change failed (%d) after the VMAs changed", err);
	return 0;
}

/* A change the user asked for: never inside the reserved window. */
static int user_change(struct mm *mm, virt_addr_t va, uint64_t size, enum vma_op op, unsigned attrs,
		       bool blockable)
{
	if (vm_in_reserved_window(va, size))
		return -EINVAL;
	return change_range(mm, va, size, op, attrs, blockable);
}

int vm_unmap(struct mm *mm, virt_addr_t va, uint64_t size)
{
	return user_change(mm, va, size, VMA_OP_UNMAP, 0, true);
}

int vm_protect(struct mm *mm, virt_addr_t va, uint64_t size, unsigned attrs)
{
	return user_change(mm, va, size, VMA_OP_PROTECT, attrs, true);
}

int vm_discard(struct mm *mm, virt_addr_t va, uint64_t size)
{
	return user_change(mm, va, size, VMA_OP_DISCARD, 0, true);
}

int vm_discard_nowait(struct mm *mm, virt_addr_t va, uint64_t size)
{
	return user_change(mm, va, size, VMA_OP_DISCARD, 0, false);
}

int vm_soft_dirty_clear(struct mm *mm, virt_addr_t va, uint64_t size)
{
	return user_change(mm, va, size, VMA_OP_CLEAR_SOFT_DIRTY, 0, true);
}

/* ---- The reserved window -------------------------------------------------------------- */

#define RESERVED_RETRY_NS 1000000ull /* a map waiting out the last user's unmap polls this often */

int vm_reserve_window(virt_addr_t va, uint64_t size)
{
	if (!vm_user_range_ok(va, size))
		return -EINVAL;
	if (window_end)
		return window_start == va && window_end == va + size ? 0 : -EBUSY;
	window_start = va;
	atomic_store_release(&window_end, va + size);
	return 0;
}

bool vm_in_reserved_window(virt_addr_t va, uint64_t size)
{
	virt_addr_t end = atomic_load_acquire(&window_end);
	return end && va < end && window_start < va + size;
}

int vm_map_reserved(struct mm *mm, phys_addr_t pa, unsigned attrs)
{
	if (!atomic_load_acquire(&window_end) || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    (attrs & ~(PT_READ | PT_WRITE | PT_DEVICE)))
		return -EINVAL;
	struct vma *n = vma_alloc();
	if (!n)
		return -ENOMEM;
	down_read(&mm->lock);
	struct claim c = {mm, window_start, window_end, 0};
	wait_range_free(&c, true);
	struct vma *v;
	/*
	 * users 0: the last user's unmap is under way (vm_unmap_reserved): wait
	 * for it, holding nothing. That unmap needs a new read hold, which a
	 * writer waiting behind ours would refuse it: sleeping with ours would
	 * let the three wait for each other for ever.
	 */
	while ((v = vma_find(mm, window_start)) != NULL && v->pa == pa && v->users == 0) {
		spin_unlock_irqrestore(&mm->vma_lock, c.flags);
		up_read(&mm->lock);
		thread_sleep_ns(RESERVED_RETRY_NS);
		down_read(&mm->lock);
		wait_range_free(&c, true);
	}
	int err = 0;
	if (v) {
		if (v->pa == pa)
			v->users++;
		else
			err = -EINVAL; /* someone else's page in the window */
	} else {
		*n = (struct vma){.start = window_start,
				  .end = window_end,
				  .attrs = attrs,
				  .kind = VMA_PHYS,
				  .pa = pa,
				  .users = 1};
		err = pt_map(&mm->pt, window_start, pa, window_end - window_start,
			     attrs | PT_PAGES_ONLY);
		if (!err) {
			vma_insert(mm, n);
			n = NULL;
		}
	}
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
	up_read(&mm->lock);
	vma_free(n);
	return err;
}

void vm_unmap_reserved(struct mm *mm)
{
	if (!atomic_load_acquire(&window_end))
		return;
	down_read(&mm->lock);
	struct claim c = {mm, window_start, window_end, 0};
	wait_range_free(&c, true);
	struct vma *v = vma_find(mm, window_start);
	bool last = v && v->users && --v->users == 0;
	spin_unlock_irqrestore(&mm->vma_lock, c.flags);
	up_read(&mm->lock);
	if (!last)
		return;
	/*
	 * users 0 marks the unmap under way: a vm_map_reserved meanwhile waits
	 * for it. Should it fail (no memory for its bookkeeping), the page
	 * stays mapped and counted once more, as if the user had never left,
	 * rather than mapped and uncounted.
	 */
	int err = change_range(mm, window_start, window_end - window_start, VMA_OP_UNMAP, 0, true);
	if (err) {
		printk("vm_unmap_reserved: unmapping the reserved window failed (%d); it stays mapped",
		       err);
		down_read(&mm->lock);
		irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
		if ((v = vma_find(mm, window_start)) != NULL)
			v->users++;
		spin_unlock_irqrestore(&mm->vma_lock, flags);
		up_read(&mm->lock);
	}
}

bool vm_soft_dirty(struct mm *mm, virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&mm->pt, va, &q) && (q.attrs & PT_SOFT_DIRTY);
}

/* Unmaps everything (teardown): every VMA and, through emptiness, every table. */
void vma_unmap_all(struct mm *mm, struct mmu_gather *g)
{
	while (mm->vmas) {
		struct vma *v = mm->vmas;
		mm->vmas = v->next;
		if (pt_unmap_gather(&mm->pt, v->start, v->end - v->start, g, v->kind == VMA_ANON))
			panic("vma_unmap_all: unmap failed");
		vma_free(v);
	}
	/* Tables whose VMAs are gone but still linger (none expected): sweep the whole half. */
	if (pt_unmap_gather(&mm->pt, arch_mm_layout.user_base,
			    arch_mm_layout.user_top - arch_mm_layout.user_base, g, false))
		panic("vma_unmap_all: sweep failed");
}
