/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The shared state of the TLB generation model and the flush engine of
 * kernel/mm/tlb.c: generation bumps and the ring, a CPU's local flush, the
 * catch-up, and a flush request's handler on one CPU (flush_here).
 * docs/reliability.md maps each piece to the kernel function it stands for.
 *
 * The world is one mm with NPAGE user pages; page p sits alone in leaf
 * table p and maps frame p (never remapped), so one bit per page serves as
 * the page, its leaf table and its frame in every mask below. The root
 * table is never freed. Promela is sequentially consistent: the model
 * assumes the full fences the ordering rules of docs/tlb.md name, and
 * splits into separate steps only what the kernel does in separate steps
 * between those fences.
 *
 * Invariants the model checks (as assertions, where a CPU touches memory):
 * a CPU running the mm never uses a cached translation to a freed frame or
 * to a page whose gather already returned (retired), and a page walker
 * never reads through a cached pointer to a freed table.
 */

#ifndef NGATHER
#define NGATHER 2 /* CPUs 0 .. NGATHER-1 each run one gather */
#endif
#define USER    NGATHER /* the CPU that runs user code: switches, goes lazy */
#define NCPU    (NGATHER + 1)
#define NPAGE   2
#define ALL     3 /* every page */
#define RING    4 /* TLB_RING_SIZE is 16; a small ring reaches the overrun path */
#define BIT(x)  (1 << (x))

#ifdef TAGGED
#define IS_TAGGED 1 /* arm64 with tlb=ipi: entries survive a switch away */
#else
#define IS_TAGGED 0 /* x86-64: a root load drops every user entry */
#endif
#ifdef MODE_SWITCH
#define IS_MMGEN mode_mmgen /* the live mode switch (tlb_mode.pml) may change it */
#elif defined(MMGEN)
#define IS_MMGEN 1 /* tlb=mmgen: per-mm generations only, no deferral, no ring */
#else
#define IS_MMGEN 0
#endif
#ifndef CACHING
#define CACHING 1 /* gatherer CPUs below this one hold translations of the mm */
#endif
#ifndef FIX_SWITCHED_AWAY_FREED
#define FIX_SWITCHED_AWAY_FREED 1 /* the kernel's rule since the model found the gap; 0: tlb.break=spare_switched_away */
#endif
#ifdef BREAK_SKIP_FLUSH
#define SKIP_FLUSH 1 /* tlb.skip_flush */
#else
#define SKIP_FLUSH 0
#endif
#ifdef BREAK_SKIP_LAZY_ALWAYS
#define SKIP_LAZY_ALWAYS 1
#else
#define SKIP_LAZY_ALWAYS 0
#endif
#ifdef BREAK_CATCH_UP_SKIPS_RING
#define CATCH_UP_SKIPS_RING 1 /* also completes only the request's own generation, as the kernel does */
#else
#define CATCH_UP_SKIPS_RING 0
#endif

#ifdef MODE_SWITCH
#ifdef MMGEN
bool mode_mmgen = 1; /* tlb_mode: TLB_MODE_MMGEN (kernel/mm/tlb_config.c) */
#else
bool mode_mmgen = 0;
#endif
#endif

/* The mm (struct mm, kernel/mm/mm.h). */
byte gen = 1; /* tlb_gen; mm_init starts it at 1 */
byte completed; /* tlb_gen_completed */
byte deferred; /* tlb_gen_deferred */
byte ring_gen[RING]; /* the generation a slot holds (its seq, 2g + 2, when valid) */
byte ring_range[RING];
bool ring_freed[RING];
byte gathers_active;
byte tables_unflushed;
byte cpus; /* mm->cpus */
bool ptlock; /* the page-table lock: walks of the tables exclude each other */

/* The tables and the frames. */
byte pte = ALL; /* leaf entries present */
byte tbl = ALL; /* root entries pointing to a leaf table */
byte table_gen[NPAGE]; /* struct page.pt_tlb_gen of each leaf table */
byte freed; /* frames returned to the allocator */
byte tfreed; /* leaf tables returned to the allocator */
byte retired; /* pages a returned gather unmapped: no CPU may use them any more */

/* Each CPU (struct tlb_cpu_state and its hardware). */
bool loaded[NCPU];
bool lazy[NCPU];
byte cgen[NCPU]; /* tlb_cpu[c].gen */
bool root[NCPU]; /* the hardware translates through the mm (CR3 or TTBR0 + ASID) */
byte tlb[NCPU]; /* cached leaf translations */
byte pwc[NCPU]; /* cached pointers to leaf tables (paging-structure caches) */
byte pending[NCPU]; /* one bit per gatherer whose request this CPU has not run yet */
bool slot_ok; /* tagged: the user CPU keeps a slot for the mm */
byte slot_gen;

/* The request each gatherer has in flight (struct tlb_flush_request). */
byte rq_gen[NGATHER];
byte rq_range[NGATHER];
bool rq_full[NGATHER];
bool rq_freed[NGATHER];
byte cov[NGATHER]; /* its call.covered: `before`, lowered by each target's report; 0 when idle */

/* Locals every process that runs flush_here needs (inlines cannot declare them). */
#define ENGINE_LOCALS byte cu_now, cu_g, cu_acc; bool cu_merged, cu_done

/* A CPU running the mm touches what it has cached. */
#define USE_CHECK(c) assert((tlb[c] & (freed | retired)) == 0)

/*
 * tlb_gen_bump: the change was made before. The ring entry is written in
 * the same step as the add: in the kernel a reader that comes between
 * finds the entry invalid and flushes the whole mm, which only adds
 * flushes. Call inside a d_step.
 */
