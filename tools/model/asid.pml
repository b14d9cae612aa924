/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pagoda's ASID allocator (kernel/mm/asid.c) with the tagged switch-in
 * (kernel/mm/switch.c), the teardown (mm_destroy) and SVA bonds that pin
 * ids for an IOMMU sharing the CPU's ASID space (kernel/iommu/sva.c), as a
 * Promela model for spin. `make model` (tools/model/run.sh, the `asid`
 * variants) checks it exhaustively, unbroken and with each of the kernel's
 * allocator-breaking switches (-DBREAK_ASID_...); docs/reliability.md
 * ("The ASID allocator") maps each step to the kernel code it stands for.
 *
 * The world: NCPU CPUs with tagged TLBs (arm64), NMM mm objects that run,
 * are unmapped and destroyed (a destroyed one is created again: the same
 * pointer, as the kernel's allocator may hand back), NID hardware ids (the
 * soak's asid_test_limit, so that ids run out), and an IOMMU whose IOTLB
 * tags by the same ids and is shared by its NBOND streams, as an SMMUv3's
 * is. Every TLB (each CPU's and the IOTLB) holds at most one entry per
 * tag, for one user page at the same address in every mm; it names the mm
 * it was filled from and the version of that mm's page table it saw. An
 * unmap makes a new version and invalidates by the mm's id (broadcast,
 * arm64's default mode), and the IOTLB by each attached bond's id (the
 * notifier).
 *
 * The property, checked where an agent translates (a CPU's walker, any
 * time a root is loaded; the IOMMU, any time a bond is attached): a hit
 * under the tag it runs with belongs to the mm it runs and is not older
 * than that mm's last completed unmap. Two live mms sharing an id, an mm
 * running with an id its invalidations no longer target, and a stream
 * tagging with an id another mm now has all fail it.
 *
 * Bounds. At most NOPS operations start (a switch, a destroy, a bind, an
 * unbind's first half, its release; asid_no_carry and asid_orphan_freed
 * need 7); unmaps, one per mm life, are not counted. An operation is one
 * step, but NPAUSE times a run one may pause at a step boundary while the
 * others run (with 2, both CPUs and a teardown can be inside one at once):
 * asid_for_switch's loads of mm->asid and active[me] | of the generation |
 * its cmpxchg; the id chosen | switch_in_tagged | arch_mm_activate;
 * mm_destroy's cross-call to each CPU (it waits for a switch there) |
 * mn_mm_release | the teardown's flush | asid_release (so an unbind's
 * release may come anywhere in a teardown). No pause between a failed
 * comparison and asid_lock (only a rollover writes the generation, and it
 * keeps the comparison failing), the unlock and the rollover flush (it
 * drops this CPU's entries only; the pause after the id is chosen covers
 * what its walker may do meanwhile), or an unmap's table change and its flush (a refill
 * between is of the new version). Ids roll over at most GMAX - 1 times (a
 * search needing more stops, as `over`; so does the kernel's panic when
 * two rollovers free nothing). A bind is one step (pin, subscription,
 * attach; the pin-then-teardown window is left out: mn_register refuses
 * there), so no step sees ASID_RELEASED, and a destroyed mm's asid is 0 at
 * once. NID 2; with 3 (-DNID=3, 8 operations) a rollover can move the old
 * mm's id while a CPU is inside mm_switch: with the old root still loaded
 * there (SWITCH_KEEPS_OLD_ROOT, the kernel before 2026-12-03) that was a
 * stale hit, unless hits inside the switch are counted as speculative
 * (HITS_IN_SWITCH_SPECULATIVE below). Sequentially consistent. Left out as they lose no outcome: naming
 * any but the lowest never-named mm (they are alike), binding any but the
 * lowest idle bond, CPU 1 moving before CPU 0, a destroy that changes
 * nothing (an mm that never had an id, no reservation to clear), an unmap
 * that leaves nothing stale (no older entry of the mm its flush misses),
 * a free pin slot's old id and owner.
 */

