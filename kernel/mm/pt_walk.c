// SPDX-License-Identifier: BSD-2-Clause
/*
 * The generic page-table walker: one recursive walk, and the visitors that
 * read or change one slot of a table for each kind of operation. pt_run
 * (pt.c) runs it under pt->lock.
 *
 * One recursive walk serves map, unmap and protect, in two passes (see
 * pt.h): the counting pass reads descriptors and counts the tables the
 * commit pass will need; a table that does not exist yet is walked as if
 * empty (table == NULL), and a block that would be split is walked as if
 * already split into its children (synth). The commit pass then does the
 * same walk for real, drawing tables from a reserve allocated in between
 * (by pt_run).
 *
 * Ranges are carried as [first, last] (inclusive) so that a range ending at
 * the very top of the address space does not overflow to 0.
 *
 * A commit walk stops part-way (op->stop, op->resume_va) when a gather has
 * no room for a leaf's frames, and after a live valid entry was replaced by
 * one that translates differently; it changes nothing past the stop. Why,
 * and how pt_run settles and resumes it, is in pt.c.
 */
#include "kernel/mm/pt_internal.h"
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"

/* An entry of the table being walked changed: [first, last], cached at `stride_shift` or more. */
static void record_change(struct pt_op *op, virt_addr_t first, virt_addr_t last,
			  unsigned stride_shift)
{
	op->chg_first = MIN(op->chg_first, first);
	op->chg_last = MAX(op->chg_last, last);
	op->chg_stride = MIN(op->chg_stride, stride_shift);
}

static bool table_is_empty(const pte_t *table, unsigned level)
{
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (arch_pte_kind(table[i], level) != PTE_ABSENT)
			return false;
	return true;
}

/* The child `idx` of `block` (a leaf at level + 1) once split: a leaf at `level`. */
static pte_t split_child(pte_t block, unsigned level, unsigned idx)
{
	phys_addr_t base = arch_pte_address(block, level + 1);
	unsigned attrs = arch_pte_attrs(block, level + 1);
	return arch_pte_make_leaf(base + (uint64_t)idx * pt_slot_bytes(level), level, attrs);
}

static phys_addr_t reserve_take(struct pt_op *op, unsigned level)
{
	if (op->reserve_left == 0)
		panic("pt: commit needs more tables than the prepare pass counted");
	phys_addr_t pa = op->reserve;
	uint64_t *first_word = kva(pa);
	op->reserve = *first_word;
	*first_word = 0; /* hand out a fully zeroed table */
	op->reserve_left--;
	struct page *page = frame_to_page(pa);
	if (page) {
		page->flags |= PAGE_TABLE;
		page->pt_level = (uint8_t)level;
	}
	op->pt->stats.tables_allocated++;
	return pa;
}

static void record_flush(struct pt_op *op, virt_addr_t first, virt_addr_t last)
{
	if (!op->flush) {
		op->flush = true;
		op->flush_first = first;
		op->flush_last = last;
		return;
	}
	op->flush_first = MIN(op->flush_first, first);
	op->flush_last = MAX(op->flush_last, last);
}

static void queue_table_free(struct pt_op *op, phys_addr_t table)
{
	if (op->gather) {
		tlb_remove_table(op->gather, table);
		return;
	}
	/* Chain through the table's own first word: it is unhooked and no longer read. */
	uint64_t *first_word = kva(table);
	*first_word = op->freed_list;
	op->freed_list = table;
	op->flush_full = true;	      /* paging-structure caches may hold the unhooked table */
	op->pt->stats.tables_freed++; /* counted under the lock; freed once settled */
}

/* Does some CPU translate through the tree? Then a change counts only once invalidated. */
static bool tree_in_use(const struct pt_op *op)
{
	return op->gather || op->pt->live;
}

/*
 * Does leaf `next` translate differently from the valid leaf `old` (more
 * than permissions)? arch_pte_protect_run() stops before the same leaves
 * by its own rule; the two agree for every leaf arch_pte_make_leaf builds.
 */
static bool retranslates(pte_t old, pte_t next, unsigned level)
{
	unsigned diff = arch_pte_attrs(old, level) ^ arch_pte_attrs(next, level);
	return arch_pte_address(old, level) != arch_pte_address(next, level) ||
	       (diff & (PT_DEVICE | PT_GLOBAL)) != 0;
}

