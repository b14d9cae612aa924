// SPDX-License-Identifier: BSD-2-Clause
/*
 * Allocation-failure injection for kernel/mm (the contract is in
 * failinject.h) and the `mm.break=` switches.
 *
 * One window at a time, for tests that run one at a time: the window's
 * fields are written by mm_fail_arm/disarm while no counted allocation
 * runs (the scenario is quiet), and read by the sites with atomics. The
 * count is one atomic counter, so with MM_FAIL_ANY_CPU exactly one
 * allocation, whichever CPU makes it, draws number `nth`.
 */
#include "kernel/mm/failinject.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"

CMDLINE_PARAM(fail_nth_param, .key = "fail.nth", .kind = CMDLINE_U64, .min = 1, .max = 1000000000,
	      .def = "1", .fallback = "no injected failure",
	      .help = "test-only: the Nth allocation in kernel/mm after the tests start fails");
/* The words of `mm.break=`, in enum mm_break order. */
CMDLINE_PARAM(mm_break_param, .key = "mm.break", .kind = CMDLINE_ENUM,
	      .values = "none|leak_pte|fill_leak|unmap_vma_alive|fault_removes_perm|mark_unowned",
	      .def = "none",
	      .help = "test-only: break one invariant of kernel/mm (the audit, failinject or "
		      "concur suite must then fail)");

static bool armed;
static unsigned armed_cpu;
static uint64_t fail_nth, counted, counted_site[MM_ALLOC_NR_SITES];
static int fired_site = -1;
static bool announce; /* the boot switch's window prints the failure */
static uint32_t always_sites; /* mm_fail_site_always: a bit per site */

static const char *const site_names[MM_ALLOC_NR_SITES] = {
    [MM_ALLOC_MM] = "mm_create: struct mm",
    [MM_ALLOC_PT_ROOT] = "pt_init: root table",
    [MM_ALLOC_PT_TABLE] = "pt_run: table reserve",
    [MM_ALLOC_PT_TOP] = "pt_ensure_top_table: top table",
    [MM_ALLOC_FILL] = "resolve_page: anonymous page",
    [MM_ALLOC_BATCH] = "tlb_reserve_space: gather batch",
    [MM_ALLOC_VMA] = "vma_alloc: VMA",
    [MM_ALLOC_MN_MM] = "mn_mm_get: notifier state",
    [MM_ALLOC_RECLAIM] = "tlb_batch_init: entries page",
};

const char *mm_alloc_site_name(enum mm_alloc_site site)
{
	return site < MM_ALLOC_NR_SITES ? site_names[site] : "?";
}

bool mm_alloc_fails(enum mm_alloc_site site)
{
	if (atomic_load_relaxed(&always_sites) & (1u << site))
		return true;
	if (!atomic_load_acquire(&armed))
		return false;
	if (armed_cpu != MM_FAIL_ANY_CPU && arch_cpu_id() != armed_cpu)
		return false;
	atomic_fetch_add(&counted_site[site], 1);
	uint64_t n = atomic_fetch_add(&counted, 1) + 1;
	if (n != fail_nth)
		return false;
	atomic_store_release(&fired_site, (int)site);
	if (announce)
		printk("fail: allocation %lu in kernel/mm (%s) fails on purpose (fail.nth)",
		       (unsigned long)n, site_names[site]);
	return true;
}

void mm_fail_site_always(enum mm_alloc_site site, bool on)
{
	if (on)
		atomic_fetch_or(&always_sites, 1u << site);
	else
		atomic_fetch_and(&always_sites, ~(1u << site));
}

void mm_fail_arm(unsigned cpu, uint64_t nth)
{
	atomic_store_release(&armed, false);
	armed_cpu = cpu;
	fail_nth = nth;
	counted = 0;
	for (unsigned i = 0; i < MM_ALLOC_NR_SITES; i++)
		counted_site[i] = 0;
	fired_site = -1;
	announce = false;
	atomic_store_release(&armed, true);
}

uint64_t mm_fail_disarm(uint64_t per_site[MM_ALLOC_NR_SITES])
{
	atomic_store_release(&armed, false);
	if (per_site)
		for (unsigned i = 0; i < MM_ALLOC_NR_SITES; i++)
			per_site[i] = atomic_load_relaxed(&counted_site[i]);
	return atomic_load_relaxed(&counted);
}

bool mm_fail_fired(enum mm_alloc_site *site)
{
	int s = atomic_load_acquire(&fired_site);
	if (s >= 0 && site)
		*site = (enum mm_alloc_site)s;
	return s >= 0;
}

bool mm_fail_boot_arm(void)
{
	uint64_t nth;
	if (!cmdline_get_u64("fail.nth", &nth))
		return false;
	mm_fail_arm(MM_FAIL_ANY_CPU, nth);
	announce = true;
	printk("fail: WARNING: allocation %lu in kernel/mm from now on fails (fail.nth)",
	       (unsigned long)nth);
	return true;
}

bool mm_broken_is(enum mm_break which)
{
	static int broken = -1; /* read once: the command line does not change */
	int b = atomic_load_relaxed(&broken);
	if (b < 0) {
		b = (int)cmdline_enum("mm.break");
		if (b != MM_BREAK_NONE)
			printk("mm: WARNING: mm.break is set: tests must fail");
		atomic_store_relaxed(&broken, b);
	}
	return b == (int)which;
}
