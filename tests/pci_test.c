// SPDX-License-Identifier: BSD-2-Clause
/*
 * pci suite: the bus as pci_init() found it under QEMU (q35 through MCFG,
 * virt through its device tree, both with `-device edu`): the host bridge
 * at the first bus's 00.0, the edu device with its ids and class, every
 * BAR a naturally aligned power of two, no two memory BARs overlapping,
 * assigned ones inside the host's windows. Then the pure decoders fed
 * synthetic input: MCFG tables and device-tree properties, well formed and
 * broken one field at a time (each must be refused with that field named),
 * and BAR sizing values for the BAR kinds QEMU's devices here lack.
 * Interrupts: edu's MSI capability as the capability walk found it, the
 * interrupt chosen for it (MSI where the platform offers it and pci.msi
 * is on, else INTx, never both), and the interrupt-map decoder on QEMU
 * virt's map and broken copies of it.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/drivers/edu.h"
#include "kernel/pci/pci.h"
#include "lib/string.h"
#include "tests/ktest.h"

/* Skips (after checking no host bridge was found) on a machine without PCI. */
static void need_pci(struct ktest *t)
{
	if (ktest_machine_has_no_pci()) {
		EXPECT_TRUE(t, pci_host() == NULL);
		KTEST_SKIP(t, "the machine has no PCI bus (test.nopci)");
	}
}

static void host_bridge_found(struct ktest *t)
{
	need_pci(t);
	const struct pci_host *h = pci_host();
	ASSERT_TRUE(t, h != NULL);
	ASSERT_GT(t, pci_dev_count(), 1u);
	const struct pci_dev *d = pci_dev_at(0);
	EXPECT_EQ(t, d->bus, h->bus_start);
	EXPECT_EQ(t, d->dev, 0);
	EXPECT_EQ(t, d->fn, 0);
	EXPECT_EQ(t, d->class_code & 0xffff00, (uint32_t)PCI_CLASS_BRIDGE_HOST);
	EXPECT_EQ(t, pci_cfg_read16(d, PCI_VENDOR_ID), d->vendor);
	EXPECT_EQ(t, pci_cfg_read16(d, PCI_DEVICE_ID), d->device);
	if (h->assign) /* device tree: BARs come from the host's memory window */
		EXPECT_GT(t, h->mem32.size + h->mem64.size, 0u);
}

static void edu_found_with_ids_and_bar(struct ktest *t)
{
	need_pci(t);
	const struct pci_dev *d = pci_find(EDU_VENDOR, EDU_DEVICE);
	ASSERT_TRUE(t, d != NULL);
	EXPECT_EQ(t, d->class_code, 0x00ff00u); /* QEMU: class 0x00ff (PCI_CLASS_OTHERS), prog-if 0 */
	EXPECT_EQ(t, pci_cfg_read32(d, PCI_VENDOR_ID), (uint32_t)EDU_DEVICE << 16 | EDU_VENDOR);
	EXPECT_EQ(t, d->header_type & 0x7f, 0);
	EXPECT_EQ(t, (unsigned)d->bar[0].kind, (unsigned)PCI_BAR_MEM32);
	EXPECT_EQ(t, d->bar[0].size, MiB(1));
	EXPECT_FALSE(t, d->bar[0].prefetch);
	EXPECT_NE(t, d->bar[0].addr, 0u);
	/* The register holds the bus address; on both machines here bus == CPU. */
	EXPECT_EQ(t, pci_cfg_read32(d, PCI_BAR0) & ~0xfu, (uint32_t)d->bar[0].addr);
	/* The driver turned on what DMA needs. */
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	EXPECT_TRUE(t, cmd & PCI_COMMAND_MEMORY);
	EXPECT_TRUE(t, cmd & PCI_COMMAND_MASTER);
}

static bool in_window(const struct pci_window *w, phys_addr_t a, uint64_t size)
{
	return w->size && a >= w->cpu && a - w->cpu < w->size && size <= w->size - (a - w->cpu);
}