/*
 * Commit: the valid entry at *slot, which maps the whole `level` slot
 * holding `va`, becomes `next`, which translates some of it differently (a
 * block becomes the table of its children; a leaf changes memory type).
 * Where the arch requires break-before-make the entry goes through invalid.
 * On a tree in use the walk then stops at `va` (returns true): pt_run
 * invalidates the old entry on every CPU before anything else in the slot
 * changes (a CPU holding the old block and the new pages at once is
 * undefined on x86 too), and under break-before-make it writes `next` only
 * after that. The old entry's range is invalidated page by page (or
 * whole): a block may sit in a TLB as several smaller entries.
 */
static bool replace_valid(struct pt_op *op, pte_t *slot, pte_t next, unsigned level, virt_addr_t va)
{
	virt_addr_t first = va & ~(pt_slot_bytes(level) - 1);
	bool bbm = arch_pt_needs_bbm();
	if (!tree_in_use(op)) {
		/* Nobody walks it: the break needs no invalidation. */
		if (bbm)
			arch_pte_write(slot, 0);
		arch_pte_write(slot, next);
		return false;
	}
	if (bbm) {
		arch_pte_write(slot, 0); /* break */
		op->make_slot = slot;
		op->make_value = next;
		op->pt->stats.breaks++;
	} else {
		arch_pte_write(slot, next);
	}
	if (op->gather) {
		tlb_record_downgraded(op->gather, first, pt_slot_bytes(level), 0);
		record_change(op, first, first + (pt_slot_bytes(level) - 1), PAGE_SHIFT);
	} else {
		record_flush(op, first, first + (pt_slot_bytes(level) - 1));
	}
	op->stop = STOP_REPLACED;
	op->resume_va = va;
	return true;
}

/*
 * Prepare pass: the valid entry mapping [first, last] would go through
 * invalid (break-before-make on a live tree). Inside a range the running
 * kernel uses (pt.in_use) every CPU touching it, the caller included (its
 * stack, its code, the table it writes the make into), would fault until
 * the make: refuse the operation before anything changes, and say why.
 */
static bool break_refused(struct pt_op *op, virt_addr_t first, virt_addr_t last)
{
	const struct pt *pt = op->pt;
	if (!pt_may_refuse_break(op))
		return false;
	for (unsigned i = 0; i < pt->nr_in_use; i++) {
		const struct pt_range *r = &pt->in_use[i];
		if (first > r->last || last < r->first)
			continue;
		if (!op->error) {
			op->error = -EBUSY;
			printk("pt: refused: break-before-make of the live entry for %#lx-%#lx "
			       "would unmap part of the %s (%#lx-%#lx) on every CPU until the make",
			       (unsigned long)first, (unsigned long)last, r->name,
			       (unsigned long)r->first, (unsigned long)r->last);
		}
		return true;
	}
	return false;
}

/* The table behind an existing table descriptor (NULL stays NULL: a table not made yet). */
static pte_t *child_table(pte_t *table, pte_t pte, unsigned level)
{
	return table ? pt_table_ptr(arch_pte_address(pte, level)) : NULL;
}

/* Map: one slot at `level` covering [va, seg_last] of the operation. */
static void visit_map(struct pt_op *op, pte_t *table, unsigned idx, pte_t pte, unsigned level,
		      virt_addr_t va, virt_addr_t seg_last, bool full)
{
	enum pte_kind kind = arch_pte_kind(pte, level);
	if (kind == PTE_LEAF) {
		if (!op->error)
			op->error = -EEXIST;
		return;
	}
	if (kind == PTE_TABLE) {
		pt_walk_range(op, child_table(table, pte, level), 0, level - 1, va, seg_last);
		return;
	}
	phys_addr_t pa = op->pa + (va - op->va);
	bool leaf_ok = level == 0 || (arch_pt_leaf_allowed(level) && !(op->attrs & PT_PAGES_ONLY));
	if (full && leaf_ok && IS_ALIGNED(pa, pt_slot_bytes(level))) {
		if (op->commit) {
			unsigned attrs = op->attrs & ~PT_PAGES_ONLY;
			arch_pte_write(&table[idx], arch_pte_make_leaf(pa, level, attrs));
			op->pt->stats.leaves_set++;
			if (level > 0)
				op->pt->has_blocks = true;
		}
		return;
	}
	BUG_ON(level == 0);
	if (op->direct) {
		op->stop = STOP_NEEDS_COUNT; /* nothing written yet: pt_run counts, then commits */
		return;
	}
	if (!op->commit) {
		op->tables_needed++;
		pt_walk_range(op, NULL, 0, level - 1, va, seg_last);
		return;
	}
	phys_addr_t t = reserve_take(op, level - 1);
	arch_pte_write(&table[idx], arch_pte_make_table(t, level));
	pt_walk_range(op, pt_table_ptr(t), 0, level - 1, va, seg_last);
}

