// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the boot CPU is and what its TLB offers, from the ID registers,
 * read once before kernel_main: one log line naming the CPU (MIDR
 * implementer, part, variant, revision) and the TLB, and the struct
 * tlb_caps generic code reads through arch_tlb_caps().
 *
 * The fields that matter for TLB maintenance:
 *   ID_AA64MMFR0_EL1.ASIDBits  8 or 16-bit ASIDs; head.S sets TCR_EL1.AS to
 *                              match, and the width in use is read back from
 *                              TCR_EL1, so the caps say what the MMU does;
 *   ID_AA64ISAR0_EL1.TLB       1: TLBI ...OS (outer shareable), 2: also the
 *                              range TLBIs (FEAT_TLBIRANGE), which the
 *                              broadcast path uses;
 *   ID_AA64MMFR2_EL1.TTL, BBM  level hints in TLBI operands, the break-
 *                              before-make level: reported, not used.
 * Broadcast TLBI ...IS is ARMv8.0, so every arm64 CPU offers it.
 *
 * Invariant: every CPU offers what the caps promise. Each secondary
 * checks its own registers as it starts (aarch64_cpuinfo_check) and
 * panics, naming the difference, rather than run with a narrower ASID or
 * without range TLBIs the boot CPU's caps announced.
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"
#include "kernel/printk.h"
#include "lib/fmt.h"

#define id_aa64mmfr2_el1 s3_0_c0_c7_2 /* named only by armv8.2-a assemblers */

/* 4-bit ID register fields, by their lowest bit. */
#define FIELD(reg, shift) ((unsigned)((reg) >> (shift)) & 0xF)
#define ISAR0_TLB	  56
#define MMFR0_PARANGE	  0
#define MMFR0_ASIDBITS	  4
#define MMFR2_TTL	  48
#define MMFR2_BBM	  52

#define ISAR0_TLB_OS	1 /* TLBI ...OS */
#define ISAR0_TLB_RANGE 2 /* ...OS and range TLBIs */

static struct tlb_caps caps = {
    .switch_flushes = false, /* tagged: entries outlive a TTBR0 switch */
    .broadcast = true,
    /*
     * The limits past which a range is flushed as the whole ASID, measured by
     * the flush_threshold bench (`make bench-threshold ARCH=aarch64`, docs/
     * benchmarks.md; QEMU 10 TCG, 4 vCPUs on 2 host cores, 5 repetitions,
     * each CPU re-reading a 64-page hot set): with IPIs, N local `TLBI VAE1`
     * on every CPU cost 92 us at N = 1 and 113 us at 32 against 105-109 us
     * for one `TLBI ASIDE1`, crossing at 23 pages (28 in an earlier run).
     * Broadcast: one `TLBI VAE1IS` costs about what one `TLBI ASIDE1IS` does
     * (QEMU stops every vCPU for each; 42 vs 23 us at N = 1 on the
     * Cortex-A72, 9 vs 37 us on -cpu max: noise), so anything past one page
     * goes whole (`broadcast_max_pages` 1). With FEAT_TLBIRANGE the range
     * TLBIs cost about the same as the ASID one and cross it at 5 pages:
     * aarch64_cpuinfo_init sets 4 then. Not hardware figures: on silicon a
     * TLBI is far cheaper than the refills a whole-ASID flush causes (Linux
     * arm64 goes whole past 512 pages without range TLBIs).
     */
    .range_max_pages = 23,
    .broadcast_max_pages = 1,
};

const struct tlb_caps *arch_tlb_caps(void)
{
	return &caps;
}

/* The ASID width this CPU's MMU uses: TCR_EL1.AS as head.S set it. */
static unsigned asid_bits_in_use(void)
{
	return read_sysreg(tcr_el1) & TCR_AS ? 16 : 8;
}