static void bars_are_sane(struct ktest *t)
{
	need_pci(t);
	const struct pci_host *h = pci_host();
	ASSERT_TRUE(t, h != NULL);
	unsigned mem = 0;
	for (unsigned k = 0; k < pci_dev_count(); k++) {
		const struct pci_dev *d = pci_dev_at(k);
		for (unsigned i = 0; i < PCI_NR_BARS; i++) {
			const struct pci_bar *b = &d->bar[i];
			if (b->kind == PCI_BAR_NONE)
				continue;
			EXPECT_EQ(t, b->size & (b->size - 1), 0u); /* a power of two */
			EXPECT_GE(t, b->size, b->kind == PCI_BAR_IO ? 4u : 16u);
			if (!b->addr)
				continue;
			EXPECT_EQ(t, b->addr & (b->size - 1), 0u);
			if (b->kind == PCI_BAR_IO)
				continue;
			mem++;
			if (h->assign)
				EXPECT_TRUE(t, in_window(&h->mem32, b->addr, b->size) ||
						   in_window(&h->mem64, b->addr, b->size));
			for (unsigned k2 = 0; k2 <= k; k2++) {
				const struct pci_dev *e = pci_dev_at(k2);
				for (unsigned j = 0; j < (k2 == k ? i : PCI_NR_BARS); j++) {
					const struct pci_bar *c = &e->bar[j];
					if (c->kind == PCI_BAR_NONE || c->kind == PCI_BAR_IO ||
					    !c->addr)
						continue;
					EXPECT_TRUE(t, c->addr + c->size <= b->addr ||
							   b->addr + b->size <= c->addr);
				}
			}
		}
	}
	EXPECT_GE(t, mem, 1u);
}

/* ---- MCFG ------------------------------------------------------------------------ */

struct mcfg_buf {
	uint8_t bytes[44 + 3 * 16];
	uint32_t len;
};

static void mcfg_build(struct mcfg_buf *b, unsigned entries, uint64_t base, uint16_t seg,
		       uint8_t start, uint8_t end)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->bytes, "MCFG", 4);
	b->len = 44 + 16 * entries;
	memcpy(b->bytes + 4, &b->len, 4);
	for (unsigned i = 0; i < entries; i++) {
		uint8_t *e = b->bytes + 44 + 16 * i;
		memcpy(e, &base, 8);
		memcpy(e + 8, &seg, 2);
		e[10] = start;
		e[11] = end;
	}
}

/* The decoder refuses `b` with a message matching `glob`. */
static void mcfg_refused(struct ktest *t, const struct mcfg_buf *b, const char *glob)
{
	struct pci_host h;
	char err[160] = "";
	EXPECT_FALSE(t, pci_host_from_mcfg((const struct acpi_sdt_header *)b->bytes, &h, err,
					   sizeof(err)));
	if (!glob_match(glob, err))
		ktest_fail_msg(t, __FILE__, __LINE__, "message \"%s\" does not match %s", err,
			       glob);
}

