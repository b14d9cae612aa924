// SPDX-License-Identifier: BSD-2-Clause
/*
 * The generic page-table walker and the operations built on it.
 *
 * One recursive walk serves map, unmap and protect, in two passes (see
 * pt.h): the counting pass reads descriptors and counts the tables the
 * commit pass will need; a table that does not exist yet is walked as if
 * empty (table == NULL), and a block that would be split is walked as if
 * already split into its children (synth). The commit pass then does the
 * same walk for real, drawing tables from a reserve allocated in between.
 *
 * Ranges are carried as [first, last] (inclusive) so that a range ending at
 * the very top of the address space does not overflow to 0.
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
#include "kernel/errno.h"
#include "kernel/mm/failinject.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "lib/string.h"

enum pt_op_kind { PT_OP_MAP, PT_OP_UNMAP, PT_OP_PROTECT };
/* Why a commit walk stopped before resume_va. */
enum pt_stop {
	STOP_NONE,
	STOP_NO_ROOM, /* the gather has no room for a leaf's frames: settle it */
	STOP_REPLACED, /* a live entry was replaced: invalidate it everywhere first */
	STOP_NEEDS_COUNT, /* a direct one-page map met a missing table, unchanged: count (pt_run) */
};

void (*pt_test_after_replace)(struct pt *pt, virt_addr_t va);

struct pt_op {
	struct pt *pt;
	enum pt_op_kind kind;
	bool commit;
	virt_addr_t va; /* start of the whole operation */
	phys_addr_t pa; /* map: physical address of va */
	unsigned attrs;
	int error; /* counting pass: first conflict found */
	uint64_t tables_needed; /* counting pass result */
	phys_addr_t reserve; /* commit: zeroed tables chained through their first word */
	uint64_t reserve_left;
	phys_addr_t freed_list; /* commit: tables unhooked, freed after the flush */
	bool flush, flush_full;
	virt_addr_t flush_first, flush_last;
	uint64_t flush_pages; /* set when the commit ends: 0 with flush_full */
	struct mmu_gather *gather; /* when set: it flushes and frees, not us */
	bool free_frames; /* unmap: queue the frames cleared leaves mapped */
	bool direct; /* a one-page map committing without a count (pt_run) */
	/*
	 * The entries of the table being walked that this walk changed (leaves
	 * cleared or downgraded, a block split, a child table unhooked), and
	 * the smallest page size a TLB may hold for them: that table's deferral.
	 */
	virt_addr_t chg_first, chg_last;
	unsigned chg_stride;
	/* Commit: the walk stopped before resume_va (settle, then resume there). */
	enum pt_stop stop;
	virt_addr_t resume_va;
	/* STOP_REPLACED under break-before-make: what to write once the break is invalidated. */
	pte_t *make_slot;
	pte_t make_value;
};

/* An entry of the table being walked changed: [first, last], cached at `stride_shift` or more. */
static void record_change(struct pt_op *op, virt_addr_t first, virt_addr_t last,
			  unsigned stride_shift)
{
	op->chg_first = MIN(op->chg_first, first);
	op->chg_last = MAX(op->chg_last, last);
	op->chg_stride = MIN(op->chg_stride, stride_shift);
}

#define FLUSH_PAGES_MAX 32 /* past this many pages one full flush is cheaper */

static uint64_t slot_bytes(unsigned level)
{
	return 1ull << pt_level_shift(level);
}

static unsigned slot_index(virt_addr_t va, unsigned level)
{
	return (unsigned)(va >> pt_level_shift(level)) & (PT_ENTRIES - 1);
}

