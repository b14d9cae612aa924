// SPDX-License-Identifier: BSD-2-Clause
/*
 * How the TLB layer is set up for this boot: the shootdown mode and
 * transport (`tlb=`), and the test-only switches that break one invariant
 * each (`tlb.break=`, `tlb.skip_flush`). The keys are registered here, in
 * the kernel's one table of command-line keys (docs/cmdline.md), and read
 * once by tlb_setup().
 *
 * Invariants: tlb_mode and tlb_broadcast are written only by tlb_setup(),
 * on the boot CPU, before any address space but the kernel's is used, and
 * never change afterwards: requests in flight, deferred generations and
 * the per-table records all assume the mode they were made in, so there
 * is no safe moment to switch it live. tlb_broken is written by
 * tlb_setup() too, and otherwise only by tlb_break_arm() (the console's
 * `mutant`, a teaching aid that breaks the layer on purpose). Broadcast is chosen only where
 * arch_tlb_caps() offers it. At most one tlb.break= switch is set, and
 * setting one (or tlb.skip_flush) prints a warning that tests must fail.
 */
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/mm/gather.h"
#include "kernel/mm/tlb.h"
#include "kernel/printk.h"
#include "lib/string.h"

enum tlb_mode tlb_mode = TLB_MODE_GEN;
bool tlb_broadcast;
enum tlb_break tlb_broken;

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
			"trace_records_off",
	      .def = "none",
	      .help = "test-only: break one invariant of the TLB layer (tests must then fail)");
CMDLINE_PARAM(tlb_skip_flush_param, .key = "tlb.skip_flush", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "test-only: skip every gather's flush (the stale-TLB test must then fail)");

void tlb_setup(void)
{
	unsigned mode = cmdline_enum("tlb");
	tlb_broadcast = mode == TLB_CMD_BROADCAST && arch_tlb_caps()->broadcast;
	tlb_mode = mode == TLB_CMD_MMGEN ? TLB_MODE_MMGEN : TLB_MODE_GEN;
	unsigned broken = cmdline_enum("tlb.break");
	if (broken != TLB_BREAK_NONE) {
		tlb_broken = (enum tlb_break)broken;
		char name[32];
		cmdline_get("tlb.break", name, sizeof(name));
		printk("tlb: WARNING: invariant '%s' broken on purpose: tests must fail", name);
	}
	printk("tlb: mode %s, %s",
	       tlb_mode == TLB_MODE_MMGEN ? "mmgen (per-mm generations only)"
					  : "gen (per-table deferral, ring)",
	       tlb_broadcast ? "broadcast invalidation" : "IPIs");
	if (cmdline_has("tlb.skip_flush")) {
		/* Test-only: proves the stale-TLB test can see a missing flush. */
		tlb_test_skip_flush = true;
		printk("tlb: WARNING: flushes are skipped (tlb.skip_flush): tests must fail");
	}
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