static void mcfg_decoder(struct ktest *t)
{
	struct mcfg_buf b;
	struct pci_host h;
	char err[160];

	mcfg_build(&b, 1, 0xb0000000, 0, 0, 255); /* q35's */
	ASSERT_TRUE(t, pci_host_from_mcfg((const struct acpi_sdt_header *)b.bytes, &h, err,
					  sizeof(err)));
	EXPECT_EQ(t, h.ecam, 0xb0000000u);
	EXPECT_EQ(t, h.bus_end, 255u);
	EXPECT_FALSE(t, h.assign);
	mcfg_build(&b, 1, 0xe0000000, 0, 2, 3); /* the base names bus 0 */
	ASSERT_TRUE(t, pci_host_from_mcfg((const struct acpi_sdt_header *)b.bytes, &h, err,
					  sizeof(err)));
	EXPECT_EQ(t, h.ecam, 0xe0200000u);
	EXPECT_EQ(t, h.bus_start, 2u);

	mcfg_build(&b, 1, 0xb0000000, 0, 0, 255);
	b.len = 50;
	memcpy(b.bytes + 4, &b.len, 4);
	mcfg_refused(t, &b, "MCFG: length 50 *");
	mcfg_build(&b, 0, 0, 0, 0, 0);
	mcfg_refused(t, &b, "MCFG: none of its 0 entries*");
	mcfg_build(&b, 2, 0xb0000000, 1, 0, 255);
	mcfg_refused(t, &b, "MCFG: none of its 2 entries is for segment 0");
	mcfg_build(&b, 1, 0, 0, 0, 255);
	mcfg_refused(t, &b, "MCFG: entry 0: base 0*");
	mcfg_build(&b, 1, 0xb0080000, 0, 0, 255);
	mcfg_refused(t, &b, "MCFG: entry 0: base 0xb0080000 *");
	mcfg_build(&b, 1, 0xb0000000, 0, 9, 8);
	mcfg_refused(t, &b, "MCFG: entry 0: buses 9-8 *");
	mcfg_build(&b, 1, 0xfffffffffff00000ull, 0, 0, 1);
	mcfg_refused(t, &b, "MCFG: entry 0: ECAM window * wraps");
}

/* ---- Device tree ------------------------------------------------------------------ */

static void put_cells(uint8_t *p, unsigned n, const uint32_t *v)
{
	for (unsigned i = 0; i < n; i++) {
		p[4 * i] = (uint8_t)(v[i] >> 24);
		p[4 * i + 1] = (uint8_t)(v[i] >> 16);
		p[4 * i + 2] = (uint8_t)(v[i] >> 8);
		p[4 * i + 3] = (uint8_t)v[i];
	}
}

/* QEMU virt's node (highmem): ECAM at 256 GiB + 256 MiB, I/O, 32- and 64-bit windows. */
static const uint32_t virt_reg[] = {0x40, 0x10000000, 0, 0x10000000};
static const uint32_t virt_bus_range[] = {0, 0xff};
static const uint32_t virt_ranges[] = {
    0x01000000, 0, 0,	       0, 0x3eff0000, 0,    0x10000,
    0x02000000, 0, 0x10000000, 0, 0x10000000, 0,    0x2eff0000,
    0x03000000, 0x80, 0,       0x80, 0,	   0x80, 0,
};

static struct dt_props {
	uint8_t reg[16], bus_range[8], ranges[sizeof(virt_ranges)];
	struct pci_dt_node node;
} dp;

static void dt_build(void)
{
	put_cells(dp.reg, 4, virt_reg);
	put_cells(dp.bus_range, 2, virt_bus_range);
	put_cells(dp.ranges, ARRAY_SIZE(virt_ranges), virt_ranges);
	dp.node = (struct pci_dt_node){
	    .reg = dp.reg, .reg_len = sizeof(dp.reg), .bus_range = dp.bus_range,
	    .bus_range_len = sizeof(dp.bus_range), .ranges = dp.ranges,
	    .ranges_len = sizeof(dp.ranges), .parent_addr_cells = 2, .parent_size_cells = 2,
	    .addr_cells = 3, .size_cells = 2};
}

static void dt_refused(struct ktest *t, const char *glob)
{
	struct pci_host h;
	char err[160] = "";
	EXPECT_FALSE(t, pci_host_from_dt(&dp.node, &h, err, sizeof(err)));
	if (!glob_match(glob, err))
		ktest_fail_msg(t, __FILE__, __LINE__, "message \"%s\" does not match %s", err,
			       glob);
	dt_build();
}

