/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The halting cross-call wait (kernel/xcall.c: xcall_halt, xcall_wait_slot,
 * xcall_wake_waiter; docs/xcall.md "Halting waits") as a Promela model: one
 * waiter whose requests are posted on NT targets waits for each slot in
 * turn, spinning or halting; each target frees its slot and wakes the
 * waiter if it is halted waiting for that very slot. Stores go through a
 * store buffer per CPU (x86-64's TSO; arm64 orders less, and both rely on
 * the same two full fences), which drains at any moment or at a fence.
 *
 * Checked: no halt is lost. The waiter never stays halted with its slot
 * free and no wake coming: spin reports such a state as an invalid end
 * state (the waiter blocked, everyone else done). Ticks are left out on
 * purpose: they end every halt, and the point is that the wake does.
 * Variants (tools/model/run.sh): -DBREAK_NO_WAKE (xcall.break=no_wake),
 * -DMUT_NO_WAITER_FENCE and -DMUT_NO_TARGET_FENCE (either smp_mb()
 * dropped) must be rejected; -DMUT_ANY_HALT (a target wakes a waiter halted
 * for any slot, as before `halted` named the target) must still verify:
 * naming the target saves wakes, it is not what makes the wait correct.
 */
#define NT 2 /* the memory process below drains two targets' buffers */

byte busy[NT];     /* memory: slots[t][waiter].busy */
byte halted;       /* memory: queues[waiter].halted, t + 1 or 0 */
bool wake_pending; /* IPI_WAKE latched for the waiter */

/* The waiter's store buffer (it stores only `halted`), and each target's (only busy[t]). */
bool w_sb;
byte w_sb_val;
bool t_sb[NT];

/* A buffered store reaches memory: at any moment, or at a fence. */
inline drain_waiter()
{
	d_step { if :: w_sb -> halted = w_sb_val; w_sb = 0 :: else fi }
}

inline drain_target(dt)
{
	d_step { if :: t_sb[dt] -> busy[dt] = 0; t_sb[dt] = 0 :: else fi }
}

proctype waiter()
{
	byte t = 0;
	do
	:: t < NT ->
		do
		:: busy[t] == 0 -> break /* xcall_wait_slot: the slot is free */
		:: busy[t] != 0 -> skip  /* spin on */
		:: busy[t] != 0 ->       /* xcall_halt */
			d_step { w_sb = 1; w_sb_val = t + 1 };
#ifndef MUT_NO_WAITER_FENCE
			drain_waiter(); /* smp_mb() */
#endif
			if
			:: busy[t] != 0 ->
				/* arch_cpu_idle: ends on an interrupt, one already pending included */
				wake_pending;
				wake_pending = 0
			:: else
			fi;
			d_step { w_sb = 1; w_sb_val = 0 }
		od;
		t++
	:: else -> break
	od
}

proctype target(byte me)
{
	/* xcall_run_pending: fn(arg), then busy = 0 (release) */
	t_sb[me] = 1;
#ifndef MUT_NO_TARGET_FENCE
	drain_target(me); /* smp_mb() in xcall_wake_waiter */
#endif
	/* halted: the waiter's buffered store is not seen */
	if
#ifdef MUT_ANY_HALT
	:: halted != 0 ->
#else
	:: halted == me + 1 ->
#endif
#ifndef BREAK_NO_WAKE
		wake_pending = 1
#else
		skip
#endif
	:: else
	fi
}

/* The store buffers drain whenever they like; blocked when all are empty. */
active proctype memory()
{
end:
	do
	:: w_sb -> drain_waiter()
	:: t_sb[0] -> drain_target(0)
	:: t_sb[1] -> drain_target(1)
	od
}

init
{
	atomic {
		busy[0] = 1; /* the waiter's requests, posted */
		busy[1] = 1;
		run waiter();
		run target(0);
		run target(1)
	}
}
