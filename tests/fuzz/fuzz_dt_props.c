// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `dt_props`: the device-tree property decoders on raw bytes,
 * each property in a heap block of exactly its length, so that a read one
 * byte past a property is an ASan report (inside a whole DTB, as in the
 * dt_pci target, such a read lands in the next property unnoticed).
 *
 * Input: byte 0 picks the decoder, bytes 1-2 are cell counts or a phandle,
 * then the properties, each as a 16-bit little-endian length (0xffff:
 * absent) and that many bytes (cut at the input's end):
 *   0 smmu_dt_reg          reg; #address-cells byte 1 & 3, #size-cells byte 2 & 3
 *   1 smmu_dt_iommu_map    iommu-map; the SMMU's phandle is byte 1
 *   2 pci_host_from_dt     reg, bus-range, ranges; parent cells byte 1, own cells byte 2
 *   3 pci_intx_map_decode  interrupt-map, interrupt-map-mask; the host's cells from
 *                          byte 1; a parent's cells come from its phandle's low bits
 * None may panic; a refusal is one line in err.
 */
#include <stdlib.h>
#include <string.h>

#include "kernel/iommu/smmuv3.h"
#include "kernel/pci/pci.h"
#include "tests/fuzz/fuzz.h"

#define PROPS 3

struct props {
	uint8_t *data[PROPS]; /* NULL: absent */
	uint32_t len[PROPS];
};

static void split(const uint8_t *p, size_t n, struct props *out)
{
	for (unsigned i = 0; i < PROPS; i++) {
		out->data[i] = NULL;
		out->len[i] = 0;
		if (!n)
			continue;
		size_t len = p[0] | (n > 1 ? p[1] << 8 : 0);
		p += MIN(n, (size_t)2), n -= MIN(n, (size_t)2);
		if (len == 0xffff)
			continue;
		len = MIN(len, n);
		out->data[i] = malloc(len ? len : 1);
		if (!out->data[i])
			abort();
		memcpy(out->data[i], p, len);
		out->len[i] = (uint32_t)len;
		p += len, n -= len;
	}
}

/* #address-cells = phandle & 3, #interrupt-cells = (phandle >> 2) & 7; phandle 0 names nothing. */
static bool parent_cells(void *ctx, uint32_t phandle, unsigned *addr_cells, unsigned *intr_cells)
{
	(void)ctx;
	if (!phandle)
		return false;
	*addr_cells = phandle & 3;
	*intr_cells = (phandle >> 2) & 7;
	return true;
}

static void run(unsigned which, uint8_t a, uint8_t b, const struct props *pr)
{
	char err[200];
	bool ok = true;
	const char *who = "";
	switch (which) {
	case 0: {
		struct smmu_dt dt;
		who = "smmu_dt_reg";
		ok = smmu_dt_reg(pr->data[0], pr->len[0], a & 3, b & 3, &dt, err, sizeof(err));
		break;
	}
	case 1: {
		static struct smmu_dt dt;
		uint32_t sid;
		who = "smmu_dt_iommu_map";
		ok = smmu_dt_iommu_map(pr->data[0], pr->len[0], a, &dt, err, sizeof(err));
		for (unsigned i = 0; ok && i < dt.map.n; i++)
			if (!smmu_dt_sid(&dt, (uint16_t)(dt.map.e[i].in_base + dt.map.e[i].length - 1),
					 &sid))
				fuzz_bug("smmu_dt_sid: map %u misses its last rid", i);
		break;
	}
	case 2: {
		struct pci_dt_node n = {.reg = pr->data[0],
					.reg_len = pr->len[0],
					.bus_range = pr->data[1],
					.bus_range_len = pr->len[1],
					.ranges = pr->data[2],
					.ranges_len = pr->len[2],
					.parent_addr_cells = a & 3,
					.parent_size_cells = (a >> 2) & 3,
					.addr_cells = b & 3,
					.size_cells = (b >> 2) & 3};
		struct pci_host h;
		who = "pci_host_from_dt";
		ok = pci_host_from_dt(&n, &h, err, sizeof(err));
		if (ok && (h.bus_start > h.bus_end || h.bus_end > 255 || h.ecam % MiB(1)))
			fuzz_bug("pci_host_from_dt: accepted buses %u-%u at %#llx", h.bus_start,
				 h.bus_end, (unsigned long long)h.ecam);
		break;
	}
	default: {
		static struct pci_intx_map m;
		struct pci_intx_dt in = {.map = pr->data[0],
					 .map_len = pr->len[0],
					 .mask = pr->data[1],
					 .mask_len = pr->len[1],
					 .addr_cells = a & 3 ? a & 3 : 3,
					 .intr_cells = (a >> 2) & 3,
					 .parent_cells = parent_cells};
		who = "pci_intx_map_decode";
		ok = pci_intx_map_decode(&in, &m, err, sizeof(err));
		if (ok && m.n > PCI_INTX_MAP_MAX)
			fuzz_bug("pci_intx_map_decode: %u entries", m.n);
		for (unsigned dev = 0; ok && dev < 32; dev++)
			pci_intx_lookup(&m, 0, dev, 0, 1 + dev % 4);
		break;
	}
	}
	if (!ok)
		fuzz_check_message(who, err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct props pr;
	if (size < 3)
		return 0;
	split(data + 3, size - 3, &pr);
	run(data[0] & 3, data[1], data[2], &pr);
	for (unsigned i = 0; i < PROPS; i++)
		free(pr.data[i]);
	return 0;
}
