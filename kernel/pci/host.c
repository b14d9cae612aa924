// SPDX-License-Identifier: BSD-2-Clause
/*
 * Where the host bridge's ECAM window and address windows are: decoded
 * from an ACPI MCFG table or from the properties of a device-tree
 * pci-host-ecam-generic node. Both decoders are pure functions of the
 * bytes they are given, so the pci suite feeds them malformed input;
 * pci_host_from_fdt() finds the node and its properties in a validated
 * device tree (pure over the blob: the fuzz target dt_pci runs it).
 *
 * Invariants: nothing is read past the length given; every number that
 * ends up in struct pci_host has been range checked (no wrapping window,
 * ECAM 1 MiB aligned and holding every bus it claims); a problem is one
 * line naming the table or property, the entry and the field.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/pci/pci.h"
#include "kernel/printk.h"
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define MCFG_ENTRIES   44 /* header (36) + 8 reserved bytes */
#define MCFG_ENTRY_LEN 16
#define ECAM_BUS_SHIFT 20 /* 1 MiB of config space per bus */

struct mcfg_entry {
	uint64_t base; /* config space of bus 0, even when start_bus is not 0 */
	uint16_t segment;
	uint8_t start_bus, end_bus;
	uint32_t reserved;
} __packed;

/* Checks an ECAM window of buses [start, end] at `ecam` (bus start's space). */
static bool ecam_ok(phys_addr_t ecam, unsigned start, unsigned end, char *err, size_t n,
		    const char *what)
{
	uint64_t bytes = (uint64_t)(end - start + 1) << ECAM_BUS_SHIFT;
	if (start > end || end > 255) {
		snprintf(err, n, "%s: buses %u-%u are not a range of bus numbers", what, start,
			 end);
		return false;
	}
	if (ecam == 0 || !IS_ALIGNED(ecam, MiB(1))) {
		snprintf(err, n, "%s: ECAM base %#llx is not a non-zero multiple of 1 MiB", what,
			 (unsigned long long)ecam);
		return false;
	}
	if (ecam + bytes - 1 < ecam) {
		snprintf(err, n, "%s: ECAM window %#llx + %#llx wraps", what,
			 (unsigned long long)ecam, (unsigned long long)bytes);
		return false;
	}
	return true;
}

bool pci_host_from_mcfg(const struct acpi_sdt_header *mcfg, struct pci_host *out, char *err,
			size_t err_size)
{
	const uint8_t *bytes = (const uint8_t *)mcfg;
	uint32_t len = mcfg->length;
	struct mcfg_entry e;
	char what[48];

	memset(out, 0, sizeof(*out));
	if (len < MCFG_ENTRIES || (len - MCFG_ENTRIES) % MCFG_ENTRY_LEN != 0) {
		snprintf(err, err_size,
			 "MCFG: length %u is not %u + a whole number of %u-byte entries", len,
			 MCFG_ENTRIES, MCFG_ENTRY_LEN);
		return false;
	}
	unsigned count = (len - MCFG_ENTRIES) / MCFG_ENTRY_LEN;
	for (unsigned i = 0; i < count; i++) {
		memcpy(&e, bytes + MCFG_ENTRIES + i * MCFG_ENTRY_LEN, sizeof(e));
		if (e.segment != 0)
			continue; /* one segment is all this kernel drives */
		snprintf(what, sizeof(what), "MCFG: entry %u", i);
		if (e.base == 0 || !IS_ALIGNED(e.base, MiB(1))) {
			snprintf(err, err_size, "%s: base %#llx is not a non-zero multiple of 1 MiB",
				 what, (unsigned long long)e.base);
			return false;
		}
		/* The base names bus 0's space; the window starts at start_bus's. */
		phys_addr_t ecam = e.base + ((uint64_t)e.start_bus << ECAM_BUS_SHIFT);
		if (ecam < e.base) {
			snprintf(err, err_size, "%s: base %#llx + bus %u wraps", what,
				 (unsigned long long)e.base, e.start_bus);
			return false;
		}
		if (!ecam_ok(ecam, e.start_bus, e.end_bus, err, err_size, what))
			return false;
		out->ecam = ecam;
		out->bus_start = e.start_bus;
		out->bus_end = e.end_bus;
		strlcpy(out->source, "ACPI MCFG", sizeof(out->source));
		return true;
	}
	snprintf(err, err_size, "MCFG: none of its %u entries is for segment 0", count);
	return false;
}

/* ---- Device tree ---------------------------------------------------------------- */