#define NCPU  2
#define NMM   3 /* mm objects 1 .. NMM; 0 is none */
#ifndef NID
#define NID 2 /* hardware ids 1 .. NID; 0 tags no address space */
#endif
#define GMAX  3 /* generations 1 .. GMAX */
#define NSLOT 2 /* a CPU's slots of recently run mms (TLB_SLOTS is 4) */
#define NBOND 2 /* SVA bonds on the IOMMU */
#ifndef NOPS
#define NOPS 7 /* operations started */
#endif
#ifndef NPAUSE
#define NPAUSE 2 /* operations paused at a step boundary */
#endif
/*
 * 1: the kernel before 2026-12-03, which left the old root in TTBR0 from
 * asid_for_switch to arch_mm_activate; 0: mm_switch turns the lower half
 * off first (arch_mm_deactivate), so the walker starts no walk there (a
 * walk under way at that moment is not modelled: docs/tlb.md, "ASIDs").
 */
#ifndef SWITCH_KEEPS_OLD_ROOT
#define SWITCH_KEEPS_OLD_ROOT 0
#endif
/*
 * (With SWITCH_KEEPS_OLD_ROOT only.) 1: a CPU inside mm_switch
 * (interrupts off, the kernel touches no user address there) still fills
 * its TLB, but a hit is speculative, not a use. 0: every hit counts, which
 * rejects the old kernel's window once 3 ids let a rollover move the old
 * mm's id mid-switch.
 */
#ifndef HITS_IN_SWITCH_SPECULATIVE
#define HITS_IN_SWITCH_SPECULATIVE 0
#endif
#define NPIN  NBOND
#define IOMMU NCPU /* the IOTLB's agent number; CPUs are 0 .. NCPU-1 */
#define NTAG  (NID + 1)

#define ASID(g, i) ((g) * NTAG + (i))
#define GEN(a)	   ((a) / NTAG)
#define HW(a)	   ((a) % NTAG)

/* The kernel's switches (tlb.break=asid_...), given as -DBREAK_ASID_... */
#ifndef BREAK_ASID_NO_CARRY
#define BREAK_ASID_NO_CARRY 0
#endif
#ifndef BREAK_ASID_FORGET_RESERVED
#define BREAK_ASID_FORGET_RESERVED 0
#endif
#ifndef BREAK_ASID_PIN_IGNORED
#define BREAK_ASID_PIN_IGNORED 0
#endif
#ifndef BREAK_ASID_ORPHAN_FREED
#define BREAK_ASID_ORPHAN_FREED 0
#endif
#ifndef BREAK_ASID_RELEASE_UNUSED
#define BREAK_ASID_RELEASE_UNUSED 0
#endif
#define NO_CARRY	BREAK_ASID_NO_CARRY	   /* new_asid keeps an id without carry_reserved */
#define FORGET_RESERVED BREAK_ASID_FORGET_RESERVED /* a rollover keeps no reservation */
#define PIN_IGNORED	BREAK_ASID_PIN_IGNORED	   /* rollovers and new_asid ignore pins */
#define ORPHAN_FREED	BREAK_ASID_ORPHAN_FREED	   /* asid_release frees a still-pinned id */
#define RELEASE_UNUSED	BREAK_ASID_RELEASE_UNUSED  /* before the fix: asid 0 matched active[] 0 */

/* ---- the search's own ---- */
byte ops, pauses;
byte waiting;	  /* bit per process: paused until another one moves */
byte named = 1;	  /* bit m: an operation named mm m (bit 0: always) */
bool begun;	  /* CPU 0 started a switch */
bool over;	  /* the bounds were reached (or the kernel would panic): the search stops */

/* ---- asid.c ---- */
byte gen = 1;
bool map[NTAG];
byte next_id = 1;
byte act[NCPU], reserved[NCPU];
bool flush_due[NCPU];
byte pin_id[NPIN], pins[NPIN], pin_owner[NPIN];

