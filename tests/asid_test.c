// SPDX-License-Identifier: BSD-2-Clause
/*
 * asid suite: the ASID allocator's promise that the id an mm is flushed by
 * is the id every CPU running it uses, across rollovers.
 *
 * QEMU cannot show this bug as a stale access: its software TLB drops
 * every entry of the translation regime on a TLBI by ASID, whatever the
 * ASID. A real core keeps entries tagged with other ids, so the test checks
 * the invariant itself: the id a CPU's hardware runs with, read back from
 * the register the walker uses (arch_mm_active_asid: TTBR0_EL1.ASID), equals
 * the id its mm's flushes use (asid_hw). The allocator's own record
 * (asid_active_hw) is not evidence: it is what a bug would get wrong.
 * A pinned id (an IOMMU shares it) must survive rollovers and stay the
 * pinned mm's alone, and one reserved without an mm, or outliving its mm,
 * must stay nobody's until it is unpinned.
 */
#include "kernel/mm/asid.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "kernel/xcall.h"
#include "tests/ktest.h"

static void nothing(void *arg)
{
	(void)arg;
}

/* Switches `cpu` to `mm` and back to its idle thread (which keeps `mm` loaded, lazily). */
static bool visit(unsigned cpu, struct mm *mm)
{
	struct thread *th = thread_create_mm("asid-visit", cpu, mm, nothing, NULL);
	if (!th)
		return false;
	thread_join(th);
	return true;
}

static void read_active_asid(void *arg)
{
	*(unsigned *)arg = arch_mm_active_asid();
}

/* The id CPU `cpu`'s hardware runs with now (whatever thread runs there). */
static unsigned hw_asid_on(unsigned cpu)
{
	unsigned id = ~0u;
	xcall(cpumask_of(cpu), read_active_asid, &id, XCALL_WAIT);
	return id;
}

/* M and `n` other mms, or false (none left allocated; the case then ends). */
static bool make_mms(struct ktest *t, struct mm **m, struct mm **o, unsigned n)
{
	*m = mm_create();
	bool ok = *m != NULL;
	for (unsigned i = 0; i < n; i++) {
		o[i] = mm_create();
		ok = ok && o[i] != NULL;
	}
	EXPECT_TRUE(t, ok);
	if (!ok) {
		if (*m)
			mm_destroy(*m);
		for (unsigned i = 0; i < n; i++)
			if (o[i])
				mm_destroy(o[i]);
	}
	return ok;
}

static void destroy_mms(struct mm *m, struct mm **o, unsigned n)
{
	mm_destroy(m);
	for (unsigned i = 0; i < n; i++)
		mm_destroy(o[i]);
}

enum { IDLE_OTHERS = 6 };

/* What the idle-CPU cases share: the CPU left running M, M and IDLE_OTHERS more mms. */
struct idle_case {
	unsigned here, idle;
	struct mm *m, *o[IDLE_OTHERS];
	uint64_t rollovers; /* asid_stats.rollovers at the start */
	bool ok;	    /* every visit so far worked */
};

/*
 * Starts an idle-CPU case: skips it without ASIDs or a second CPU, makes
 * the mms (false: none left, the case ends), limits the ids to 1 to 4
 * (enough that a rollover always frees one, two CPUs holding reservations;
 * few enough to roll over twice) and leaves M running on the idle CPU
 * (the highest online one but this).
 */
static bool idle_case_start(struct ktest *t, struct idle_case *c)
{
	if (arch_tlb_caps()->asid_bits == 0)
		KTEST_SKIP(t, "no ASIDs on this arch (loading a root flushes)");
	cpumask_t on = cpumask_read(&cpu_online_mask);
	if (cpumask_weight(on) < 2)
		KTEST_SKIP(t, "needs a second CPU that stays in the mm");
	c->here = c->idle = arch_cpu_id();
	for_each_cpu(cpu, on) if (cpu != c->here) c->idle = cpu;
	if (!make_mms(t, &c->m, c->o, IDLE_OTHERS))
		return false;
	c->rollovers = asid_stats.rollovers;
	asid_test_limit(5);
	c->ok = visit(c->idle, c->m);
	return true;
}

