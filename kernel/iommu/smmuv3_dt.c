// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where the SMMUv3 is and which stream ids PCI devices use: the DTB's
 * `arm,smmu-v3` node (reg) and the pci-host-ecam-generic node's
 * `iommu-map` (Linux's Documentation/devicetree/bindings/pci/pci-iommu).
 * The decoders are pure functions of the property bytes, so the smmu suite
 * feeds them malformed input; smmu_dt_find() reads the boot DTB.
 *
 * Invariants: nothing is read past a property's length; every number kept
 * was range checked (no wrapping register frame or map entry, requester
 * ids within 16 bits); a problem is one line naming the node, property,
 * entry and field, and the caller then uses no SMMU at all.
 */
#include "kernel/boot_info.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "kernel/mm/frame.h"
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

bool smmu_dt_reg(const uint8_t *reg, uint32_t len, unsigned addr_cells, unsigned size_cells,
		 struct smmu_dt *out, char *err, size_t err_size)
{
	struct fdt_cells c;
	uint64_t base, size;
	unsigned entry = addr_cells + size_cells;

	if (!reg) {
		snprintf(err, err_size, "property 'reg': missing");
		return false;
	}
	if (addr_cells < 1 || addr_cells > 2 || size_cells < 1 || size_cells > 2 ||
	    !fdt_cells_init(&c, reg, len) || len < entry * 4 || len % (entry * 4)) {
		snprintf(err, err_size, "property 'reg': length %u is not whole %u+%u-cell entries",
			 len, addr_cells, size_cells);
		return false;
	}
	fdt_cells_read(&c, addr_cells, &base);
	fdt_cells_read(&c, size_cells, &size);
	if (size < SMMU_REG_SIZE || base + size - 1 < base || !IS_ALIGNED(base, KiB(64))) {
		snprintf(err, err_size,
			 "property 'reg': frame %#llx + %#llx is not 64 KiB aligned, at least "
			 "128 KiB and not wrapping",
			 (unsigned long long)base, (unsigned long long)size);
		return false;
	}
	out->base = base;
	out->size = size;
	return true;
}

bool smmu_dt_iommu_map(const uint8_t *map, uint32_t len, uint32_t phandle, struct smmu_dt *out,
		       char *err, size_t err_size)
{
	return id_map_decode(map, len, "iommu-map", phandle, "the SMMU", &out->map, err, err_size);
}

bool smmu_dt_sid(const struct smmu_dt *dt, uint16_t rid, uint32_t *sid)
{
	return id_map_lookup(&dt->map, rid, sid);
}

/* The first okay node compatible with `compat`, or a negative value. */
static int okay_node(const struct fdt *f, const char *compat)
{
	int node;
	for (node = fdt_find_compatible(f, -1, compat); node >= 0;
	     node = fdt_find_compatible(f, node, compat))
		if (fdt_node_okay(f, node))
			break;
	return node;
}

int smmu_dt_find(struct smmu_dt *out, char *err, size_t err_size)
{
	static struct fdt f;
	struct fdt_error fe;
	struct fdt_prop p;
	unsigned ac, sc;
	char msg[160];

	memset(out, 0, sizeof(*out));
	if (!boot_info.dtb)
		return 0;
	if (fdt_init(&f, kva(boot_info.dtb), boot_info.dtb_size, &fe) != FDT_OK) {
		snprintf(err, err_size, "%s", fe.message);
		return -1;
	}
	int node = okay_node(&f, "arm,smmu-v3");
	if (node < 0)
		return 0;
	fdt_node_path(&f, node, out->path, sizeof(out->path));
	uint32_t cells;
	if (!fdt_prop_u32(&f, node, "#iommu-cells", &cells) || cells != 1) {
		snprintf(err, err_size, "fdt: node %s: property '#iommu-cells': not <1>",
			 out->path);
		return -1;
	}
	if (!fdt_prop_u32(&f, node, "phandle", &out->phandle) &&
	    !fdt_prop_u32(&f, node, "linux,phandle", &out->phandle)) {
		snprintf(err, err_size,
			 "fdt: node %s: property 'phandle': missing (no device names it)",
			 out->path);
		return -1;
	}
	if (fdt_parent_cells(&f, fdt_parent(&f, node), &ac, &sc, &fe) != FDT_OK) {
		snprintf(err, err_size, "%s", fe.message);
		return -1;
	}
	bool have = fdt_get_prop(&f, node, "reg", &p) == FDT_OK;
	if (!smmu_dt_reg(have ? p.data : NULL, have ? p.len : 0, ac, sc, out, msg, sizeof(msg))) {
		snprintf(err, err_size, "fdt: node %s: %s", out->path, msg);
		return -1;
	}
	int host = okay_node(&f, "pci-host-ecam-generic");
	char host_path[64] = "(no PCI host)";
	if (host >= 0)
		fdt_node_path(&f, host, host_path, sizeof(host_path));
	have = host >= 0 && fdt_get_prop(&f, host, "iommu-map", &p) == FDT_OK;
	if (!smmu_dt_iommu_map(have ? p.data : NULL, have ? p.len : 0, out->phandle, out, msg,
			       sizeof(msg))) {
		snprintf(err, err_size, "fdt: node %s: %s", host_path, msg);
		return -1;
	}
	return 1;
}