static void dt_decoder(struct ktest *t)
{
	struct pci_host h;
	char err[160];

	dt_build();
	ASSERT_TRUE(t, pci_host_from_dt(&dp.node, &h, err, sizeof(err)));
	EXPECT_EQ(t, h.ecam, 0x4010000000ull);
	EXPECT_EQ(t, h.bus_start, 0u);
	EXPECT_EQ(t, h.bus_end, 255u);
	EXPECT_TRUE(t, h.assign);
	EXPECT_EQ(t, h.io.cpu, 0x3eff0000u);
	EXPECT_EQ(t, h.io.bus, 0u);
	EXPECT_EQ(t, h.mem32.cpu, 0x10000000u);
	EXPECT_EQ(t, h.mem32.size, 0x2eff0000u);
	EXPECT_EQ(t, h.mem64.bus, 0x8000000000ull);
	EXPECT_EQ(t, h.mem64.size, 0x8000000000ull);

	/* An ECAM window of 16 MiB holds 16 buses: bus-range is cut to it. */
	dp.reg[12] = 0x01; /* size 0x10000000 -> 0x01000000 */
	ASSERT_TRUE(t, pci_host_from_dt(&dp.node, &h, err, sizeof(err)));
	EXPECT_EQ(t, h.bus_end, 15u);
	dt_build();

	dp.node.addr_cells = 2;
	dt_refused(t, "#address-cells/#size-cells are 2/2, PCI needs 3/2");
	dp.node.reg = NULL;
	dt_refused(t, "property 'reg': missing*");
	dp.node.reg_len = 12;
	dt_refused(t, "property 'reg': length 12 *");
	dp.node.bus_range_len = 4;
	dt_refused(t, "property 'bus-range': length 4*");
	dp.bus_range[7] = 0; /* <0 0> fine; make start > end */
	dp.bus_range[3] = 5;
	dt_refused(t, "property 'bus-range': <5 0> *");
	memset(dp.reg + 8, 0, 8);
	dt_refused(t, "property 'reg': ECAM window of * holds no bus");
	dp.node.ranges = NULL;
	dt_refused(t, "property 'ranges': missing*");
	dp.node.ranges_len = 7 * 4 + 4;
	dt_refused(t, "property 'ranges': length 32 is not a whole number of 7-cell entries");
	dp.ranges[7 * 4] = 0x00; /* entry 1 becomes configuration space */
	dt_refused(t, "property 'ranges': entry 1: space code 0 (configuration)*");
	memset(dp.ranges + 7 * 4 + 5 * 4, 0, 8); /* entry 1 size 0 */
	dt_refused(t, "property 'ranges': entry 1 (32-bit memory): size 0*");
	dp.node.ranges_len = 7 * 4; /* I/O only */
	dt_refused(t, "property 'ranges': no memory window");
}

static void bar_decode_kinds(struct ktest *t)
{
	struct pci_bar b;

	pci_bar_decode(0xfe000000, 0xfff00000, 0, 0, &b); /* edu-like: 1 MiB, 32-bit */
	EXPECT_EQ(t, (unsigned)b.kind, (unsigned)PCI_BAR_MEM32);
	EXPECT_EQ(t, b.size, MiB(1));
	EXPECT_EQ(t, b.addr, 0xfe000000u);
	/* 64-bit prefetchable, 8 GiB, at 0x8_0000_0000. */
	pci_bar_decode(0x0000000c, 0x0000000c, 0x8, 0xfffffffe, &b);
	EXPECT_EQ(t, (unsigned)b.kind, (unsigned)PCI_BAR_MEM64);
	EXPECT_TRUE(t, b.prefetch);
	EXPECT_EQ(t, b.size, GiB(8));
	EXPECT_EQ(t, b.addr, 0x800000000ull);
	/* I/O, 32 ports, a 16-bit decoder (upper bits read back 0). */
	pci_bar_decode(0xc001, 0xffe1, 0, 0, &b);
	EXPECT_EQ(t, (unsigned)b.kind, (unsigned)PCI_BAR_IO);
	EXPECT_EQ(t, b.size, 32u);
	EXPECT_EQ(t, b.addr, 0xc000u);
	/* Unimplemented: all zeros. */
	pci_bar_decode(0, 0, 0, 0, &b);
	EXPECT_EQ(t, (unsigned)b.kind, (unsigned)PCI_BAR_NONE);
	EXPECT_EQ(t, b.size, 0u);
}

/* ---- Interrupts ---------------------------------------------------------------------- */