static pte_t *table_ptr(phys_addr_t pa)
{
	return kva(pa);
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
	return arch_pte_make_leaf(base + (uint64_t)idx * slot_bytes(level), level, attrs);
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
	op->flush_full = true; /* paging-structure caches may hold the unhooked table */
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
static bool replace_valid(struct pt_op *op, pte_t *slot, pte_t next, unsigned level,
			  virt_addr_t va)
{
	virt_addr_t first = va & ~(slot_bytes(level) - 1);
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
		tlb_record_downgraded(op->gather, first, slot_bytes(level), 0);
		record_change(op, first, first + (slot_bytes(level) - 1), PAGE_SHIFT);
	} else {
		record_flush(op, first, first + (slot_bytes(level) - 1));
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
static bool may_refuse_break(const struct pt_op *op)
{
	return op->pt->live && !op->gather && arch_pt_needs_bbm();
}

static bool break_refused(struct pt_op *op, virt_addr_t first, virt_addr_t last)
{
	const struct pt *pt = op->pt;
	if (!may_refuse_break(op))
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

static void walk(struct pt_op *op, pte_t *table, pte_t synth, unsigned level, virt_addr_t first,
		 virt_addr_t last);

/* The table behind an existing table descriptor (NULL stays NULL: a table not made yet). */
static pte_t *child_table(pte_t *table, pte_t pte, unsigned level)
{
	return table ? table_ptr(arch_pte_address(pte, level)) : NULL;
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
		walk(op, child_table(table, pte, level), 0, level - 1, va, seg_last);
		return;
	}
	phys_addr_t pa = op->pa + (va - op->va);
	bool leaf_ok = level == 0 || (arch_pt_leaf_allowed(level) && !(op->attrs & PT_PAGES_ONLY));
	if (full && leaf_ok && IS_ALIGNED(pa, slot_bytes(level))) {
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
		walk(op, NULL, 0, level - 1, va, seg_last);
		return;
	}
	phys_addr_t t = reserve_take(op, level - 1);
	arch_pte_write(&table[idx], arch_pte_make_table(t, level));
	walk(op, table_ptr(t), 0, level - 1, va, seg_last);
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
	pte_t *child = table_ptr(t);
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
	uint64_t size = slot_bytes(level);
	phys_addr_t pa = arch_pte_address(table[idx], level);
	unsigned n = 1;
	while (idx + n < PT_ENTRIES && va + n * size - 1 < last &&
	       va + (n + 1) * size - 1 <= last && arch_pte_kind(table[idx + n], level) == PTE_LEAF &&
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
		unsigned per_leaf = (unsigned)(slot_bytes(level) >> PAGE_SHIFT);
		unsigned fit = tlb_reserve_space(op->gather, n * per_leaf) / per_leaf;
		if (fit == 0) {
			/* No room to queue the frames: stop before clearing; pt_run settles, resumes. */
			op->stop = STOP_NO_ROOM;
			op->resume_va = va;
			return 1;
		}
		n = MIN(n, fit);
	}
	uint64_t bytes = (uint64_t)n * slot_bytes(level);
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
	virt_addr_t slot_first = va & ~(slot_bytes(level) - 1);
	virt_addr_t slot_last = slot_first + (slot_bytes(level) - 1);
	switch (arch_pte_kind(pte, level)) {
	case PTE_ABSENT:
		return 1;
	case PTE_TABLE: {
		pte_t *child = child_table(table, pte, level);
		walk(op, child, 0, level - 1, va, seg_last);
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
			walk(op, NULL, pte, level - 1, va, seg_last);
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
			walk(op, child, 0, level - 1, va, seg_last);
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
			tlb_record_downgraded(op->gather, slot_first, slot_bytes(level), level);
			record_change(op, slot_first, slot_last, pt_level_shift(level));
		}
		else
			record_flush(op, slot_first, slot_last);
	}
	return 1;
}

/*
 * Visits every slot of `table` (a table at `level`) that [first, last]
 * touches. In the counting pass `table` may be NULL (not created yet: all
 * slots absent) and `synth` may be a block being split (slots are its
 * children).
 */
static void walk(struct pt_op *op, pte_t *table, pte_t synth, unsigned level, virt_addr_t first,
		 virt_addr_t last)
{
	/*
	 * Prepare at the last level: clearing pages, or changing their
	 * permissions where no break can be refused, needs no table and
	 * cannot fail, so the counting pass has nothing to look at there (a
	 * 64-page mprotect would otherwise read every entry twice).
	 */
	if (!op->commit && level == 0 && op->kind != PT_OP_MAP &&
	    (op->kind == PT_OP_UNMAP || !may_refuse_break(op)))
		return;
	uint64_t size = slot_bytes(level);
	virt_addr_t va = first;
	/* Changes made in this table are deferred (and published) as one generation. */
	virt_addr_t outer_first = op->chg_first, outer_last = op->chg_last;
	unsigned outer_stride = op->chg_stride;
	op->chg_first = ~(virt_addr_t)0;
	op->chg_last = 0;
	op->chg_stride = pt_level_shift(PT_LEVELS - 1);
	for (;;) {
		unsigned idx = slot_index(va, level);
		virt_addr_t slot_first = va & ~(size - 1);
		virt_addr_t slot_last = slot_first + (size - 1);
		virt_addr_t seg_last = MIN(slot_last, last);
		bool full = va == slot_first && seg_last == slot_last;
		pte_t pte = table ? READ_ONCE(table[idx]) : synth ? split_child(synth, level, idx) : 0;
		unsigned consumed = 1;
		if (op->kind == PT_OP_MAP)
			visit_map(op, table, idx, pte, level, va, seg_last, full);
		else
			consumed = visit_change(op, table, idx, pte, level, va, seg_last, full, last);
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
			walk(&op, table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
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
		if (kind == PT_OP_MAP || pt->has_blocks || may_refuse_break(&op))
			walk(&op, table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
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
		walk(&op, table_ptr(pt->root), 0, PT_LEVELS - 1, op.va, last);
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
	pte_t *root = table_ptr(pt->root);
	unsigned idx = slot_index(va, PT_LEVELS - 1);
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
	pte_t *table = table_ptr(pt->root);
	bool found = false;
	for (unsigned level = PT_LEVELS - 1;; level--) {
		pte_t pte = READ_ONCE(table[slot_index(va, level)]);
		enum pte_kind kind = arch_pte_kind(pte, level);
		if (kind == PTE_LEAF) {
			uint64_t offset = va & (slot_bytes(level) - 1);
			*out = (struct pt_query_result){arch_pte_address(pte, level) + offset, level,
							arch_pte_attrs(pte, level), pte};
			found = true;
		}
		if (kind != PTE_TABLE || level == 0)
			break;
		table = table_ptr(arch_pte_address(pte, level));
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
		n += subtree(table_ptr(child), level - 1, release) + 1;
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
	subtree(table_ptr(pt->root), PT_LEVELS - 1, true);
	free_chain(pt->root);
	pt->root = 0;
}

uint64_t pt_count_tables(struct pt *pt)
{
	irqflags_t flags = spin_lock_irqsave(&pt->lock);
	uint64_t n = subtree(table_ptr(pt->root), PT_LEVELS - 1, false) + 1;
	spin_unlock_irqrestore(&pt->lock, flags);
	return n;
}
