// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the boot CPU is and what its TLB offers, from CPUID, read once
 * before kernel_main: one log line naming the CPU (vendor, family, model,
 * stepping, brand string) and the TLB, and the struct tlb_caps generic
 * code reads through arch_tlb_caps().
 *
 * Pagoda's x86-64 TLB today: untagged (PCID is not used, and QEMU's TCG
 * does not offer it), so a CR3 load drops every user translation; no
 * broadcast invalidation (AMD's INVLPGB is not used), so remote flushes
 * are IPIs; ranges up to 33 pages go page by page with INVLPG. Features
 * the CPU offers but Pagoda does not use are named in the log line, so
 * the caps never claim more than the code does.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define CPUID_7_EBX_INVPCID	   (1u << 10)
#define CPUID_80000008_EBX_INVLPGB (1u << 3)

static struct tlb_caps caps = {
    .asid_bits = 0,
    .switch_flushes = true,
    .broadcast = false,
    .range = false,
    /*
     * Past this many pages a range is flushed by a CR3 reload: measured by the
     * flush_threshold bench (`make bench-threshold`, docs/benchmarks.md; QEMU
     * 10 TCG, 4 vCPUs on 2 host cores, 5 repetitions, each CPU re-reading a
     * 64-page hot set): N INVLPGs on every CPU cost 103-106 us up to N = 8,
     * 114 at 16 and 122 at 32, against 108-113 us for the reload, crossing at
     * 12 pages (Linux's tlb_single_page_flush_ceiling, 33, was measured on
     * hardware, where the refills after a reload cost more than under TCG).
     */
    .range_max_pages = 12,
    .broadcast_max_pages = 0, /* no broadcast */
};

const struct tlb_caps *arch_tlb_caps(void)
{
	return &caps;
}

/* The brand string of leaves 0x80000002-4 without its padding, or "" when absent. */
static void brand_string(char out[49])
{
	uint32_t r[12], a, b, c, d;
	out[0] = 0;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a < 0x80000004)
		return;
	for (unsigned i = 0; i < 3; i++)
		cpuid(0x80000002 + i, 0, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
	const char *s = (const char *)r;
	size_t n = strnlen(s, 48);
	while (n && s[n - 1] == ' ')
		n--;
	while (n && *s == ' ') {
		s++;
		n--;
	}
	memcpy(out, s, n);
	out[n] = 0;
}

void x86_cpuinfo_init(void)
{
	uint32_t max, a, b, c, d;
	char vendor[13];
	cpuid(0, 0, &max, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	vendor[12] = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	unsigned family = (a >> 8) & 0xF, model = (a >> 4) & 0xF, stepping = a & 0xF;
	if (family == 0xF)
		family += (a >> 20) & 0xFF;
	if (family == 6 || family >= 0xF)
		model |= ((a >> 16) & 0xF) << 4;
	bool pcid = c & CPUID_1_ECX_PCID, x2apic = c & CPUID_1_ECX_X2APIC, invpcid = false;
	if (max >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		invpcid = b & CPUID_7_EBX_INVPCID;
	}
	bool invlpgb = false;
	cpuid(0x80000000, 0, &a, &b, &c, &d);
	if (a >= 0x80000008) {
		cpuid(0x80000008, 0, &a, &b, &c, &d);
		invlpgb = b & CPUID_80000008_EBX_INVLPGB;
	}
	char brand[49];
	brand_string(brand);

	printk("cpu: %s family %#x model %#x stepping %u \"%s\"%s; TLB: untagged (%s), "
	       "no broadcast (IPIs%s), INVLPG up to %u pages",
	       vendor, family, model, stepping, brand, x2apic ? ", x2APIC" : "",
	       pcid ? (invpcid ? "PCID and INVPCID offered, not used" : "PCID offered, not used")
		    : "no PCID",
	       invlpgb ? "; INVLPGB offered, not used" : "", caps.range_max_pages);
}
