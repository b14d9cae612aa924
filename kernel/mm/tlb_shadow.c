// SPDX-License-Identifier: BSD-2-Clause
/*
 * The shadow TLB (tlb_shadow.h): per CPU, a direct-mapped table of leaf
 * translations and a small array of cached table pointers, each tagged
 * with the ASID loaded when it was filled, and each CPU's loaded root and
 * tag. Entries leave only through the invalidation hooks; a collision in
 * the leaf table overwrites (a real TLB evicts too: the model then holds
 * less than it could, never more, so it can miss a hazard but not invent
 * one).
 *
 * Locking: one spinlock per CPU, taken with interrupts off by its own
 * fills and lookups and by every invalidation that reaches it. Fills read
 * the tables inside the lock (see tlb_shadow.h for why that orders them
 * against invalidations). Nothing else is taken inside it; the violation
 * record has its own lock, taken with no shadow lock held.
 */
#include "kernel/mm/tlb_shadow.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define LEAVES 256
#define WALKS  48

struct leaf {
	virt_addr_t va; /* page address | 1 while valid */
	phys_addr_t root; /* of the tables it was filled from */
	phys_addr_t frame;
	unsigned asid;
	bool writable;
};

struct walk {
	virt_addr_t first; /* the first address the table translates */
	unsigned asid;
	unsigned level;	   /* the table's own level: 0 holds leaves of 4 KiB */
	phys_addr_t table; /* 0: empty slot */
	phys_addr_t root;  /* of the tables it was filled from */
};

struct shadow {
	spinlock_t lock;
	bool loaded;
	/*
	 * A walk begun before an unload may still finish through fin_root
	 * under fin_asid: until a drop of every address of that tag (a TLBI
	 * by ASID and its DSB end it) or the next load, whichever comes
	 * first. The load is the model's bound, not the architecture's (an
	 * ISB orders later walks only): a walk in flight is taken to finish
	 * by the end of the switch that unloaded.
	 */
	bool walks_finishing;
	phys_addr_t fin_root;
	unsigned fin_asid;
	phys_addr_t root;
	unsigned asid;
	struct leaf leaves[LEAVES];
	struct walk walks[WALKS];
	unsigned next_walk; /* round-robin replacement once full */
};

bool tlb_shadow_on;
static struct shadow shadows[CPU_MAX];
static spinlock_t violation_lock = SPINLOCK_INIT;
static bool violated;
static struct tlb_shadow_violation first_violation;
static uint64_t fills, hits, drops, tables_checked;

static struct shadow *mine(void)
{
	return &shadows[arch_cpu_id()];
}

/* A frame the direct map covers and no hole: what a walk under a broken protocol may follow. */
static bool ram_frame(phys_addr_t pa)
{
	const struct page *page = frame_to_page(pa);
	return page && !(READ_ONCE(page->flags) & PAGE_RESERVED);
}

/* Bytes of addresses a table of `level` translates (one entry of the level above). */
static uint64_t table_span(unsigned level)
{
	return 1ull << pt_level_shift(level + 1);
}

static unsigned leaf_index(virt_addr_t va, unsigned asid)
{
	return (unsigned)((va >> PT_PAGE_SHIFT) ^ (asid * 37u)) % LEAVES;
}

void tlb_shadow_start(void)
{
	for (unsigned c = 0; c < CPU_MAX; c++) {
		irqflags_t f = spin_lock_irqsave(&shadows[c].lock);
		memset(shadows[c].leaves, 0, sizeof(shadows[c].leaves));
		memset(shadows[c].walks, 0, sizeof(shadows[c].walks));
		/* Unknown until the CPU's next load: nothing is filled meanwhile. */
		shadows[c].loaded = false;
		shadows[c].walks_finishing = false;
		spin_unlock_irqrestore(&shadows[c].lock, f);
	}
	irqflags_t f = spin_lock_irqsave(&violation_lock);
	violated = false;
	fills = hits = drops = tables_checked = 0;
	spin_unlock_irqrestore(&violation_lock, f);
	smp_mb();
	atomic_store_release(&tlb_shadow_on, true);
}

void tlb_shadow_stop(void)
{
	atomic_store_release(&tlb_shadow_on, false);
}

static void record_violation(const struct tlb_shadow_violation *v)
{
	irqflags_t f = spin_lock_irqsave(&violation_lock);
	if (!violated) {
		first_violation = *v;
		atomic_store_release(&violated, true);
	}
	spin_unlock_irqrestore(&violation_lock, f);
}

