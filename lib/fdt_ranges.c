// SPDX-License-Identifier: BSD-2-Clause
/*
 * Bus address translation through the `ranges` of a node's ancestors, so
 * that a `reg` read under a simple-bus (the Raspberry Pi's /soc, whose
 * children sit at VideoCore bus addresses 0x7e......) becomes the CPU
 * physical address.
 *
 * Rules kept (the devicetree specification's): an empty `ranges` is the
 * identity; a missing one on a bus between the node and the root means the
 * bus is not memory-mapped, so nothing translates; an address translates
 * only when it and the whole size fit inside one entry. Every failure is an
 * fdt_error naming the node and property; nothing is guessed.
 */
#include "lib/fdt.h"

/* One `ranges` step: `addr` on `bus`'s child side to its parent's side. */
static int translate_one(const struct fdt *f, int bus, uint64_t addr, uint64_t size, uint64_t *out,
			 struct fdt_error *err)
{
	unsigned cac, csc, pac, psc;
	struct fdt_cells c;
	uint64_t child, parent, len;
	int rc, grand = fdt_parent(f, bus);

	rc = fdt_parent_cells(f, bus, &cac, &csc, err);
	if (rc)
		return rc;
	pac = 2;
	if (grand >= 0 && (rc = fdt_parent_cells(f, grand, &pac, &psc, err)) != 0)
		return rc;
	if (cac > 2 || csc > 2 || pac > 2)
		return fdt_error_set(err, FDT_ERR_BADVALUE, f, bus, "ranges",
				     "cells wider than 64 bits");
	rc = fdt_prop_cells(f, bus, "ranges", cac + pac + csc, &c, err);
	if (rc == FDT_ERR_NOTFOUND)
		return fdt_error_set(err, FDT_ERR_NOTFOUND, f, bus, "ranges",
				     "missing: the bus is not memory-mapped");
	if (rc)
		return rc;
	if (fdt_cells_left(&c) == 0) {
		*out = addr;
		return FDT_OK;
	}
	while (fdt_cells_read(&c, cac, &child) && fdt_cells_read(&c, pac, &parent) &&
	       fdt_cells_read(&c, csc, &len)) {
		if (addr >= child && addr - child < len && size <= len - (addr - child)) {
			*out = parent + (addr - child);
			return FDT_OK;
		}
	}
	return fdt_error_set(err, FDT_ERR_NOTFOUND, f, bus, "ranges",
			     "no entry covers the child's address");
}

int fdt_translate(const struct fdt *f, int node, uint64_t addr, uint64_t size, uint64_t *out,
		  struct fdt_error *err)
{
	int bus;
	for (bus = fdt_parent(f, node); bus >= 0 && fdt_parent(f, bus) >= 0;
	     bus = fdt_parent(f, bus)) {
		int rc = translate_one(f, bus, addr, size, &addr, err);
		if (rc)
			return rc;
	}
	*out = addr;
	return FDT_OK;
}
