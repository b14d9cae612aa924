/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Checks over a page-table tree and its event log, shared by the host
 * test's cases: deep snapshots of every table and their comparison (an
 * operation that fails leaves the tree byte for byte as it was); the
 * structural invariants (no empty table below the root, every absent entry
 * 0, every table marked PAGE_TABLE with its level); the -ENOMEM sweep that
 * fails each allocation of an operation in turn; and the TLB order (the
 * tree is final when the operation's last flush runs).
 */
#include <string.h>

#include "kernel/errno.h"
#include "tests/host/pt_host.h"

/* ---- Walking a tree from the test side ------------------------------------------------------- */

static void snap_add(struct snap *s, phys_addr_t pa, unsigned level, pte_t *parent)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct snap_table *t = case_malloc(cap * sizeof(*t));
		if (s->n)
			memcpy(t, s->t, s->n * sizeof(*t));
		s->t = t;
		s->cap = cap;
	}
	struct snap_table *st = &s->t[s->n++];
	st->pa = pa;
	st->at = (uintptr_t)kva(pa);
	st->level = level;
	st->parent_slot = parent;
	memcpy(st->e, kva(pa), sizeof(st->e));
	if (level == 0)
		return;
	for (unsigned i = 0; i < PT_ENTRIES; i++) {
		pte_t *slot = (pte_t *)kva(pa) + i;
		if (arch_pte_kind(*slot, level) == PTE_TABLE)
			snap_add(s, arch_pte_address(*slot, level), level - 1, slot);
	}
}

/* A deep copy of every table (depth first), the root address and the stats. */
void snap_take(struct pt *pt, struct snap *s)
{
	s->n = 0;
	s->root = pt->root;
	s->stats = pt->stats;
	snap_add(s, pt->root, PT_LEVELS - 1, NULL);
}

/* The memory itself goes back after the case (case_free_all). */
void snap_free(struct snap *s)
{
	*s = (struct snap){0};
}

bool snap_equal_at(const char *f, int l, const struct snap *a, const struct snap *b)
{
	if (a->root != b->root) {
		fail_at(f, l, "tree changed: root %#llx -> %#llx", (unsigned long long)a->root,
			(unsigned long long)b->root);
		return false;
	}
	if (memcmp(&a->stats, &b->stats, sizeof(a->stats)) != 0) {
		fail_at(f, l, "tree changed: pt->stats differ");
		return false;
	}
	if (a->n != b->n) {
		fail_at(f, l, "tree changed: %zu tables -> %zu", a->n, b->n);
		return false;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct snap_table *x = &a->t[i], *y = &b->t[i];
		if (x->pa != y->pa || x->level != y->level) {
			fail_at(f, l,
				"tree changed: table %zu was %#llx level %u, now %#llx level %u", i,
				(unsigned long long)x->pa, x->level, (unsigned long long)y->pa,
				y->level);
			return false;
		}
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			if (x->e[j] != y->e[j]) {
				fail_at(
				    f, l,
				    "tree changed: table %#llx (level %u) entry %u: %#llx -> %#llx",
				    (unsigned long long)x->pa, x->level, j,
				    (unsigned long long)x->e[j], (unsigned long long)y->e[j]);
				return false;
			}
		}
	}
	return true;
}

/*
 * Structural invariants: no table below the root is empty (unmap frees the
 * tables it empties, nothing else makes empty ones); every absent entry is
 * 0, the only absent value generic code writes (anything else is garbage,
 * e.g. a table handed out not fully zeroed); and with frame metadata on,
 * every table's struct page says PAGE_TABLE and its level.
 */
void check_tree_at(const char *f, int l, struct pt *pt)
{
	struct snap s = {0};
	snap_take(pt, &s);
	for (size_t i = 0; i < s.n; i++) {
		const struct snap_table *t = &s.t[i];
		bool empty = true;
		for (unsigned j = 0; j < PT_ENTRIES; j++) {
			if (arch_pte_kind(t->e[j], t->level) != PTE_ABSENT)
				empty = false;
			else if (t->e[j] != 0)
				fail_at(f, l,
					"table %#llx (level %u) entry %u: absent but %#llx, not 0",
					(unsigned long long)t->pa, t->level, j,
					(unsigned long long)t->e[j]);
		}
		if (t->parent_slot) {
			if (empty)
				fail_at(f, l, "table %#llx (level %u) is empty but still linked",
					(unsigned long long)t->pa, t->level);
		}
		if (host_frame_pages) {
			struct page *p = frame_to_page(t->pa);
			if (!p || !(p->flags & PAGE_TABLE) || p->pt_level != t->level)
				fail_at(f, l,
					"table %#llx (level %u): struct page flags %#x level %u, "
					"expected PAGE_TABLE and level %u",
					(unsigned long long)t->pa, t->level, p ? p->flags : 0,
					p ? p->pt_level : 0, t->level);
		}
	}
	check_eq(s.n, pt_count_tables(pt), f, l, "tables reachable", "pt_count_tables");
	snap_free(&s);
}

