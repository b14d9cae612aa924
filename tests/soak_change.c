// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's changes (soak_test.c runs them): each cycle, a soak thread
 * changes one page it owns, or its span, and publishes the change under
 * the pages' sequence counts (odd while it runs, soak.h), so that an
 * access judges only what it saw in one settled state.
 *
 * A change maps and fills, unmaps, downgrades, gives the write back, or
 * reclaims: takes the page into the thread's TLB batch, then vm_unmaps it
 * with the batch still open (reclaim), or flushes the batch at once with
 * readers invited (reclaim_open). Only the owner changes a page, so the
 * state it settles is the truth the accesses are judged against; an
 * unmap or downgrade returns only after every CPU's entry is gone.
 */
#include "kernel/atomic.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/tlb_batch.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "tests/soak_run.h"

#define SOAK_INVITE_NS 200000 /* at most, an open reclaim waits for a reader */

phys_addr_t soak_frame_of(virt_addr_t va)
{
	struct pt_query_result q;
	return pt_query(&soak.mm->pt, va, &q) ? q.pa : 0;
}

/* Page i after `op` (err: its result): its state, and for a map its tag and frame. */
static void settle_slot(unsigned i, enum soak_op op, int err)
{
	struct soak_slot *s = &soak.slots[i];
	virt_addr_t va = soak_va(i);
	if (op == SOAK_OP_MAP) {
		phys_addr_t pa = err ? 0 : soak_frame_of(va);
		if (pa) {
			uint64_t *tag = kva(pa);
			tag[0] = va;
			tag[1] = s->gen + 1;
			s->gen++;
			s->frame = pa;
			s->state = SOAK_RW;
		}
	} else if (op == SOAK_OP_UNMAP || op == SOAK_OP_RECLAIM_OPEN ||
		   (op == SOAK_OP_RECLAIM && !err)) {
		/* A failed reclaim stops the run: the page must not look unmapped first. */
		s->prev_frame = s->frame;
		s->frame = 0;
		s->state = SOAK_UNMAPPED;
	} else if (op == SOAK_OP_PROTECT_RO || op == SOAK_OP_PROTECT_RW) {
		s->state = op == SOAK_OP_PROTECT_RO ? SOAK_RO : SOAK_RW;
	}
}

/* Opens a change of pages [first, first + n): their counts go odd. */
static void change_begin(unsigned first, unsigned n, enum soak_op op)
{
	for (unsigned k = 0; k < n; k++) {
		struct soak_slot *s = &soak.slots[first + k];
		atomic_store_release(&s->seq, s->seq + 1); /* odd: changing */
		if (op == SOAK_OP_MAP || op == SOAK_OP_PROTECT_RW)
			s->rw_gen++; /* before the page can be written: soak.h */
	}
	smp_mb();
}

/* Closes it: the pages' new state is published, their counts go even. */
static void change_end(unsigned first, unsigned n, enum soak_op op, int err)
{
	for (unsigned k = 0; k < n; k++)
		settle_slot(first + k, op, err);
	const struct soak_slot *s0 = &soak.slots[first];
	soak_log_change(first, op, s0->gen, s0->frame ? s0->frame : s0->prev_frame);
	smp_mb();
	for (unsigned k = 0; k < n; k++) {
		struct soak_slot *s = &soak.slots[first + k];
		atomic_store_release(&s->seq, s->seq + 1); /* even: settled */
	}
}

/*
 * A reclaim into `me`'s batch, then vm_unmap over it while the batch's
 * handed-off gather is still open, so vm_unmap is a nested gather: it must
 * flush what the batch left pending (tlb.break=nested_blind,
 * batch_closes_at_hand_off: it does not, and the settled "unmapped" page
 * stays reachable). The batch is flushed at the end of the cycle.
 */
static int reclaim(unsigned i, struct soak_cpu *me)
{
	virt_addr_t va = soak_va(i);
	(void)*(volatile uint64_t *)va; /* cached here too: this CPU's entry must go */
	/* Now and then with no other gather open, the others reading the page (soak_quiet.c). */
	soak_quiet_begin(me->index, i, &me->rng);
	int err = tlb_batch_unmap_page(&me->batch, soak.mm, va);
	if (err)
		return err;
	atomic_store_relaxed(&soak.slots[i].held, 1);
	me->held_slot = i;
	err = vm_unmap(soak.mm, va, PAGE_SIZE);
	/* The cycle's first access goes to it: settled unmapped, it must fault. */
	me->forced = true;
	me->forced_slot = i;
	return err;
}

/*
 * Invites the other threads to page i (soak_pick_slot), which is changing,
 * and waits, briefly, for one to begin reading it: a CPU then holds its
 * entry when the change clears it. The caller withdraws the invitation
 * (uninvite), which another change's may have replaced meanwhile.
 */