/*
 * Replaces a block by a table of its children (commit pass); returns that
 * table, or NULL when the walk stopped to invalidate the block everywhere
 * (it resumes into the table). The children are complete before the table
 * is published.
 */
static pte_t *split_block(struct pt_op *op, pte_t *slot, pte_t block, unsigned level,
			  virt_addr_t va)
{
	phys_addr_t t = reserve_take(op, level - 1);
	pte_t *child = pt_table_ptr(t);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		child[i] = split_child(block, level - 1, i);
	op->pt->stats.blocks_split++;
	return replace_valid(op, slot, arch_pte_make_table(t, level), level, va) ? NULL : child;
}

/*
 * How many leaves from table[idx] on map one physically contiguous run
 * inside [va, last]? (Unmap clears such a run with one arch call.)
 */
static unsigned run_length(pte_t *table, unsigned idx, unsigned level, virt_addr_t va,
			   virt_addr_t last)
{
	uint64_t size = pt_slot_bytes(level);
	phys_addr_t pa = arch_pte_address(table[idx], level);
	unsigned n = 1;
	while (idx + n < PT_ENTRIES && va + n * size - 1 < last &&
	       va + (n + 1) * size - 1 <= last &&
	       arch_pte_kind(table[idx + n], level) == PTE_LEAF &&
	       arch_pte_address(table[idx + n], level) == pa + n * size)
		n++;
	return n;
}

/* Unmap commit of a fully covered leaf (and the run behind it); returns slots consumed. */
static unsigned clear_leaves(struct pt_op *op, pte_t *table, unsigned idx, unsigned level,
			     virt_addr_t va, virt_addr_t last)
{
	unsigned n = level == 0 ? run_length(table, idx, level, va, last) : 1;
	phys_addr_t pa = arch_pte_address(table[idx], level);
	if (op->gather && op->free_frames) {
		unsigned per_leaf = (unsigned)(pt_slot_bytes(level) >> PAGE_SHIFT);
		unsigned fit = tlb_reserve_space(op->gather, n * per_leaf) / per_leaf;
		if (fit == 0) {
			/*
			 * No room to queue the frames: stop before clearing;
			 * pt_run settles, resumes.
			 */
			op->stop = STOP_NO_ROOM;
			op->resume_va = va;
			return 1;
		}
		n = MIN(n, fit);
	}
	uint64_t bytes = (uint64_t)n * pt_slot_bytes(level);
	/* Broken on purpose (mm.break=leak_pte): the run's last leaf stays, its frame is freed. */
	bool leak = op->gather && op->free_frames && mm_broken_is(MM_BREAK_LEAK_PTE);
	if (n > (leak ? 1u : 0u))
		arch_pte_clear_run(&table[idx], n - (leak ? 1 : 0), level);
	op->pt->stats.leaves_cleared += n;
	if (n > 1)
		op->pt->stats.runs_cleared++;
	if (!op->gather) {
		record_flush(op, va, va + bytes - 1);
		return n;
	}
	tlb_record_cleared(op->gather, va, bytes, level);
	record_change(op, va, va + bytes - 1, pt_level_shift(level));
	if (op->free_frames)
		tlb_remove_pages(op->gather, pa, (unsigned)(bytes >> PAGE_SHIFT));
	return n;
}

/*
 * Protect replaces permissions; accessed and dirty are kept; soft-dirty is
 * kept unless cleared, and set when asked (the soft-dirty write fault).
 */
static unsigned protect_keeps(const struct pt_op *op)
{
	return PT_ACCESSED | PT_DIRTY | (op->attrs & PT_CLEAR_SOFT_DIRTY ? 0 : PT_SOFT_DIRTY);
}

/*
 * Protect commit of the pages from table[idx] (a level-0 table) to `last`
 * or the table's end, in one arch call; returns slots consumed, 0 when the
 * first leaf needs a break (visit_change does that one). What changed is
 * recorded as visit_change records one leaf: in an address space only what
 * lost a permission; in the kernel's tables every rewrite.
 */
