// SPDX-License-Identifier: BSD-2-Clause
/*
 * IORT (IO Remapping Table, Arm DEN 0049): how a PCI root complex's
 * requester ids reach the SMMUv3 (as stream ids) and the GIC ITS (as
 * device ids). Nodes are a graph: each node's ID mappings name an output
 * node by its offset in the table. Pagoda follows the root complex of one
 * PCI segment: a mapping to an SMMUv3 node gives stream ids, and that
 * node's own mappings to an ITS group give the device ids an MSI carries;
 * a mapping straight to an ITS group gives device ids with no SMMU.
 *
 * Invariants: a node is used only after its header and length are inside
 * the table; an output reference must be the start of a node found by the
 * walk (never an arbitrary offset); an ID range must not wrap; a problem
 * is one line naming the node's offset and the field.
 */
#include "kernel/acpi/acpi_arm.h"
#include "kernel/boot_info.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define IORT_NODE_COUNT	 36
#define IORT_NODE_OFFSET 40
#define IORT_MIN_LENGTH	 48
#define IORT_NODES_MAX	 64

#define NODE_ITS_GROUP	  0
#define NODE_ROOT_COMPLEX 2
#define NODE_SMMUV3	  4
#define NODE_HEADER	  16 /* type, length, revision, identifier, mapping count, mapping offset */

#define RC_SEGMENT    28
#define RC_MIN_LENGTH 32
#define SMMU_BASE      16
#define SMMU_EVENT     44
#define SMMU_GERR      52
#define SMMU_MIN_LENGTH 60
#define ITS_COUNT      16
#define ITS_IDS	       20

#define MAP_LENGTH 20 /* input base, number of ids - 1, output base, output reference, flags */
#define MAP_SINGLE (1u << 0)

struct iort_walk {
	const uint8_t *t;
	uint32_t len;
	uint32_t nodes[IORT_NODES_MAX];
	unsigned nr_nodes;
	char *err;
	size_t n;
};

struct iort_mapping {
	uint32_t in, count, out, ref, flags; /* count: ids in the range (the table's field + 1) */
};

static bool fail(struct iort_walk *w, uint32_t off, const char *what)
{
	snprintf(w->err, w->n, "IORT: node at offset %u: %s", off, what);
	return false;
}

static uint8_t node_type(const struct iort_walk *w, uint32_t off)
{
	return w->t[off];
}

static uint32_t node_length(const struct iort_walk *w, uint32_t off)
{
	return acpi_get16(w->t + off + 1);
}

static bool is_node(const struct iort_walk *w, uint32_t off)
{
	for (unsigned i = 0; i < w->nr_nodes; i++)
		if (w->nodes[i] == off)
			return true;
	return false;
}

/* Mapping `i` of the node at `off`, checked to lie inside the node and not to wrap. */
static bool mapping(struct iort_walk *w, uint32_t off, unsigned i, struct iort_mapping *m)
{
	uint32_t count = acpi_get32(w->t + off + 8), at = acpi_get32(w->t + off + 12);
	uint32_t nlen = node_length(w, off);
	if (at < NODE_HEADER || at > nlen || count > (nlen - at) / MAP_LENGTH)
		return fail(w, off, "ID mappings run past the node");
	const uint8_t *p = w->t + off + at + i * MAP_LENGTH;
	uint32_t n = acpi_get32(p + 4);
	*m = (struct iort_mapping){acpi_get32(p), n + 1, acpi_get32(p + 8), acpi_get32(p + 12),
				   acpi_get32(p + 16)};
	if (n == 0xFFFFFFFFu || m->in > 0xFFFFFFFFu - n || m->out > 0xFFFFFFFFu - n)
		return fail(w, off, "an ID mapping wraps");
	if (!is_node(w, m->ref))
		return fail(w, off, "an ID mapping's output reference is not a node");
	return true;
}

static bool add_map(struct iort_walk *w, uint32_t off, struct acpi_iort_map *maps, unsigned *nr,
		    uint32_t in, uint32_t count, uint32_t out)
{
	if (*nr == ACPI_IORT_MAPS_MAX)
		return fail(w, off, "more ID mappings than Pagoda keeps");
	maps[(*nr)++] = (struct acpi_iort_map){in, count, out};
	return true;
}

static bool its_group(struct iort_walk *w, uint32_t off, struct acpi_iort *out)
{
	uint32_t nlen = node_length(w, off);
	if (nlen < ITS_IDS || acpi_get32(w->t + off + ITS_COUNT) == 0 ||
	    acpi_get32(w->t + off + ITS_COUNT) > (nlen - ITS_IDS) / 4)
		return fail(w, off, "ITS group's ITS count is 0 or runs past the node");
	out->has_its = true;
	out->its_id = acpi_get32(w->t + off + ITS_IDS);
	return true;
}

/*
 * Requester ids [rid, rid + count) became stream ids [sid, ...) at the
 * SMMUv3 at `smmu`: the parts of that range the SMMU's own mappings send
 * to an ITS group become device ids.
 */