/* QEMU's edu has one MSI capability (64-bit, no mask bits) and no MSI-X. */
static void msi_capability_parsed(struct ktest *t)
{
	need_pci(t);
	const struct pci_dev *d = pci_find(EDU_VENDOR, EDU_DEVICE);
	ASSERT_TRUE(t, d != NULL);
	ASSERT_NE(t, d->msi_cap, 0);
	EXPECT_EQ(t, pci_find_cap(d, PCI_CAP_ID_MSI), (unsigned)d->msi_cap);
	EXPECT_EQ(t, pci_cfg_read8(d, d->msi_cap), PCI_CAP_ID_MSI);
	EXPECT_GE(t, d->msi_cap, 0x40);
	uint16_t flags = pci_cfg_read16(d, d->msi_cap + PCI_MSI_FLAGS);
	EXPECT_TRUE(t, flags & PCI_MSI_FLAGS_64BIT);
	EXPECT_FALSE(t, flags & PCI_MSI_FLAGS_MASKBIT);
	EXPECT_EQ(t, d->msix_cap, 0);
	EXPECT_EQ(t, pci_find_cap(d, 0x7f), 0u);
	EXPECT_EQ(t, d->int_pin, 1); /* INTA# */
}

/*
 * edu's interrupt is MSI exactly when the platform has an MSI target and
 * pci.msi is on, else INTx through the host's map; the device signals in
 * that one way only, and an MSI carries the message the arch composed.
 */
static void edu_interrupt_as_the_platform_offers(struct ktest *t)
{
	need_pci(t);
	struct pci_dev *d = edu_pci_dev();
	const struct pci_irq *irq = edu_irq();
	ASSERT_TRUE(t, d != NULL && irq != NULL);
	int probe = arch_msi_alloc(pci_rid(d));
	if (probe >= 0)
		arch_msi_free((unsigned)probe);
	bool msi = probe >= 0 && pci_msi_wanted();
	uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
	uint16_t flags = pci_cfg_read16(d, d->msi_cap + PCI_MSI_FLAGS);
	if (msi) {
		ASSERT_EQ(t, (unsigned)irq->kind, (unsigned)PCI_IRQ_MSI);
		EXPECT_TRUE(t, flags & PCI_MSI_FLAGS_ENABLE);
		EXPECT_EQ(t, flags & PCI_MSI_FLAGS_QSIZE, 0);
		EXPECT_TRUE(t, cmd & PCI_COMMAND_INTX_DISABLE);
		uint64_t addr;
		uint32_t data;
		arch_msi_compose(irq->irq, &addr, &data);
		EXPECT_EQ(t, pci_cfg_read32(d, d->msi_cap + PCI_MSI_ADDR_LO), (uint32_t)addr);
		EXPECT_EQ(t, pci_cfg_read32(d, d->msi_cap + PCI_MSI_ADDR_HI), (uint32_t)(addr >> 32));
		EXPECT_EQ(t, pci_cfg_read16(d, d->msi_cap + PCI_MSI_DATA_64), (uint16_t)data);
		EXPECT_FALSE(t, irq->level);
	} else {
		ASSERT_EQ(t, (unsigned)irq->kind, (unsigned)PCI_IRQ_INTX);
		EXPECT_FALSE(t, flags & PCI_MSI_FLAGS_ENABLE);
		EXPECT_FALSE(t, cmd & PCI_COMMAND_INTX_DISABLE);
		EXPECT_TRUE(t, d->intx_routed);
		EXPECT_EQ(t, irq->irq, d->intx_irq);
		EXPECT_TRUE(t, irq->level); /* PCI INTx is level-triggered */
	}
}

/* QEMU virt's interrupt-map: slot & 3 and pin select one of SPIs 3-6, swizzled. */
#define GIC_PHANDLE 0x8005
static uint8_t imap[16 * 10 * 4], imask[16];

static bool gic_cells(void *ctx, uint32_t phandle, unsigned *addr_cells, unsigned *intr_cells)
{
	(void)ctx;
	*addr_cells = 2;
	*intr_cells = 3;
	return phandle == GIC_PHANDLE;
}

