// SPDX-License-Identifier: BSD-2-Clause
/*
 * The generic page-table operations of pt.h, built on the walker
 * (pt_walk.c): pt_run runs a walk's prepare and commit passes under
 * pt->lock, allocates the reserve of tables between them and settles what
 * the commit changed; then the tree's creation, query and teardown.
 *
 * A commit may stop part-way and resume (pt_run): when a gather has no room
 * for a leaf's frames, and after a live valid entry was replaced by one
 * that translates differently (a block split, a memory-type change). The
 * old entry must be gone from every CPU's TLB before anything else in its
 * range changes, and flushing may wait for other CPUs, which must never
 * happen under the table lock with interrupts off (a CPU spinning on that
 * lock could not answer). So the walk stops, pt_run drops the lock,
 * invalidates everywhere ("settles"), takes the lock again and goes on.
 * Where the arch requires break-before-make, the entry is made invalid
 * before the stop and the new one written (the make) only after the
 * invalidation. While a change to a tree others walk is stopped (a break
 * waiting for its make, or an x86 split whose old block is not yet
 * invalidated everywhere), the tree belongs to that operation: every other
 * operation, queries included, waits until it resumes, so none of them
 * takes an invalid slot for a hole or adds entries beside a stale block.
 * (User trees are not: several walks of one mm run at once, under its
 * lock held for read, docs/mm.md "Locking". Their leaves are 4 KiB only,
 * so none of them breaks or splits; a gathered walk that stops for room
 * lets the others go on, and its resumed prepare pass counts afresh.)
 */
#include "kernel/mm/pt.h"
#include "kernel/mm/pt_internal.h"
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "lib/string.h"

void (*pt_test_after_replace)(struct pt *pt, virt_addr_t va);

#define FLUSH_PAGES_MAX 32 /* past this many pages one full flush is cheaper */

static void free_chain(phys_addr_t chain)
{
	while (chain) {
		uint64_t *first_word = kva(chain);
		phys_addr_t next = *first_word;
		struct page *page = frame_to_page(chain);
		if (page)
			page->flags &= (uint16_t)~PAGE_TABLE;
		frame_free(chain, 0);
		chain = next;
	}
}

/* End of a commit, lock held: decide the flush (and count it) while the stats are ours. */
static void commit_done(struct pt_op *op)
{
	struct pt *pt = op->pt;
	BUG_ON(op->stop == STOP_NEEDS_COUNT); /* pt_run counts and commits again instead */
	if (op->make_slot || (op->stop != STOP_NONE && !op->gather))
		pt->stopped_by = op; /* pt_run's op: the same object on every resume */
	if (!op->flush || !pt->live || op->gather) {
		op->flush = false;
		return;
	}
	uint64_t pages = ((op->flush_last - op->flush_first) >> PAGE_SHIFT) + 1;
	if (op->flush_full || pages > FLUSH_PAGES_MAX) {
		op->flush_full = true;
		pt->stats.full_flushes++;
	} else {
		op->flush_pages = pages;
		pt->stats.page_flushes += pages;
	}
}

/*
 * After a commit, with the lock dropped: a gathered walk that stopped
 * settles its gather (flush, then free); an ungathered change to a live
 * tree (the kernel's, which every CPU translates through) is invalidated on
 * every online CPU; only then are the tables it unhooked freed.
 */
static void settle(struct pt_op *op)
{
	if (op->gather) {
		if (op->stop != STOP_NONE)
			tlb_flush_mmu(op->gather);
	} else {
		/* Broken on purpose: a replaced live entry stays in the TLBs that hold it. */
		bool skip = op->stop == STOP_REPLACED && tlb_broken_is(TLB_BREAK_REPLACE_NO_FLUSH);
		if (op->flush && !skip)
			tlb_flush_kernel_range(op->flush_first, op->flush_pages, op->flush_full);
		free_chain(op->freed_list);
	}
	if (op->stop == STOP_REPLACED && pt_test_after_replace)
		pt_test_after_replace(op->pt, op->resume_va);
}