/* Opens a property's cells, `entry` cells per entry; false with a message when malformed. */
static bool dt_cells(const uint8_t *data, uint32_t len, unsigned entry, const char *prop,
		     struct fdt_cells *c, char *err, size_t n)
{
	if (!fdt_cells_init(c, data, len) || len % (entry * 4) != 0 || len == 0) {
		snprintf(err, n, "property '%s': length %u is not a whole number of %u-cell entries",
			 prop, len, entry);
		return false;
	}
	return true;
}

/* PCI address space codes (phys.hi bits 25:24) and the prefetchable bit. */
#define PCI_SS_SHIFT   24
#define PCI_SS_IO      1
#define PCI_SS_MEM32   2
#define PCI_SS_MEM64   3
#define PCI_PREFETCH   (1u << 30)

static bool dt_ranges(const struct pci_dt_node *node, struct pci_host *out, char *err, size_t n)
{
	unsigned entry = 3 + node->parent_addr_cells + node->size_cells;
	static const char *const names[] = {"configuration", "I/O", "32-bit memory",
					    "64-bit memory"};
	struct fdt_cells c;
	uint64_t hi, bus, cpu, size;

	if (!node->ranges) {
		snprintf(err, n, "property 'ranges': missing (no windows for BARs)");
		return false;
	}
	if (!dt_cells(node->ranges, node->ranges_len, entry, "ranges", &c, err, n))
		return false;
	for (unsigned i = 0; fdt_cells_left(&c); i++) {
		fdt_cells_read(&c, 1, &hi);
		fdt_cells_read(&c, 2, &bus);
		fdt_cells_read(&c, node->parent_addr_cells, &cpu);
		fdt_cells_read(&c, node->size_cells, &size);
		unsigned space = (unsigned)(hi >> PCI_SS_SHIFT) & 3;
		struct pci_window *w = space == PCI_SS_IO      ? &out->io
				       : space == PCI_SS_MEM32 ? &out->mem32
				       : space == PCI_SS_MEM64 ? &out->mem64
							       : NULL;
		if (!w) {
			snprintf(err, n, "property 'ranges': entry %u: space code 0 (%s) is not a "
				 "window", i, names[space]);
			return false;
		}
		if (size == 0 || cpu + size - 1 < cpu || bus + size - 1 < bus) {
			snprintf(err, n, "property 'ranges': entry %u (%s): size %#llx empty or "
				 "wrapping", i, names[space], (unsigned long long)size);
			return false;
		}
		if (space == PCI_SS_MEM32 && bus + size - 1 > 0xffffffffull) {
			snprintf(err, n, "property 'ranges': entry %u: 32-bit window ends above "
				 "4 GiB (bus %#llx + %#llx)", i, (unsigned long long)bus,
				 (unsigned long long)size);
			return false;
		}
		/* A prefetchable window is only used when no other of its kind is listed. */
		if (w->size && (hi & PCI_PREFETCH))
			continue;
		*w = (struct pci_window){.cpu = cpu, .bus = bus, .size = size};
	}
	if (!out->mem32.size && !out->mem64.size) {
		snprintf(err, n, "property 'ranges': no memory window");
		return false;
	}
	return true;
}

bool pci_host_from_dt(const struct pci_dt_node *node, struct pci_host *out, char *err,
		      size_t err_size)
{
	struct fdt_cells c;
	uint64_t ecam, size, start = 0, end = 255;

	memset(out, 0, sizeof(*out));
	if (node->addr_cells != 3 || node->size_cells != 2) {
		snprintf(err, err_size, "#address-cells/#size-cells are %u/%u, PCI needs 3/2",
			 node->addr_cells, node->size_cells);
		return false;
	}
	if (node->parent_addr_cells < 1 || node->parent_addr_cells > 2 ||
	    node->parent_size_cells < 1 || node->parent_size_cells > 2) {
		snprintf(err, err_size, "parent's #address-cells/#size-cells %u/%u: need 1 or 2",
			 node->parent_addr_cells, node->parent_size_cells);
		return false;
	}
	if (!node->reg) {
		snprintf(err, err_size, "property 'reg': missing (no ECAM window)");
		return false;
	}
	if (!dt_cells(node->reg, node->reg_len, node->parent_addr_cells + node->parent_size_cells,
		      "reg", &c, err, err_size))
		return false;
	fdt_cells_read(&c, node->parent_addr_cells, &ecam);
	fdt_cells_read(&c, node->parent_size_cells, &size);
	if (node->bus_range) {
		if (node->bus_range_len != 8) {
			snprintf(err, err_size, "property 'bus-range': length %u, expected 2 cells",
				 node->bus_range_len);
			return false;
		}
		start = fdt_be32(node->bus_range);
		end = fdt_be32(node->bus_range + 4);
		if (start > end || end > 255) {
			snprintf(err, err_size, "property 'bus-range': <%llu %llu> is not a range "
				 "of bus numbers", (unsigned long long)start,
				 (unsigned long long)end);
			return false;
		}
	}
	/* ECAM gives every bus 1 MiB; never let config accesses run past the window. */
	if ((size >> ECAM_BUS_SHIFT) == 0) {
		snprintf(err, err_size, "property 'reg': ECAM window of %#llx bytes holds no bus",
			 (unsigned long long)size);
		return false;
	}
	if (end - start + 1 > (size >> ECAM_BUS_SHIFT))
		end = start + (size >> ECAM_BUS_SHIFT) - 1;
	if (!ecam_ok(ecam, (unsigned)start, (unsigned)end, err, err_size, "property 'reg'"))
		return false;
	out->ecam = ecam;
	out->bus_start = (unsigned)start;
	out->bus_end = (unsigned)end;
	out->assign = true;
	return dt_ranges(node, out, err, err_size);
}

