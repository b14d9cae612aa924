/* SPDX-License-Identifier: BSD-2-Clause */

/*
 * A gatherer: one CPU running one unmap through an mmu_gather
 * (kernel/mm/gather.c, the walk of kernel/mm/pt_walk.c) and the shootdown it
 * sends (tlb_flush_mm_range in kernel/mm/tlb.c). The unmap's range, whether
 * it frees the leaf tables it empties, and whether it runs out of gather
 * room between the two tables (an early settle) are chosen
 * nondeterministically, so spin tries every combination against every
 * interleaving.
 *
 * Invariant kept by the real protocol, checked here: the gather frees a
 * frame or a table only once no CPU can use a translation to it, and when
 * it returns no CPU holds a translation of a page in its range.
 *
 * Steps: each statement below that touches shared state is one step, and
 * the gatherer's own bookkeeping is folded into them. Where the kernel
 * does several stores in a row that the model does in one step, the
 * comment says why nothing is lost: a reader in between would only flush
 * more or complete less. A gatherer's CPU has the mm loaded throughout and
 * is never lazy. CPUs below CACHING start with every page cached, answer
 * requests while they are not walking, and use their cache after their
 * gather returned; the others hold no translation of the mm (they are
 * left out of mm->cpus: a request to them would change nothing). No
 * gatherer CPU has a page walker (the user CPU's is the one that refills;
 * tlb_user.pml).
 */

/* Gens semantics (kernel/mm/pt_walk.c pt_walk_range, gather.c) and the mutants of adoption checked by run.sh. */
#ifdef NO_ADOPT_SKIP
#define ADOPT_SKIP(pg) 1
#elif defined(MUT_SKIP_ANY)
#define ADOPT_SKIP(pg) (gdefer == 0)
#else
#define ADOPT_SKIP(pg) ((pg) > gdefer)
#endif
#ifdef NO_ROOT_ADOPT
#define ROOT_ADOPT 0
#else
#define ROOT_ADOPT 1
#endif
#ifdef BREAK_NESTED_BLIND
#define NESTED_ADOPT 0
#else
#define NESTED_ADOPT 1
#endif
byte root_gen; /* struct page.pt_tlb_gen of the root */

/*
 * tlb_defer_table: publish the changes in table dt_tab (NPAGE: the root)
 * as a generation. In a d_step: the walk holds the page-table lock, so no
 * other walk sees it half done. A flusher takes no page-table lock and
 * could read `before` between the kernel's three publications (bump with
 * the ring entry, the table's generation, tlb_gen_deferred): `before` is
 * right whichever it sees (the ring entry comes with the bump), and a
 * lower tlb_gen_deferred only makes it complete less.
 */
inline defer_body(dt_tab, dt_r)
{
	if
	:: IS_MMGEN -> skip
	:: else ->
#ifdef BREAK_NO_DEFER_BUMP
		if
		:: gdefer != 0 -> newgen = gen /* the review's bug: reuse the generation */
		:: else -> bump(dt_r, 0, newgen)
		fi;
#else
		bump(dt_r, 0, newgen);
#endif
		if
		:: dt_tab < NPAGE && table_gen[dt_tab] < newgen -> table_gen[dt_tab] = newgen
		:: dt_tab == NPAGE && root_gen < newgen -> root_gen = newgen
		:: else
		fi;
		gdefer = newgen;
		gundef = 0;
#ifdef MODE_SWITCH
		printf("MODE: gatherer on CPU %d: changes in table %d (%d: the root) published as generation %d\n",
		       q, dt_tab, NPAGE, newgen);
#endif
		if
		:: deferred < newgen -> deferred = newgen
		:: else
		fi;
		newgen = 0
	fi
}

/* nested_blind (gather.c): another gather is open and we cannot tell what it left. */
inline nested_blind(nb_out)
{
#ifdef BREAK_NESTED_BLIND
	nb_out = 0
#else
	nb_out = gathers_active > 1 && (IS_MMGEN || tables_unflushed > gfreed)
#endif
}

/*
 * One leaf table of the walk (pt_walk.c: pt_walk_range, visit_change,
 * clear_leaves, the unhook of an emptied table): clear, then defer (rule 1:
 * the bump comes after the change), or adopt another gather's pending flush
 * (tlb_adopt_pending_table); then unhook the table if asked.
 */
