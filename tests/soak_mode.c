// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak's live mode switches: now and then a soak thread asks the TLB
 * layer for another shootdown mode (tlb_mode_switch, what the console's
 * `tlb mode` does) while every soak thread runs in the mm. It must be
 * refused: requests in flight, deferred generations and the per-table
 * records all assume the mode they were made in, and a switch marks every
 * generation of every mm complete before the new mode starts.
 * tlb.break=mode_switch_ignores_users lets it go ahead with threads running:
 * a gather that deferred its change just before finds its generation
 * complete and skips its flush, and a CPU that cached the page reads the
 * frame after it was freed (the soak's stale report is the catch).
 *
 * What is asked for: the boot's mode, 15 times in 16 (the mode in force: a
 * live switch to it goes through the same check), else the other
 * generation mode; and the boot's mode whenever another is in force (only
 * after a broken switch). Under the break, flipping modes one try in four
 * hid the early completion (not caught in 10,000 cycles on x86-64; mmgen
 * defers nothing). When: each CPU's first call of the run and one in
 * SOAK_MODE_EVERY_CALLS after
 * (before each access and within long reads), and, widened, every other
 * call while a one-page change's flush decision is held open
 * (soak_span.c), the window where the early completion is seen: the page
 * is cleared and published, its flush not yet decided, and readers
 * invited to it still hold its entry.
 *
 * Invariants: on the correct kernel nothing changes (every try refused,
 * counted); after the run the boot's mode is in force again, also when a
 * broken switch went through.
 */
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "tests/soak.h"

#define SOAK_MODE_EVERY_CALLS 512 /* calls per try with no flush held (the first tries) */
#define SOAK_MODE_OTHER_EVERY 16  /* tries per one for the other mode, on average */

static struct {
	char boot[16]; /* the mode in force at the start ("" when not started) */
	uint64_t tries, refused, went;
	uint32_t calls[CPU_MAX]; /* per CPU: its soak thread's calls, held ones aside */
} mode;

void soak_mode_start(void)
{
	memset(&mode, 0, sizeof(mode));
	snprintf(mode.boot, sizeof(mode.boot), "%s", tlb_mode_word());
}

void soak_mode_try(uint64_t *rng)
{
	uint64_t dice = soak_rng_next(rng);
	/* Widened: while another change's flush is held open, every other call. */
	bool due = soak_span_flush_held()
		       ? dice % 2 == 0
		       : mode.calls[arch_cpu_id()]++ % SOAK_MODE_EVERY_CALLS == 0;
	if (!mode.boot[0] || !due)
		return;
	/* The boot's mode, unless a broken switch went through: then back to it. */
	const char *word = mode.boot;
	if (strcmp(tlb_mode_word(), mode.boot) == 0 && (dice >> 16) % SOAK_MODE_OTHER_EVERY == 0)
		word = strcmp(mode.boot, "mmgen") == 0 ? "gen" : "mmgen";
	char why[96];
	/*
	 * Called within accesses that expect faults (ktest_expect_fault): a
	 * fault inside the switch must panic, not be taken for the access's.
	 */
	struct thread *self = thread_current();
	struct arch_jmpbuf *fixup = self->fault_fixup;
	self->fault_fixup = NULL;
	int err = tlb_mode_switch(word, why, sizeof(why));
	self->fault_fixup = fixup;
	atomic_fetch_add(&mode.tries, 1);
	if (err == -EBUSY)
		atomic_fetch_add(&mode.refused, 1);
	else if (!err)
		atomic_fetch_add(&mode.went, 1);
}

void soak_mode_finish(uint64_t *tries, uint64_t *went)
{
	*tries = mode.tries;
	*went = mode.went;
	if (!mode.boot[0])
		return;
	if (mode.went || strcmp(tlb_mode_word(), mode.boot) != 0) {
		char why[96];
		if (tlb_mode_switch(mode.boot, why, sizeof(why)))
			printk("soak: the boot's TLB mode %s could not be put back: %s", mode.boot,
			       why);
	}
	if (mode.tries)
		printk("soak: %lu live mode switches tried, %lu refused, %lu went through",
		       (unsigned long)mode.tries, (unsigned long)mode.refused,
		       (unsigned long)mode.went);
	mode.boot[0] = 0;
}