/* ---- The host node of a device tree ------------------------------------------------ */

/* An interrupt parent's #address-cells (default 0) and #interrupt-cells (required). */
static bool intx_parent_cells(void *ctx, uint32_t phandle, unsigned *addr_cells,
			      unsigned *intr_cells)
{
	const struct fdt *f = ctx;
	uint32_t a = 0, i;
	int node = fdt_node_by_phandle(f, phandle);
	if (node < 0 || !fdt_prop_u32(f, node, "#interrupt-cells", &i))
		return false;
	fdt_prop_u32(f, node, "#address-cells", &a);
	*addr_cells = a;
	*intr_cells = i;
	return true;
}

/* Decodes the host node's interrupt-map; a bad one is reported and leaves INTx unrouted. */
static void intx_from_fdt(const struct fdt *f, int node, const char *path,
			  struct pci_intx_map *intx)
{
	struct pci_intx_dt in = {
	    .addr_cells = 3, .intr_cells = 1, .parent_cells = intx_parent_cells, .ctx = (void *)f};
	struct fdt_prop p;
	uint32_t v;
	char msg[160];
	if (fdt_get_prop(f, node, "interrupt-map", &p) == FDT_OK)
		in.map = p.data, in.map_len = p.len;
	if (fdt_get_prop(f, node, "interrupt-map-mask", &p) == FDT_OK)
		in.mask = p.data, in.mask_len = p.len;
	if (fdt_prop_u32(f, node, "#address-cells", &v))
		in.addr_cells = v;
	if (fdt_prop_u32(f, node, "#interrupt-cells", &v))
		in.intr_cells = v;
	if (!pci_intx_map_decode(&in, intx, msg, sizeof(msg))) {
		printk("pci: fdt: node %s: %s; no INTx routing", path, msg);
		intx->n = 0;
	}
}

int pci_host_from_fdt(const struct fdt *f, struct pci_host *h, struct pci_intx_map *intx, char *err,
		      size_t n)
{
	struct fdt_error fe;
	struct fdt_prop p;
	struct pci_dt_node dn = {0};
	char path[64], msg[160];
	int node;

	intx->n = 0;
	for (node = fdt_find_compatible(f, -1, "pci-host-ecam-generic"); node >= 0;
	     node = fdt_find_compatible(f, node, "pci-host-ecam-generic"))
		if (fdt_node_okay(f, node))
			break;
	if (node < 0)
		return 0;
	fdt_node_path(f, node, path, sizeof(path));
	if (fdt_parent_cells(f, fdt_parent(f, node), &dn.parent_addr_cells, &dn.parent_size_cells,
			     &fe) != FDT_OK ||
	    fdt_parent_cells(f, node, &dn.addr_cells, &dn.size_cells, &fe) != FDT_OK) {
		snprintf(err, n, "%s", fe.message);
		return -1;
	}
	if (fdt_get_prop(f, node, "reg", &p) == FDT_OK)
		dn.reg = p.data, dn.reg_len = p.len;
	if (fdt_get_prop(f, node, "bus-range", &p) == FDT_OK)
		dn.bus_range = p.data, dn.bus_range_len = p.len;
	if (fdt_get_prop(f, node, "ranges", &p) == FDT_OK)
		dn.ranges = p.data, dn.ranges_len = p.len;
	if (!pci_host_from_dt(&dn, h, msg, sizeof(msg))) {
		snprintf(err, n, "fdt: node %s: %s", path, msg);
		return -1;
	}
	strlcpy(h->source, path, sizeof(h->source));
	intx_from_fdt(f, node, path, intx);
	return 1;
}
