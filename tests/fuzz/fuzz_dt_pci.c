// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `dt_pci`: what aarch64's device drivers read from the boot
 * DTB after fdt_boot_parse accepted it: the SMMUv3 node and the PCI host's
 * iommu-map (smmu_dt_find, kernel/iommu/smmuv3_dt.c), and the PCI host's
 * reg, bus-range, ranges and interrupt-map (pci_host_from_fdt,
 * kernel/pci/host.c). The input is a DTB placed as in the `fdt` target; a
 * blob fdt_check refuses never reaches these (the boot stopped earlier).
 *
 * Neither may panic: a bad description is one line in err and the device
 * is left out. What they accept is checked against their contracts (ECAM
 * 1 MiB aligned covering its buses, a 64 KiB aligned SMMU frame, stream
 * ids of the accepted map within 32 bits).
 */
#include "kernel/boot_info.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/pci/pci.h"
#include "lib/fdt.h"
#include "tests/fuzz/fuzz.h"

#define FDT_BOOT_MAX_SIZE MiB(2) /* boot/fdt_boot.c */

static void check_smmu(void)
{
	struct smmu_dt dt;
	char err[200];
	int r = smmu_dt_find(&dt, err, sizeof(err));
	if (r < 0) {
		fuzz_check_message("smmu_dt_find", err);
		return;
	}
	if (r == 0)
		return;
	if (dt.base % KiB(64) || dt.size < KiB(128) || !dt.map.n || dt.map.n > SMMU_SID_MAPS)
		fuzz_bug("smmu_dt_find: accepted frame %#llx+%#llx with %u maps",
			 (unsigned long long)dt.base, (unsigned long long)dt.size, dt.map.n);
	for (unsigned i = 0; i < dt.map.n; i++) {
		const struct id_map_entry *m = &dt.map.e[i];
		uint32_t sid;
		if (!smmu_dt_sid(&dt, (uint16_t)m->in_base, &sid) ||
		    !smmu_dt_sid(&dt, (uint16_t)(m->in_base + m->length - 1), &sid))
			fuzz_bug("smmu_dt_sid: map %u (rid %#x + %u) does not cover its ends", i,
				 m->in_base, m->length);
	}
}

static void check_pci(const struct fdt *f)
{
	static struct pci_intx_map intx;
	struct pci_host h;
	char err[200];
	int r = pci_host_from_fdt(f, &h, &intx, err, sizeof(err));
	if (r < 0) {
		fuzz_check_message("pci_host_from_fdt", err);
		return;
	}
	if (r == 0)
		return;
	if (!h.ecam || h.ecam % MiB(1) || h.bus_start > h.bus_end || h.bus_end > 255 ||
	    (!h.mem32.size && !h.mem64.size) || intx.n > PCI_INTX_MAP_MAX)
		fuzz_bug("pci_host_from_fdt: accepted ECAM %#llx buses %u-%u, %u INTx entries",
			 (unsigned long long)h.ecam, h.bus_start, h.bus_end, intx.n);
	for (unsigned dev = 0; dev < 32; dev++)
		for (unsigned pin = 1; pin <= 4; pin++)
			pci_intx_lookup(&intx, h.bus_start, dev, 0, pin);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fdt f;
	struct fdt_error fe;
	uint32_t claim = size >= 8 ? fdt_peek_totalsize(data) : 0;
	size_t avail = MIN(MAX((uint64_t)claim, (uint64_t)FDT_HEADER_SIZE), FDT_BOOT_MAX_SIZE);
	phys_addr_t pa = fuzz_phys_place(data, size, avail);

	if (fdt_init(&f, kva(pa), avail, &fe) != FDT_OK)
		return 0;
	fuzz_reset_boot_info();
	boot_info.dtb = pa;
	boot_info.dtb_size = f.totalsize;
	check_smmu();
	check_pci(&f);
	return 0;
}
