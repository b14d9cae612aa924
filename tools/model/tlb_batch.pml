/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The reclaim-style TLB batch (kernel/mm/tlb_batch.c, docs/tlb.md
 * "Batching across address spaces"), with -DBATCH: gatherer BATCHER's CPU
 * runs tlb_batch_unmap_page on one page of the mm, whose gather is handed
 * off to the batch (tlb_gather_hand_off) instead of finished, and later
 * tlb_batch_flush: the round, the completion, then the frees
 * (tlb_gather_release_held). The other gatherers and the user CPU run as
 * without the batch, so every later change to the mm, switch, lazy spell
 * and walk can fall between the hand-off and the round.
 *
 * Invariants, checked by the assertions of tlb_engine.pml and
 * tlb_user.pml: the batch frees its frame and table only once no CPU can
 * use a translation to them (after the round), and until then another
 * gather over the batched page does not return while a CPU may still use
 * it (the page is retired only at that gather's return, or at the batch's
 * round: the reclaim's caller relies on it from there).
 *
 * One entry of one mm: a second page or a second mm in the same batch adds
 * nothing to the two properties. The round carries each entry to its own
 * targets exactly as one request (tlb_flush_here per entry), an entry's
 * frees wait for the one round whatever the other entries, and the open
 * count is per mm: a second mm's entry neither opens nor closes anything
 * on this one. What two entries of one mm would add (a CPU two
 * generations behind catches up through the ring) the gatherers already
 * exercise.
 *
 * Also left out: the transport is IPIs only (round_by_ipis; a broadcast's
 * issue-then-sync is not modelled, as for any request here); the round
 * starts on the CPU that unmapped (the reclaim thread does not migrate in
 * between); the secondary TLBs (notifier) are not modelled. The batch's
 * ownership of the page's VMA (batch_lock_mm) is not modelled either:
 * another gather over the page may walk while the batch unmaps it, which
 * the kernel keeps out; that only adds interleavings, so the verified
 * variants still hold.
 *
 * tlb.break=batch_closes_at_hand_off is rejected in tlb=mmgen, where only
 * the open count makes the later change flush (nested_blind). In tlb=gen
 * the model verifies with it, as docs/tlb.md says the kernel's cases pass:
 * the later change takes on the batch's pending flush through the leaf
 * table's generation, or the root's when the batch unhooked the leaf
 * (with -DNO_ROOT_ADOPT as well it is rejected there too).
 */

#ifndef BATCHER
#define BATCHER 0 /* takes gatherer 0's place (its CPU, request slot and pending bit); CPU 0 caches the mm */
#endif

/*
 * tlb_gather_hand_off: gathered_request without the completed skip
 * (may_skip false): the request reuses the gather's deferral or bumps a
 * fresh generation, so it is published here, before the round reads its
 * targets. The frame and an unhooked table stay queued (qframes, qtables:
 * now the entry's). The gather stays counted open (gathers_active, and
 * tables_unflushed for an unhooked table) until the release; one step, as
 * settle's decision is (a flusher that reads the counters in between only
 * sees the gather open, as it is).
 */
inline hand_off()
{
	d_step {
		nested_blind(nested);
		dfr = !IS_MMGEN && gdefer != 0 && !gundef && !gfreed && !nested;
		rq_range[q] = grange; rq_freed[q] = gfreed; rq_full[q] = nested;
		if
		:: dfr -> rq_gen[q] = gdefer
		:: else -> bump(grange, gfreed, newgen); rq_gen[q] = newgen; newgen = 0
		fi;
#ifdef BREAK_BATCH_CLOSES_AT_HAND_OFF
		/* tlb.break=batch_closes_at_hand_off: no longer counted open */
		if
		:: gfreed -> tables_unflushed--
		:: else
		fi;
		gathers_active--;
#endif
		/* The gather object is done with: the entry holds the request (dead from here). */
		grange = 0; gneed = 0; gundef = 0; gfreed = 0; gdefer = 0; dfr = 0; nested = 0
	}
}

/*
 * tlb_gather_release_held: free what the entry holds, then close the
 * gather on the mm (unless the breaking switch closed it at the hand-off).
 * The reclaim's caller relies on the page being gone from here: retired.
 */
inline release_held()
{
	free_body();
#ifndef BREAK_BATCH_CLOSES_AT_HAND_OFF
	if
	:: rq_freed[q] -> tables_unflushed--
	:: else
	fi;
	gathers_active--;
#endif
	retired = retired | (rng & ~pte);
	rq_gen[q] = 0; rq_range[q] = 0; rq_full[q] = 0; rq_freed[q] = 0; /* dead */
	rng = 0; ftab = 0
}

/*
 * tlb_batch_flush with round_by_ipis: after the fence, read the entry's
 * targets (tlb_request_targets, the choice settle makes), cross-call their
 * union with this CPU (batch_handler: tlb_flush_here for the entry), wait
 * answering requests, then tlb_request_completed with the request's own
 * generation (not by coverage: the batch's call carries none), and
 * release. Noticing the last answer, completing and releasing are one
 * step, as in settle: nothing reads the frames in between, and a gather
 * that ran between would only have seen `completed` lower, or the gather
 * open. tlb.skip_flush skips the round, as the kernel's batch does.
 */
inline batch_flush()
{
#ifdef BREAK_BATCH_FREE_EARLY
	/* tlb.break=batch_free_early: the frees first, the window held open */
	d_step { free_body() };
#endif
#ifdef BREAK_SKIP_FLUSH
	d_step { release_held() }
#else
	d_step {
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
		:: q < CACHING -> flush_here_body(q, q) /* batch_handler runs here too */
		:: else
		fi
	};
	do
	:: atomic {
		((pending[0] | pending[1] | pending[NCPU - 1]) & BIT(q)) == 0 ->
		if
		:: deferred > completed && completed < rq_gen[q] -> completed = rq_gen[q]
		:: else
		fi;
		release_held()
	   };
	   break
	:: pending[q] -> serve(q)
	od
#endif
}

/*
 * The batch's CPU: tlb_batch_unmap_page on one page (a hand-off takes only
 * a one-page unmap's gather), then, after anything at all (its CPU answers
 * requests meanwhile), tlb_batch_flush. Whether the page was alone in its
 * leaf table (the walk unhooks the emptied table) is chosen, as for a
 * gatherer.
 */
proctype batcher(byte q)
{
	byte rng, t, c, chg, newgen, grange, gdefer, qframes, qtables;
	bool ftab, gneed, gundef, gfreed, nested, dfr, go, rs;
	ENGINE_LOCALS;

	if
	:: rng = BIT(0); ftab = 0
	:: rng = BIT(0); ftab = 1
	:: rng = BIT(1); ftab = 0
	:: rng = BIT(1); ftab = 1
	fi;

	/* unmap_into: tlb_gather_begin, pt_unmap_gather under the lock (the gatherer's walk, one page) */
	atomic { !ptlock -> ptlock = 1; gathers_active++ };
	if
	:: rng == BIT(0) -> walk_leaf(0)
	:: else -> walk_leaf(1)
	fi;
	/* The root, as in gatherer(): defer its children's changes, or adopt a pending root. */
	d_step {
		if
		:: chg != 0 -> defer_body(NPAGE, chg)
		:: else ->
			if
			:: ROOT_ADOPT && !IS_MMGEN && NESTED_ADOPT && root_gen > completed && ADOPT_SKIP(root_gen) ->
				grange = grange | rng; gneed = 1; gundef = 1;
				defer_body(NPAGE, rng)
			:: else
			fi
		fi;
		chg = 0;
		ptlock = 0
	};
	if
	:: gneed ->
		hand_off();
		/* tlb_batch_unmap_page returned; the batch is flushed later (tlb_batch_flush) */
		do
		:: pending[q] -> serve(q)
		:: break
		od;
		batch_flush()
	:: else ->
		/* nothing to flush: tlb_gather_hand_off returns false, the gather is finished */
		settle(1)
	fi;

	/* Running the mm after the pass returned. */
	do
	:: pending[q] -> serve(q)
	:: USE_CHECK(q)
	od
}