static const char *part_name(unsigned implementer, unsigned part)
{
	static const struct {
		unsigned part;
		const char *name;
	} arm[] = {
	    {0xD03, "Cortex-A53"},  {0xD04, "Cortex-A35"},  {0xD05, "Cortex-A55"},
	    {0xD07, "Cortex-A57"},  {0xD08, "Cortex-A72"},  {0xD09, "Cortex-A73"},
	    {0xD0B, "Cortex-A76"},  {0xD0C, "Neoverse-N1"}, {0xD40, "Neoverse-V1"},
	    {0xD47, "Cortex-A710"}, {0xD49, "Neoverse-N2"},
	};
	if (implementer == 0x41)
		for (unsigned i = 0; i < ARRAY_SIZE(arm); i++)
			if (arm[i].part == part)
				return arm[i].name;
	/* Implementer 0 is "software use": QEMU's `max` CPU, part number 'Q'. */
	if (implementer == 0 && part == 'Q')
		return "QEMU max";
	return NULL;
}

void aarch64_cpuinfo_init(void)
{
	uint64_t midr = read_sysreg(midr_el1), isar0 = read_sysreg(id_aa64isar0_el1);
	uint64_t mmfr0 = read_sysreg(id_aa64mmfr0_el1);
	uint64_t mmfr2 = read_sysreg(id_aa64mmfr2_el1);
	unsigned implementer = (midr >> 24) & 0xFF, part = (midr >> 4) & 0xFFF;
	unsigned variant = (midr >> 20) & 0xF, revision = midr & 0xF;
	unsigned tlb = FIELD(isar0, ISAR0_TLB);

	caps.asid_bits = asid_bits_in_use();
	caps.range = tlb >= ISAR0_TLB_RANGE;
	if (caps.range)
		caps.broadcast_max_pages = 4; /* measured: see caps above */

	static const unsigned pa_bits[] = {32, 36, 40, 42, 44, 48, 52};
	unsigned parange = FIELD(mmfr0, MMFR0_PARANGE);
	unsigned hw_asid_bits = FIELD(mmfr0, MMFR0_ASIDBITS) == 2 ? 16 : 8;
	const char *name = part_name(implementer, part);
	char unknown[48];
	if (!name) {
		snprintf(unknown, sizeof(unknown), "implementer %#x part %#x", implementer, part);
		name = unknown;
	}
	printk("cpu: %s r%up%u (MIDR %#lx), %u-bit PA; TLB: %u-bit ASIDs%s, broadcast TLBI, "
	       "%s, %s, full flush past %u pages (IPIs), %u (broadcast)%s, break-before-make "
	       "level %u",
	       name, variant, revision, (unsigned long)midr,
	       parange < ARRAY_SIZE(pa_bits) ? pa_bits[parange] : 0, caps.asid_bits,
	       hw_asid_bits > caps.asid_bits ? " (of 16)" : "",
	       tlb >= ISAR0_TLB_OS ? "outer-shareable TLBI" : "no outer-shareable TLBI",
	       caps.range ? "range TLBI (used)" : "no range TLBI", caps.range_max_pages,
	       caps.broadcast_max_pages, FIELD(mmfr2, MMFR2_TTL) ? ", TTL hints (not used)" : "",
	       FIELD(mmfr2, MMFR2_BBM));
}

void aarch64_cpuinfo_check(unsigned cpu)
{
	unsigned bits = asid_bits_in_use();
	if (bits != caps.asid_bits)
		panic("aarch64_cpuinfo_check: cpu%u uses %u-bit ASIDs, the boot CPU %u-bit: ASIDs "
		      "would alias",
		      cpu, bits, caps.asid_bits);
	if (caps.range && FIELD(read_sysreg(id_aa64isar0_el1), ISAR0_TLB) < ISAR0_TLB_RANGE)
		panic("aarch64_cpuinfo_check: cpu%u has no range TLBIs (FEAT_TLBIRANGE), which the "
		      "boot CPU's TLB caps promise",
		      cpu);
}
