/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The live mode switch (-DMODE_SWITCH): the console's `tlb mode <word>`,
 * kernel/mm/tlb_config.c tlb_mode_switch with check_unused and
 * forget_everywhere (docs/tlb.md, "Switching the mode live"). Once, at any
 * moment, the switcher tries to change the mode; one atomic step, as the
 * kernel's one hold of the live list, of the one mm of the model (one
 * try that goes through: a refused try changes nothing, so the switcher
 * simply waits for a moment where the check passes):
 *
 *  - check_unused: refused (the step cannot be taken: a refusal changes
 *    nothing) while the mm has a user, or an operation in flight
 *    (gathers_active). A user is the user CPU running the mm (loaded, not
 *    lazy; from the first store of its switch-in): a lazy CPU runs a kernel
 *    thread, and one switched away another mm's. The gatherers stand for
 *    kernel-context operations (the console's own unmap, reclaim): counted
 *    by gathers_active while open, no user. (The kernel counts a thread
 *    switched away or sleeping as a user too: the model lets the switch go
 *    ahead in more states than the kernel does, never fewer.)
 *  - forget_everywhere: mm_unload_everywhere, a cross-call to mm->cpus and
 *    the caller; every CPU runs mm_unload_here (kernel/mm/switch.c): its
 *    slot for the mm dropped, and if it has the mm loaded:
 *    arch_mm_deactivate (the kernel root: x86-64 drops every user entry),
 *    `loaded` and `lazy` cleared, on x86-64 its bit in mm->cpus cleared;
 *    on a tagged TLB the mm's ASID flushed (arch_tlb_flush_user_full),
 *    loaded or not. Every CPU of the model is a target (the kernel's
 *    mm->cpus holds every CPU that has the mm loaded; the model leaves the
 *    non-caching gatherer out of it only for requests). A cross-call is
 *    answered with interrupts on, never inside mm_switch: the unload waits
 *    while the user CPU is half switched away (`loaded` cleared, its root
 *    still in use). Then tlb_gen_complete(mm, tlb_gen).
 *  - set_mode: gen or mmgen, nondeterministically (the same mode
 *    included: the soak asks for the mode in force 15 times in 16, and the
 *    check is the same). Broadcast is not modelled (docs/reliability.md).
 *
 * No thread or operation starts while the switch runs (docs/tlb.md: a
 * thread is counted under the live list's lock the switch holds,
 * mm_add_user; an operation on an mm no thread uses is the caller's
 * promise), and that is what makes the one step faithful: with no user and
 * no gather, nothing moves on the mm between the kernel's check, its
 * cross-call and its read of tlb_gen but the walker, which the unload
 * stops.
 *
 * BREAK_MODE_SWITCH_IGNORES_USERS (tlb.break=mode_switch_ignores_users):
 * check_unused passes always; forget_everywhere unloads the mm only when
 * it has no user, and completes it anyway: a gather that has deferred (its
 * change published, bumped) but not yet decided its flush finds its
 * generation complete, skips the flush and frees the frame while the user
 * CPU still caches it.
 *
 * BREAK_REFUSED_SWITCH_FORGETS (tlb.break=refused_switch_forgets): the
 * mm, idle, is checked and forgotten at once, then the switch is refused
 * on a busy mm listed after it (not modelled): the same step as a switch
 * that goes through, the mode left as it is (an mm with a gather in flight
 * fails its own check, -EAGAIN, and stops the walk before it is forgotten).
 * It verifies: what it breaks is "a refusal changes nothing", which the mm
 * suite checks, not a translation.
 *
 * Two model-only mutants show what each half of the check buys (both
 * verify: either half alone keeps the property): MUT_IGNORE_GATHERS does
 * not refuse for a gather in flight (the mm, unused, is unloaded everywhere
 * in the same step as the completion, so nothing cached predates a
 * generation it completes); MUT_NO_UNLOAD marks the unused mm complete
 * without unloading it (with no gather open, every published generation's
 * request has run: `completed` only gates deferral reuse and adoption,
 * while lazy and switched-away CPUs catch up by their own generation).
 * The switch needs both broken, as tlb.break=mode_switch_ignores_users
 * does: a user that is not unloaded, and a gather that is open.
 */

#define MS_USERS (loaded[USER] && !lazy[USER]) /* mm->users != 0 */
#define MS_REACHABLE (!(root[USER] && !loaded[USER])) /* not inside switch_away */
#ifdef MUT_NO_UNLOAD
#define MS_UNLOAD 0
#else
#define MS_UNLOAD (!MS_USERS) /* forget_everywhere: `if (!mm->users) mm_unload_everywhere(mm)` */
#endif

/* mm_unload_here on CPU mu_c (in an atomic step). */
inline unload_here(mu_c)
{
	if
	:: loaded[mu_c] ->
		loaded[mu_c] = 0; lazy[mu_c] = 0; root[mu_c] = 0; cgen[mu_c] = 0; /* arch_mm_deactivate */
		if
		:: !IS_TAGGED -> tlb[mu_c] = 0; pwc[mu_c] = 0; cpus = cpus & ~BIT(mu_c) /* CR3: the kernel root */
		:: else
		fi
	:: else
	fi;
	if
	:: IS_TAGGED -> tlb[mu_c] = 0; pwc[mu_c] = 0 /* arch_tlb_flush_user_full(asid_hw(mm)) */
	:: else
	fi;
	if
	:: mu_c == USER -> slot_ok = 0; slot_gen = 0 /* its slot for the mm */
	:: else
	fi
}

proctype switcher()
{
	byte c;

	atomic {
#ifdef BREAK_MODE_SWITCH_IGNORES_USERS
		MS_USERS || MS_REACHABLE ->
		printf("MODE: switch, check_unused broken: users %d, gathers_active %d, tlb_gen %d, completed %d\n",
		       MS_USERS, gathers_active, gen, completed);
#elif defined(MUT_IGNORE_GATHERS)
		!MS_USERS && MS_REACHABLE -> /* mutant: an operation in flight does not refuse (-EAGAIN) */
		printf("MODE: switch, no user: gathers_active %d, tlb_gen %d, completed %d\n", gathers_active, gen, completed);
#else
		!MS_USERS && gathers_active == 0 && MS_REACHABLE -> /* check_unused passed */
		printf("MODE: switch, no user, no gather open: tlb_gen %d, completed %d\n", gen, completed);
#endif
		/* forget_everywhere */
		if
		:: MS_UNLOAD ->
			printf("MODE: mm_unload_everywhere: every CPU lets go of the mm\n");
			c = 0;
			do
			:: c < NCPU && (cpus & BIT(c)) -> unload_here(c); c++
			:: c < NCPU && !(cpus & BIT(c)) -> c++
			:: else -> break
			od;
			c = 0
		:: else ->
			printf("MODE: not unloaded (users %d), only marked complete\n", MS_USERS)
		fi;
		if
		:: completed < gen -> completed = gen /* tlb_gen_complete(mm, tlb_gen) */
		:: else
		fi;
		printf("MODE: tlb_gen_complete: completed = %d\n", completed);
#ifndef BREAK_REFUSED_SWITCH_FORGETS
		if /* set_mode */
		:: mode_mmgen = 0; printf("MODE: set_mode: gen\n")
		:: mode_mmgen = 1; printf("MODE: set_mode: mmgen\n")
		fi
#else
		printf("MODE: refused on a busy mm listed after this one: the mode stays\n")
#endif
	}
}
