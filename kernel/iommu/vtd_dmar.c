// SPDX-License-Identifier: BSD-2-Clause
/*
 * The ACPI DMAR table (VT-d spec chapter 8): which remapping units exist,
 * where their registers are, and which devices each one translates.
 * A pure function over the raw bytes, so tests feed it synthetic and
 * malformed tables.
 *
 * Invariant: no byte past min(avail, the header's length) is read, and
 * every length is checked before the structure it bounds is looked at;
 * the first problem found is named in one line (structure, offset,
 * field) and nothing is half filled in for the caller to use. Which unit
 * translates a device is decided from the stored scopes only, and never
 * guessed when a scope could not be stored.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/iommu/vtd.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define DMAR_HEADER	 36
#define DMAR_STRUCTS	 48 /* header, host address width, flags, 10 reserved bytes */
#define DMAR_TYPE_DRHD	 0
#define DRHD_SCOPES	 16 /* type, length, flags, size, segment, register base */
#define DRHD_INCLUDE_ALL 0x1
#define SCOPE_HEADER	 6 /* type, length, reserved, enumeration id, start bus */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/* The device scopes of the DRHD at `d` (`len` bytes), into *u. */
static bool parse_scopes(const uint8_t *d, unsigned len, unsigned at, struct vtd_dmar_unit *u,
			 char *err, size_t n)
{
	for (unsigned off = DRHD_SCOPES; off < len;) {
		if (len - off < SCOPE_HEADER) {
			snprintf(err, n,
				 "DMAR: DRHD at offset %u: device scope at +%u: %u bytes left, "
				 "a scope needs %u",
				 at, off, len - off, SCOPE_HEADER);
			return false;
		}
		unsigned slen = d[off + 1];
		if (slen < SCOPE_HEADER + 2 || (slen - SCOPE_HEADER) % 2 || slen > len - off) {
			snprintf(err, n,
				 "DMAR: DRHD at offset %u: device scope at +%u: length %u is "
				 "not 6 + 2 * hops within the DRHD's %u bytes",
				 at, off, slen, len);
			return false;
		}
		unsigned hops = (slen - SCOPE_HEADER) / 2;
		if (u->nr_scopes < VTD_DMAR_SCOPES_MAX && hops <= VTD_SCOPE_HOPS_MAX) {
			struct vtd_dmar_scope *s = &u->scopes[u->nr_scopes++];
			s->type = d[off];
			s->enumeration_id = d[off + 4];
			s->bus = d[off + 5];
			s->dev = d[off + slen - 2];
			s->fn = d[off + slen - 1];
			s->hops = (uint8_t)hops;
			memcpy(s->path, d + off + SCOPE_HEADER, 2 * hops);
		} else {
			u->nr_dropped++;
		}
		off += slen;
	}
	return true;
}

static bool parse_drhd(const uint8_t *d, unsigned len, unsigned at, struct vtd_dmar *out, char *err,
		       size_t n)
{
	if (len < DRHD_SCOPES) {
		snprintf(err, n,
			 "DMAR: DRHD at offset %u: length %u is shorter than its %u fixed "
			 "bytes (truncated)",
			 at, len, DRHD_SCOPES);
		return false;
	}
	uint64_t base = rd64(d + 8);
	if (base == 0 || base % 4096) {
		snprintf(err, n, "DMAR: DRHD at offset %u: register base %#llx is %s", at,
			 (unsigned long long)base, base ? "not 4 KiB aligned" : "missing (zero)");
		return false;
	}
	struct vtd_dmar_unit u = {
	    .reg_base = base, .segment = rd16(d + 6), .include_pci_all = d[4] & DRHD_INCLUDE_ALL};
	if (!parse_scopes(d, len, at, &u, err, n))
		return false;
	if (out->nr_units < VTD_DMAR_UNITS_MAX)
		out->units[out->nr_units++] = u;
	return true;
}