/* ---- mm objects ---- */
#define MM_LIVE	 1
#define MM_DYING 2 /* mm_destroy runs */
byte st[NMM + 1] = MM_LIVE;
byte masid[NMM + 1];
bool ver[NMM + 1], done[NMM + 1]; /* its table's version; the last one whose flush completed */
byte ran[NMM + 1];		  /* mm->cpus: on a tagged TLB, every CPU that switched to it */

/* ---- CPUs (switch.c) ---- */
byte loaded[NCPU];
byte target[NCPU]; /* the mm a switch in progress goes to (interrupts off: no cross-call) */
byte slot_mm[NCPU * NSLOT], slot_asid[NCPU * NSLOT], next_slot[NCPU];
#define SL(c, k) ((c) * NSLOT + (k)) /* CPU c's slot k */
byte hw_mm[NCPU], hw_tag[NCPU]; /* what TTBR0 holds: the root's mm and the ASID */

/* ---- SVA bonds ---- */
#define BOND_IDLE     0
#define BOND_ATTACHED 1 /* linked, the stream translates */
#define BOND_UNLINKED 2 /* unbind stopped the device and unlinked; its release is pending */
byte b_state[NBOND], b_mm[NBOND], b_tag[NBOND];

/* ---- TLBs: agent * NTAG + tag ---- */
byte tlb_mm[(NCPU + 1) * NTAG];
bool tlb_ver[(NCPU + 1) * NTAG];

/* An operation may name m: named before, or the lowest never named (those are alike). */
#define NAMEABLE(m) (((named >> (m)) & 1) || ((named + 1) & ~named) == (1 << (m)))

inline op_begin(m)
{
	ops++;
	waiting = 0;
	named = named | (1 << (m))
}

/* A step boundary: go on, or pause until another process has moved (timeout: none can). */
inline window()
{
	if
	:: true
	:: pauses < NPAUSE ->
		pauses++;
		printf("(proc %d pauses)\n", _pid);
		waiting = waiting | (1 << _pid);
		(!(waiting & (1 << _pid)) || timeout);
		waiting = 0
	fi
}

inline drop(a, t)
{
	tlb_mm[(a) * NTAG + (t)] = 0;
	tlb_ver[(a) * NTAG + (t)] = 0
}

/*
 * A translation by agent a under tag t for mm m: a hit must be m's entry
 * and current; a miss fills the entry from m's table as it is now.
 */
inline translate(a, t, m)
{
	if
	:: tlb_mm[(a) * NTAG + (t)] == 0 ->
		tlb_mm[(a) * NTAG + (t)] = m;
		tlb_ver[(a) * NTAG + (t)] = ver[m]
	:: tlb_mm[(a) * NTAG + (t)] == m && tlb_ver[(a) * NTAG + (t)] >= done[m]
	:: else ->
		printf("agent %d runs mm%d under tag %d: hits mm%d's entry of version %d (unmapped: %d)\n",
		       a, m, t, tlb_mm[(a) * NTAG + (t)], tlb_ver[(a) * NTAG + (t)], done[m]);
		assert(tlb_mm[(a) * NTAG + (t)] == m && tlb_ver[(a) * NTAG + (t)] >= done[m])
	fi
}

/*
 * The end of every step: each CPU with a root loaded and the IOMMU for
 * each attached bond translate. Translating at every moment they may is
 * the most a TLB can hold (an entry filled at the first chance is the
 * oldest and survives the most), so this finds every stale hit a real
 * walker could make, without a process of its own.
 */
