// SPDX-License-Identifier: BSD-2-Clause
/*
 * its suite: MSIs through the GICv3 ITS (arch/aarch64/gicv3_its*.c; `make
 * test ARCH=aarch64 GIC=3`). Without an ITS (GICv2, or `pci.msi=off`
 * leaving edu on INTx) every case but the parser's skips.
 *
 * What is observable under QEMU: edu's MSI is an LPI of the device id
 * msi-map gives its requester id, and its message is GITS_TRANSLATER
 * with the event id; the INT command (the ITS translating a (device,
 * event) pair as if the device had written it) raises a mapped event's
 * LPI exactly once, and nothing for an event or device never mapped;
 * an LPI disabled in its configuration byte stays pending until it is
 * enabled again. Allocation and release balance, command for command; a
 * queue the ITS stops consuming is reported within the bound, and a reset
 * queue works again.
 * edu.dma_completion_interrupt_once fails under its.break=no_mapti
 * (make its-negative).
 */
#include "arch/aarch64/gicv3_its.h"
#include "kernel/arch.h"
#include "kernel/drivers/edu.h"
#include "kernel/errno.h"
#include "kernel/irq.h"
#include "kernel/pci/pci.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define SETTLE_NS 20000000ull /* an LPI the ITS made pending has arrived by then */

struct edu_lpi {
	unsigned lpi;
	uint32_t devid, event;
};

/* edu's LPI and who the ITS knows it as; skips without an ITS MSI. */
static struct edu_lpi need_edu_lpi(struct ktest *t)
{
	const struct pci_irq *irq = edu_irq();
	struct edu_lpi e = {0};
	if (!its_present() || !irq || irq->kind != PCI_IRQ_MSI)
		KTEST_SKIP(t, "edu has no MSI through an ITS (make test ARCH=aarch64 GIC=3)");
	e.lpi = irq->irq;
	if (!its_lpi_owner(e.lpi, &e.devid, &e.event)) {
		ktest_fail_msg(t, __FILE__, __LINE__, "edu's interrupt is not an LPI of the ITS");
		ktest_abort(t);
	}
	return e;
}

/* Interrupts taken on every LPI the driver can hand out. */
static uint64_t lpi_total(void)
{
	uint64_t n = 0;
	for (unsigned i = 0; i < ITS_LPIS; i++)
		n += irq_count(ITS_LPI_BASE + i);
	return n;
}

static void edu_msi_is_an_lpi_of_its_device(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	struct pci_dev *d = edu_pci_dev();
	uint32_t want = 0;
	EXPECT_TRUE(t, its_is_lpi(e.lpi));
	EXPECT_TRUE(t, id_map_lookup(&its.map, pci_rid(d), &want));
	EXPECT_EQ(t, e.devid, want);
	EXPECT_LT(t, e.event, 1u << ITS_EVENT_BITS);
	uint64_t addr;
	uint32_t data;
	arch_msi_compose(e.lpi, &addr, &data);
	EXPECT_EQ(t, addr, its.base + ITS_TRANSLATER);
	EXPECT_EQ(t, data, e.event);
	EXPECT_EQ(t, pci_cfg_read16(d, d->msi_cap + PCI_MSI_DATA_64), (uint16_t)e.event);
	ktest_log(t, "edu %02x:%02x.%u (requester %#x): ITS device %#x, event %u, LPI %u", d->bus,
		  d->dev, d->fn, pci_rid(d), e.devid, e.event, e.lpi);
}

/* INT of edu's own event: one invocation of edu's handler (edu raised nothing: spurious). */
static void int_of_mapped_event_is_delivered_once(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	struct edu_irq_stats before = edu_irq_stats();
	uint64_t raw = irq_count(e.lpi), all = lpi_total();
	ASSERT_EQ(t, its_test_int(e.devid, e.event), 0);
	thread_sleep_ns(SETTLE_NS);
	EXPECT_EQ(t, irq_count(e.lpi) - raw, 1u);
	EXPECT_EQ(t, lpi_total() - all, 1u);
	EXPECT_EQ(t, edu_irq_stats().spurious - before.spurious, 1u);
}

/* An event nobody mapped, and a device never mapped: the ITS raises nothing. */
static void unmapped_event_is_not_delivered(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	uint32_t other_event = (e.event + 7) % (1u << ITS_EVENT_BITS);
	uint32_t other_device = id_map_max(&its.map); /* no function there asked for MSI */
	ASSERT_NE(t, other_device, e.devid);
	uint64_t all = lpi_total();
	ASSERT_EQ(t, its_test_int(e.devid, other_event), 0);
	ASSERT_EQ(t, its_test_int(other_device, e.event), 0);
	thread_sleep_ns(SETTLE_NS);
	EXPECT_EQ(t, lpi_total(), all);
}

