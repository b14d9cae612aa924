// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's quiet reclaims: each thread's first reclaim and one in
 * SOAK_QUIET_EVERY after run while no other soak thread has a gather of the
 * mm open.
 *
 * A reclaim (soak_change.c) takes a page into its thread's TLB batch, whose
 * handed-off gather stays open, then unmaps the page with vm_unmap, which
 * finds nothing left to clear. In tlb=mmgen and with a broadcast, that
 * nested gather flushes only because it counts another gather open on the
 * mm (gather.c, nested_blind). While other threads change their pages or
 * hold their own batches, it counts theirs too and flushes anyway; and
 * the reclaiming CPU itself rarely keeps the page's entry that long (its
 * IOMMU syncs sleep, and coming back it catches up past its own batch's
 * generation). So a kernel that drops the batch's count
 * (tlb.break=batch_closes_at_hand_off) or ignores it (nested_blind) was
 * caught only when no other gather happened to be open while some CPU held
 * the page: a few seconds on average, once not in 30,000 cycles.
 *
 * A quiet reclaim makes that the case, as on a real machine where a
 * reclaim pass unmaps from an mm that is otherwise idle: no other thread
 * has a gather of the mm open, and they all read the page meanwhile.
 * Each soak thread is "busy" from the start of its change until its batch
 * is flushed (the end of its change when it holds none). The quiet thread
 * publishes itself and its page, then waits for every other thread to be
 * not busy and for one to have read the page; a thread about to begin a
 * change publishes itself busy, then looks for a quiet thread, and if there
 * is one steps back and reads the page until the quiet ends. Both sides
 * store, then fence, then load, so at least one sees the other. The quiet
 * lasts until the reclaiming thread's first access (to the page it
 * reclaimed) is judged. Every wait of the quiet thread is bounded: past
 * SOAK_QUIET_NS (per 4 threads) the reclaim goes ahead unquiet.
 */
#include "kernel/atomic.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "tests/soak.h"

#define SOAK_QUIET_EVERY 8 /* reclaims per quiet one */
/* At most (per 4 threads), a quiet reclaim waits for the others. */
#define SOAK_QUIET_NS 250000000u

/* One word, so that a reader never pairs one thread's quiet with another's page. */
#define QUIET_OWNER(me, slot) ((me) + 1 + ((uint32_t)(slot) << 8))
#define QUIET_THREAD(owner)   (((owner)&0xff) - 1)
#define QUIET_SLOT(owner)     ((owner) >> 8)
_Static_assert(CPU_MAX < 0xff, "a thread's index fits the owner word's low byte");

static struct {
	unsigned threads;
	uint32_t owner; /* 1 + the index of the quiet thread, its page above (QUIET_OWNER), or 0 */
	uint32_t busy[CPU_MAX];
	bool tried[CPU_MAX];	 /* each thread's first reclaim is a quiet one */
	uint64_t quiet, unquiet; /* reclaims run quiet; given up waiting */
} quiet;

void soak_quiet_start(unsigned threads)
{
	quiet.threads = threads;
	quiet.owner = 0;
	for (unsigned i = 0; i < CPU_MAX; i++) {
		quiet.busy[i] = 0;
		quiet.tried[i] = false;
	}
	quiet.quiet = quiet.unquiet = 0;
}

bool soak_busy_enter(unsigned me, unsigned *slot)
{
	atomic_store_relaxed(&quiet.busy[me], 1);
	smp_mb(); /* busy before the look at `owner`: soak_quiet_begin's fence pairs */
	uint32_t owner = atomic_load_relaxed(&quiet.owner);
	if (owner == 0 || QUIET_THREAD(owner) == me)
		return true;
	atomic_store_release(&quiet.busy[me], 0);
	*slot = QUIET_SLOT(owner);
	return false;
}

struct pause {
	uint32_t owner; /* the quiet paused for */
	unsigned me;
};

static bool pause_over(void *arg)
{
	const struct pause *p = arg;
	return atomic_load_acquire(&quiet.owner) != p->owner || soak_stage_wants(p->me);
}

void soak_quiet_pause(unsigned me)
{
	struct pause p = {.owner = atomic_load_acquire(&quiet.owner), .me = me};
	if (p.owner)
		soak_spin_until(pause_over, &p, arch_time_ns() + SOAK_QUIET_NS);
}

void soak_busy_exit(unsigned me)
{
	atomic_store_release(&quiet.busy[me], 0);
}

static bool not_busy(void *t)
{
	return !atomic_load_acquire(&quiet.busy[*(unsigned *)t]);
}

static uint32_t visits_before;

static bool visited(void *slot)
{
	return atomic_load_acquire(&soak_slot(*(unsigned *)slot)->visits) != visits_before;
}

/* The claim; *gave_up: the wait for the others timed out (not: another thread holds it). */
static bool claim(unsigned me, unsigned slot, bool *gave_up)
{
	uint32_t none = 0;
	*gave_up = false;
	if (quiet.threads < 2 || !atomic_cmpxchg(&quiet.owner, &none, QUIET_OWNER(me, slot)))
		return false;
	smp_mb(); /* `owner` before the look at `busy`: soak_busy_enter's fence pairs */
	visits_before = atomic_load_acquire(&soak_slot(slot)->visits);
	uint64_t until = soak_deadline(SOAK_QUIET_NS, quiet.threads);
	for (unsigned t = 0; t < quiet.threads; t++) {
		if (t != me && !soak_spin_until(not_busy, &t, until)) {
			soak_quiet_end(me);
			*gave_up = true;
			return false;
		}
	}
	return true;
}

bool soak_quiet_claim(unsigned me, unsigned slot)
{
	bool gave_up;
	return claim(me, slot, &gave_up);
}

bool soak_quiet_begin(unsigned me, unsigned slot, uint64_t *rng)
{
	if (quiet.threads < 2)
		return false;
	bool due = !quiet.tried[me] || soak_rng_next(rng) % SOAK_QUIET_EVERY == 0;
	bool gave_up = false;
	if (!due || !claim(me, slot, &gave_up)) {
		atomic_fetch_add(&quiet.unquiet, gave_up);
		return false;
	}
	if (!soak_spin_until(visited, &slot, soak_deadline(SOAK_QUIET_NS, quiet.threads))) {
		soak_quiet_end(me);
		atomic_fetch_add(&quiet.unquiet, 1);
		return false;
	}
	quiet.tried[me] = true; /* a first reclaim that gave up: the next one tries again */
	atomic_fetch_add(&quiet.quiet, 1);
	return true;
}

void soak_quiet_end(unsigned me)
{
	/* Only the quiet thread clears it. */
	uint32_t owner = atomic_load_relaxed(&quiet.owner);
	if (owner && QUIET_THREAD(owner) == me)
		atomic_store_release(&quiet.owner, 0);
}

void soak_quiet_counts(uint64_t *quiet_reclaims, uint64_t *unquiet)
{
	*quiet_reclaims = atomic_load_relaxed(&quiet.quiet);
	*unquiet = atomic_load_relaxed(&quiet.unquiet);
}