/* An entry tagged `asid` filled from tables other than `root`'s, if the shadow holds one. */
static bool find_alias(const struct shadow *s, phys_addr_t root, unsigned asid,
		       struct tlb_shadow_violation *v)
{
	for (unsigned i = 0; i < LEAVES; i++) {
		const struct leaf *l = &s->leaves[i];
		if ((l->va & 1) && l->asid == asid && l->root != root) {
			*v = (struct tlb_shadow_violation){
			    .asid = asid, .va = l->va & ~1ull, .table = l->root};
			return true;
		}
	}
	for (unsigned i = 0; i < WALKS; i++) {
		const struct walk *w = &s->walks[i];
		if (w->table && w->asid == asid && w->root != root) {
			*v = (struct tlb_shadow_violation){
			    .asid = asid, .va = w->first, .table = w->root};
			return true;
		}
	}
	return false;
}

void tlb_shadow_note_load(phys_addr_t root, unsigned asid)
{
	struct shadow *s = mine();
	struct tlb_shadow_violation v;
	irqflags_t f = spin_lock_irqsave(&s->lock);
	/* Entries of another address space under the tag being loaded: it would use them. */
	bool alias = find_alias(s, root, asid, &v);
	s->loaded = true;
	s->walks_finishing = false; /* the model's bound: by the end of the switch */
	s->root = root;
	s->asid = asid;
	spin_unlock_irqrestore(&s->lock, f);
	if (alias) {
		v.kind = TLB_SHADOW_ASID_ALIAS;
		v.cpu = arch_cpu_id();
		record_violation(&v);
	}
}

void tlb_shadow_note_unload(bool walks_finish)
{
	struct shadow *s = mine();
	irqflags_t f = spin_lock_irqsave(&s->lock);
	s->walks_finishing = walks_finish && s->loaded;
	s->fin_root = s->root;
	s->fin_asid = s->asid;
	s->loaded = false;
	spin_unlock_irqrestore(&s->lock, f);
}

static bool asid_matches(unsigned want, unsigned have)
{
	return want == TLB_SHADOW_ANY_ASID || want == have;
}

/* [first, first + size) meets [start, end); end 0 is everything. */
static bool meets(virt_addr_t first, uint64_t size, virt_addr_t start, virt_addr_t end)
{
	return !end || (first < end && start < first + size);
}

static void drop_one(struct shadow *s, unsigned asid, virt_addr_t start, virt_addr_t end,
		     bool all_walks)
{
	irqflags_t f = spin_lock_irqsave(&s->lock);
	/* A TLBI of the finishing walk's whole tag (and its DSB) ends that walk. */
	if (s->walks_finishing && !end && asid_matches(asid, s->fin_asid))
		s->walks_finishing = false;
	uint64_t n = 0;
	for (unsigned i = 0; i < LEAVES; i++) {
		struct leaf *l = &s->leaves[i];
		if ((l->va & 1) && asid_matches(asid, l->asid) &&
		    meets(l->va & ~1ull, PAGE_SIZE, start, end)) {
			l->va = 0;
			n++;
		}
	}
	for (unsigned i = 0; i < WALKS; i++) {
		struct walk *w = &s->walks[i];
		if (w->table && asid_matches(asid, w->asid) &&
		    (all_walks || meets(w->first, table_span(w->level), start, end))) {
			w->table = 0;
			n++;
		}
	}
	spin_unlock_irqrestore(&s->lock, f);
	if (n)
		atomic_fetch_add(&drops, n);
}

void tlb_shadow_note_drop(bool all_cpus, unsigned asid, virt_addr_t start, virt_addr_t end,
			  bool all_walks)
{
	start &= ~(virt_addr_t)(PAGE_SIZE - 1);
	if (!all_cpus) {
		drop_one(mine(), asid, start, end, all_walks);
		return;
	}
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (cpumask_test(cpumask_read(&cpu_online_mask), c))
			drop_one(&shadows[c], asid, start, end, all_walks);
}

void tlb_shadow_note_table_freed(phys_addr_t table)
{
	atomic_fetch_add(&tables_checked, 1);
	for (unsigned c = 0; c < CPU_MAX; c++) {
		struct shadow *s = &shadows[c];
		struct walk held = {0};
		irqflags_t f = spin_lock_irqsave(&s->lock);
		for (unsigned i = 0; i < WALKS; i++) {
			const struct walk *w = &s->walks[i];
			/*
			 * Usable only while its tag is loaded, or by a walk still
			 * finishing after the unload (a switch-in catches up first).
			 */
			if (w->table == table && ((s->loaded && w->asid == s->asid) ||
						  (s->walks_finishing && w->asid == s->fin_asid)))
				held = *w;
		}
		spin_unlock_irqrestore(&s->lock, f);
		if (held.table)
			record_violation(&(struct tlb_shadow_violation){
			    .kind = TLB_SHADOW_FREED_TABLE,
			    .cpu = c,
			    .asid = held.asid,
			    .level = held.level,
			    .table = table,
			    .va = held.first,
			});
	}
}

