// SPDX-License-Identifier: BSD-2-Clause
/*
 * ASID allocation by generation (see asid.h for the model).
 *
 * Id 0 is never handed out: it tags "no address space" (a CPU that has
 * none loaded). `active[cpu]` is the full asid (generation | id) each CPU
 * switched to last, or 0: then it has not switched since the last rollover
 * and `reserved[cpu]` holds what it runs. A rollover moves every CPU's
 * active value into `reserved`, so the mms still running keep their ids in
 * the new generation instead of having them reused.
 *
 * Fast path (Linux arm64's check_and_switch_context): a switch to an mm
 * whose asid is of the current generation takes no lock. The CPU swaps its
 * own active[] entry from the nonzero value it holds to the mm's asid with
 * one compare-and-exchange. A rollover (under the lock) exchanges every
 * active[] entry with 0 before it reads them as reservations. Both are
 * read-modify-writes of the same word, so one comes first: either the
 * CPU's exchange, and the rollover then reserves the mm's id; or the
 * rollover's, and the CPU finds 0, fails, and takes the lock, where it
 * sees the new generation and does its rollover flush. So a nonzero
 * active[] entry is always of the current generation, and only the slow
 * path allocates, rolls over or flushes. A switch to a current id, the
 * common case, never waits for another CPU: the lock is taken only for an
 * mm whose id is of an older generation (or none), and by a CPU's first
 * switch after a rollover.
 *
 * Invariant: a CPU runs with its active[] value or, when that is 0, with
 * its reserved[] value (or nothing), and it equals the asid of the mm it
 * runs (in full, generation included). When an mm moves to a new
 * generation by keeping a reserved id, every reserved[] entry holding its
 * old value is moved with it (Linux's check_update_reserved_asid). A CPU
 * that has not switched since an earlier rollover would otherwise still
 * hold the old value: at the next rollover its reservation would no longer
 * match the mm, the mm would get a different id, and flushes for the mm
 * would target that id while the CPU still runs it with the old one,
 * keeping stale entries (asid suite: idle_cpu_keeps_the_id_its_mm_has).
 *
 * Pinned ids (asid_pin, for an IOMMU that tags the mm's translations with
 * the same id; asid_reserve, an id no mm has): one slot each, keyed by the
 * hardware id, naming the mm that owns it or none. A rollover takes them
 * into the new generation's map before anything is allocated, so no other
 * mm gets one, and new_asid gives a pinned mm its own id back in the new
 * generation (asid suite: pinned_id_survives_rollover). At most
 * ASID_MAX_PINNED are pinned, so a rollover still frees ids.
 *
 * Why unpinning takes the id, not the mm: an SVA unbind may race the last
 * mm_destroy (notifier.h allows it). The unbind stops the device and
 * unlinks its subscription, so the teardown no longer releases it; the
 * teardown then frees the mm while the unbind still waits to run its
 * release, which drops the pin. Every pin change and asid_release run
 * under asid_lock, so one of two things happens. The unpin comes first:
 * the mm still exists (asid_release has not run, and mm_destroy frees
 * the mm only after it), the slot empties, and the id stays the mm's
 * until asid_release frees it as usual. Or asid_release comes first: it
 * cuts the slot's link to the mm (owner = NULL: orphaned) and leaves the
 * id taken; the later unpin finds the slot by id, touches no mm, and as
 * the last pin gives the id back to the map. Either way the id is never
 * free while a pin holds it (the device may still tag with it until its
 * release invalidated), and nothing touches a freed mm (asid suite:
 * pins_without_an_mm_keep_their_ids; smmu suite: unbind_races_teardown).
 */
#include "kernel/mm/asid.h"
#include "kernel/printk.h"
#include "kernel/arch.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/pt_arch.h"
#include "kernel/mm/tlb.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "lib/string.h"

#define ASID_MAP_BITS 65536