/* Disabled in its configuration byte (after INV), the LPI waits; enabling delivers it once. */
static void masked_lpi_waits_until_unmasked(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	uint64_t raw = irq_count(e.lpi);
	arch_irq_mask(e.lpi);
	int err = its_test_int(e.devid, e.event);
	thread_sleep_ns(SETTLE_NS);
	uint64_t while_masked = irq_count(e.lpi) - raw;
	arch_irq_unmask(e.lpi, false);
	thread_sleep_ns(SETTLE_NS);
	EXPECT_EQ(t, err, 0);
	EXPECT_EQ(t, while_masked, 0u);
	EXPECT_EQ(t, irq_count(e.lpi) - raw, 1u);
}

/* A second MSI of edu's device: the next event, its own LPI; freeing gives both back. */
static void alloc_and_free_balance(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	uint16_t rid = pci_rid(edu_pci_dev());
	struct its_stats s0 = its_stats();
	int lpi = arch_msi_alloc(rid);
	ASSERT_GE(t, lpi, (int)ITS_LPI_BASE);
	struct its_stats s1 = its_stats();
	uint32_t devid = 0, event = 0;
	EXPECT_TRUE(t, its_lpi_owner((unsigned)lpi, &devid, &event));
	EXPECT_EQ(t, devid, e.devid);
	EXPECT_NE(t, event, e.event);
	EXPECT_NE(t, (unsigned)lpi, e.lpi);
	EXPECT_EQ(t, s1.commands - s0.commands, 2u); /* MAPTI, SYNC: the device was mapped */
	EXPECT_EQ(t, s1.syncs - s0.syncs, 1u);
	arch_msi_free((unsigned)lpi);
	EXPECT_FALSE(t, its_lpi_owner((unsigned)lpi, &devid, &event));
	EXPECT_EQ(t, its_stats().commands - s1.commands, 2u); /* DISCARD, SYNC */
	int again = arch_msi_alloc(rid);
	EXPECT_EQ(t, again, lpi);
	if (again >= 0)
		arch_msi_free((unsigned)again);
	EXPECT_EQ(t, its_stats().stuck, s0.stuck);
}

/*
 * A queue the ITS does not consume (it is disabled) is reported within
 * the driver's bound and the call fails instead of hanging; once the
 * queue is reset the ITS translates again (its tables survived).
 */
static void stuck_queue_is_reported_and_recovered(struct ktest *t)
{
	struct edu_lpi e = need_edu_lpi(t);
	uint64_t stuck = its_stats().stuck, raw = irq_count(e.lpi);
	uint64_t t0 = arch_time_ns();
	EXPECT_EQ(t, its_test_stuck_queue(), -EIO);
	EXPECT_LT(t, arch_time_ns() - t0, 1000000000ull); /* the bound, not a hang */
	EXPECT_EQ(t, its_stats().stuck - stuck, 1u);
	ASSERT_EQ(t, its_test_int(e.devid, e.event), 0);
	thread_sleep_ns(SETTLE_NS);
	EXPECT_EQ(t, irq_count(e.lpi) - raw, 1u);
}

/* msi-map goes through the same decoder as iommu-map: its own name in every message. */
static void msi_map_is_parsed_strictly(struct ktest *t)
{
	static const uint8_t qemu[16] = {0, 0, 0, 0, 0, 0, 0x80, 0x06, 0, 0, 0, 0, 0, 1, 0, 0};
	struct id_map m;
	char err[160];
	uint32_t id = 0;
	ASSERT_TRUE(t, id_map_decode(qemu, 16, "msi-map", 0x8006, "the ITS", &m, err, sizeof(err)));
	EXPECT_TRUE(t, id_map_lookup(&m, 0x0008, &id));
	EXPECT_EQ(t, id, 8u);
	EXPECT_EQ(t, id_map_max(&m), 0xffffu);
	EXPECT_FALSE(t,
		     id_map_decode(qemu, 12, "msi-map", 0x8006, "the ITS", &m, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("property 'msi-map': length 12 *", err));
	EXPECT_FALSE(t,
		     id_map_decode(qemu, 16, "msi-map", 0x8007, "the ITS", &m, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*no entry names the ITS (phandle 0x8007)*", err));
	EXPECT_FALSE(t, id_map_decode(NULL, 0, "msi-map", 0x8006, "the ITS", &m, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("property 'msi-map': missing*", err));
}

static const struct ktest_case its_cases[] = {
    KTEST_CASE(msi_map_is_parsed_strictly),
    KTEST_CASE(edu_msi_is_an_lpi_of_its_device),
    KTEST_CASE(int_of_mapped_event_is_delivered_once),
    KTEST_CASE(unmapped_event_is_not_delivered),
    KTEST_CASE(masked_lpi_waits_until_unmasked),
    KTEST_CASE(alloc_and_free_balance),
    KTEST_CASE(stuck_queue_is_reported_and_recovered),
    KTEST_END,
};
KTEST_SUITE(its_suite, "its", its_cases);