inline settle()
{
	for (k : 0 .. NCPU - 1) {
		if
		:: !over && hw_mm[k] != 0 && HITS_IN_SWITCH_SPECULATIVE && target[k] != 0 ->
			if /* a fill only */
			:: tlb_mm[k * NTAG + hw_tag[k]] == 0 ->
				tlb_mm[k * NTAG + hw_tag[k]] = hw_mm[k];
				tlb_ver[k * NTAG + hw_tag[k]] = ver[hw_mm[k]]
			:: else
			fi
		:: else ->
			if :: !over && hw_mm[k] != 0 -> translate(k, hw_tag[k], hw_mm[k]) :: else fi
		fi
	}
	for (k : 0 .. NBOND - 1) {
		if :: !over && b_state[k] == BOND_ATTACHED -> translate(IOMMU, b_tag[k], b_mm[k]) :: else fi
	}
	k = 0
}

/* asid.c: rollover() */
inline rollover()
{
	if
	:: gen == GMAX -> over = true
	:: else ->
		gen++;
		for (k : 1 .. NID) {
			map[k] = false
		}
		for (k : 0 .. NCPU - 1) {
			runs = act[k];
			act[k] = 0;
			if :: runs == 0 -> runs = reserved[k] :: else fi;
			reserved[k] = (FORGET_RESERVED -> 0 : runs);
			if :: HW(reserved[k]) -> map[HW(reserved[k])] = true :: else fi;
			flush_due[k] = true;
			printf("  rollover to %d: cpu%d reserves %d.%d\n", gen, k, GEN(reserved[k]), HW(reserved[k]))
		}
		runs = 0;
		for (k : 0 .. NPIN - 1) {
			if :: !PIN_IGNORED && pins[k] -> map[pin_id[k]] = true :: else fi
		}
		next_id = 1
	fi
}

/* asid.c: alloc_id(), into na (0 when the search stops) */
inline alloc_id()
{
	for (pass : 0 .. 1) {
		for (k : 0 .. NID - 1) {
			id = 1 + (next_id - 1 + k) % NID;
			if
			:: na == 0 && !over && !map[id] -> map[id] = true; next_id = id + 1; na = ASID(gen, id)
			:: else
			fi
		}
		if :: na == 0 && !over -> rollover() :: else fi
	}
	if :: na == 0 -> over = true :: else fi; /* new_asid: no free id after two rollovers (a panic) */
	pass = 0;
	id = 0;
	k = 0
}

/* asid.c: new_asid(m), into na */
inline new_asid(m)
{
	na = 0;
	for (j : 0 .. NCPU - 1) {
		if
		:: na == 0 && masid[m] != 0 && reserved[j] == masid[m] ->
			na = ASID(gen, HW(masid[m]));
			for (k : 0 .. NCPU - 1) { /* carry_reserved */
				if :: !NO_CARRY && reserved[k] == masid[m] -> reserved[k] = na :: else fi
			}
		:: else
		fi
	}
	j = 0;
	for (k : 0 .. NPIN - 1) { /* slot_of_mm: pinned, it keeps its id */
		if
		:: na == 0 && !PIN_IGNORED && pins[k] && pin_owner[k] == m -> na = ASID(gen, HW(masid[m]))
		:: else
		fi
	}
	if :: na == 0 -> alloc_id() :: else fi
}

/* asid.c: make_current(m) */
inline make_current(m)
{
	if
	:: GEN(masid[m]) != gen ->
		new_asid(m);
		if
		:: !over -> masid[m] = na; printf("  mm%d gets asid %d.%d (generation.id)\n", m, GEN(na), HW(na))
		:: else
		fi;
		na = 0
	:: else
	fi
}

/* asid.c: asid_pin(m), into id (0: refused). A free slot's id and owner are 0. */
inline asid_pin(m)
{
	id = 0;
	p = NPIN;
	for (k : 0 .. NPIN - 1) {
		if :: pins[k] && pin_owner[k] == m -> p = k :: else fi
	}
	if
	:: p == NPIN ->
		for (k : 0 .. NPIN - 1) {
			if :: p == NPIN && pins[k] == 0 -> p = k :: else fi
		}
		if
		:: p < NPIN -> make_current(m); pin_id[p] = HW(masid[m]); pin_owner[p] = m
		:: else
		fi
	:: else
	fi;
	if :: p < NPIN && !over -> pins[p]++; id = pin_id[p] :: else fi;
	p = 0
}