static struct pci_intx_dt imap_build(void)
{
	static const uint32_t mask[] = {0x1800, 0, 0, 7};
	for (unsigned slot = 0; slot < 4; slot++) {
		for (unsigned pin = 1; pin <= 4; pin++) {
			uint32_t e[10] = {slot << 11, 0, 0, pin, GIC_PHANDLE, 0, 0,
					  0, 3 + (slot + pin - 1) % 4, 4};
			put_cells(imap + 40 * (slot * 4 + pin - 1), 10, e);
		}
	}
	put_cells(imask, 4, mask);
	return (struct pci_intx_dt){.map = imap, .map_len = sizeof(imap), .mask = imask,
				    .mask_len = sizeof(imask), .addr_cells = 3, .intr_cells = 1,
				    .parent_cells = gic_cells};
}

static void imap_refused(struct ktest *t, const struct pci_intx_dt *in, const char *glob)
{
	static struct pci_intx_map m;
	char err[160] = "";
	EXPECT_FALSE(t, pci_intx_map_decode(in, &m, err, sizeof(err)));
	if (!glob_match(glob, err))
		ktest_fail_msg(t, __FILE__, __LINE__, "message \"%s\" does not match %s", err,
			       glob);
}

static void intx_map_decoder(struct ktest *t)
{
	static struct pci_intx_map m;
	char err[160];
	struct pci_intx_dt in = imap_build();
	ASSERT_TRUE(t, pci_intx_map_decode(&in, &m, err, sizeof(err)));
	ASSERT_EQ(t, m.n, 16u);
	/* 00:01.0 INTA# (edu on virt) -> SPI 4 level; slot 5 wraps to slot 1's entries. */
	const struct pci_intx_entry *e = pci_intx_lookup(&m, 0, 1, 0, 1);
	ASSERT_TRUE(t, e != NULL);
	EXPECT_EQ(t, e->spec_cells, 3u);
	EXPECT_EQ(t, e->spec[0], 0u);
	EXPECT_EQ(t, e->spec[1], 4u);
	EXPECT_EQ(t, e->spec[2], 4u);
	EXPECT_TRUE(t, pci_intx_lookup(&m, 0, 5, 0, 1) == e);
	e = pci_intx_lookup(&m, 0, 3, 2, 4); /* the function is masked off */
	ASSERT_TRUE(t, e != NULL);
	EXPECT_EQ(t, e->spec[1], 3 + (3 + 3) % 4u);
	EXPECT_TRUE(t, pci_intx_lookup(&m, 0, 1, 0, 0) == NULL); /* no pin */
	in.map = NULL;
	ASSERT_TRUE(t, pci_intx_map_decode(&in, &m, err, sizeof(err)));
	EXPECT_EQ(t, m.n, 0u);

	in = imap_build();
	in.map_len -= 4;
	imap_refused(t, &in, "property 'interrupt-map': entry 15: truncated");
	in = imap_build();
	in.mask_len = 12;
	imap_refused(t, &in, "property 'interrupt-map-mask': 12 bytes, expected 16");
	in = imap_build();
	imap[40 * 2 + 19] ^= 1; /* entry 2's phandle */
	imap_refused(t, &in, "property 'interrupt-map': entry 2: phandle 0x8004 names no *");
	in = imap_build();
	in.intr_cells = 2;
	imap_refused(t, &in, "#address-cells 3 and #interrupt-cells 2, expected 3 and 1 *");
}

static const struct ktest_case pci_cases[] = {
    KTEST_CASE(host_bridge_found),
    KTEST_CASE(edu_found_with_ids_and_bar),
    KTEST_CASE(bars_are_sane),
    KTEST_CASE(mcfg_decoder),
    KTEST_CASE(dt_decoder),
    KTEST_CASE(bar_decode_kinds),
    KTEST_CASE(msi_capability_parsed),
    KTEST_CASE(edu_interrupt_as_the_platform_offers),
    KTEST_CASE(intx_map_decoder),
    KTEST_END,
};
KTEST_SUITE(pci_suite, "pci", pci_cases);
