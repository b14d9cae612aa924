/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Requester-id maps: how a PCI host turns a device's requester id (bus,
 * device, function) into the id another unit knows it by: an SMMU's
 * stream id (`iommu-map`) or a GIC ITS's device id (`msi-map`). Both
 * device-tree properties have one format (Linux's
 * Documentation/devicetree/bindings/pci/pci-iommu.txt and pci-msi.txt):
 * 4-cell entries <rid-base phandle out-base length>; ACPI's IORT gives the
 * same ranges in its ID mappings, so the users take a decoded id_map and
 * never the property.
 *
 * Invariants: an entry kept covers requester ids [in_base, in_base +
 * length) within 16 bits, length > 0, and out_base + length - 1 does not
 * wrap 32 bits; nothing is read past the property's length.
 */
#ifndef PAGODA_LIB_ID_MAP_H
#define PAGODA_LIB_ID_MAP_H

#include "lib/base.h"

#define ID_MAP_MAX 8

struct id_map_entry {
	uint32_t in_base, out_base, length;
};

struct id_map {
	struct id_map_entry e[ID_MAP_MAX];
	unsigned n;
};

/*
 * Decodes the 4-cell property `prop` (its bytes `data`, `len`; NULL when
 * missing), keeping the entries that name `phandle`; `target` names that
 * unit in messages ("the SMMU", "the ITS"). Refuses a missing or empty
 * property, a length that is not whole entries, an empty or wrapping
 * entry, requester ids past 0xffff, more than ID_MAP_MAX entries for the
 * target, and a map that names the target nowhere. True, or false with a
 * one-line message ("property '<prop>': ...") in err.
 */
bool id_map_decode(const uint8_t *data, uint32_t len, const char *prop, uint32_t phandle,
		   const char *target, struct id_map *out, char *err, size_t err_size);
/* The id requester `rid` has through the map; false when no entry covers it. */
bool id_map_lookup(const struct id_map *m, uint16_t rid, uint32_t *out);
/* The largest id the map can give (0 for an empty map). */
uint32_t id_map_max(const struct id_map *m);

#endif
