// SPDX-License-Identifier: BSD-2-Clause
/*
 * Legacy INTx routing from a device-tree PCI host: the decoder of the
 * host node's interrupt-map and interrupt-map-mask (pure: tests feed it
 * synthetic properties) and the look-up of one device's pin in it.
 *
 * An entry is <child-unit-address child-interrupt parent-phandle
 * parent-unit-address parent-interrupt>: 3 + 1 cells on the PCI side, then
 * as many cells as the parent's #address-cells and #interrupt-cells say,
 * which is why the caller supplies a way to look a phandle up.
 *
 * Invariants: nothing is read past either property (every entry is
 * checked whole before it is used); a map that is not well formed is
 * refused as a whole with its entry named, never used in part. The
 * look-up compares only the bits the mask keeps, on both sides (QEMU virt
 * keeps the slot's low two bits and the pin: the swizzle is in the map).
 */
#include "kernel/pci/pci.h"
#include "lib/fdt.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define CHILD_CELLS 4 /* PCI: 3 address cells and 1 interrupt cell */

bool pci_intx_map_decode(const struct pci_intx_dt *in, struct pci_intx_map *out, char *err,
			 size_t err_size)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < CHILD_CELLS; i++)
		out->mask[i] = 0xffffffffu;
	if (!in->map)
		return true;
	if (in->addr_cells != 3 || in->intr_cells != 1) {
		snprintf(err, err_size,
			 "#address-cells %u and #interrupt-cells %u, expected 3 and 1 for PCI",
			 in->addr_cells, in->intr_cells);
		return false;
	}
	if (in->mask) {
		if (in->mask_len != CHILD_CELLS * 4) {
			snprintf(err, err_size,
				 "property 'interrupt-map-mask': %u bytes, expected %u",
				 in->mask_len, CHILD_CELLS * 4);
			return false;
		}
		for (unsigned i = 0; i < CHILD_CELLS; i++)
			out->mask[i] = fdt_be32(in->mask + 4 * i);
	}
	if (in->map_len % 4) {
		snprintf(err, err_size, "property 'interrupt-map': %u bytes, not whole cells",
			 in->map_len);
		return false;
	}
	unsigned cells = in->map_len / 4, pos = 0;
	const uint8_t *m = in->map;
	while (pos < cells) {
		unsigned e = out->n, pa, pi;
		if (e == PCI_INTX_MAP_MAX) {
			snprintf(err, err_size, "property 'interrupt-map': more than %u entries",
				 PCI_INTX_MAP_MAX);
			return false;
		}
		if (cells - pos < CHILD_CELLS + 1) {
			snprintf(err, err_size, "property 'interrupt-map': entry %u: truncated", e);
			return false;
		}
		struct pci_intx_entry *en = &out->e[e];
		for (unsigned i = 0; i < CHILD_CELLS; i++)
			en->child[i] = fdt_be32(m + 4 * (pos + i));
		uint32_t phandle = fdt_be32(m + 4 * (pos + CHILD_CELLS));
		pos += CHILD_CELLS + 1;
		if (!in->parent_cells || !in->parent_cells(in->ctx, phandle, &pa, &pi)) {
			snprintf(
			    err, err_size,
			    "property 'interrupt-map': entry %u: phandle %#x names no interrupt "
			    "controller",
			    e, phandle);
			return false;
		}
		if (pi == 0 || pi > PCI_INTX_SPEC_MAX || pa > 3) {
			snprintf(
			    err, err_size,
			    "property 'interrupt-map': entry %u: parent cells %u+%u not supported",
			    e, pa, pi);
			return false;
		}
		if (cells - pos < pa + pi) {
			snprintf(err, err_size, "property 'interrupt-map': entry %u: truncated", e);
			return false;
		}
		pos += pa; /* the parent's unit address: the GIC's is unused */
		for (unsigned i = 0; i < pi; i++)
			en->spec[i] = fdt_be32(m + 4 * (pos + i));
		en->spec_cells = pi;
		pos += pi;
		out->n++;
	}
	return true;
}

const struct pci_intx_entry *pci_intx_lookup(const struct pci_intx_map *m, unsigned bus,
					     unsigned dev, unsigned fn, unsigned pin)
{
	uint32_t child[CHILD_CELLS] = {bus << 16 | dev << 11 | fn << 8, 0, 0, pin};
	for (unsigned e = 0; e < m->n; e++) {
		bool match = true;
		for (unsigned i = 0; i < CHILD_CELLS; i++)
			match &= !((child[i] ^ m->e[e].child[i]) & m->mask[i]);
		if (match)
			return &m->e[e];
	}
	return NULL;
}
