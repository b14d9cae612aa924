// SPDX-License-Identifier: BSD-2-Clause
/*
 * Requester-id maps (id_map.h): the decoder of `iommu-map` / `msi-map`
 * and the lookup. Pure functions of the property bytes, so tests feed
 * them malformed input.
 *
 * Invariants: nothing is read past the property's length; every entry
 * kept was range checked (see id_map.h); a refusal is one line naming the
 * property, the entry and the field.
 */
#include "lib/id_map.h"
#include "lib/fdt.h"
#include "lib/fmt.h"

#define ENTRY_CELLS 4

bool id_map_decode(const uint8_t *data, uint32_t len, const char *prop, uint32_t phandle,
		   const char *target, struct id_map *out, char *err, size_t err_size)
{
	struct fdt_cells c;
	uint64_t rid, ph, base, n;

	out->n = 0;
	if (!data) {
		snprintf(err, err_size, "property '%s': missing (no ids for %s)", prop, target);
		return false;
	}
	if (!fdt_cells_init(&c, data, len) || len == 0 || len % (ENTRY_CELLS * 4)) {
		snprintf(err, err_size,
			 "property '%s': length %u is not a whole number of 4-cell entries", prop,
			 len);
		return false;
	}
	for (unsigned i = 0; fdt_cells_left(&c); i++) {
		fdt_cells_read(&c, 1, &rid);
		fdt_cells_read(&c, 1, &ph);
		fdt_cells_read(&c, 1, &base);
		fdt_cells_read(&c, 1, &n);
		if (n == 0 || rid + n > 0x10000 || base + n - 1 > 0xffffffffull) {
			snprintf(err, err_size,
				 "property '%s': entry %u: rid %#llx length %#llx is empty, past "
				 "rid 0xffff or wraps the ids",
				 prop, i, (unsigned long long)rid, (unsigned long long)n);
			return false;
		}
		if (ph != phandle)
			continue; /* another unit's devices */
		if (out->n == ID_MAP_MAX) {
			snprintf(err, err_size, "property '%s': more than %u entries for %s", prop,
				 ID_MAP_MAX, target);
			return false;
		}
		out->e[out->n++] = (struct id_map_entry){
		    .in_base = (uint32_t)rid, .out_base = (uint32_t)base, .length = (uint32_t)n};
	}
	if (!out->n) {
		snprintf(err, err_size, "property '%s': no entry names %s (phandle %#x)", prop,
			 target, phandle);
		return false;
	}
	return true;
}

bool id_map_lookup(const struct id_map *m, uint16_t rid, uint32_t *out)
{
	for (unsigned i = 0; i < m->n; i++) {
		const struct id_map_entry *e = &m->e[i];
		if (rid >= e->in_base && rid - e->in_base < e->length) {
			*out = e->out_base + (rid - e->in_base);
			return true;
		}
	}
	return false;
}

uint32_t id_map_max(const struct id_map *m)
{
	uint32_t max = 0;
	for (unsigned i = 0; i < m->n; i++)
		max = MAX(max, m->e[i].out_base + m->e[i].length - 1);
	return max;
}