/* Takes pt->lock once no other operation (than `me`, NULL: none) has the tree stopped. */
static irqflags_t lock_tree(struct pt *pt, const void *me)
{
	for (;;) {
		irqflags_t flags = spin_lock_irqsave(&pt->lock);
		if (!pt->stopped_by || pt->stopped_by == me)
			return flags;
		spin_unlock_irqrestore(&pt->lock, flags);
		/* Interrupts as the caller had them: the stopped operation's flush may need us. */
		while (READ_ONCE(pt->stopped_by))
			arch_cpu_relax();
	}
}

/* A fresh operation from `va` (mapping `pa` there): at the start, again, or resumed. */
static struct pt_op op_from(struct pt *pt, enum pt_op_kind kind, virt_addr_t va, phys_addr_t pa,
			    unsigned attrs, struct mmu_gather *g, bool free_frames)
{
	return (struct pt_op){.pt = pt,
			      .kind = kind,
			      .va = va,
			      .pa = pa,
			      .attrs = attrs | PT_READ,
			      .gather = g,
			      .free_frames = free_frames};
}

static int pt_run(struct pt *pt, enum pt_op_kind kind, virt_addr_t va, phys_addr_t pa,
		  uint64_t size, unsigned attrs, struct mmu_gather *g, bool free_frames)
{
	/*
	 * Refuse wrapping ranges (virtual or physical) and ranges that would
	 * visit a root slot twice (wider than the tree translates): the
	 * prepare pass would count that slot's tables twice.
	 */
	const unsigned root_shift = pt_level_shift(PT_LEVELS - 1);
	if (size == 0 || !IS_ALIGNED(va, PAGE_SIZE) || !IS_ALIGNED(pa, PAGE_SIZE) ||
	    !IS_ALIGNED(size, PAGE_SIZE) || va + (size - 1) < va || pa + (size - 1) < pa ||
	    ((va + (size - 1)) >> root_shift) - (va >> root_shift) >= PT_ENTRIES)
		return -EINVAL;
	/*
	 * pt.h's contract, checked on every call rather than only when a wait
	 * happens (rarely, and then as a hang): on a live tree with other CPUs
	 * running, this operation may wait for another's break-before-make,
	 * and that one's flush waits for this CPU to answer a cross-call.
	 */
	if (pt->live && !arch_irq_enabled() && cpumask_weight(cpumask_read(&cpu_online_mask)) > 1)
		panic(
		    "pt_run: a live tree changed with interrupts off while other CPUs run (it may "
		    "wait for their flush, which needs this CPU: pt.h)");
	struct pt_op op = op_from(pt, kind, va, pa, attrs, g, free_frames);
	virt_addr_t last = va + (size - 1);
	/* Tables reserved but not used by a stopped commit: the resumed walk needs no more. */
	phys_addr_t carried = 0;
	uint64_t carried_count = 0;
	/* A break invalidated everywhere, waiting for its make. */
	pte_t *make_slot = NULL, make_value = 0;
	for (bool resumed = false;; resumed = true) {
		irqflags_t flags = lock_tree(pt, &op);
		if (make_slot) {
			if (READ_ONCE(*make_slot) != 0)
				panic("pt_run: a slot changed between its break and its make");
			arch_pte_write(make_slot, make_value);
		}
		if (pt->stopped_by == &op)
			pt->stopped_by = NULL;

		/*
		 * A map of one page (a fault's, a populate's) changes one entry, its
		 * leaf, last: where every table on the way exists and the page is
		 * a hole, it commits at once. Meeting a missing table or a mapped
		 * page it has changed nothing, and goes the long way below, still
		 * under the lock (the count finds the same error again).
		 */
		if (kind == PT_OP_MAP && size == PAGE_SIZE && !resumed) {
			op.commit = op.direct = true;
			pt_walk_range(&op, pt_table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
			if (op.stop == STOP_NONE && !op.error) {
				pt->stats.direct_maps++;
				goto committed;
			}
			op = op_from(pt, kind, va, pa, attrs, g, free_frames);
		}
		/*
		 * Prepare: count, and refuse before anything changes. An unmap or
		 * protect needs a table only to split a block and is refused only
		 * for a break: in a tree of pages alone (every address space's)
		 * with no break to refuse, nothing to count.
		 */
		if (kind == PT_OP_MAP || pt->has_blocks || pt_may_refuse_break(&op))
			pt_walk_range(&op, pt_table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
		if (op.error) {
			free_chain(carried);
			spin_unlock_irqrestore(&pt->lock, flags);
			return op.error;
		}
		if (resumed && op.tables_needed > carried_count)
			panic("pt_run: the resumed walk needs %lu tables, the first counted %lu",
			      (unsigned long)op.tables_needed, (unsigned long)carried_count);
		op.reserve = carried;
		op.reserve_left = carried_count;
		for (uint64_t i = carried_count; i < op.tables_needed; i++) {
			phys_addr_t t;
			if (mm_alloc_fails(MM_ALLOC_PT_TABLE) || frame_alloc_zeroed(&t) != 0) {
				free_chain(op.reserve);
				spin_unlock_irqrestore(&pt->lock, flags);
				return -ENOMEM; /* only before the first commit: see below */
			}
			*(uint64_t *)kva(t) = op.reserve;
			op.reserve = t;
			op.reserve_left++;
		}
		uint64_t reserved = op.reserve_left;

		/* Commit: cannot fail from here on. */
		op.commit = true;
		pt_walk_range(&op, pt_table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
		if (op.stop == STOP_NONE && op.reserve_left != reserved - op.tables_needed)
			panic("pt_run: prepare counted %lu tables, commit used %lu",
			      (unsigned long)op.tables_needed,
			      (unsigned long)(reserved - op.reserve_left));
	committed:
		commit_done(&op);
		spin_unlock_irqrestore(&pt->lock, flags);
		/*
		 * Settle with the lock dropped and interrupts as the caller had
		 * them (the flush may wait for other CPUs). A stopped walk then
		 * resumes where it stopped; the tables the first prepare counted
		 * for the rest are carried over, so the resumed prepare allocates
		 * nothing and cannot fail.
		 */
		settle(&op);
		if (op.stop == STOP_NONE) {
			free_chain(op.reserve);
			return 0;
		}
		if (op.stop == STOP_NO_ROOM && resumed && op.resume_va == op.va)
			panic("pt_run: a leaf's frames do not fit an empty gather and no batch can be allocated");
		carried = op.reserve;
		carried_count = op.reserve_left;
		make_slot = op.make_slot;
		make_value = op.make_value;
		op = op_from(pt, kind, op.resume_va, pa + (op.resume_va - va), attrs, g,
			     free_frames);
	}
}

int pt_map(struct pt *pt, virt_addr_t va, phys_addr_t pa, uint64_t size, unsigned attrs)
{
	return pt_run(pt, PT_OP_MAP, va, pa, size, attrs, NULL, false);
}

int pt_unmap(struct pt *pt, virt_addr_t va, uint64_t size)
{
	return pt_run(pt, PT_OP_UNMAP, va, 0, size, 0, NULL, false);
}

int pt_protect(struct pt *pt, virt_addr_t va, uint64_t size, unsigned attrs)
{
	return pt_run(pt, PT_OP_PROTECT, va, 0, size, attrs, NULL, false);
}

int pt_unmap_gather(struct pt *pt, virt_addr_t va, uint64_t size, struct mmu_gather *g,
		    bool free_frames)
{
	return pt_run(pt, PT_OP_UNMAP, va, 0, size, 0, g, free_frames);
}

int pt_protect_gather(struct pt *pt, virt_addr_t va, uint64_t size, unsigned attrs,
		      struct mmu_gather *g)
{
	return pt_run(pt, PT_OP_PROTECT, va, 0, size, attrs, g, false);
}

int pt_ensure_top_table(struct pt *pt, virt_addr_t va)
{
	irqflags_t flags = spin_lock_irqsave(&pt->lock);
	pte_t *root = pt_table_ptr(pt->root);
	unsigned idx = pt_slot_index(va, PT_LEVELS - 1);
	int err = 0;
	if (arch_pte_kind(root[idx], PT_LEVELS - 1) == PTE_ABSENT) {
		phys_addr_t t;
		err = mm_alloc_fails(MM_ALLOC_PT_TOP) ? -ENOMEM : frame_alloc_zeroed(&t);
		if (!err) {
			struct page *page = frame_to_page(t);
			if (page) {
				page->flags |= PAGE_TABLE;
				page->pt_level = PT_LEVELS - 2;
			}
			pt->stats.tables_allocated++;
			arch_pte_write(&root[idx], arch_pte_make_table(t, PT_LEVELS - 1));
		}
	}
	spin_unlock_irqrestore(&pt->lock, flags);
	return err;
}

bool pt_query(struct pt *pt, virt_addr_t va, struct pt_query_result *out)
{
	/* Does not wait for a stopped change: a slot in the middle of a break reads as a hole. */
	irqflags_t flags = spin_lock_irqsave(&pt->lock);
	pte_t *table = pt_table_ptr(pt->root);
	bool found = false;
	for (unsigned level = PT_LEVELS - 1;; level--) {
		pte_t pte = READ_ONCE(table[pt_slot_index(va, level)]);
		enum pte_kind kind = arch_pte_kind(pte, level);
		if (kind == PTE_LEAF) {
			uint64_t offset = va & (pt_slot_bytes(level) - 1);
			*out = (struct pt_query_result){arch_pte_address(pte, level) + offset, level,
							arch_pte_attrs(pte, level), pte};
			found = true;
		}
		if (kind != PTE_TABLE || level == 0)
			break;
		table = pt_table_ptr(arch_pte_address(pte, level));
	}
	spin_unlock_irqrestore(&pt->lock, flags);
	return found;
}

int pt_init(struct pt *pt)
{
	phys_addr_t root;
	int err = mm_alloc_fails(MM_ALLOC_PT_ROOT) ? -ENOMEM : frame_alloc_zeroed(&root);
	if (err)
		return err;
	memset(pt, 0, sizeof(*pt));
	pt->root = root;
	pt->lock = (spinlock_t)SPINLOCK_INIT;
	struct page *page = frame_to_page(root);
	if (page) {
		page->flags |= PAGE_TABLE;
		page->pt_level = PT_LEVELS - 1;
	}
	pt->stats.tables_allocated = 1;
	return 0;
}

/* Visits every table below `table` (children first); frees them when `release`. */
static uint64_t subtree(pte_t *table, unsigned level, bool release)
{
	uint64_t n = 0;
	if (level == 0)
		return 0;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		if (arch_pte_kind(table[i], level) != PTE_TABLE)
			continue;
		phys_addr_t child = arch_pte_address(table[i], level);
		n += subtree(pt_table_ptr(child), level - 1, release) + 1;
		if (release) {
			table[i] = 0;
			*(uint64_t *)kva(child) = 0;
			free_chain(child);
		}
	}
	return n;
}

void pt_destroy(struct pt *pt)
{
	subtree(pt_table_ptr(pt->root), PT_LEVELS - 1, true);
	free_chain(pt->root);
	pt->root = 0;
}

uint64_t pt_count_tables(struct pt *pt)
{
	irqflags_t flags = spin_lock_irqsave(&pt->lock);
	uint64_t n = subtree(pt_table_ptr(pt->root), PT_LEVELS - 1, false) + 1;
	spin_unlock_irqrestore(&pt->lock, flags);
	return n;
}