/* The slot that translates `va` at `level`, or NULL when a table on the way is missing. */
pte_t *slot_at(struct pt *pt, uint64_t va, unsigned level)
{
	pte_t *table = kva(pt->root);
	for (unsigned l = PT_LEVELS - 1;; l--) {
		pte_t *slot = &table[(va >> pt_level_shift(l)) & (PT_ENTRIES - 1)];
		if (l == level)
			return slot;
		if (arch_pte_kind(*slot, l) != PTE_TABLE)
			return NULL;
		table = kva(arch_pte_address(*slot, l));
	}
}

/* ---- Failure injection ----------------------------------------------------------------------- */

int run_op(struct pt *pt, const struct op *op)
{
	int r;
	switch (op->kind) {
	case OP_MAP:
		r = pt_map(pt, op->va, op->pa, op->size, op->attrs);
		break;
	case OP_UNMAP:
		r = pt_unmap(pt, op->va, op->size);
		break;
	default:
		r = pt_protect(pt, op->va, op->size, op->attrs);
		break;
	}
	post_op(__FILE__, __LINE__, pt);
	return r;
}

/*
 * For n = 0 .. needed-1, fails the n+1-th allocation: the operation must
 * return -ENOMEM having tried exactly n+1 allocations, with the tree (every
 * table, byte for byte), the stats and the live frames exactly as before and
 * no descriptor written. Then, without injection, it must succeed using
 * exactly `needed` allocations.
 */
void enomem_sweep_at(const char *f, int l, struct pt *pt, const struct op *op, unsigned needed)
{
	struct snap before = {0}, after = {0};
	for (unsigned n = 0; n < needed; n++) {
		snap_take(pt, &before);
		uint64_t writes = fake_arch.pte_writes;
		uint64_t attempts = host_alloc_attempts, live = host_live_frames();
		frame_fail_after(n);
		int r = run_op(pt, op);
		frame_fail_clear();
		if (!check_eq((uint64_t)(int64_t)r, (uint64_t)(int64_t)-ENOMEM, f, l, "result",
			      "-ENOMEM"))
			fail_at(f, l, "  (failure injected after %u allocations)", n);
		snap_take(pt, &after);
		if (!snap_equal_at(f, l, &before, &after))
			fail_at(f, l, "  (failure injected after %u allocations)", n);
		check_eq(host_live_frames(), live, f, l, "live frames after -ENOMEM", "before");
		check_eq(fake_arch.pte_writes, writes, f, l, "descriptor writes after -ENOMEM",
			 "before");
		check_eq(host_alloc_attempts - attempts, n + 1, f, l, "allocations tried", "n + 1");
	}
	uint64_t attempts = host_alloc_attempts, tables = pt->stats.tables_allocated;
	check_eq((uint64_t)run_op(pt, op), 0, f, l, "result without injection", "0");
	check_eq(host_alloc_attempts - attempts, needed, f, l, "allocations", "needed");
	check_eq(pt->stats.tables_allocated - tables, needed, f, l, "stats.tables_allocated delta",
		 "needed");
	check_eq(host_live_frames(), pt_count_tables(pt), f, l, "live frames", "tables");
	check_tree_at(f, l, pt);
	snap_free(&before);
	snap_free(&after);
}

/* ---- TLB maintenance, from the event log ----------------------------------------------------- */

static bool is_flush(const struct host_event *e)
{
	return e->kind == EV_FLUSH_FULL || e->kind == EV_FLUSH_PAGE;
}

/* Event i writes a valid entry into a slot the operation broke (made invalid) earlier. */
bool is_make(size_t i)
{
	const struct host_event *e = host_event_get(i);
	if (e->kind != EV_PTE_WRITE || e->b != 0 || e->c == 0)
		return false;
	for (size_t k = 0; k < i; k++) {
		const struct host_event *w = host_event_get(k);
		if (w->kind == EV_PTE_WRITE && w->a == e->a && w->b != 0 && w->c == 0)
			return true;
	}
	return false;
}

/*
 * The tree is final when the operation's last flush runs: no descriptor
 * write comes after it but a make, which fills a slot that flush emptied.
 * (Earlier flushes are the invalidations of replaced entries.)
 */
void check_flush_after_writes_at(const char *f, int l)
{
	size_t last_flush = SIZE_MAX;
	for (size_t i = 0; i < host_event_count(); i++)
		if (is_flush(host_event_get(i)))
			last_flush = i;
	if (last_flush == SIZE_MAX)
		return;
	for (size_t i = last_flush + 1; i < host_event_count(); i++)
		if (host_event_get(i)->kind == EV_PTE_WRITE && !is_make(i))
			fail_at(
			    f, l,
			    "descriptor written (event %zu) after the last TLB flush (event %zu)",
			    i, last_flush);
}

/* The arch's flush decision for two leaves that differ only in attributes. */
bool pt_attrs_need_flush(unsigned old, unsigned new)
{
	const phys_addr_t pa = 0x40000000;
	return arch_pte_needs_flush(arch_pte_make_leaf(pa, 0, old), arch_pte_make_leaf(pa, 0, new),
				    0);
}
