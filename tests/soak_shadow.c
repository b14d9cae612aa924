// SPDX-License-Identifier: BSD-2-Clause
/*
 * The soak through the shadow TLB (`soak.shadow`; kernel/mm/tlb_shadow.h):
 * each access first asks the CPU's shadow for the page, as a tagged TLB
 * with walk caches would be asked. A hit is used as hardware would use
 * it: the page's words are read from the frame the entry names (through
 * the direct map, so a stale entry reads a freed frame's poison or an
 * older mapping's tag), and the access cannot fault; the judge then rules
 * on what was seen exactly as for a real access. A miss makes the real
 * access and fills the shadow from the tables. A write is made only
 * through a real translation: a hit's write is judged, not done (the frame
 * may be anything by now).
 *
 * This shows what QEMU hides: its TLB drops every entry at an ASID change
 * and caches no table pointers, so a tagged-TLB hazard (a switch-in that
 * does not catch up, an ASID two mms share) or a walker still holding a
 * freed table never reads stale data there. The shadow's own check of
 * freed tables (tlb_shadow_table_freed) is reported here as a stale access
 * of the walk.
 */
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/tlb_shadow.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "tests/ktest.h"
#include "tests/soak.h"
#include "tests/soak_run.h"

CMDLINE_PARAM(soak_shadow_param, .key = "soak.shadow", .kind = CMDLINE_FLAG,
	      .help = "the soak's accesses go through the shadow TLB model first, which keeps "
		      "tagged entries and walk caches as hardware does (docs/reliability.md)");

bool soak_shadow_start(void)
{
	if (!cmdline_present("soak.shadow"))
		return false;
	tlb_shadow_start();
	printk("soak: accesses go through the shadow TLB first (tagged entries, walk caches)");
	return true;
}

bool soak_shadow_read(virt_addr_t va, bool write, uint64_t *seen_va, uint64_t *seen_gen)
{
	struct tlb_shadow_hit hit;
	uint64_t words[2];
	if (!tlb_shadow_on || !tlb_shadow_lookup(va, &hit, words, 2))
		return false;
	if (write && !hit.writable)
		return false; /* hardware faults on it and walks again: the real access does */
	*seen_va = words[0];
	*seen_gen = words[1];
	return true;
}

void soak_shadow_filled(virt_addr_t va)
{
	if (tlb_shadow_on)
		tlb_shadow_fill(va);
}

void soak_shadow_check(void)
{
	struct tlb_shadow_violation v;
	if (!tlb_shadow_on || !tlb_shadow_violated(&v))
		return;
	struct soak_report r = {.cpu = v.cpu, .va = v.va, .walk = true, .frame = v.table};
	snprintf(r.what, sizeof(r.what),
		 "its page walker may still hold the freed level-%u table %#lx (ASID %u)", v.level,
		 (unsigned long)v.table, v.asid);
	soak_fail(&r);
}

void soak_shadow_finish(struct ktest *t, bool judged)
{
	if (!tlb_shadow_on)
		return;
	tlb_shadow_stop();
	struct tlb_shadow_counts c;
	tlb_shadow_counts(&c);
	printk("soak: shadow TLB: %lu fills, %lu hits, %lu entries dropped, %lu freed tables "
	       "checked",
	       (unsigned long)c.fills, (unsigned long)c.hits, (unsigned long)c.drops,
	       (unsigned long)c.tables_checked);
	if (judged) { /* the model was really used, not just switched on */
		EXPECT_GT(t, c.fills, 0u);
		EXPECT_GT(t, c.hits, 0u);
		EXPECT_GT(t, c.drops, 0u);
	}
}
