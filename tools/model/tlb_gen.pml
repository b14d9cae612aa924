/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pagoda's TLB generation protocol (docs/tlb.md) as a Promela model for
 * spin: NGATHER CPUs each unmap through a gather while one more CPU runs
 * the mm, goes lazy, switches away and back, and its MMU walks the tables.
 * `make model` (tools/model/run.sh) checks it exhaustively, unbroken and
 * with each of the kernel's protocol-breaking switches (-DBREAK_...), in
 * the untagged (x86-64), tagged (-DTAGGED: arm64 with tlb=ipi) and per-mm
 * (-DMMGEN: tlb=mmgen) configurations; docs/reliability.md says what each
 * step stands for in the kernel. -DMODE_SWITCH adds the console's live
 * mode switch (tlb_mode.pml).
 *
 * Starting state: every CPU has the mm loaded at generation 1 (the TLBs of
 * the caching gatherers' CPUs hold every page), both pages mapped, nothing
 * deferred or completed.
 */
#include "tlb_engine.pml"
#include "tlb_gather.pml"
#include "tlb_user.pml"
#ifdef BATCH
#include "tlb_batch.pml" /* gatherer BATCHER's unmap goes through a TLB batch */
#endif
#ifdef MODE_SWITCH
#include "tlb_mode.pml" /* the console's live `tlb mode` switch */
#endif

init
{
	byte c;
	atomic {
		c = 0;
		do
		:: c < NCPU ->
			loaded[c] = 1; root[c] = 1; cgen[c] = 1;
			if
			:: c >= NGATHER || c < CACHING -> cpus = cpus | BIT(c)
			:: else
			fi;
			if
#ifdef BATCH
			:: c == BATCHER && c < CACHING -> tlb[c] = ALL; run batcher(c)
			:: c == BATCHER && c >= CACHING -> run batcher(c)
			:: c < NGATHER && c != BATCHER && c < CACHING -> tlb[c] = ALL; run gatherer(c)
			:: c < NGATHER && c != BATCHER && c >= CACHING -> run gatherer(c)
#else
			:: c < NGATHER && c < CACHING -> tlb[c] = ALL; run gatherer(c)
			:: c < NGATHER && c >= CACHING -> run gatherer(c)
#endif
			:: else
			fi;
			c++
		:: else -> break
		od;
		run user(USER);
		run walker(USER)
#ifdef MODE_SWITCH
		; run switcher()
#endif
	}
}