/*
 * CPU `idle` runs M and never switches again. Two rollovers happen on
 * another CPU, M visiting that CPU in between (so M's asid moves to the
 * second generation by keeping its reserved id). Without carrying the
 * idle CPU's record along, the second rollover reserves M's id under its
 * first-generation value, M no longer matches it and gets a new id, and
 * flushes of M miss the idle CPU.
 */
static void idle_cpu_keeps_the_id_its_mm_has(struct ktest *t)
{
	struct idle_case c;
	if (!idle_case_start(t, &c))
		return;
	unsigned here = c.here, idle = c.idle;
	struct mm *m = c.m, **o = c.o;
	uint64_t rollovers = c.rollovers;
	bool ok = c.ok;
	/* Rollover 1: M keeps its id there, reserved by the idle CPU. */
	for (unsigned i = 0; i < 4; i++) {
		ok = ok && visit(here, o[i]);
		EXPECT_NE(t, asid_hw(o[i]), 0u);
	}
	ok = ok && visit(here, m); /* M moves to the new generation, same id */
	/* Rollover 2 (M no longer on this CPU): */
	for (unsigned i = 4; i < IDLE_OTHERS; i++) {
		ok = ok && visit(here, o[i]);
		EXPECT_NE(t, asid_hw(o[i]), 0u);
	}
	ok = ok && visit(here, m); /* M is given an id again */
	asid_test_limit(0);
	EXPECT_TRUE(t, ok);
	EXPECT_GE(t, asid_stats.rollovers - rollovers, 2u);
	/* The idle CPU still runs M: flushes of M must use the id its TTBR0 holds. */
	unsigned runs = hw_asid_on(idle);
	EXPECT_EQ(t, runs, asid_hw(m));
	EXPECT_NE(t, runs, 0u);
	ktest_log(t, "cpu%u runs id %u (allocator's record %u), M is flushed by id %u, %lu "
		  "rollovers",
		  idle, runs, asid_active_hw(idle), asid_hw(m),
		  (unsigned long)(asid_stats.rollovers - rollovers));
	destroy_mms(m, o, IDLE_OTHERS);
}

/*
 * An mm that never ran has no id, and its release must leave every
 * reservation alone. The idle CPU runs M across a rollover, so it has not
 * switched since: its active record is 0 and its reservation is what it
 * runs. An mm that never ran is then destroyed; with the match of its id
 * 0 against that 0 (tlb.break=asid_release_unused, the kernel before the
 * fix) the reservation went, the second rollover did not keep M's id, and
 * M, visiting this CPU, was given a new one while the idle CPU still ran
 * it with the old: flushes of M missed it. What catches it every time is
 * another mm given the id the idle CPU runs with (and the allocator's
 * record); M itself may draw its old id again by chance.
 */
