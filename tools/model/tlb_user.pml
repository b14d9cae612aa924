/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The user CPU and its page walker. The CPU (kernel/mm/switch.c: mm_switch,
 * leave_lazy, switch_in_tagged) runs the mm, goes lazy and back, switches
 * to another mm and back, and answers flush requests whenever its
 * interrupts are on: between those steps, never inside a switch (mm_switch
 * runs with interrupts off). The walker is the MMU's: while the CPU
 * translates through the mm (root[c], lazy included: hardware walks
 * speculatively) it may at any moment cache a pointer to a leaf table from
 * the root, and a leaf entry through a cached pointer.
 *
 * Invariant checked: a CPU running the mm (loaded, not lazy) uses no cached
 * translation to a freed frame or a retired page, and the walker never
 * reads a leaf table after it was freed.
 */

/* mm_switch(mm) on a CPU that is lazy in it: catch up on what was skipped. */
inline leave_lazy(ll_c)
{
	lazy[ll_c] = 0;
#ifndef BREAK_LAZY_NO_CATCH_UP
	d_step {
		if
		:: cgen[ll_c] < gen -> catch_up(ll_c, cgen[ll_c], 0, 0, cgen[ll_c])
		:: else
		fi
	}
#endif
}

/* mm_switch(mm) from another mm: publish, fence, then the generation and the root. */
inline switch_in(si_c)
{
	d_step { cpus = cpus | BIT(si_c); loaded[si_c] = 1; lazy[si_c] = 0 };
	if
	:: !IS_TAGGED ->
		gtmp = gen; /* before loading the root: rule 3 */
		d_step { tlb[si_c] = 0; pwc[si_c] = 0; root[si_c] = 1 }; /* arch_mm_activate: CR3 load */
#ifdef BREAK_SWITCH_ORDER
		gtmp = gen; /* the old order: read after the load, the walker may have refilled */
#endif
		d_step { cgen[si_c] = gtmp; gtmp = 0 }
	:: else ->
		d_step { /* switch_in_tagged */
			gtmp = gen;
			if
			:: slot_ok ->
#ifdef BREAK_SWITCH_NO_CATCH_UP
				cgen[si_c] = gtmp /* its kept entries trusted as they are */
#else
				if
				:: slot_gen < gtmp -> catch_up(si_c, slot_gen, 0, 0, cgen[si_c])
				:: else -> cgen[si_c] = slot_gen
				fi
#endif
			:: else -> tlb[si_c] = 0; pwc[si_c] = 0; cgen[si_c] = gtmp /* no slot: flush the ASID */
			fi;
			gtmp = 0
		};
		root[si_c] = 1 /* arch_mm_activate: TTBR0 with the mm's ASID */
	fi
}

/* mm_switch(other): the other mm's side is not modelled, only what happens to ours. */
inline switch_away(sa_c)
{
	d_step { loaded[sa_c] = 0; lazy[sa_c] = 0 };
	if
	:: !IS_TAGGED ->
		d_step { tlb[sa_c] = 0; pwc[sa_c] = 0; root[sa_c] = 0; cgen[sa_c] = 0 }; /* the other root */
		cpus = cpus & ~BIT(sa_c) /* cpumask_clear_atomic(&old->cpus) after the load */
	:: else ->
		if
		:: slot_ok = 1
		:: slot_ok = 0 /* evicted later by other mms */
		fi;
		d_step { slot_gen = cgen[sa_c]; cgen[sa_c] = 0; root[sa_c] = 0 } /* entries stay, stay in cpus */
	fi
}

proctype user(byte c)
{
	byte gtmp;
	ENGINE_LOCALS;

	do
	:: pending[c] -> serve(c)
	:: loaded[c] && !lazy[c] -> USE_CHECK(c)
	:: loaded[c] && !lazy[c] -> lazy[c] = 1 /* mm_switch(NULL): a kernel thread borrows it */
	:: loaded[c] && lazy[c] -> leave_lazy(c)
	:: loaded[c] -> switch_away(c)
	:: !loaded[c] -> switch_in(c)
	od
}

/*
 * The page walker: a walk reads the root entry and, through it, the leaf,
 * caching both (one step: reading the two apart changes no outcome, since
 * the root entry is cleared only after the leaf). Through a cached pointer
 * to a table since unhooked it may still read that table: the hazard of
 * freeing a table while a CPU may walk it.
 */
#define WALK_TABLE(t) \
	:: d_step { root[c] && (tbl & BIT(t)) && !((tlb[c] & pwc[c]) & BIT(t)) -> \
		pwc[c] = pwc[c] | BIT(t); \
		if \
		:: pte & BIT(t) -> tlb[c] = tlb[c] | BIT(t) \
		:: else \
		fi } \
	:: atomic { root[c] && (pwc[c] & BIT(t)) && !(tbl & BIT(t)) -> \
		assert(!(tfreed & BIT(t))) }

proctype walker(byte c)
{
	do
	WALK_TABLE(0)
	WALK_TABLE(1)
	od
}
