// SPDX-License-Identifier: BSD-2-Clause
/*
 * The page-table audit (the rules are listed in audit.h). Each rule is one
 * the mm code keeps, which is why a breach is a bug and not a state:
 *  - tables come from pt_run's reserve or pt_init, which mark them
 *    PAGE_TABLE at their level, and go back only through a gather or
 *    pt_destroy after they are unhooked: a table entry naming a free frame
 *    is a table freed while still reachable (a walker would read garbage);
 *  - an unmap unhooks the tables it empties and maps never leave empty
 *    tables (prepare, then commit): an empty table below an mm's root is a
 *    leak or a missed unhook;
 *  - leaves are written only by a fault fill or populate inside an
 *    anonymous VMA, by vm_map_phys/vm_map_reserved over their VMA, and
 *    changed by vm_protect to the VMA's new permissions (soft-dirty
 *    tracking only removes write): a leaf outside a VMA, to a free frame,
 *    or wider than its VMA is a missed unmap, a use after free or a lost
 *    protection change;
 *  - a table's pt_tlb_gen is a generation the mm has published.
 *
 * The audit reads: it takes each mm's lock (every change to user tables
 * happens under it, the gather's flush and free included) and the kernel
 * tree's lock, and changes nothing.
 */
#include "kernel/mm/audit.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/vm.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"

struct audit {
	char *why;
	size_t len;
	struct mm *mm; /* NULL: the kernel's tree */
};

static int violation(struct audit *a, const char *fmt, ...) __printf(2, 3);
static int violation(struct audit *a, const char *fmt, ...)
{
	int n = snprintf(a->why, a->len, "audit: %s: ", a->mm ? "mm" : "kernel tables");
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < a->len)
		vsnprintf(a->why + n, a->len - (size_t)n, fmt, ap);
	va_end(ap);
	return -EFAULT;
}

static uint64_t slot_bytes(unsigned level)
{
	return 1ull << pt_level_shift(level);
}

/* The table at `pa`, to be at `level`: an allocated frame marked as such. */
static int check_table_frame(struct audit *a, phys_addr_t pa, unsigned level, virt_addr_t va)
{
	struct page *p = frame_to_page(pa);
	if (!p)
		return 0; /* outside the managed range: boot-time memory */
	if (frame_is_free(pa))
		return violation(a, "the level-%u table for %#lx is free frame %#lx", level,
				 (unsigned long)va, (unsigned long)pa);
	if (!(p->flags & PAGE_TABLE) || p->pt_level != level || p->refcount != 1)
		return violation(a,
				 "the level-%u table for %#lx (frame %#lx) is marked flags %#x "
				 "level %u refcount %u",
				 level, (unsigned long)va, (unsigned long)pa, p->flags, p->pt_level,
				 p->refcount);
	if (a->mm && p->pt_tlb_gen > a->mm->tlb_gen)
		return violation(a, "the table for %#lx is at TLB generation %lu, its mm at %lu",
				 (unsigned long)va, (unsigned long)p->pt_tlb_gen,
				 (unsigned long)a->mm->tlb_gen);
	return 0;
}

static int check_leaf(struct audit *a, pte_t pte, unsigned level, virt_addr_t va)
{
	phys_addr_t pa = arch_pte_address(pte, level);
	unsigned attrs = arch_pte_attrs(pte, level);
	uint64_t size = slot_bytes(level);
	if (!a->mm)
		return 0; /* the kernel's leaves map all RAM, free frames included */
	/* First what a CPU would touch: a leaf to a free frame is a use after free. */
	for (uint64_t off = 0; off < size; off += PAGE_SIZE)
		if (frame_is_free(pa + off))
			return violation(a, "the leaf for %#lx maps free frame %#lx",
					 (unsigned long)(va + off), (unsigned long)(pa + off));
	const struct vma *v = vma_find(a->mm, va);
	if (!v || va + size > v->end)
		return violation(a, "the leaf for %#lx (frame %#lx, level %u) is outside every VMA",
				 (unsigned long)va, (unsigned long)pa, level);
	unsigned allowed = v->attrs | PT_READ;
	unsigned perms = attrs & (PT_READ | PT_WRITE | PT_EXEC | PT_USER);
	if ((perms & ~allowed) || (attrs & PT_GLOBAL))
		return violation(a, "the leaf for %#lx has attributes %#x, its VMA allows %#x",
				 (unsigned long)va, attrs, v->attrs);
	if (v->kind == VMA_PHYS) {
		if (pa != v->pa + (va - v->start))
			return violation(a, "the leaf for %#lx maps %#lx, its VMA says %#lx",
					 (unsigned long)va, (unsigned long)pa,
					 (unsigned long)(v->pa + (va - v->start)));
		return 0;
	}
	struct page *p = frame_to_page(pa);
	if (level != 0 || !p || p->refcount != 1 || (p->flags & PAGE_TABLE))
		return violation(a,
				 "the anonymous leaf for %#lx (level %u) maps frame %#lx, "
				 "not one page of its own",
				 (unsigned long)va, level, (unsigned long)pa);
	return 0;
}

