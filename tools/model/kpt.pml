/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Changes to the kernel's own page tables (kernel_pt: one tree every CPU
 * translates through, global entries, no generations, no ASIDs) and their
 * invalidation, as a Promela model for spin: the walker's stop after it
 * replaces a live entry (kernel/mm/pt_walk.c: replace_valid, STOP_REPLACED;
 * kernel/mm/pt.c: commit_done, settle, lock_tree, the resume in pt_run),
 * the unhooking of an emptied table (pt_walk.c: visit_change,
 * queue_table_free), tlb_flush_kernel_range
 * (kernel/mm/tlb.c) and a CPU coming online (smp_secondary_main, kernel/
 * smp.c); docs/mm.md "Replacing a live entry" and "Changes to kernel
 * mappings", docs/tlb.md rule 12. `make model` (tools/model/run.sh, the
 * variants with -DKPT_MODEL) checks it exhaustively, unbroken and with the
 * kernel's switches -DBREAK_KERNEL_LOCAL_ONLY (tlb.break=kernel_local_only)
 * and -DBREAK_REPLACE_NO_FLUSH (tlb.break=replace_no_flush);
 * docs/reliability.md ("Kernel mappings") maps each step to the kernel code.
 *
 * The world: 3 CPUs; CPUs 0 and 1 online, CPU 2 on its way (paging on with
 * the kernel's tables, not yet in cpu_online_mask). Two kernel pages mapped
 * by one block entry (frames f0, f1, read-write). CPU 0 makes page 0
 * read-only (pt_protect; -DUNMAP0: unmaps it and frees f0), CPU 1 unmaps
 * page 1 and frees f1 (the frame allocator may hand it to anyone). The
 * first to take the table lock finds the block and replaces it by a table
 * of the same two pages (x86-64: the table written over the block; -DBBM,
 * arm64: the block made invalid, the break, and the table written, the
 * make, only after the invalidation), stops, invalidates the block's range
 * on every online CPU, takes the lock again and resumes: changes its page.
 * The other waits until then and changes its page in the table. Each then
 * invalidates its page on every online CPU (by address, which drops a
 * block and the walk-cache entry covering it too: INVLPG, TLBI VAAE1); an
 * unmap that empties the table unhooks it, invalidates everything and only
 * then frees it. -DPAGES: the pages are mapped by a table from the start.
 * A CPU's TLB holds at most the block entry (in one piece per page: a TLB
 * may keep a block as smaller entries, pt_walk.c, so a flush by address drops
 * only the piece it covers), one entry per page (with the translation it
 * was filled with) and a walk-cache entry for the table.
 * Every CPU's walker fills at the end of every step from the tables as
 * they are then (a page entry it holds stays until invalidated: a hit),
 * so translating at every moment it may is the most a TLB can hold, as in
 * asid.pml. CPU 2's walker fills too, but uses the range only once online
 * and flushed.
 *
 * The property, checked at the end of every step on every CPU that uses
 * kernel addresses (CPUs 0 and 1; CPU 2 once it has flushed):
 *  (a) nothing it holds translates to a freed frame, and its walk cache
 *      does not point at a freed table;
 *  (b) it never holds the block beside a page entry that translates the
 *      same address differently, nor may fill one while holding the block
 *      (it may drop the page entry it holds and refill it at any moment):
 *      two sizes with different attributes for one address, undefined on
 *      x86 (docs/mm.md, SDM 4.10.2.3); with -DBBM any page entry beside the
 *      block fails (an arm64 TLB conflict);
 *  (c) once a change's invalidation has completed (the split's when the
 *      walk resumes, a page's when tlb_flush_kernel_range returns) it holds
 *      no entry from before that change.
 *
 * Bounds: two operations, one per CPU, and one CPU coming online; two
 * pages, one block. A walk under the table lock is one step (the lock and
 * pt->stopped_by make it atomic for this tree); each target's invalidation
 * is a step of its own, in any order (each takes the cross-call's IPI when
 * it does). Sequentially consistent: rule 12's two full fences (the
 * flusher's smp_mb() between its table change and its read of
 * cpu_online_mask; the new CPU's between joining it and flushing) are what
 * buys that; the mutants -DMUT_ONLINE_FIRST (the mask read before the
 * change, which a missing fence allows) and -DMUT_AP_FLUSH_FIRST (the new
 * CPU flushes, then joins) must be rejected, as must -DMUT_NO_STOP_WAIT
 * (an operation does not wait for a stopped one: under -DBBM it takes the
 * broken slot for a hole, on x86-64 it changes a page beside the stale
 * block), -DMUT_FREE_TABLE_FIRST (with -DUNMAP0: the table freed before
 * its flush) and -DMUT_SPLIT_FLUSH_PAGE (the split flushes only the page
 * the walk goes on to change, not the block's range). Left out: arm64's broadcast TLBI (it reaches at least every
 * CPU the cross-call does); the refusal of a break in a range in use
 * (pt.in_use: the kernel never breaks a range a CPU uses, so none faults
 * here); what a CPU on its way uses before it is online (its own stack and
 * code, which no operation changes); a memory-type change of a leaf (with
 * break-before-make a second STOP_REPLACED, the same steps; on x86-64 a
 * plain write flushed at the end of the operation, with no stop);
 * upper-level walk-cache entries
 * (the tables above this one are never freed here).
 */
#define NCPU 3
#define AP   2 /* the CPU coming online */

#ifndef BREAK_KERNEL_LOCAL_ONLY
#define BREAK_KERNEL_LOCAL_ONLY 0
#endif
#ifndef BREAK_REPLACE_NO_FLUSH
#define BREAK_REPLACE_NO_FLUSH 0
#endif
#ifndef BBM
#define BBM 0
#endif
#ifndef MUT_SPLIT_FLUSH_PAGE
#define MUT_SPLIT_FLUSH_PAGE 0
#endif
#define LOCAL_ONLY BREAK_KERNEL_LOCAL_ONLY /* tlb_flush_kernel_range flushes only here */
#define NO_REPLACE_FLUSH BREAK_REPLACE_NO_FLUSH /* settle skips a replaced entry's flush */

/* The upper-level slot of the range */
#define INVALID 0 /* nothing: broken (BBM), waiting for its make; or the table unhooked */
#define BLOCK	1 /* one leaf for both pages: f0, f1, read-write */
#define TABLE	2 /* a table of two page entries */
byte slot = BLOCK;
/* A page entry, in the table and in a TLB: 0 absent; 1 its first translation (fi, read-write); 2 page 0 read-only */
byte pte[2];
#define FLUSH_BLOCK 2 /* what a flush covers: page 0, page 1, or the block's range */
#define FLUSH_ALL   3 /* everything, walk caches included (a table was unhooked) */

byte online = 3;	/* cpu_online_mask */
byte running = 3;	/* CPUs that use kernel addresses in the range */
byte stopped_by;	/* pt->stopped_by: the walking CPU + 1 */
bool split_done;	/* the split's invalidation completed: the walk resumed */
bool done[2];		/* page i's change: its invalidation completed */
bool freed[2];		/* frame fi, freed by the caller of pt_unmap */
bool table_freed;	/* the leaf table, unhooked and freed (-DUNMAP0) */

bool tb[NCPU * 2]; /* TLB: the block entry, one piece per page (a TLB may fracture a block: pt_walk.c) */
bool pw[NCPU];		/* walk cache: the slot's table pointer (x86 paging-structure cache, arm64 walk cache) */
byte tp[NCPU * 2];	/* TLB: page entries, CPU c's page i at c * 2 + i */

/* The walker of CPU c fills what the tables give and it does not hold; a running CPU checks. */
inline translate(c)
{
	if
	:: slot == BLOCK && !(tb[c * 2] && tb[c * 2 + 1]) -> tb[c * 2] = 1; tb[c * 2 + 1] = 1; printf("  cpu%d's walker fills the block (f0 f1 read-write)\n", c)
	:: else
	fi;
	if :: slot == TABLE -> pw[c] = 1 :: else fi;
	for (i : 0 .. 1) {
		if
		:: (slot == TABLE || pw[c] && !table_freed) && pte[i] != 0 && tp[c * 2 + i] == 0 ->
			tp[c * 2 + i] = pte[i];
			if
			:: pte[i] == 1 -> printf("  cpu%d's walker fills page %d -> f%d read-write\n", c, i, i)
			:: else -> printf("  cpu%d's walker fills page 0 -> f0 read-only\n", c)
			fi
		:: else
		fi
	}
	if
	:: running & (1 << c) ->
		/* (a) nothing translates to a freed frame or through a freed table */
		if
		:: table_freed && pw[c] ->
			printf("cpu%d's walk cache points at the leaf table, which is freed\n", c);
			assert(false)
		:: else
		fi;
		for (i : 0 .. 1) {
			if
			:: freed[i] && (tb[c * 2 + i] || tp[c * 2 + i] != 0) ->
				if
				:: tb[c * 2 + i] -> printf("cpu%d translates page %d to f%d, which is freed, through its block entry\n", c, i, i)
				:: else -> printf("cpu%d translates page %d to f%d, which is freed, through its page entry\n", c, i, i)
				fi;
				assert(false)
			:: else
			fi;
			/* (b) the block beside a page entry that translates differently (-DBBM: any) */
			if
			:: tb[c * 2 + i] && (BBM && (tp[c * 2 + i] != 0 || slot == TABLE && pte[i] != 0) ||
			             tp[c * 2 + i] > 1 || slot == TABLE && pte[i] > 1) ->
				if
				:: tp[c * 2 + i] == 2 ->
					printf("cpu%d holds the block (f0 f1 read-write) and page 0 -> f0 read-only: two sizes for one address\n", c)
				:: tp[c * 2 + i] != 2 && slot == TABLE && pte[i] == 2 ->
					printf("cpu%d holds the block (f0 f1 read-write), its walker may fill page 0 -> f0 read-only: two sizes for one address\n", c)
				:: tp[c * 2 + i] == 1 && pte[i] != 2 ->
					printf("cpu%d holds the block (f0 f1 read-write) and page %d -> f%d read-write: a TLB conflict\n", c, i, i)
				:: else ->
					printf("cpu%d holds the block (f0 f1 read-write), its walker may fill page %d -> f%d read-write: a TLB conflict\n", c, i, i)
				fi;
				assert(false)
			:: else
			fi;
			/* (c) no entry from before a change whose invalidation completed */
			if
			:: done[i] && (tb[c * 2 + i] || tp[c * 2 + i] == 1) ->
				if
				:: tb[c * 2 + i] -> printf("cpu%d still holds the block for page %d after the change's invalidation completed\n", c, i)
				:: else -> printf("cpu%d still holds page %d -> f%d read-write after the change's invalidation completed\n", c, i, i)
				fi;
				assert(false)
			:: else
			fi
		}
		if
		:: split_done && (tb[c * 2] || tb[c * 2 + 1]) ->
			printf("cpu%d still holds the block after the split's invalidation completed\n", c);
			assert(false)
		:: else
		fi
	:: else
	fi;
	i = 0
}

/* The end of every step: every CPU's walker translates (CPU 2 too: it has paging on). */
inline settle()
{
	for (k : 0 .. NCPU - 1) {
		translate(k)
	}
	k = 0
}

/* kernel_flush_here on CPU t: arch_tlb_flush_local_page for each page (or the range) */
inline flush_here(t, what)
{
	if
	:: what == FLUSH_ALL -> printf("  cpu%d invalidates everything\n", t)
	:: what == FLUSH_BLOCK -> printf("  cpu%d invalidates the block's range\n", t)
	:: else -> printf("  cpu%d invalidates page %d\n", t, what)
	fi;
	pw[t] = 0;
	if :: what != 1 -> tp[t * 2] = 0; tb[t * 2] = 0 :: else fi;
	if :: what != 0 -> tp[t * 2 + 1] = 0; tb[t * 2 + 1] = 0 :: else fi
}

/* tlb.c: tlb_flush_kernel_range's read of who is online (after its smp_mb()), into targets */
inline read_online()
{
	targets = (LOCAL_ONLY -> 0 : online) | (1 << me);
	printf("cpu%d: reads cpu_online_mask: invalidates on CPU set %d (bit n: CPU n)\n", me, targets)
}

/* tlb.c: tlb_flush_kernel_range(what): each target invalidates, in any order; returns when all have */
inline flush_kernel(what)
{
#ifndef MUT_ONLINE_FIRST
	d_step { read_online(); settle() };
#endif
	do
	:: targets & 1 -> d_step { flush_here(0, what); targets = targets & ~1; settle() }
	:: targets & 2 -> d_step { flush_here(1, what); targets = targets & ~2; settle() }
	:: targets & 4 -> d_step { flush_here(2, what); targets = targets & ~4; settle() }
	:: targets == 0 -> break
	od;
	printf("cpu%d: tlb_flush_kernel_range returns\n", me)
}

/* lock_tree: the lock once no other operation has the tree stopped */
#ifdef MUT_NO_STOP_WAIT
#define MAY_LOCK true
#else
#define MAY_LOCK (stopped_by == 0 || stopped_by == me + 1)
#endif

#ifndef UNMAP0
#define UNMAP0 0
#endif
/*
 * The walk's change to page pg: CPU 0 protects page 0 read-only (-DUNMAP0:
 * unmaps it), CPU 1 unmaps page 1. An unmap that empties the table unhooks
 * it (visit_change): flushed whole, freed after the flush (queue_table_free).
 */
inline change_page()
{
	if
	:: pg == 0 && !UNMAP0 -> pte[0] = 2; printf("cpu%d: page 0 read-only\n", me)
	:: else -> pte[pg] = 0; printf("cpu%d: page %d unmapped\n", me, pg)
	fi;
	if
	:: pte[0] == 0 && pte[1] == 0 ->
		slot = INVALID; unhooked = 1; printf("cpu%d: the emptied table unhooked\n", me)
	:: else
	fi
}

/* CPU 0: pt_protect(page 0) (-DUNMAP0: pt_unmap, frame_free(f0)); CPU 1: pt_unmap(page 1), frame_free(f1) */
proctype op(byte me; byte pg)
{
	byte i, k, targets;
	bool replaced, changed, unhooked;
#ifdef MUT_ONLINE_FIRST
	d_step { read_online(); settle() }; /* mutant: who is online, before the tables change */
#endif
	d_step {
		MAY_LOCK; /* pt_run: lock_tree, count, commit */
		if
		:: slot == BLOCK -> /* replace_valid: the block becomes a table of its pages */
			replaced = 1;
			stopped_by = me + 1; /* commit_done: pt->stopped_by */
			if
			:: BBM -> slot = INVALID; printf("cpu%d: break: the block's slot invalid\n", me)
			:: else -> slot = TABLE; pte[0] = 1; pte[1] = 1;
				printf("cpu%d: the table written over the block (STOP_REPLACED)\n", me)
			fi
		:: slot == TABLE -> change_page(); changed = 1
		:: slot == INVALID -> printf("cpu%d: finds a hole: nothing to change\n", me) /* MUT_NO_STOP_WAIT */
		fi;
		settle()
	};
	if
	:: replaced ->
		/* settle(op): the replaced entry, invalidated on every online CPU */
		if
		:: !NO_REPLACE_FLUSH && !MUT_SPLIT_FLUSH_PAGE -> flush_kernel(FLUSH_BLOCK)
		:: !NO_REPLACE_FLUSH && MUT_SPLIT_FLUSH_PAGE -> flush_kernel(pg) /* only the page it goes on to change */
		:: else -> printf("cpu%d: skips the replaced block's invalidation\n", me)
		fi;
#ifdef MUT_ONLINE_FIRST
		d_step { read_online(); settle() };
#endif
		d_step {
			MAY_LOCK; /* pt_run again: the make, then the walk resumes at resume_va */
			if
			:: BBM -> slot = TABLE; pte[0] = 1; pte[1] = 1; printf("cpu%d: make: the table written\n", me)
			:: else
			fi;
			stopped_by = 0;
			split_done = 1;
			change_page();
			changed = 1;
			settle()
		}
	:: else
	fi;
	/* settle(op) of the walk's last commit: flush, then free the unhooked table */
#ifdef MUT_FREE_TABLE_FIRST
	d_step { /* mutant: free_chain before the flush */
		if :: unhooked -> table_freed = 1; printf("cpu%d: free_chain: the leaf table freed\n", me) :: else fi;
		settle()
	};
#endif
	if
	:: unhooked -> flush_kernel(FLUSH_ALL)
	:: !unhooked && changed -> flush_kernel(pg)
	:: else
	fi;
	d_step {
		done[pg] = changed;
		if :: unhooked -> table_freed = 1; printf("cpu%d: free_chain: the leaf table freed\n", me) :: else fi;
		if
		:: pg == 1 || UNMAP0 -> freed[pg] = 1; printf("cpu%d: frame_free(f%d)\n", me, pg) /* the caller */
		:: else
		fi;
		settle()
	}
}

/* smp_secondary_main: join cpu_online_mask, smp_mb(), flush everything; then use kernel addresses */
proctype ap()
{
	byte i, k;
#ifdef MUT_AP_FLUSH_FIRST
	d_step { printf("cpu%d: flushes its whole TLB\n", AP); tb[AP * 2] = 0; tb[AP * 2 + 1] = 0; pw[AP] = 0; tp[AP * 2] = 0; tp[AP * 2 + 1] = 0; settle() };
	d_step { online = online | (1 << AP); running = running | (1 << AP); printf("cpu%d: online\n", AP); settle() }
#else
	d_step { online = online | (1 << AP); printf("cpu%d: joins cpu_online_mask\n", AP); settle() };
	d_step {
		printf("cpu%d: flushes its whole TLB, runs\n", AP);
		tb[AP * 2] = 0; tb[AP * 2 + 1] = 0; pw[AP] = 0; tp[AP * 2] = 0; tp[AP * 2 + 1] = 0;
		running = running | (1 << AP);
		settle()
	}
#endif
}

init
{
	byte i, k;
	atomic {
		d_step {
#ifdef PAGES
			slot = TABLE; /* -DPAGES: a table of pages from the start, nothing to split */
			pte[0] = 1;
			pte[1] = 1;
#endif
			settle() /* every CPU holds what the tables map */
		};
		run ap();
		run op(1, 1);
		run op(0, 0) /* run last: pan tries it first, so trails start with CPU 0 */
	}
}