static void uninvite(unsigned i)
{
	unsigned mine = i;
	atomic_cmpxchg(&soak.invited, &mine, SOAK_NONE_HELD);
}

static void invite(unsigned i)
{
	struct soak_slot *s = &soak.slots[i];
	uint32_t visits = atomic_load_acquire(&s->visits);
	atomic_store_release(&soak.invited, i);
	uint64_t until = arch_time_ns() + SOAK_INVITE_NS;
	while (atomic_load_acquire(&s->visits) == visits && arch_time_ns() < until)
		arch_cpu_relax();
}

/*
 * An open reclaim: the page goes into `me`'s batch with no vm_unmap over
 * it, so only the batch's round invalidates it, and its frame may be freed
 * only after that round (tlb.break=batch_free_early frees it first). The
 * page stays changing (its count odd) throughout; other threads are
 * invited to it (soak_pick_slot) and the clear waits, briefly, for one to
 * begin reading it, so a CPU holds the entry when the batch is flushed,
 * right after the clear (later, unrelated flushes would have dropped it).
 * Meanwhile an access may read the old tag, fault, or read the zeroes of a
 * page the fault handler filled (the mapping stays), but never the poison.
 * Then vm_unmap settles it unmapped (and frees what a fault filled).
 */
static int reclaim_open(unsigned i, struct soak_cpu *me)
{
	struct soak_slot *s = &soak.slots[i];
	virt_addr_t va = soak_va(i);
	invite(i);
	int err = tlb_batch_unmap_page(&me->batch, soak.mm, va);
	if (!err) {
		atomic_fetch_add(&soak.open_reclaims, 1);
		atomic_store_relaxed(&s->held, 1);
		tlb_batch_flush(&me->batch);
		atomic_store_relaxed(&s->held, 0);
	}
	uninvite(i);
	return err ? err : vm_unmap(soak.mm, va, PAGE_SIZE);
}

int soak_change(unsigned first, unsigned n, struct soak_cpu *me)
{
	virt_addr_t va = soak_va(first);
	uint64_t size = (uint64_t)n * PAGE_SIZE;
	uint64_t dice = soak_rng_next(&me->rng);
	uint32_t from = soak.slots[first].state;
	/* A reclaim: half of the unmaps of a single page; a quarter of them open. */
	bool reclaims = (dice & 1) && (dice & 4) && n == 1;
	enum soak_op op = me->next_op		       ? me->next_op
			  : from == SOAK_UNMAPPED      ? SOAK_OP_MAP
			  : reclaims && !(dice & 0x18) ? SOAK_OP_RECLAIM_OPEN
			  : reclaims		       ? SOAK_OP_RECLAIM
			  : dice & 1		       ? SOAK_OP_UNMAP
			  : from == SOAK_RW	       ? SOAK_OP_PROTECT_RO
						       : SOAK_OP_PROTECT_RW;
	int err;
	bool forced = me->next_op != 0; /* the staged race's G: not staged itself */
	me->next_op = 0;
	change_begin(first, n, op);
	/* Only a change that takes something away defers a table and opens a window. */
	bool span = n > 1 && (op == SOAK_OP_UNMAP || op == SOAK_OP_PROTECT_RO);
	bool single = n == 1 && (op == SOAK_OP_UNMAP || op == SOAK_OP_PROTECT_RO);
	if (span)
		soak_span_change_begin(first);
	/* A staged unmap invites nobody: the others are to leave their cycles for the quiet. */
	bool staged = op == SOAK_OP_UNMAP && single && !forced && soak_stage_due(me);
	bool invited = single && soak_span_single_begin() && !staged;
	if (invited)
		invite(first);
	if (op == SOAK_OP_MAP) {
		err = vm_map_anon(soak.mm, va, size, PT_READ | PT_WRITE);
		if (!err)
			err = vm_populate(soak.mm, va, size);
	} else if (op == SOAK_OP_RECLAIM || op == SOAK_OP_RECLAIM_OPEN) {
		err = op == SOAK_OP_RECLAIM ? reclaim(first, me) : reclaim_open(first, me);
	} else if (staged) {
		err = soak_stage_unmap(me, first); /* the staged race, soak_stage.c */
	} else if (op == SOAK_OP_UNMAP) {
		err = vm_unmap(soak.mm, va, size);
	} else {
		err = vm_protect(soak.mm, va, size,
				 op == SOAK_OP_PROTECT_RO ? PT_READ : PT_READ | PT_WRITE);
	}
	if (span)
		soak_span_change_end();
	if (single)
		soak_span_single_end();
	if (invited)
		uninvite(first);
	change_end(first, n, op, err);
	me->changes++;
	return err;
}
