// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where the SMMUv3 is and which stream ids PCI devices use, on a machine
 * described by ACPI: the IORT's SMMUv3 node behind the root complex of
 * PCI segment 0 (kernel/acpi/iort.c decodes the table). It fills the same
 * struct smmu_dt the device-tree path fills, so the driver does not care.
 *
 * Invariant: the table is used only after its length is within what the
 * firmware's memory map holds and its checksum is right; anything else is
 * one line in err and the caller goes on without the SMMU.
 */
#include "kernel/acpi/acpi_arm.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "lib/fmt.h"
#include "lib/string.h"

int smmu_acpi_find(struct smmu_dt *out, char *err, size_t err_size)
{
	static struct acpi_iort r;
	memset(out, 0, sizeof(*out));
	int found = acpi_iort_read(0, &r, err, err_size);
	if (found <= 0)
		return found;
	if (!r.has_smmu)
		return 0;
	out->base = r.smmu_base;
	out->size = SMMU_REG_SIZE;
	_Static_assert(ACPI_IORT_MAPS_MAX <= SMMU_SID_MAPS, "every IORT mapping fits the id map");
	for (unsigned i = 0; i < r.nr_rid_to_sid; i++)
		out->map.e[i] = (struct id_map_entry){r.rid_to_sid[i].rid_base,
						      r.rid_to_sid[i].out_base, r.rid_to_sid[i].count};
	out->map.n = r.nr_rid_to_sid;
	snprintf(out->path, sizeof(out->path), "IORT SMMUv3 node at offset %u",
		 r.smmu_node_offset);
	return 1;
}