/* Checks the table at `pa` (level `level`, mapping from `base`); its slots [first, last]. */
static int audit_table(struct audit *a, phys_addr_t pa, unsigned level, virt_addr_t base,
		       unsigned first, unsigned last)
{
	int err = check_table_frame(a, pa, level, base);
	if (err)
		return err;
	const pte_t *table = kva(pa);
	unsigned used = 0;
	for (unsigned i = first; i <= last && !err; i++) {
		pte_t pte = READ_ONCE(table[i]);
		virt_addr_t va = base + i * slot_bytes(level);
		switch (arch_pte_kind(pte, level)) {
		case PTE_ABSENT:
			continue;
		case PTE_TABLE:
			err = audit_table(a, arch_pte_address(pte, level), level - 1, va, 0,
					  PT_ENTRIES - 1);
			break;
		case PTE_LEAF:
			err = check_leaf(a, pte, level, va);
			break;
		}
		used++;
	}
	if (!err && a->mm && used == 0 && level != PT_LEVELS - 1 && !a->mm->pt.keep_tables)
		return violation(a, "the level-%u table for %#lx (frame %#lx) is empty", level,
				 (unsigned long)base, (unsigned long)pa);
	return err;
}

static int audit_vmas(struct audit *a)
{
	virt_addr_t prev_end = arch_mm_layout.user_base;
	for (const struct vma *v = a->mm->vmas; v; v = v->next) {
		if (v->start < prev_end || v->end <= v->start || v->end > arch_mm_layout.user_top ||
		    !IS_ALIGNED(v->start | v->end, PAGE_SIZE))
			return violation(
			    a, "VMA %#lx-%#lx overlaps, is unsorted or outside the user half",
			    (unsigned long)v->start, (unsigned long)v->end);
		/*
		 * The audit holds mm->lock for write, and every change holds it
		 * for read until it has let go of its VMAs: one still owned or
		 * dying now was left behind (marked by a change that did not own
		 * it, or never released).
		 */
		if (v->owner || v->dying)
			return violation(a, "VMA %#lx-%#lx is %s with no change running",
					 (unsigned long)v->start, (unsigned long)v->end,
					 v->dying ? "dying" : "owned");
		prev_end = v->end;
	}
	return 0;
}

/*
 * A case that failed (an ASSERT, a timeout) can leave an mm's lock held for
 * good: waiting for it would hang every later suite. The audit waits a
 * while, then names the mm once and leaves it out from then on.
 */
#define AUDIT_LOCK_TRIES    50
#define AUDIT_LOCK_RETRY_NS 2000000ull

static bool lock_for_audit(struct audit *a, struct mm *mm, int *err)
{
	static struct mm *reported_busy;
	for (unsigned i = 0; i < AUDIT_LOCK_TRIES; i++) {
		/* For write: no fault or unmap may change the tables under the walk. */
		if (down_write_trylock(&mm->lock))
			return true;
		thread_sleep_ns(AUDIT_LOCK_RETRY_NS);
	}
	*err = 0;
	if (reported_busy != mm) {
		reported_busy = mm;
		*err = violation(a, "an mm's lock stayed held for 100 ms (a failed case left it?): "
				    "that mm is not audited from now on");
	}
	return false;
}

static int audit_one(struct mm *mm, void *arg)
{
	struct audit *a = arg;
	a->mm = mm;
	int busy;
	if (!lock_for_audit(a, mm, &busy))
		return busy;
	const unsigned top = PT_LEVELS - 1;
	unsigned first = (arch_mm_layout.user_base >> pt_level_shift(top)) & (PT_ENTRIES - 1);
	unsigned last = ((arch_mm_layout.user_top - 1) >> pt_level_shift(top)) & (PT_ENTRIES - 1);
	int err = audit_vmas(a);
	if (!err)
		err = audit_table(a, mm->pt.root, top, 0, first, last);
	up_write(&mm->lock);
	return err;
}

int mm_audit_mm(struct mm *mm, char *why, size_t len)
{
	struct audit a = {.why = why, .len = len};
	return audit_one(mm, &a);
}

int mm_audit_all(char *why, size_t len)
{
	struct audit a = {.why = why, .len = len};
	int err = mm_for_each_live(audit_one, &a);
	if (err)
		return err;
	/* The kernel's tree: only its tables are checked (check_leaf). */
	a.mm = NULL;
	irqflags_t flags = spin_lock_irqsave(&kernel_pt.lock);
	err = audit_table(&a, kernel_pt.root, PT_LEVELS - 1, 0, 0, PT_ENTRIES - 1);
	spin_unlock_irqrestore(&kernel_pt.lock, flags);
	return err;
}