struct asid_stats asid_stats;
static spinlock_t asid_lock = SPINLOCK_INIT;
/* Multiple of 1 << bits; 0 until first use. Written under the lock, read by the fast path. */
static uint64_t generation;
static uint64_t map[ASID_MAP_BITS / 64];
/* active[]: the CPU's own compare-and-exchange, or under the lock; reserved[]: under the lock. */
static uint64_t active[CPU_MAX], reserved[CPU_MAX];
static cpumask_t flush_due; /* CPUs that flush their whole TLB at their next switch (rollover) */
static uint64_t fast_switches[CPU_MAX]; /* each CPU counts its own */
static unsigned next_id = 1;
static unsigned limit_override;
/* mm->asid after asid_release: asid_pin refuses it (a dead mm gets no fresh id). */
#define ASID_RELEASED UINT64_MAX

/* One pinned hardware id (free while pins == 0); under the lock. */
struct pin_slot {
	unsigned id;
	unsigned pins;
	struct mm *owner; /* NULL: reserved without an mm, or orphaned by asid_release */
};
static struct pin_slot pin_slots[ASID_MAX_PINNED];

static struct pin_slot *slot_of_mm(const struct mm *mm)
{
	for (unsigned i = 0; i < ASID_MAX_PINNED; i++)
		if (pin_slots[i].pins && pin_slots[i].owner == mm)
			return &pin_slots[i];
	return NULL;
}

static struct pin_slot *slot_of_id(unsigned id)
{
	for (unsigned i = 0; i < ASID_MAX_PINNED; i++)
		if (pin_slots[i].pins && pin_slots[i].id == id)
			return &pin_slots[i];
	return NULL;
}

static struct pin_slot *free_slot(void)
{
	for (unsigned i = 0; i < ASID_MAX_PINNED; i++)
		if (!pin_slots[i].pins)
			return &pin_slots[i];
	return NULL;
}

static unsigned id_bits(void)
{
	return arch_tlb_caps()->asid_bits;
}

static unsigned id_count(void)
{
	unsigned n = 1u << id_bits();
	if (limit_override && limit_override < n)
		n = limit_override;
	return n;
}

static uint64_t id_mask(void)
{
	return (1ull << id_bits()) - 1;
}

unsigned asid_hw(const struct mm *mm)
{
	return id_bits() ? (unsigned)(mm->asid & id_mask()) : 0;
}

void asid_test_limit(unsigned n)
{
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	limit_override = n;
	spin_unlock_irqrestore(&asid_lock, f);
}

static bool id_used(unsigned id)
{
	return map[id / 64] >> (id % 64) & 1;
}

static void id_take(unsigned id)
{
	map[id / 64] |= 1ull << (id % 64);
}

static void id_give_back(unsigned id)
{
	map[id / 64] &= ~(1ull << (id % 64));
}

/* The ids run out: new generation, keep what CPUs run with, flush everyone later. */
static void rollover(void)
{
	atomic_store_relaxed(&generation, generation + (1ull << id_bits()));
	memset(map, 0, sizeof(map));
	for (unsigned c = 0; c < CPU_MAX; c++) {
		/* After this a fast-path exchange on `c` fails: it must see the new generation. */
		uint64_t runs = atomic_exchange(&active[c], 0);
		if (!runs)
			runs = reserved[c]; /* no switch since the last rollover */
		/* Broken on purpose: the ids CPUs run with go back into the pool. */
		reserved[c] = tlb_broken_is(TLB_BREAK_ASID_FORGET_RESERVED) ? 0 : runs;
		if (reserved[c] & id_mask())
			id_take((unsigned)(reserved[c] & id_mask()));
	}
	/* Broken on purpose: pinned ids go back into the pool too. */
	if (!tlb_broken_is(TLB_BREAK_ASID_PIN_IGNORED))
		for (unsigned i = 0; i < ASID_MAX_PINNED; i++)
			if (pin_slots[i].pins)
				id_take(pin_slots[i].id);
	flush_due = cpumask_read(&cpu_online_mask);
	next_id = 1;
	asid_stats.rollovers++;
}

