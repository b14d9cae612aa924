// SPDX-License-Identifier: BSD-2-Clause
/*
 * How the TLB layer is set up for this boot: the shootdown mode and
 * transport (`tlb=`), the range limits (the arch's, or `tlb.range_max=`),
 * and the test-only switches that break one invariant
 * each (`tlb.break=`, `tlb.skip_flush`). The keys are registered here, in
 * the kernel's one table of command-line keys (docs/cmdline.md), and read
 * once by tlb_setup().
 *
 * Invariants: tlb_mode and tlb_broadcast are written by tlb_setup(), on
 * the boot CPU, before any address space but the kernel's is used, and
 * afterwards only by tlb_mode_switch() while nothing runs in any address
 * space: requests in flight, deferred generations and the per-table
 * records all assume the mode they were made in, so the switch first
 * makes every CPU forget every mm and marks every generation complete,
 * leaving no such record to misread. tlb_broken is written by
 * tlb_setup() too, and otherwise only by tlb_break_arm() (the console's
 * `mutant`, a teaching aid that breaks the layer on purpose). Broadcast is chosen only where
 * arch_tlb_caps() offers it. At most one tlb.break= switch is set, and
 * setting one (or tlb.skip_flush) prints a warning that tests must fail.
 */
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/mm.h"
#include "kernel/mm/mm_internal.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"

enum tlb_mode tlb_mode = TLB_MODE_GEN;
bool tlb_broadcast;
enum tlb_break tlb_broken;
static unsigned range_max_override; /* tlb.range_max=; 0: the arch's */

/* The words of `tlb=`, in enum tlb_cmdline_mode order. */
enum tlb_cmdline_mode { TLB_CMD_GEN, TLB_CMD_IPI, TLB_CMD_MMGEN, TLB_CMD_BROADCAST };
CMDLINE_PARAM(tlb_mode_param, .key = "tlb", .kind = CMDLINE_ENUM,
	      .values = "gen|ipi|mmgen|broadcast", .def = "broadcast",
	      .help = "shootdown: gen and ipi (generations, IPIs), mmgen (per-mm generations "
		      "only), broadcast (hardware broadcast where there is one, else gen)");
/* The words of `tlb.break=`, in enum tlb_break order (tlb.h). */
CMDLINE_PARAM(tlb_break_param, .key = "tlb.break", .kind = CMDLINE_ENUM,
	      .values = "none|free_before_flush|no_defer_bump|skip_lazy_always|asid_no_carry|"
			"switch_order|kernel_local_only|settle_no_flush|nested_blind|"
			"lazy_no_catch_up|switch_no_catch_up|catch_up_skips_ring|"
			"asid_forget_reserved|replace_no_flush|asid_pin_ignored|"
			"defer_every_level|spare_switched_away|asid_orphan_freed|"
			"trace_records_off|mode_switch_ignores_users|batch_free_early|"
			"range_limit_off_by_one|batch_closes_at_hand_off|complete_to_before|"
			"refused_switch_forgets|asid_release_unused|mode_switch_ignores_ops",
	      .def = "none",
	      .help = "test-only: break one invariant of the TLB layer (tests must then fail)");
/*
 * At most 4096 pages (16 MiB): a CPU answering a shootdown invalidates up
 * to the limit page by page in its IPI handler, with interrupts off, and a
 * broadcast loops as long; a larger limit can hold a CPU for seconds under
 * TCG and trip the cross-call and ktest timeouts.
 */
CMDLINE_PARAM(tlb_range_max_param, .key = "tlb.range_max", .kind = CMDLINE_U64, .min = 0,
	      .max = 4096, .def = "0",
	      .help = "benchmarks: flush ranges past this many pages as the whole mm, on both "
		      "transports (0: the arch's measured limits)");