static void unused_mm_release_keeps_reservations(struct ktest *t)
{
	struct idle_case c;
	if (!idle_case_start(t, &c))
		return;
	unsigned here = c.here, idle = c.idle;
	struct mm *m = c.m, **o = c.o;
	uint64_t rollovers = c.rollovers;
	bool ok = c.ok;
	unsigned id = asid_hw(m);
	for (unsigned i = 0; i < 4; i++) /* rollover 1: M's id reserved by the idle CPU */
		ok = ok && visit(here, o[i]);
	EXPECT_GE(t, asid_stats.rollovers - rollovers, 1u);
	struct mm *unused = mm_create();
	EXPECT_TRUE(t, unused != NULL);
	if (unused)
		mm_destroy(unused);
	unsigned recorded = asid_active_hw(idle);
	/* More rollovers: the idle CPU still runs M with `id`, so no other mm may have it. */
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < IDLE_OTHERS; i++) {
			ok = ok && visit(here, o[i]);
			EXPECT_NE(t, asid_hw(o[i]), id);
		}
	}
	ok = ok && visit(here, m);
	asid_test_limit(0);
	EXPECT_TRUE(t, ok);
	EXPECT_GE(t, asid_stats.rollovers - rollovers, 2u);
	EXPECT_EQ(t, recorded, id); /* the reservation survived the release */
	unsigned runs = hw_asid_on(idle);
	EXPECT_EQ(t, runs, asid_hw(m));
	EXPECT_EQ(t, asid_hw(m), id);
	ktest_log(t,
		  "cpu%u runs id %u (recorded %u after the release), M is flushed by id %u, "
		  "%lu rollovers",
		  idle, runs, recorded, asid_hw(m),
		  (unsigned long)(asid_stats.rollovers - rollovers));
	destroy_mms(m, o, IDLE_OTHERS);
}

/*
 * A switch to an mm whose id is of the current generation takes the
 * allocator's fast path (no lock) and loads that id: here two mms take
 * turns on this CPU, each switch back keeping its id.
 */
static void current_id_switch_takes_no_lock(struct ktest *t)
{
	if (arch_tlb_caps()->asid_bits == 0)
		KTEST_SKIP(t, "no ASIDs on this arch (loading a root flushes)");
	unsigned here = arch_cpu_id();
	struct mm *a = mm_create(), *b = mm_create();
	ASSERT_TRUE(t, a != NULL && b != NULL);
	bool ok = visit(here, a) && visit(here, b); /* both get ids (the slow path) */
	unsigned ida = asid_hw(a), idb = asid_hw(b);
	uint64_t rollovers = asid_stats.rollovers, fast = asid_fast_switches(here);
	for (unsigned i = 0; i < 4; i++)
		ok = ok && visit(here, a) && visit(here, b);
	EXPECT_TRUE(t, ok);
	uint64_t took = asid_fast_switches(here) - fast;
	ktest_log(t, "8 switches, %lu on the fast path", (unsigned long)took);
	if (asid_stats.rollovers == rollovers) {
		EXPECT_EQ(t, took, 8u);
		EXPECT_EQ(t, asid_hw(a), ida);
		EXPECT_EQ(t, asid_hw(b), idb);
	}
	EXPECT_EQ(t, hw_asid_on(here), asid_hw(b)); /* this thread borrows b, still loaded */
	mm_destroy(a);
	mm_destroy(b);
}

enum { OTHERS = 10 };

/* The pinning cases' start (skipped without ASIDs): M and OTHERS other mms, or false. */
static bool pin_case_mms(struct ktest *t, struct mm **m, struct mm **o)
{
	if (arch_tlb_caps()->asid_bits == 0)
		KTEST_SKIP(t, "no ASIDs on this arch (nothing to pin)");
	return make_mms(t, m, o, OTHERS);
}

/*
 * A pinned id (asid_pin: an SMMU context descriptor tags the mm's
 * translations with it) outlives rollovers: M is pinned, never runs, and
 * other mms churn through ids 1 to 5 until at least two rollovers have
 * happened. No other mm may be given M's id meanwhile (the IOMMU would
 * take its translations for M's), and when M runs its CPU uses that id.
 * Fails under tlb.break=asid_pin_ignored.
 */