static unsigned protect_leaves(struct pt_op *op, pte_t *table, unsigned idx, virt_addr_t va,
			       virt_addr_t last)
{
	unsigned n = (unsigned)MIN((uint64_t)(PT_ENTRIES - idx), ((last - va) >> PAGE_SHIFT) + 1);
	unsigned attrs = op->attrs & ~(PT_ACCESSED | PT_DIRTY | PT_CLEAR_SOFT_DIRTY);
	struct pte_run_change r;
	unsigned done = arch_pte_protect_run(&table[idx], n, 0, attrs, protect_keeps(op), &r);
	op->pt->stats.leaves_set += r.changed;
	if (op->gather && r.flushes) {
		virt_addr_t first = va + ((uint64_t)r.first_flush << PAGE_SHIFT);
		uint64_t bytes = (uint64_t)(r.last_flush - r.first_flush + 1) << PAGE_SHIFT;
		tlb_record_downgraded(op->gather, first, bytes, 0);
		record_change(op, first, first + bytes - 1, PAGE_SHIFT);
	} else if (!op->gather && r.changed) {
		record_flush(op, va + ((uint64_t)r.first << PAGE_SHIFT),
			     va + ((uint64_t)(r.last + 1) << PAGE_SHIFT) - 1);
	}
	return done;
}

/* Unmap and protect: one slot at `level` covering [va, seg_last]; returns slots consumed. */
static unsigned visit_change(struct pt_op *op, pte_t *table, unsigned idx, pte_t pte,
			     unsigned level, virt_addr_t va, virt_addr_t seg_last, bool full,
			     virt_addr_t last)
{
	virt_addr_t slot_first = va & ~(pt_slot_bytes(level) - 1);
	virt_addr_t slot_last = slot_first + (pt_slot_bytes(level) - 1);
	switch (arch_pte_kind(pte, level)) {
	case PTE_ABSENT:
		return 1;
	case PTE_TABLE: {
		pte_t *child = child_table(table, pte, level);
		pt_walk_range(op, child, 0, level - 1, va, seg_last);
		bool top = level == PT_LEVELS - 1;
		/* A stopped walk comes back here (a slot under break-before-make looks empty). */
		if (op->commit && op->kind == PT_OP_UNMAP && op->stop == STOP_NONE &&
		    !(top && op->pt->keep_top_tables) && !op->pt->keep_tables &&
		    table_is_empty(child, level - 1)) {
			arch_pte_write(&table[idx], 0);
			/*
			 * This table's own entry changed. What the child mapped was
			 * cleared (and deferred) in the child; what a walk cache
			 * holds of the child goes with the gather's flush, which is
			 * whole-mm and never skipped once a table is unhooked.
			 */
			if (op->gather)
				record_change(op, slot_first, slot_last, pt_level_shift(level));
			else
				record_flush(op, slot_first, slot_last);
			queue_table_free(op, arch_pte_address(pte, level));
		}
		return 1;
	}
	case PTE_LEAF:
		break;
	}
	if (!full) {
		/* Part of a block changes: split it, then change the part. */
		if (!op->commit) {
			if (break_refused(op, slot_first, slot_last))
				return 1;
			op->tables_needed++;
			pt_walk_range(op, NULL, pte, level - 1, va, seg_last);
			return 1;
		}
		/* Without the prepare pass there is no reserve: has_blocks must have been set. */
		if (!op->pt->has_blocks)
			panic(
			    "pt_run: a block at %#lx in a tree that never mapped one (has_blocks): "
			    "its prepare pass was skipped",
			    (unsigned long)va);
		pte_t *child = split_block(op, &table[idx], pte, level, va);
		if (child)
			pt_walk_range(op, child, 0, level - 1, va, seg_last);
		return 1;
	}
	if (op->kind == PT_OP_UNMAP)
		return op->commit ? clear_leaves(op, table, idx, level, va, last) : 1;
	if (op->commit && level == 0) {
		unsigned n = protect_leaves(op, table, idx, va, last);
		if (n)
			return n;
		/* The first leaf needs a break: below. */
	}
	unsigned old = arch_pte_attrs(pte, level);
	unsigned new = (op->attrs & ~(PT_ACCESSED | PT_DIRTY | PT_CLEAR_SOFT_DIRTY)) |
		       (old & protect_keeps(op));
	pte_t updated = arch_pte_make_leaf(arch_pte_address(pte, level), level, new);
	if (updated == pte)
		return 1;
	bool breaks = arch_pt_needs_bbm() && retranslates(pte, updated, level);
	if (!op->commit) {
		if (breaks)
			break_refused(op, slot_first, slot_last);
		return 1;
	}
	op->pt->stats.leaves_set++;
	if (breaks) {
		replace_valid(op, &table[idx], updated, level, va);
		return 1;
	}
	arch_pte_write(&table[idx], updated);
	/*
	 * An added permission needs no flush in an address space: a stale,
	 * stricter entry causes a spurious fault, which mm_handle_fault()
	 * retries. A kernel fault is never retried, so in the kernel's tables
	 * (ungathered) every rewritten leaf is invalidated.
	 */
	if (arch_pte_needs_flush(pte, updated, level) || !op->gather) {
		if (op->gather) {
			tlb_record_downgraded(op->gather, slot_first, pt_slot_bytes(level), level);
			record_change(op, slot_first, slot_last, pt_level_shift(level));
		} else
			record_flush(op, slot_first, slot_last);
	}
	return 1;
}