CMDLINE_PARAM(tlb_skip_flush_param, .key = "tlb.skip_flush", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: skip every gather's flush (the stale-TLB test must then fail)");

/* Sets the mode from a tlb= word's index (broadcast only where the CPU has it). */
static void set_mode(unsigned mode)
{
	WRITE_ONCE(tlb_broadcast, mode == TLB_CMD_BROADCAST && arch_tlb_caps()->broadcast);
	WRITE_ONCE(tlb_mode, mode == TLB_CMD_MMGEN ? TLB_MODE_MMGEN : TLB_MODE_GEN);
}

static void print_mode(void)
{
	printk("tlb: mode %s, %s",
	       tlb_mode == TLB_MODE_MMGEN ? "mmgen (per-mm generations only)"
					  : "gen (per-table deferral, ring)",
	       tlb_broadcast ? "broadcast invalidation" : "IPIs");
}

void tlb_setup(void)
{
	unsigned mode = cmdline_enum("tlb");
	set_mode(mode);
	unsigned broken = cmdline_enum("tlb.break");
	if (broken != TLB_BREAK_NONE) {
		tlb_broken = (enum tlb_break)broken;
		char name[32];
		cmdline_get("tlb.break", name, sizeof(name));
		printk("tlb: WARNING: invariant '%s' broken on purpose: tests must fail", name);
	}
	print_mode();
	range_max_override = (unsigned)cmdline_u64("tlb.range_max");
	/* One line in every boot: tools/bench_threshold.py reads the limits in force from it. */
	printk("tlb: whole-mm flush past %u pages (local), %u pages (broadcast)%s",
	       tlb_range_max_pages(false), tlb_range_max_pages(true),
	       range_max_override ? " (tlb.range_max)" : "");
	if (cmdline_has("tlb.skip_flush")) {
		/* Test-only: proves the stale-TLB test can see a missing flush. */
		tlb_test_skip_flush = true;
		printk("tlb: WARNING: flushes are skipped (tlb.skip_flush): tests must fail");
	}
}

unsigned tlb_range_max_pages(bool broadcast)
{
	unsigned limit = range_max_override ? range_max_override
			 : broadcast	    ? arch_tlb_caps()->broadcast_max_pages
					    : arch_tlb_caps()->range_max_pages;
	/* Broken on purpose: the limit counted one too low (a `>=` for a `>`). */
	return limit - (limit && tlb_broken_is(TLB_BREAK_RANGE_LIMIT_OFF_BY_ONE));
}

bool tlb_range_max_overridden(void)
{
	return range_max_override != 0;
}

const char *tlb_break_names(void)
{
	return cmdline_param_find(cmdline_table_builtin(), "tlb.break")->values;
}

bool tlb_break_arm(const char *name)
{
	const struct cmdline_param *p = cmdline_param_find(cmdline_table_builtin(), "tlb.break");
	uint64_t index;
	if (!cmdline_parse_value(p, name, strlen(name), &index))
		return false;
	WRITE_ONCE(tlb_broken, (enum tlb_break)index);
	if (index != TLB_BREAK_NONE)
		printk("tlb: WARNING: invariant '%s' broken on purpose (mutant): tests must fail",
		       name);
	return true;
}

const char *tlb_mode_word(void)
{
	if (tlb_broadcast)
		return "broadcast";
	return tlb_mode == TLB_MODE_MMGEN ? "mmgen" : "gen";
}

/* One switch's choices, made once at its start (tlb_break_arm may change tlb_broken meanwhile). */
struct switch_arg {
	unsigned next; /* the mode to write */
	/* Hold each mm's lock for write from its check to the end (not when broken). */
	bool take_lock;
	bool ignore_users; /* broken on purpose: tlb.break=mode_switch_ignores_users */
};

/*
 * Whether a switch must wait for `mm` (stopping the walk): -EBUSY while a
 * thread uses it, -EAGAIN while an operation on it is in flight without
 * one. Every change and fault holds mm->lock (for read) from before its
 * gather begins until after its flush, so the check takes it for write,
 * without waiting, and keeps it until release_op_lock, after the new mode
 * is written: an operation that starts meanwhile waits for it and runs
 * whole in the new mode. A gather left open past mm->lock (a TLB batch's)
 * is in flight too (gathers_active).
 */
static int check_unused(struct mm *mm, void *arg)
{
	const struct switch_arg *a = arg;
	if (a->ignore_users)
		return 0;
	if (READ_ONCE(mm->users))
		return -EBUSY;
	if (!a->take_lock) /* broken on purpose: an operation may have begun */
		return atomic_load_acquire(&mm->gathers_active) ? -EAGAIN : 0;
	if (!down_write_trylock(&mm->lock))
		return -EAGAIN;
	if (atomic_load_acquire(&mm->gathers_active)) {
		up_write(&mm->lock);
		return -EAGAIN;
	}
	return 0;
}

/* The last step of the hold, for each mm check_unused passed. */
static void release_op_lock(struct mm *mm, void *arg)
{
	const struct switch_arg *a = arg;
	if (a->take_lock)
		up_write(&mm->lock);
}

/*
 * Every CPU forgets the mm; with nothing cached anywhere, every generation
 * is done. Called once check_unused passed every mm, in the same hold of
 * the live list (except under tlb.break=refused_switch_forgets, and under
 * mode_switch_ignores_users an mm in use is only marked complete).
 */
static int forget_everywhere(struct mm *mm, void *arg)
{
	const struct switch_arg *a = arg;
	/*
	 * Every mm passed check_unused in this hold of the live list, and a
	 * thread is counted only under that lock (mm_add_user), so none can
	 * have started since. A user here means that rule was broken:
	 * marking its mm complete without the unload would let a gather skip
	 * its flush (review 30: the split check-then-forget model), so stop
	 * rather than corrupt.
	 */
	uint32_t users = READ_ONCE(mm->users); /* once: the panic and the unload decide alike */
	if (users && !a->ignore_users)
		panic("tlb_mode_switch: a thread started on an address space during the switch");
	if (!users)
		mm_unload_everywhere(mm);
	tlb_gen_complete(mm, atomic_load_acquire(&mm->tlb_gen));
	return 0;
}

/* The broken path's first pass: every mm passes, the check comes with each forget. */
static int pass_all(struct mm *mm, void *arg)
{
	(void)mm;
	(void)arg;
	return 0;
}

/* Broken on purpose: each mm is forgotten as soon as it passed, so a refusal comes half done. */
static int check_then_forget(struct mm *mm, void *arg)
{
	int err = check_unused(mm, arg);
	if (err)
		return err;
	err = forget_everywhere(mm, arg);
	release_op_lock(mm, arg);
	return err;
}

/* The switch's last step, in the hold of the live list (mm_for_each_live_checked). */
static void commit_mode(void *arg)
{
	set_mode(((const struct switch_arg *)arg)->next);
}

int tlb_mode_switch(const char *word, char *why, size_t len)
{
	const struct cmdline_param *p = cmdline_param_find(cmdline_table_builtin(), "tlb");
	uint64_t mode;
	if (!cmdline_parse_value(p, word, strlen(word), &mode)) {
		snprintf(why, len, "'%s' is not one of %s", word, p->values);
		return -EINVAL;
	}
	if (mode == TLB_CMD_BROADCAST && !arch_tlb_caps()->broadcast) {
		snprintf(why, len, "this CPU has no hardware broadcast invalidation");
		return -EINVAL;
	}
	/*
	 * One hold of the live list: the check of every mm before any is
	 * forgotten, and the new mode written before the hold ends, so a
	 * thread whose start waited for it (mm_add_user) runs in the new mode.
	 */
	struct switch_arg a = {
	    .next = (unsigned)mode,
	    .ignore_users = tlb_broken_is(TLB_BREAK_MODE_SWITCH_IGNORES_USERS),
	};
	a.take_lock = !a.ignore_users && !tlb_broken_is(TLB_BREAK_MODE_SWITCH_IGNORES_OPS);
	int busy =
	    tlb_broken_is(TLB_BREAK_REFUSED_SWITCH_FORGETS)
		? mm_for_each_live_checked(pass_all, check_then_forget, commit_mode, NULL, &a)
		: mm_for_each_live_checked(check_unused, forget_everywhere, commit_mode,
					   release_op_lock, &a);
	if (busy) {
		snprintf(why, len, "%s: switch when none runs",
			 busy == -EBUSY ? "a thread is using an address space"
					: "an operation on an address space is in flight");
		return -EBUSY;
	}
	print_mode();
	return 0;
}