inline bump(bp_r, bp_fr, bp_out)
{
	gen++;
	bp_out = gen;
	if
	:: !IS_MMGEN ->
		ring_gen[bp_out % RING] = bp_out;
		ring_range[bp_out % RING] = bp_r;
		ring_freed[bp_out % RING] = bp_fr
	:: else
	fi
}

/* flush_local: a range also drops the walk caches for its addresses. */
inline flush_local(fl_c, fl_r, fl_all)
{
	if
	:: fl_all -> tlb[fl_c] = 0; pwc[fl_c] = 0
	:: else -> tlb[fl_c] = tlb[fl_c] & ~(fl_r); pwc[fl_c] = pwc[fl_c] & ~(fl_r)
	fi
}

/*
 * catch_up: CPU cu_c from generation cu_from to the mm's generation now,
 * replaying the ring's ranges, or the whole mm when one is missing or
 * freed tables. cu_xr/cu_xf: the request in hand's range and fullness (0/0
 * for none). The result goes to cu_res. Runs inside a d_step.
 */
inline catch_up(cu_c, cu_from, cu_xr, cu_xf, cu_res)
{
	cu_now = gen;
	cu_done = 0;
#ifdef BREAK_CATCH_UP_SKIPS_RING
	if
	:: !IS_MMGEN -> flush_local(cu_c, cu_xr, cu_xf); cu_res = cu_now; cu_done = 1
	:: else
	fi;
#endif
	if
	:: !cu_done ->
		cu_merged = !IS_MMGEN && cu_from != 0 && cu_now - cu_from <= RING && !cu_xf;
		cu_acc = 0;
		cu_g = cu_from + 1;
		do
		:: cu_merged && cu_g <= cu_now ->
			if
			:: ring_gen[cu_g % RING] == cu_g && !ring_freed[cu_g % RING] ->
				cu_acc = cu_acc | ring_range[cu_g % RING]
			:: else -> cu_merged = 0
			fi;
			cu_g++
		:: else -> break
		od;
		flush_local(cu_c, cu_acc, !cu_merged);
		cu_res = cu_now
	:: else
	fi;
	cu_now = 0; cu_g = 0; cu_acc = 0; cu_merged = 0; cu_done = 0 /* dead: not part of the state */
}

/*
 * Folds cov (in a d_step). Only deferral generations are ever compared with
 * completed (a table's pt_tlb_gen, a gather's defer_gen; `deferred` is the
 * newest), and every later deferral bumps above the current gen, itself at
 * least cov: so completing to any value in [deferred, cov] compares the
 * same as completing to deferred, and interleavings that differ only there
 * meet. Not with BREAK_NO_DEFER_BUMP, whose deferrals reuse the current
 * generation.
 */
#ifdef BREAK_NO_DEFER_BUMP
#define CANON_COV(cc_q) skip
#else
#define CANON_COV(cc_q) \
	if \
	:: cov[cc_q] > deferred -> cov[cc_q] = deferred \
	:: else \
	fi
#endif

/*
 * flush_handler's report (tlb.c): the request's covered generation drops
 * to the one this CPU is now covered up to, what tlb_flush_here returned.
 * In tlb=mmgen cov stays 0 and nothing drops. BREAK_COMPLETE_TO_BEFORE
 * (tlb.break=complete_to_before) ignores the reports: `before` completes.
 */
#ifdef BREAK_COMPLETE_TO_BEFORE
#define COVER(cv_q, cv_g) skip
#else
#define COVER(cv_q, cv_g) \
	if \
	:: cov[cv_q] > (cv_g) -> cov[cv_q] = (cv_g) \
	:: else \
	fi
#endif

/*
 * flush_here: CPU fh_c runs gatherer fh_q's request, reports the generation
 * it reached, then acknowledges. A CPU that holds nothing reports tlb_gen,
 * never below `before` (cov's start): no drop. In a d_step.
 */
inline flush_here_body(fh_c, fh_q)
{
	if
	:: !loaded[fh_c] && !IS_TAGGED -> skip
	:: !loaded[fh_c] && IS_TAGGED ->
		flush_local(fh_c, rq_range[fh_q], rq_full[fh_q] || rq_freed[fh_q]);
		COVER(fh_q, rq_gen[fh_q])
	:: loaded[fh_c] && cgen[fh_c] >= rq_gen[fh_q] -> COVER(fh_q, cgen[fh_c])
	:: loaded[fh_c] && cgen[fh_c] < rq_gen[fh_q] && rq_gen[fh_q] == cgen[fh_c] + 1 &&
	   rq_gen[fh_q] == gen ->
		flush_local(fh_c, rq_range[fh_q], rq_full[fh_q] || rq_freed[fh_q]);
		cgen[fh_c] = rq_gen[fh_q];
		COVER(fh_q, rq_gen[fh_q])
	:: else ->
		catch_up(fh_c, cgen[fh_c], rq_range[fh_q], rq_full[fh_q] || rq_freed[fh_q], cgen[fh_c]);
		COVER(fh_q, cgen[fh_c])
	fi;
	pending[fh_c] = pending[fh_c] & ~BIT(fh_q)
}

/* An interrupt: CPU sv_c runs one of the requests posted to it. */
inline serve(sv_c)
{
	if
	:: pending[sv_c] & BIT(0) -> d_step { flush_here_body(sv_c, 0) }
	:: pending[sv_c] & BIT(1) -> d_step { flush_here_body(sv_c, 1) }
	fi
}