inline walk_leaf(wl_t)
{
	if
	:: d_step {
		(tbl & BIT(wl_t)) && (pte & BIT(wl_t)) ->
		pte = pte & ~BIT(wl_t);
		grange = grange | BIT(wl_t); gneed = 1; gundef = 1;
		qframes = qframes | BIT(wl_t);
#ifdef DEFER_EVERY_LEVEL
		chg = chg | BIT(wl_t)
#else
		skip
#endif
	   };
		d_step { defer_body(wl_t, BIT(wl_t)) }
	:: d_step {
		(tbl & BIT(wl_t)) && !(pte & BIT(wl_t)) ->
#ifndef BREAK_NESTED_BLIND
		if
		:: !IS_MMGEN && table_gen[wl_t] > completed && ADOPT_SKIP(table_gen[wl_t]) ->
			grange = grange | BIT(wl_t); gneed = 1; gundef = 1; /* tlb_record_downgraded */
			defer_body(wl_t, BIT(wl_t))
		:: else
		fi
#else
		skip
#endif
	   }
	:: !(tbl & BIT(wl_t)) -> skip /* another gather unhooked it */
	fi;
	if
	:: ftab && (tbl & BIT(wl_t)) ->
		d_step {
			tbl = tbl & ~BIT(wl_t); /* the root entry cleared, then tlb_remove_table */
			table_gen[wl_t] = 0; /* dead: only a hooked table's generation is read */
			chg = chg | BIT(wl_t); /* record_change in the root: its own entry */
			qtables = qtables | BIT(wl_t);
			if
			:: !gfreed -> tables_unflushed++
			:: else
			fi;
			gfreed = 1; gneed = 1
		}
	:: else
	fi
}

inline free_body()
{
	freed = freed | qframes;
	tfreed = tfreed | qtables;
	qframes = 0;
	qtables = 0
}

/* settle's reset_range, and its tables_unflushed-- for the tables it held. */
inline reset_body()
{
	grange = 0;
	gneed = 0;
	gundef = 0;
	if
	:: gfreed -> tables_unflushed--; gfreed = 0
	:: else
	fi
}

/* The end of tlb_gather_finish: the caller may now rely on its range being gone. */
inline finish_body(fb_final)
{
	if
	:: fb_final ->
		gathers_active--;
		retired = retired | (rng & ~pte);
		rng = 0; ftab = 0; gdefer = 0; t = 0 /* dead from here on */
	:: else
	fi
}

/*
 * settle (gather.c) with flush_gathered and tlb_flush_mm_range (IPI
 * transport) inlined: decide, bump or reuse the deferral's generation,
 * choose the targets and post, run it here, wait (answering requests),
 * complete, then free. st_final: the finish, not an early settle.
 * `go`: a request is sent; `rs`: the gathered range is settled (reset).
 */
inline settle(st_final)
{
	d_step {
		if
		:: st_final && !gneed ->
			/* tlb_gather_finish: a blind nested gather flushes even with nothing cleared */
			nested_blind(nested);
			if
			:: nested -> grange = ALL; gneed = 1; gundef = 1
			:: else
			fi
		:: else
		fi;
		rs = gneed;
#ifdef BREAK_SETTLE_NO_FLUSH
		if
		:: !st_final && gneed -> free_body(); rs = 0 /* an early settle only makes room */
		:: else
		fi;
#endif
#ifdef BREAK_FREE_BEFORE_FLUSH
		if
		:: gneed -> free_body()
		:: else
		fi;
#endif
		/*
		 * flush_gathered: one step for its reads and the bump; a completed
		 * or a nested gather that moves in between only makes it flush more.
		 */
		if
		:: rs ->
			nested_blind(nested);
#ifdef MUT_REUSE_FREED
			dfr = !IS_MMGEN && gdefer != 0 && !gundef && !nested;
#else
			dfr = !IS_MMGEN && gdefer != 0 && !gundef && !gfreed && !nested;
#endif
			if
			:: dfr && completed >= gdefer -> skip /* completed_skips */
#ifdef MODE_SWITCH
				; printf("MODE: gatherer on CPU %d: defer_gen %d <= completed %d: flush skipped, frame mask %d freed\n",
				         q, gdefer, completed, qframes)
#endif
			:: else ->
				rq_range[q] = grange; rq_freed[q] = gfreed; rq_full[q] = nested;
				if
				:: dfr -> rq_gen[q] = gdefer
				:: else -> bump(grange, gfreed, newgen); rq_gen[q] = newgen; newgen = 0
				fi;
				go = !SKIP_FLUSH
			fi;
			dfr = 0; nested = 0
		:: else
		fi
	};
	if
	:: go ->
		/*
		 * After the bump (a separate step: rule 2), read cpus, loaded and
		 * lazy, and post; only the user CPU changes those, so reading
		 * them all in one step loses no outcome. `before` (cov) is read
		 * with them: the kernel reads it just before the CPU set, and a
		 * bump in between would only lower it.
		 */
		d_step {
			if
			:: !IS_MMGEN -> cov[q] = gen
			:: else
			fi;
			CANON_COV(q);
			c = 0;
			do
			:: c < NCPU ->
				if
				:: c == q || !(cpus & BIT(c)) -> skip
				:: c != q && (cpus & BIT(c)) && IS_TAGGED && !loaded[c] &&
				   !(FIX_SWITCHED_AWAY_FREED && rq_freed[q]) ->
					skip /* switched away: catches up at switch-in */
				:: c != q && (cpus & BIT(c)) &&
				   !(IS_TAGGED && !loaded[c] && !(FIX_SWITCHED_AWAY_FREED && rq_freed[q])) &&
				   lazy[c] &&
				   !(rq_freed[q] && !SKIP_LAZY_ALWAYS) ->
					skip /* lazy: catches up when it stops being lazy */
				:: else -> pending[c] = pending[c] | BIT(q)
				fi;
				c++
			:: else -> break
			od;
			c = 0;
			if
			:: q < CACHING -> flush_here_body(q, q) /* xcall runs it here too */
			:: else
			fi
		};
		/*
		 * Wait, answering requests. Once every target answered: complete
		 * up to what they reported (by coverage, in tlb=gen; tlb=mmgen and
		 * catch_up_skips_ring complete the request's own generation), then
		 * forget the request and the range, and free. One step with the
		 * last answer noticed: a gather between the two would only have
		 * seen completed lower, and flushed more. Nothing reads the frames
		 * in between; a nested gather that sees tables_unflushed drop here
		 * finds our flush already done.
		 */
		do
		:: atomic {
			((pending[0] | pending[1] | pending[NCPU - 1]) & BIT(q)) == 0 ->
			if
			:: IS_MMGEN || CATCH_UP_SKIPS_RING -> cov[q] = rq_gen[q]
			:: else
			fi;
			if
			:: deferred > completed && completed < cov[q] -> completed = cov[q]
			:: else
			fi;
			cov[q] = 0; rq_gen[q] = 0; rq_range[q] = 0; rq_full[q] = 0; rq_freed[q] = 0; /* dead */
			reset_body();
			free_body();
			go = 0; rs = 0;
			finish_body(st_final)
		   };
		   break
		:: pending[q] -> serve(q)
		od
	:: else ->
		d_step {
			if
			:: rs -> reset_body()
			:: else
			fi;
			free_body();
			rs = 0;
			finish_body(st_final)
		}
	fi
}