/*
 * Moves every CPU's reservation of `old` to `new` (same hardware id, new
 * generation). active[] never holds an old generation (see above).
 */
static void carry_reserved(uint64_t old, uint64_t new)
{
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (reserved[c] == old)
			reserved[c] = new;
}

static uint64_t alloc_id(void);

static uint64_t new_asid(struct mm *mm)
{
	/* Still running somewhere from before the rollover: keep the id. */
	for (unsigned c = 0; c < CPU_MAX; c++) {
		if (mm->asid && reserved[c] == mm->asid) {
			uint64_t kept = generation | (mm->asid & id_mask());
			if (!tlb_broken_is(TLB_BREAK_ASID_NO_CARRY))
				carry_reserved(mm->asid, kept);
			return kept;
		}
	}
	/* Pinned: the device still tags with this id, and the rollover kept it for the mm. */
	if (slot_of_mm(mm) && !tlb_broken_is(TLB_BREAK_ASID_PIN_IGNORED))
		return generation | (mm->asid & id_mask());
	return alloc_id();
}

/* A free id of the current generation (rolling over when there is none). */
static uint64_t alloc_id(void)
{
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < id_count() - 1; i++) {
			unsigned id = 1 + (next_id - 1 + i) % (id_count() - 1);
			if (!id_used(id)) {
				id_take(id);
				next_id = id + 1;
				asid_stats.allocated++;
				return generation | id;
			}
		}
		rollover();
	}
	/*
	 * Two rollovers freed nothing: every id is reserved by a CPU running
	 * it (only a test limit below the number of busy CPUs + 2 gets here).
	 * Id 0 would be shared and never flushed by id: refuse.
	 */
	panic("new_asid: no free id after two rollovers (%u ids, every one reserved)", id_count() - 1);
}

static void generation_init(void)
{
	if (generation == 0)
		atomic_store_relaxed(&generation, 1ull << id_bits());
}

/* Gives `mm` an id of the current generation (under the lock). */
static void make_current(struct mm *mm)
{
	generation_init();
	if ((mm->asid & ~id_mask()) != generation)
		atomic_store_relaxed(&mm->asid, new_asid(mm));
}

unsigned asid_for_switch(struct mm *mm)
{
	if (!id_bits())
		return 0;
	unsigned me = arch_cpu_id();
	uint64_t asid = atomic_load_relaxed(&mm->asid);
	uint64_t was = atomic_load_relaxed(&active[me]);
	if (was && (asid & ~id_mask()) == atomic_load_relaxed(&generation) &&
	    atomic_cmpxchg(&active[me], &was, asid)) {
		atomic_store_relaxed(&fast_switches[me], fast_switches[me] + 1);
		return (unsigned)(asid & id_mask());
	}
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	if (mm->asid == ASID_RELEASED)
		panic("asid_for_switch: the mm was destroyed (a fresh id would never go back)");
	make_current(mm);
	bool flush = cpumask_test(flush_due, me);
	if (flush) {
		cpumask_clear(&flush_due, me);
		asid_stats.rollover_flushes++;
	}
	atomic_store_relaxed(&active[me], mm->asid);
	spin_unlock_irqrestore(&asid_lock, f);
	if (flush)
		arch_tlb_flush_local_full();
	return (unsigned)(mm->asid & id_mask());
}

unsigned asid_active_hw(unsigned cpu)
{
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	uint64_t runs = atomic_load_relaxed(&active[cpu]);
	unsigned id = (unsigned)((runs ? runs : reserved[cpu]) & id_mask());
	spin_unlock_irqrestore(&asid_lock, f);
	return id;
}

uint64_t asid_fast_switches(unsigned cpu)
{
	return atomic_load_relaxed(&fast_switches[cpu]);
}