bool vtd_dmar_parse(const void *table, size_t avail, struct vtd_dmar *out, char *err,
		    size_t err_size)
{
	const uint8_t *t = table;
	memset(out, 0, sizeof(*out));
	if (avail < DMAR_HEADER) {
		snprintf(err, err_size, "DMAR: only %zu bytes, shorter than a table header", avail);
		return false;
	}
	const struct acpi_sdt_header *h = table;
	if (memcmp(h->signature, "DMAR", 4) != 0) {
		snprintf(err, err_size, "DMAR: signature is \"%.4s\"", h->signature);
		return false;
	}
	if (h->length < DMAR_STRUCTS || h->length > avail) {
		snprintf(err, err_size, "DMAR: length %u is not within [%u, %zu]", h->length,
			 DMAR_STRUCTS, avail);
		return false;
	}
	if (acpi_checksum(t, h->length) != 0) {
		snprintf(err, err_size, "DMAR: checksum mismatch over %u bytes", h->length);
		return false;
	}
	out->host_address_width = t[DMAR_HEADER] + 1u;
	out->flags = t[DMAR_HEADER + 1];
	for (unsigned off = DMAR_STRUCTS; off < h->length;) {
		if (h->length - off < 4) {
			snprintf(err, err_size,
				 "DMAR: structure at offset %u: %u bytes left, "
				 "shorter than its type and length",
				 off, h->length - off);
			return false;
		}
		unsigned type = rd16(t + off), len = rd16(t + off + 2);
		if (len < 4 || len > h->length - off) {
			snprintf(err, err_size,
				 "DMAR: structure at offset %u (type %u): length %u "
				 "runs past the table's %u bytes (truncated)",
				 off, type, len, h->length);
			return false;
		}
		if (type == DMAR_TYPE_DRHD) {
			if (!parse_drhd(t + off, len, off, out, err, err_size))
				return false;
		} else {
			out->nr_other++;
		}
		off += len;
	}
	if (out->nr_units == 0) {
		snprintf(err, err_size, "DMAR: no DRHD (remapping unit) among its structures");
		return false;
	}
	return true;
}

static uint16_t rid_of(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (uint16_t)(bus << 8 | (dev & 0x1f) << 3 | (fn & 7));
}

/* Does scope `s` name the device `rid`, or a bridge with `rid` behind it? */
static bool scope_covers(const struct vtd_dmar_scope *s, uint16_t rid, vtd_bridge_fn *bridge,
			 void *ctx)
{
	if (s->type != VTD_SCOPE_PCI_ENDPOINT && s->type != VTD_SCOPE_PCI_SUBHIERARCHY)
		return false; /* I/O APIC, HPET, ACPI namespace: not a requester id of ours */
	uint8_t bus = s->bus, secondary, subordinate;
	for (unsigned i = 0; i + 1 < s->hops; i++) {
		if (!bridge(bus, s->path[i][0], s->path[i][1], &secondary, &subordinate, ctx))
			return false; /* the path leads nowhere on this machine */
		bus = secondary;
	}
	uint8_t dev = s->path[s->hops - 1][0], fn = s->path[s->hops - 1][1];
	if (rid_of(bus, dev, fn) == rid)
		return true;
	return s->type == VTD_SCOPE_PCI_SUBHIERARCHY &&
	       bridge(bus, dev, fn, &secondary, &subordinate, ctx) && (rid >> 8) >= secondary &&
	       (rid >> 8) <= subordinate;
}

int vtd_dmar_unit_for(const struct vtd_dmar *d, unsigned segment, uint16_t rid,
		      vtd_bridge_fn *bridge, void *ctx)
{
	int include_all = -1;
	bool unsure = false;
	for (unsigned i = 0; i < d->nr_units; i++) {
		const struct vtd_dmar_unit *u = &d->units[i];
		if (u->segment != segment)
			continue;
		for (unsigned j = 0; j < u->nr_scopes; j++)
			if (scope_covers(&u->scopes[j], rid, bridge, ctx))
				return (int)i;
		if (u->include_pci_all)
			include_all = (int)i;
		else if (u->nr_dropped)
			unsure = true; /* a scope we did not keep may name the device */
	}
	return unsure ? -1 : include_all;
}