proctype gatherer(byte q)
{
	byte rng, t, c, chg, newgen, grange, gdefer, qframes, qtables, wr;
	bool ftab, early, gneed, gundef, gfreed, nested, dfr, go, rs;
	ENGINE_LOCALS;

	/* What this unmap does: range, free emptied tables, run out of room midway. */
	if
	:: rng = BIT(0); ftab = 0
	:: rng = BIT(0); ftab = 1
	:: rng = BIT(1); ftab = 0
	:: rng = BIT(1); ftab = 1
	:: rng = ALL; ftab = 0
	:: rng = ALL; ftab = 1
	:: rng = ALL; ftab = 0; early = 1
	:: rng = ALL; ftab = 1; early = 1
	fi;

	/*
	 * tlb_gather_begin, then pt_run: walk under the lock, settle outside
	 * it. The begin shares the lock's step: a gather seen open before it
	 * walks only makes another one flush more.
	 */
	atomic { !ptlock -> ptlock = 1; gathers_active++ };
walk:
	if
	:: t == 0 && (rng & BIT(0)) -> walk_leaf(0)
	:: else
	fi;
	if
	:: early && (rng & BIT(1)) -> /* no gather room: stopped before clearing; pt_walk_range() adopts */
		d_step {
			if
			:: !IS_MMGEN && NESTED_ADOPT && (tbl & BIT(1)) && table_gen[1] > completed && ADOPT_SKIP(table_gen[1]) ->
				grange = grange | BIT(1); gneed = 1; gundef = 1;
				defer_body(1, BIT(1))
			:: else
			fi
		}
	:: early && !(rng & BIT(1)) -> skip
	:: !early && (rng & BIT(1)) -> walk_leaf(1)
	:: else
	fi;
	/* The root defers its children's changes (pt_walk_range() one level up), then unlock. */
	d_step {
		if
		:: chg != 0 ->
			/*
			 * Exactness (pt_walk.c, issue 14): a table defers only for its own
			 * entries, the root for the tables this walk unhooked, never for a
			 * level it only passed through (tlb.break=defer_every_level: safe,
			 * it only flushes more, and rejected here only by this count).
			 */
			assert((chg & ~qtables) == 0);
			defer_body(NPAGE, chg)
		:: else ->
			/* pt_walk_range() at the root, unchanged: adopt a pending root (gens: every level) */
			if
			:: ROOT_ADOPT && !IS_MMGEN && NESTED_ADOPT && root_gen > completed && ADOPT_SKIP(root_gen) ->
				if
				:: t == 1 -> wr = rng & BIT(1)
				:: else -> wr = rng
				fi;
				grange = grange | wr; gneed = 1; gundef = 1;
				defer_body(NPAGE, wr);
				wr = 0
			:: else
			fi
		fi;
		chg = 0;
		ptlock = 0
	};
	if
	:: early ->
		/* tlb_flush_mmu, then resume the walk at table 1 */
		settle(0);
		atomic { !ptlock -> ptlock = 1; early = 0; t = 1 };
		goto walk
	:: else
	fi;

	/* tlb_gather_finish: settle(1) also makes the nested check and returns */
	settle(1);

	/* Running the mm after the unmap returned. */
	do
	:: pending[q] -> serve(q)
	:: USE_CHECK(q)
	od
}