/* asid.c: asid_unpin_id(t) */
inline asid_unpin(t)
{
	p = NPIN;
	for (k : 0 .. NPIN - 1) {
		if :: p == NPIN && pins[k] && pin_id[k] == t -> p = k :: else fi
	}
	assert(p < NPIN); /* the kernel panics: not pinned */
	pins[p]--;
	if :: pins[p] == 0 && pin_owner[p] == 0 -> map[t] = false :: else fi;
	if :: pins[p] == 0 -> pin_id[p] = 0; pin_owner[p] = 0 :: else fi;
	p = 0
}

/* asid_release's and asid_unload_here's: CPU c no longer runs asid a (its cmpxchg from a to 0) */
inline let_go(c, a)
{
	if
	:: act[c] == a -> act[c] = 0; reserved[c] = 0
	:: act[c] != a && reserved[c] == a -> reserved[c] = 0
	:: else
	fi
}

/* asid.c: asid_release(m) */
inline asid_release(m)
{
	p = NPIN;
	for (k : 0 .. NPIN - 1) {
		if :: pins[k] && pin_owner[k] == m -> p = k :: else fi
	}
	if :: p < NPIN -> pin_owner[p] = 0 :: else fi; /* orphaned: the id stays taken */
	if
	:: (p == NPIN || ORPHAN_FREED) && GEN(masid[m]) == gen && HW(masid[m]) -> map[HW(masid[m])] = false
	:: else
	fi;
	for (k : 0 .. NCPU - 1) { /* skipped for an mm that never had an id (the fix) */
		if :: masid[m] != 0 || RELEASE_UNUSED -> let_go(k, masid[m]) :: else fi
	}
	p = 0
}

/* switch.c: mm_unload_here(m) on CPU c (a cross-call: interrupts off) */
inline unload_here(c, m)
{
	for (k : 0 .. NSLOT - 1) {
		if :: slot_mm[SL(c, k)] == m -> slot_mm[SL(c, k)] = 0; slot_asid[SL(c, k)] = 0 :: else fi
	}
	if
	:: loaded[c] == m ->
		hw_mm[c] = 0; /* arch_mm_deactivate */
		hw_tag[c] = 0;
		loaded[c] = 0;
		if :: masid[m] != 0 -> let_go(c, masid[m]) :: else fi /* asid_unload_here */
	:: else
	fi;
	drop(c, HW(masid[m]))
}

/* A flush of mm m: broadcast by its id now, and the IOTLB by each attached bond's. */
inline flush_mm(m)
{
	for (k : 0 .. NCPU - 1) {
		if :: masid[m] != 0 -> drop(k, HW(masid[m])) :: else fi
	}
	for (k : 0 .. NBOND - 1) {
		if :: b_state[k] == BOND_ATTACHED && b_mm[k] == m -> drop(IOMMU, b_tag[k]) :: else fi
	}
}

/* sva.c: sva_release(bond b), its device stopped and its id flushed already: the pin goes */
inline sva_release(b)
{
	printf("release bond%d: unpin id %d\n", b, b_tag[b]);
	asid_unpin(b_tag[b]);
	b_state[b] = BOND_IDLE; b_mm[b] = 0; b_tag[b] = 0
}

/* switch.c: switch_in_tagged(c, loaded[c], m): save old's slot; trust m's, or flush m's id */
inline switch_in_tagged(c, m)
{
	old = loaded[c];
	if
	:: old != 0 ->
		s = NSLOT;
		for (k : 0 .. NSLOT - 1) {
			if :: slot_mm[SL(c, k)] == old && slot_asid[SL(c, k)] == masid[old] -> s = k :: else fi
		}
		if :: s == NSLOT -> s = next_slot[c]; next_slot[c] = (s + 1) % NSLOT :: else fi;
		slot_mm[SL(c, s)] = old;
		slot_asid[SL(c, s)] = masid[old]
	:: else
	fi;
	s = NSLOT;
	for (k : 0 .. NSLOT - 1) {
		if :: slot_mm[SL(c, k)] == m && slot_asid[SL(c, k)] == masid[m] -> s = k :: else fi
	}
	if :: s == NSLOT -> drop(c, HW(masid[m])) :: else fi; /* arch_tlb_flush_user_full(asid_hw(mm)) */
	old = 0;
	s = 0
}