static bool through_smmu(struct iort_walk *w, uint32_t smmu, uint32_t rid, uint32_t count,
			 uint32_t sid, struct acpi_iort *out)
{
	struct iort_mapping m;
	for (unsigned i = 0; i < acpi_get32(w->t + smmu + 8); i++) {
		if (!mapping(w, smmu, i, &m))
			return false;
		if ((m.flags & MAP_SINGLE) || node_type(w, m.ref) != NODE_ITS_GROUP)
			continue; /* the SMMU's own interrupts, or not an ITS */
		uint64_t lo = MAX((uint64_t)sid, m.in), hi = MIN((uint64_t)sid + count, (uint64_t)m.in + m.count);
		if (lo >= hi)
			continue;
		if (!its_group(w, m.ref, out) ||
		    !add_map(w, smmu, out->rid_to_devid, &out->nr_rid_to_devid,
			     rid + (uint32_t)(lo - sid), (uint32_t)(hi - lo), m.out + (uint32_t)(lo - m.in)))
			return false;
	}
	return true;
}

static bool smmu_node(struct iort_walk *w, uint32_t off, struct acpi_iort *out)
{
	if (node_length(w, off) < SMMU_MIN_LENGTH)
		return fail(w, off, "SMMUv3 node shorter than its fields");
	phys_addr_t base = acpi_get64(w->t + off + SMMU_BASE);
	if (!base || base % 65536)
		return fail(w, off, "SMMUv3 base is not a non-zero multiple of 64 KiB");
	if (out->has_smmu && out->smmu_node_offset != off)
		return fail(w, off, "the root complex maps to a second SMMUv3");
	out->has_smmu = true;
	out->smmu_base = base;
	out->smmu_event_gsiv = acpi_get32(w->t + off + SMMU_EVENT);
	out->smmu_gerr_gsiv = acpi_get32(w->t + off + SMMU_GERR);
	out->smmu_node_offset = off;
	return true;
}

static bool root_complex(struct iort_walk *w, uint32_t rc, struct acpi_iort *out)
{
	struct iort_mapping m;
	for (unsigned i = 0; i < acpi_get32(w->t + rc + 8); i++) {
		if (!mapping(w, rc, i, &m))
			return false;
		if (m.flags & MAP_SINGLE)
			continue; /* not a requester-id range */
		if (m.in > 0xFFFF || m.count > 0x10000 - m.in)
			return fail(w, rc, "an ID mapping's input is not within 16-bit requester ids");
		switch (node_type(w, m.ref)) {
		case NODE_SMMUV3:
			if (!smmu_node(w, m.ref, out) ||
			    !add_map(w, rc, out->rid_to_sid, &out->nr_rid_to_sid, m.in, m.count, m.out) ||
			    !through_smmu(w, m.ref, m.in, m.count, m.out, out))
				return false;
			break;
		case NODE_ITS_GROUP:
			if (!its_group(w, m.ref, out) ||
			    !add_map(w, rc, out->rid_to_devid, &out->nr_rid_to_devid, m.in, m.count,
				     m.out))
				return false;
			break;
		default:
			return fail(w, rc, "an ID mapping leads to a node that is neither an SMMUv3 "
					   "nor an ITS group");
		}
	}
	return true;
}

bool acpi_iort_parse(const struct acpi_sdt_header *iort, uint32_t segment, struct acpi_iort *out,
		     char *err, size_t err_size)
{
	struct iort_walk w = {.t = (const uint8_t *)iort, .len = iort->length, .err = err,
			      .n = err_size};
	memset(out, 0, sizeof(*out));
	if (memcmp(iort->signature, "IORT", 4) != 0 || iort->length < IORT_MIN_LENGTH) {
		snprintf(err, err_size, "IORT: signature \"%.4s\" or length %u is wrong",
			 iort->signature, iort->length);
		return false;
	}
	uint32_t count = acpi_get32(w.t + IORT_NODE_COUNT), off = acpi_get32(w.t + IORT_NODE_OFFSET);
	if (count > IORT_NODES_MAX) {
		snprintf(err, err_size, "IORT: %u nodes, more than Pagoda reads (%u)", count,
			 IORT_NODES_MAX);
		return false;
	}
	for (unsigned i = 0; i < count; i++) {
		if (off < IORT_MIN_LENGTH || off > w.len || w.len - off < NODE_HEADER ||
		    node_length(&w, off) < NODE_HEADER || node_length(&w, off) > w.len - off) {
			snprintf(err, err_size, "IORT: node %u at offset %u runs past length %u", i,
				 off, w.len);
			return false;
		}
		w.nodes[w.nr_nodes++] = off;
		off += node_length(&w, off);
	}
	for (unsigned i = 0; i < w.nr_nodes; i++) {
		uint32_t rc = w.nodes[i];
		if (node_type(&w, rc) != NODE_ROOT_COMPLEX)
			continue;
		if (node_length(&w, rc) < RC_MIN_LENGTH)
			return fail(&w, rc, "root complex node shorter than its fields");
		if (acpi_get32(w.t + rc + RC_SEGMENT) == segment)
			return root_complex(&w, rc, out);
	}
	snprintf(err, err_size, "IORT: no root complex node for PCI segment %u", segment);
	return false;
}

int acpi_iort_read(uint32_t segment, struct acpi_iort *out, char *err, size_t err_size)
{
	size_t avail;
	const struct acpi_sdt_header *h =
		boot_info.acpi_rsdp ? acpi_find_table_unchecked("IORT", &avail) : NULL;
	if (!h)
		return 0;
	if (h->length < sizeof(*h) || h->length > avail) {
		snprintf(err, err_size, "IORT: length %u is not within the %zu bytes the firmware "
			 "maps there", h->length, avail);
		return -1;
	}
	if (acpi_checksum(h, h->length) != 0) {
		snprintf(err, err_size, "IORT: checksum mismatch over %u bytes", h->length);
		return -1;
	}
	return acpi_iort_parse(h, segment, out, err, err_size) ? 1 : -1;
}