bool tlb_shadow_lookup(virt_addr_t va, struct tlb_shadow_hit *out, uint64_t *words, unsigned n)
{
	struct shadow *s = mine();
	va &= ~(virt_addr_t)(PAGE_SIZE - 1);
	irqflags_t f = spin_lock_irqsave(&s->lock);
	bool hit = false;
	if (s->loaded) {
		const struct leaf *l = &s->leaves[leaf_index(va, s->asid)];
		if (l->va == (va | 1) && l->asid == s->asid) {
			*out = (struct tlb_shadow_hit){l->frame, l->writable, l->asid};
			/*
			 * Read under the lock, as hardware reads before its TLBI
			 * completes: the invalidation that drops this entry, and so
			 * the free after it, waits for the read.
			 */
			const volatile uint64_t *p = kva(l->frame);
			for (unsigned i = 0; i < n; i++)
				words[i] = p[i];
			hit = true;
		}
	}
	spin_unlock_irqrestore(&s->lock, f);
	if (hit)
		atomic_fetch_add(&hits, 1);
	return hit;
}

static void note_walk(struct shadow *s, phys_addr_t root, unsigned asid, virt_addr_t va,
		      unsigned level, phys_addr_t table)
{
	virt_addr_t first = va & ~(table_span(level) - 1);
	struct walk *free_slot = NULL;
	for (unsigned i = 0; i < WALKS; i++) {
		struct walk *w = &s->walks[i];
		if (w->table == table && w->asid == asid && w->first == first)
			return;
		if (!w->table && !free_slot)
			free_slot = w;
	}
	if (!free_slot)
		free_slot = &s->walks[s->next_walk++ % WALKS];
	*free_slot = (struct walk){first, asid, level, table, root};
}

bool tlb_shadow_fill(virt_addr_t va)
{
	struct shadow *s = mine();
	va &= ~(virt_addr_t)(PAGE_SIZE - 1);
	irqflags_t f = spin_lock_irqsave(&s->lock);
	bool filled = false;
	if (!s->loaded && !s->walks_finishing)
		goto out;
	/* Unloaded: as the walk still finishing would, through the old root under its tag. */
	phys_addr_t root = s->loaded ? s->root : s->fin_root;
	unsigned asid = s->loaded ? s->asid : s->fin_asid;
	/*
	 * A hardware walk, read the way the walker reads: no lock, each entry
	 * once. Under a broken protocol a table may already be free; its
	 * contents are then whatever the frame holds, so only addresses of
	 * the allocator's frames are followed (never a hole kva() would fault on).
	 */
	phys_addr_t table = root;
	for (unsigned level = PT_LEVELS - 1;; level--) {
		const volatile pte_t *t = kva(table);
		pte_t pte = t[(va >> pt_level_shift(level)) % PT_ENTRIES];
		enum pte_kind kind = arch_pte_kind(pte, level);
		if (kind == PTE_LEAF) {
			uint64_t offset = va & ((1ull << pt_level_shift(level)) - 1);
			phys_addr_t frame = arch_pte_address(pte, level) + offset;
			if (!ram_frame(frame))
				break; /* not an allocator's frame: garbage read from a freed table
					*/
			struct leaf *l = &s->leaves[leaf_index(va, asid)];
			*l = (struct leaf){va | 1, root, frame, asid,
					   (arch_pte_attrs(pte, level) & PT_WRITE) != 0};
			filled = true;
			break;
		}
		if (kind != PTE_TABLE || level == 0)
			break;
		table = arch_pte_address(pte, level);
		if (!ram_frame(table))
			break;
		note_walk(s, root, asid, va, level - 1, table);
	}
out:
	spin_unlock_irqrestore(&s->lock, f);
	if (filled)
		atomic_fetch_add(&fills, 1);
	return filled;
}

bool tlb_shadow_violated(struct tlb_shadow_violation *out)
{
	if (!atomic_load_acquire(&violated))
		return false;
	irqflags_t f = spin_lock_irqsave(&violation_lock);
	*out = first_violation;
	spin_unlock_irqrestore(&violation_lock, f);
	return true;
}

void tlb_shadow_counts(struct tlb_shadow_counts *out)
{
	*out = (struct tlb_shadow_counts){atomic_load_relaxed(&fills), atomic_load_relaxed(&hits),
					  atomic_load_relaxed(&drops),
					  atomic_load_relaxed(&tables_checked)};
}