/*
 * The threads that unmap mms and destroy them (mm.c: mm_destroy, then
 * mm_create hands back the same object). An mm no CPU is switching to may
 * be destroyed: a CPU that has it loaded runs a kernel thread on it
 * (lazy), and its next switch goes elsewhere.
 */
proctype life()
{
	byte m, k, j, p;
end:
	do
	:: atomic { /* an unmap: its table changes, then its flush (one step, see above) */
		!over -> select(m : 1 .. NMM);
		d_step {
			/*
			 * Only if it leaves an entry of m from before it that its flush
			 * misses: a CPU's (the IOTLB holds entries only under attached
			 * bonds' tags, each of its bond's mm, or a check failed; the
			 * flush reaches those).
			 */
			j = false;
			for (k : 0 .. NCPU * NTAG - 1) {
				j = j || tlb_mm[k] == m && !tlb_ver[k] && k % NTAG != HW(masid[m])
			}
			k = 0;
			if
			:: st[m] == MM_LIVE && !ver[m] && j ->
				printf("unmap mm%d: flushed by id %d\n", m, HW(masid[m]));
				waiting = 0;
				ver[m] = 1; flush_mm(m); done[m] = 1;
				settle()
			:: else
			fi;
			j = 0; m = 0
		}
	   }
	:: atomic {
		ops < NOPS && !over -> select(m : 1 .. NMM);
		d_step {
			j = false; /* j: a CPU is switching to m; p: destroying m changes something */
			p = masid[m] != 0 || ran[m] != 0;
			for (k : 0 .. NCPU - 1) {
				j = j || target[k] == m;
				p = p || RELEASE_UNUSED && act[k] == 0 && reserved[k] != 0
			}
			if
			:: !j && p && st[m] == MM_LIVE && NAMEABLE(m) ->
				op_begin(m);
				st[m] = MM_DYING;
				printf("mm_destroy(mm%d), asid %d.%d\n", m, GEN(masid[m]), HW(masid[m]))
			:: else
			fi;
			j = 0; p = 0; k = 0
		};
		if
		:: st[m] == MM_DYING ->
			/* mm_unload_everywhere: a cross-call to each CPU in mm->cpus, between its switches */
			for (j : 0 .. NCPU - 1) {
				if
				:: ran[m] & (1 << j) ->
					window();
					(target[j] == 0 || over);
					d_step { unload_here(j, m); settle() }
				:: else
				fi
			}
			window();
			d_step { /* mn_mm_release: a bond still linked is released (its device stopped first) */
				for (j : 0 .. NBOND - 1) {
					if
					:: b_state[j] == BOND_ATTACHED && b_mm[j] == m -> drop(IOMMU, b_tag[j]); sva_release(j)
					:: else
					fi
				}
				j = 0;
				settle()
			};
			window();
			d_step { flush_mm(m); settle() }; /* the teardown's gather */
			window();
			d_step {
				asid_release(m);
				st[m] = MM_LIVE; /* mm_create: the same object again */
				masid[m] = 0; ver[m] = 0; done[m] = 0; ran[m] = 0;
				settle()
			}
		:: else
		fi;
		m = 0
	   }
	od
}

/*
 * The threads that bind mms to the IOMMU and unbind them (sva.c: the
 * unbind's first half, then its release, which a teardown may come
 * between, and may run inside it).
 */