static void pinned_id_survives_rollover(struct ktest *t)
{
	unsigned here = arch_cpu_id();
	struct mm *m, *o[OTHERS];
	if (!pin_case_mms(t, &m, o))
		return;
	uint64_t rollovers = asid_stats.rollovers;
	/* Six ids: one pinned, two reserved by the CPUs here, so every rollover frees some. */
	asid_test_limit(6);
	unsigned id = asid_pin(m);
	EXPECT_NE(t, id, 0u);
	EXPECT_EQ(t, asid_pin(m), id); /* pins nest */
	bool ok = true;
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < OTHERS; i++) {
			ok = ok && visit(here, o[i]);
			EXPECT_NE(t, asid_hw(o[i]), id);
		}
	}
	ok = ok && visit(here, m);
	unsigned runs = hw_asid_on(here);
	asid_test_limit(0);
	EXPECT_TRUE(t, ok);
	EXPECT_GE(t, asid_stats.rollovers - rollovers, 2u);
	EXPECT_EQ(t, asid_hw(m), id);
	EXPECT_EQ(t, runs, id);
	ktest_log(t, "pinned id %u, %lu rollovers, M runs with id %u", id,
		  (unsigned long)(asid_stats.rollovers - rollovers), runs);
	asid_unpin_id(id);
	asid_unpin_id(id);
	destroy_mms(m, o, OTHERS);
}

/*
 * Pinned ids that no mm owns: R is reserved (asid_reserve, as for a
 * shadow domain on the SMMU) and M's pinned id P outlives M (mm_destroy
 * while pinned: an SVA unbind racing the teardown). Neither id may be
 * given to another mm across two rollovers; asid_unpin_id then frees
 * both without any mm, and ids are handed out again. Fails under
 * tlb.break=asid_orphan_freed (P goes back to the pool with M) and
 * tlb.break=asid_pin_ignored.
 */
static void pins_without_an_mm_keep_their_ids(struct ktest *t)
{
	unsigned here = arch_cpu_id();
	struct mm *m, *o[OTHERS];
	if (!pin_case_mms(t, &m, o))
		return;
	unsigned held = asid_pins_held();
	uint64_t rollovers = asid_stats.rollovers;
	/* Seven ids: two pinned, two reserved by the CPUs here, so every rollover frees some. */
	asid_test_limit(7);
	unsigned r = asid_reserve(), p = asid_pin(m);
	EXPECT_NE(t, r, 0u);
	EXPECT_NE(t, p, 0u);
	EXPECT_NE(t, r, p);
	mm_destroy(m); /* still pinned: no panic, and P stays taken */
	EXPECT_EQ(t, asid_pins_held(), held + 2);
	bool ok = true;
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < OTHERS; i++) {
			ok = ok && visit(here, o[i]);
			EXPECT_NE(t, asid_hw(o[i]), r);
			EXPECT_NE(t, asid_hw(o[i]), p);
		}
	}
	EXPECT_GE(t, asid_stats.rollovers - rollovers, 2u);
	asid_unpin_id(r);
	asid_unpin_id(p);
	EXPECT_EQ(t, asid_pins_held(), held);
	/* Both free again: churning the others through the five ids gives both out. */
	bool r_reused = false, p_reused = false;
	for (unsigned round = 0; round < 2; round++) {
		for (unsigned i = 0; i < OTHERS; i++) {
			ok = ok && visit(here, o[i]);
			r_reused = r_reused || asid_hw(o[i]) == r;
			p_reused = p_reused || asid_hw(o[i]) == p;
		}
	}
	asid_test_limit(0);
	EXPECT_TRUE(t, ok);
	EXPECT_TRUE(t, r_reused);
	EXPECT_TRUE(t, p_reused);
	ktest_log(t, "reserved id %u, orphaned id %u, %lu rollovers", r, p,
		  (unsigned long)(asid_stats.rollovers - rollovers));
	for (unsigned i = 0; i < OTHERS; i++)
		mm_destroy(o[i]);
}

static const struct ktest_case asid_cases[] = {
    KTEST_CASE(idle_cpu_keeps_the_id_its_mm_has),  KTEST_CASE(unused_mm_release_keeps_reservations),
    KTEST_CASE(current_id_switch_takes_no_lock),   KTEST_CASE(pinned_id_survives_rollover),
    KTEST_CASE(pins_without_an_mm_keep_their_ids), KTEST_END,
};
KTEST_SUITE(asid_suite, "asid", asid_cases);