unsigned asid_pin(struct mm *mm)
{
	if (!id_bits())
		return 0;
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	struct pin_slot *slot = slot_of_mm(mm);
	if (!slot && mm->asid != ASID_RELEASED && (slot = free_slot())) {
		make_current(mm);
		*slot = (struct pin_slot){.id = (unsigned)(mm->asid & id_mask()), .owner = mm};
	}
	unsigned id = 0;
	if (slot) {
		slot->pins++;
		id = slot->id;
	}
	spin_unlock_irqrestore(&asid_lock, f);
	return id;
}

unsigned asid_reserve(void)
{
	if (!id_bits())
		return 0;
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	struct pin_slot *slot = free_slot();
	unsigned id = 0;
	if (slot) {
		generation_init();
		id = (unsigned)(alloc_id() & id_mask());
		*slot = (struct pin_slot){.id = id, .pins = 1, .owner = NULL};
	}
	spin_unlock_irqrestore(&asid_lock, f);
	return id;
}

void asid_unpin_id(unsigned id)
{
	if (!id_bits())
		return;
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	struct pin_slot *slot = slot_of_id(id);
	if (!slot)
		panic("asid_unpin_id: id %u is not pinned", id);
	/* No mm has it (reserved, or its mm is gone): rollovers kept it taken until now. */
	if (--slot->pins == 0 && !slot->owner)
		id_give_back(id);
	spin_unlock_irqrestore(&asid_lock, f);
}

unsigned asid_pins_held(void)
{
	unsigned n = 0;
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	for (unsigned i = 0; i < ASID_MAX_PINNED; i++)
		n += pin_slots[i].pins != 0;
	spin_unlock_irqrestore(&asid_lock, f);
	return n;
}

void asid_release(struct mm *mm)
{
	if (!id_bits())
		return;
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	unsigned id = (unsigned)(mm->asid & id_mask());
	struct pin_slot *slot = slot_of_mm(mm);
	/* Still pinned (an unbind racing this teardown): orphaned, the id stays taken. */
	if (slot) {
		slot->owner = NULL;
		asid_stats.orphaned++;
	}
	/* Broken on purpose: a pinned id goes back into the pool with its mm. */
	bool keep = slot && !tlb_broken_is(TLB_BREAK_ASID_ORPHAN_FREED);
	if (!keep && (mm->asid & ~id_mask()) == generation && id)
		id_give_back(id);
	/*
	 * An mm that never had an id runs nowhere and reserves nothing; its 0
	 * would match the active[] of every CPU that has not switched since a
	 * rollover, whose reservation is what it runs (broken on purpose: the
	 * kernel before tools/model/asid.pml showed it, docs/reliability.md).
	 */
	if (mm->asid || tlb_broken_is(TLB_BREAK_ASID_RELEASE_UNUSED)) {
		for (unsigned c = 0; c < CPU_MAX; c++) {
			/* mm_destroy unloaded it everywhere: that CPU's next switch locks. */
			uint64_t was = mm->asid;
			/* A CPU whose active id goes runs nothing: nor does its reservation. */
			if (atomic_cmpxchg(&active[c], &was, 0) || reserved[c] == mm->asid)
				reserved[c] = 0;
		}
	}
	atomic_store_relaxed(&mm->asid, ASID_RELEASED);
	spin_unlock_irqrestore(&asid_lock, f);
}

void asid_unload_here(const struct mm *mm)
{
	if (!id_bits())
		return;
	unsigned me = arch_cpu_id();
	irqflags_t f = spin_lock_irqsave(&asid_lock);
	uint64_t was = atomic_load_relaxed(&mm->asid);
	if (was && was != ASID_RELEASED) {
		/* As in asid_release, for this CPU only: it runs nothing now. */
		if (atomic_cmpxchg(&active[me], &was, 0) || reserved[me] == mm->asid)
			reserved[me] = 0;
	}
	spin_unlock_irqrestore(&asid_lock, f);
}