/* The contract (table, synth, the passes, a stop) is in pt_internal.h. */
void pt_walk_range(struct pt_op *op, pte_t *table, pte_t synth, unsigned level, virt_addr_t first,
		   virt_addr_t last)
{
	/*
	 * Prepare at the last level: clearing pages, or changing their
	 * permissions where no break can be refused, needs no table and
	 * cannot fail, so the counting pass has nothing to look at there (a
	 * 64-page mprotect would otherwise read every entry twice).
	 */
	if (!op->commit && level == 0 && op->kind != PT_OP_MAP &&
	    (op->kind == PT_OP_UNMAP || !pt_may_refuse_break(op)))
		return;
	uint64_t size = pt_slot_bytes(level);
	virt_addr_t va = first;
	/* Changes made in this table are deferred (and published) as one generation. */
	virt_addr_t outer_first = op->chg_first, outer_last = op->chg_last;
	unsigned outer_stride = op->chg_stride;
	op->chg_first = ~(virt_addr_t)0;
	op->chg_last = 0;
	op->chg_stride = pt_level_shift(PT_LEVELS - 1);
	for (;;) {
		unsigned idx = pt_slot_index(va, level);
		virt_addr_t slot_first = va & ~(size - 1);
		virt_addr_t slot_last = slot_first + (size - 1);
		virt_addr_t seg_last = MIN(slot_last, last);
		bool full = va == slot_first && seg_last == slot_last;
		pte_t pte = table   ? READ_ONCE(table[idx])
			    : synth ? split_child(synth, level, idx)
				    : 0;
		unsigned consumed = 1;
		if (op->kind == PT_OP_MAP)
			visit_map(op, table, idx, pte, level, va, seg_last, full);
		else
			consumed =
			    visit_change(op, table, idx, pte, level, va, seg_last, full, last);
		if (op->stop != STOP_NONE)
			break; /* the changes made so far are still deferred below */
		/* A run clear consumed whole slots: continue after the last of them. */
		if (consumed > 1)
			seg_last = slot_first + consumed * size - 1;
		if (seg_last == last)
			break;
		va = seg_last + 1;
	}
	if (op->commit && op->gather && op->chg_first <= op->chg_last)
		tlb_defer_table(op->gather, kva_to_pa(table), op->chg_first, op->chg_last + 1,
				op->chg_stride);
	else if (op->commit && op->gather && op->kind != PT_OP_MAP)
		tlb_adopt_pending_table(op->gather, kva_to_pa(table), first, last + 1, PAGE_SHIFT);
	/*
	 * The table we came from changed only if one of its own entries did:
	 * a change down here is published by this table's deferral alone, so
	 * a 1-page unmap bumps one generation, not one per level. Nothing
	 * needed the merge: a table is pending (pt_table_flush_pending) only
	 * for changes to its own entries, and that is what adoption asks about
	 * at every level; a gather's last deferral is its newest generation,
	 * so completing it completes every table it deferred; the walk defers
	 * every changed table before pt_run can settle; and an unhooked table
	 * is flushed by the gather's own whole-mm request (gather.c), not by a
	 * deferral. tlb.break=defer_every_level restores the merge.
	 */
	if (tlb_broken_is(TLB_BREAK_DEFER_EVERY_LEVEL)) {
		op->chg_first = MIN(outer_first, op->chg_first);
		op->chg_last = MAX(outer_last, op->chg_last);
		op->chg_stride = MIN(outer_stride, op->chg_stride);
	} else {
		op->chg_first = outer_first;
		op->chg_last = outer_last;
		op->chg_stride = outer_stride;
	}
}