proctype sva()
{
	byte b, m, k, j, p, na, pass, id, runs;
end:
	do
	:: atomic { /* iommu_sva_bind: pin, subscribe, attach; on the lowest idle bond */
		ops < NOPS && !over -> select(m : 1 .. NMM);
		d_step {
			for (k : 1 .. NBOND - 1) {
				b = (b_state[b] != BOND_IDLE -> k : b)
			}
			k = 0;
			if
			:: b_state[b] == BOND_IDLE && st[m] == MM_LIVE && NAMEABLE(m) ->
				op_begin(m);
				asid_pin(m);
				if
				:: id != 0 ->
					printf("bind bond%d: mm%d, id %d\n", b, m, id);
					b_state[b] = BOND_ATTACHED; b_mm[b] = m; b_tag[b] = id
				:: else
				fi;
				settle()
			:: else
			fi;
			b = 0; m = 0; id = 0
		}
	   }
	:: atomic {
		ops < NOPS && !over -> select(b : 0 .. NBOND - 1);
		d_step {
			if
			:: b_state[b] == BOND_ATTACHED -> /* iommu_sva_unbind: stop the device, unlink */
				op_begin(0);
				printf("unbind bond%d: device stopped, unlinked\n", b);
				drop(IOMMU, b_tag[b]);
				b_state[b] = BOND_UNLINKED
			:: b_state[b] == BOND_UNLINKED -> /* its release */
				op_begin(0);
				sva_release(b)
			:: else
			fi;
			b = 0
		}
	   }
	od
}

/* The scheduler on CPU c: switches to a live mm (switch.c: mm_switch). */
proctype cpu(byte c)
{
	byte m, a, was, hw, old, runs, na, pass, id, p, k, j, s;
	bool fast, flush;
end:
	do
	:: atomic {
		ops < NOPS && !over && (c == 0 || begun) -> select(m : 1 .. NMM);
		if
		:: st[m] == MM_LIVE && m != loaded[c] && NAMEABLE(m) ->
			d_step { /* asid_for_switch: the fast path's three accesses */
				op_begin(m);
				begun = true;
				target[c] = m;
				printf("cpu%d: mm_switch(mm%d) from mm%d\n", c, m, loaded[c]);
#if !SWITCH_KEEPS_OLD_ROOT
				hw_mm[c] = 0; /* arch_mm_deactivate, before the id is taken */
				hw_tag[c] = 0;
#endif
				a = masid[m]; was = act[c]
			};
			window();
			fast = was != 0 && GEN(a) == gen;
			if
			:: fast ->
				window();
				if :: act[c] == was -> act[c] = a :: else -> fast = false fi
			:: else
			fi;
			if
			:: !fast ->
				d_step { /* under asid_lock, then the rollover flush after the unlock */
					make_current(m);
					flush = flush_due[c];
					flush_due[c] = false;
					act[c] = masid[m];
					for (k : 1 .. NID) { /* arch_tlb_flush_local_full */
						if :: flush -> drop(c, k) :: else fi
					}
					settle();
					a = masid[m]
				}
			:: else
			fi;
			d_step { hw = HW(a); a = 0; was = 0; fast = false; flush = false };
			window();
			d_step {
				ran[m] = ran[m] | (1 << c); /* cpumask_set_atomic(&next->cpus) */
				switch_in_tagged(c, m);
				settle()
			};
			window();
			d_step { /* arch_mm_activate: root and ASID in one register */
				printf("cpu%d: TTBR0 = mm%d's root, ASID %d\n", c, m, hw);
				loaded[c] = m; hw_mm[c] = m; hw_tag[c] = hw;
				target[c] = 0; hw = 0;
				settle()
			}
		:: else
		fi;
		m = 0
	   }
	od
}

/* life made first: pan tries the last made first, so searches and trails start with switches */
init
{
	byte i;
	atomic {
		run life();
		run sva();
		for (i : 0 .. NCPU - 1) {
			run cpu(i)
		}
		i = 0
	}
}
