// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a VT-d unit offers and how the driver must use it, decided from
 * its CAP and ECAP registers alone (a pure function: the vtd suite feeds
 * it QEMU's values and made-up ones).
 *
 * Coherency (VT-d spec 10.4.3 ECAP.C and ECAP.SMPWC, 9.6 PWSNP): a unit
 * without ECAP.C reads root, context and PASID tables from memory
 * without snooping the CPU's caches; in scalable mode walks through a
 * PASID entry are snooped only if the unit has SMPWC and the entry sets
 * PWSNP. The driver cleans what it writes itself (its tables) to memory
 * when the unit does not snoop it. It cannot clean the CPU's page tables
 * (every PTE store of the mm code), so a first stage without SMPWC is
 * used only on a unit that is software under a hypervisor (QEMU 10
 * reports neither C nor SMPWC but reads guest memory coherently), and
 * that is said on one line; on hardware it is dropped, also on one line.
 *
 * Invariant: a unit is never accepted with a walk the driver cannot make
 * coherent, and caching mode (CAP.CM: not-present entries may be cached,
 * which the driver does not invalidate) is refused.
 */
#include "kernel/iommu/vtd_hw.h"
#include "lib/fmt.h"

/* Domain ids the unit has: 2^(4 + 2 * CAP.ND). */
static uint64_t vtd_domains(uint64_t cap)
{
	return 1ull << (4 + 2 * VTD_CAP_ND(cap));
}

bool vtd_caps_check(uint64_t cap, uint64_t ecap, bool emulated, struct vtd_caps *out, char *note,
		    char *err, size_t size)
{
	*out = (struct vtd_caps){0};
	note[0] = '\0';
	bool first = ecap & VTD_ECAP_FSTS, smpwc = ecap & VTD_ECAP_SMPWC;
	/* Second stage is walked at 4 levels (PASID entry AW = 48-bit). */
	bool second = (ecap & VTD_ECAP_SSTS) && (VTD_CAP_SAGAW(cap) & VTD_SAGAW_4LEVEL);
	if (first && !smpwc && !emulated) {
		first = false;
		snprintf(note, size,
			 "vtd: no ECAP.SMPWC: first-stage walks of the CPU's page tables would "
			 "not be snooped; first stage not used");
	} else if (first && !smpwc) {
		out->first_stage_unsnooped = true;
		snprintf(note, size,
			 "vtd: no ECAP.SMPWC, so first-stage walks are not snooped by the book; "
			 "first stage used only because the unit is emulated (CPU under a "
			 "hypervisor)");
	}
	const char *missing = !(ecap & VTD_ECAP_QI)	? "queued invalidation (ECAP.QI)"
			      : !(ecap & VTD_ECAP_SMTS) ? "scalable mode (ECAP.SMTS)"
			      : !first && !second	? "a usable translation stage (ECAP.FSTS "
							  "with SMPWC, or ECAP.SSTS with 4-level "
							  "CAP.SAGAW)"
			      : VTD_CAP_MGAW(cap) < 48	? "48-bit guest addresses (CAP.MGAW)"
			      : !(cap & VTD_CAP_PSI)	? "page-selective invalidation (CAP.PSI)"
			      : (cap & VTD_CAP_CM)	? "caching mode off (CAP.CM is set)"
			      : vtd_domains(cap) < IOMMU_ASIDS ? "4096 domain ids (CAP.ND)"
							       : NULL;
	if (missing) {
		snprintf(err, size, "vtd: unit lacks %s (CAP %#llx ECAP %#llx); VT-d not used",
			 missing, (unsigned long long)cap, (unsigned long long)ecap);
		return false;
	}
	out->first_stage = first;
	out->second_stage = second;
	out->clean_tables = !(ecap & VTD_ECAP_C);
	out->clean_sspt = !smpwc;
	out->pwsnp = smpwc;
	return true;
}
