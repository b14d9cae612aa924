// SPDX-License-Identifier: BSD-2-Clause
/*
 * smmu suite: QEMU's edu device DMAing through the SMMUv3 with a user
 * mm's own page tables and ASID (iommu_sva_bind; `make test
 * IOMMU=smmuv3`). Without an SMMU every case but the parser's skips.
 *
 * QEMU's SMMU keeps each translation in its IOTLB until a TLBI removes it
 * (256 entries, emptied whole when full: every case keeps only a handful
 * live), so a missing invalidation is a stale DMA:
 * stale_translation_is_invalidated fails under smmu.break=skip_tlbi
 * (make test-negative IOMMU=smmuv3). Each DMA takes 100 ms of virtual time
 * (edu starts it from a timer), so the cases do few.
 *
 * The CPU side writes and reads the user addresses from a thread running
 * in the mm, so "the same virtual address" is literally that.
 *
 * edu's completion interrupt is an MSI, a write the SMMU translates like
 * any DMA: msi_reaches_the_cpu_through_the_binding checks the doorbell is
 * mapped in a bound mm (and fails under iommu.break=no_msi_map, where the
 * write faults at the SMMU instead), and an aborting stream drops the MSI
 * with the DMA.
 *
 * The last cases are about ownership and lifetime: a stream that already
 * translates is refused to a second binding or a shadow domain (and left
 * working), a shadow domain's id is reserved in the CPU's ASID space, and
 * an unbind racing the mm's last mm_destroy neither panics nor leaks or
 * frees the pinned ASID early.
 */
#include "kernel/drivers/edu.h"
#include "kernel/arch.h"
#include "kernel/errno.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/shadow.h"
#include "kernel/iommu/smmuv3.h"
#include "kernel/irq.h"
#include "kernel/mm/asid.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/pci/pci.h"
#include "kernel/percpu.h"
#include "kernel/sched/thread.h"
#include "lib/string.h"
#include "tests/ktest.h"
#include "tests/sva_race.h"

#define VA(page) (arch_mm_layout.user_base + MiB(64) + (uint64_t)(page)*PAGE_SIZE)
#define RW_USER	 (PT_READ | PT_WRITE | PT_USER)
#define MSI_SETTLE_NS 30000000ull /* a duplicate interrupt would have come by then */

struct bound {
	struct mm *mm;
	struct iommu_sva bond;
	unsigned sid;
};

static void need_smmu(struct ktest *t)
{
	if (!smmu_present() || !edu_present())
		KTEST_SKIP(t, "no SMMUv3 with edu behind it (make test ARCH=aarch64 IOMMU=smmuv3)");
}

/* A fresh mm with edu's stream bound to it. */
static bool bind(struct ktest *t, struct bound *b)
{
	b->mm = mm_create();
	if (!b->mm)
		return false;
	int err = smmu_stream_of(edu_pci_dev(), &b->sid);
	EXPECT_EQ(t, err, 0);
	if (!err)
		err = iommu_sva_bind(&b->bond, iommu_hw(), b->sid, b->mm);
	EXPECT_EQ(t, err, 0);
	if (err) {
		mm_destroy(b->mm);
		return false;
	}
	return true;
}

/* Unbinds (the stream aborts), gives the stream back to bypass, frees the mm. */
static void unbind(struct bound *b)
{
	iommu_sva_unbind(&b->bond);
	smmu_stream_bypass(b->sid);
	mm_destroy(b->mm);
}

/* CPU accesses at user addresses, by a thread running in the mm. */
struct cpu_access {
	virt_addr_t va;
	uint8_t value;
	bool write;
	bool all_equal; /* read: every byte of the page was `value` */
};

static void cpu_access_fn(void *arg)
{
	struct cpu_access *a = arg;
	volatile uint8_t *p = (volatile uint8_t *)a->va;
	a->all_equal = true;
	for (unsigned i = 0; i < PAGE_SIZE; i++) {
		if (a->write)
			p[i] = a->value;
		else if (p[i] != a->value)
			a->all_equal = false;
	}
}

static bool cpu_access(struct mm *mm, virt_addr_t va, uint8_t value, bool write)
{
	struct cpu_access a = {.va = va, .value = value, .write = write};
	struct thread *th = thread_create_mm("smmu-cpu", arch_cpu_id(), mm, cpu_access_fn, &a);
	if (!th)
		return false;
	thread_join(th);
	return a.all_equal;
}

static bool page_is(phys_addr_t pa, uint8_t value)
{
	const uint8_t *p = kva(pa);
	for (unsigned i = 0; i < PAGE_SIZE; i++)
		if (p[i] != value)
			return false;
	return true;
}

/* ---- The firmware description (no SMMU needed) --------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes `n` 4-cell iommu-map entries from `cells`; returns the byte length. */
static uint32_t make_map(uint8_t *buf, const uint32_t *cells, unsigned n)
{
	for (unsigned i = 0; i < n * 4; i++)
		put_be32(buf + 4 * i, cells[i]);
	return n * 16;
}

static void iommu_map_and_reg_are_parsed_strictly(struct ktest *t)
{
	uint8_t buf[16 * (SMMU_SID_MAPS + 2)];
	char err[160];
	struct smmu_dt dt;
	uint32_t sid = 0;

	/* QEMU's map, and one shifted by 0x100 with another IOMMU's entry first. */
	static const uint32_t qemu[] = {0, 0x8007, 0, 0x10000};
	ASSERT_TRUE(t,
		    smmu_dt_iommu_map(buf, make_map(buf, qemu, 1), 0x8007, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, smmu_dt_sid(&dt, 0x0010, &sid));
	EXPECT_EQ(t, sid, 0x10u);
	static const uint32_t two[] = {0, 0x9999, 0, 0x100, 0x100, 0x8007, 0x1000, 0x100};
	ASSERT_TRUE(t,
		    smmu_dt_iommu_map(buf, make_map(buf, two, 2), 0x8007, &dt, err, sizeof(err)));
	EXPECT_EQ(t, dt.map.n, 1u);
	EXPECT_FALSE(t, smmu_dt_sid(&dt, 0x00ff, &sid)); /* the other IOMMU's device */
	EXPECT_TRUE(t, smmu_dt_sid(&dt, 0x0105, &sid));
	EXPECT_EQ(t, sid, 0x1005u);

	/* Malformed: each refused with the property named. */
	EXPECT_FALSE(t, smmu_dt_iommu_map(buf, 12, 0x8007, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*iommu-map*length 12*", err));
	EXPECT_FALSE(t, smmu_dt_iommu_map(NULL, 0, 0x8007, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*missing*", err));
	static const uint32_t empty[] = {0, 0x8007, 0, 0};
	EXPECT_FALSE(
	    t, smmu_dt_iommu_map(buf, make_map(buf, empty, 1), 0x8007, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*entry 0*", err));
	static const uint32_t past[] = {0xff00, 0x8007, 0, 0x200};
	EXPECT_FALSE(t,
		     smmu_dt_iommu_map(buf, make_map(buf, past, 1), 0x8007, &dt, err, sizeof(err)));
	static const uint32_t wraps[] = {0, 0x8007, 0xffffff00u, 0x200};
	EXPECT_FALSE(
	    t, smmu_dt_iommu_map(buf, make_map(buf, wraps, 1), 0x8007, &dt, err, sizeof(err)));
	EXPECT_FALSE(t,
		     smmu_dt_iommu_map(buf, make_map(buf, qemu, 1), 0x1234, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*no entry names the SMMU*", err));
	uint32_t many[4 * (SMMU_SID_MAPS + 1)];
	for (unsigned i = 0; i <= SMMU_SID_MAPS; i++) {
		uint32_t e[4] = {i * 8, 0x8007, i * 8, 8};
		memcpy(&many[4 * i], e, sizeof(e));
	}
	EXPECT_FALSE(t, smmu_dt_iommu_map(buf, make_map(buf, many, SMMU_SID_MAPS + 1), 0x8007, &dt,
					  err, sizeof(err)));

	/* reg: QEMU's frame, then too small and misaligned ones. */
	static const uint32_t reg[] = {0, 0x9050000, 0, 0x20000};
	ASSERT_TRUE(t, smmu_dt_reg(buf, make_map(buf, reg, 1), 2, 2, &dt, err, sizeof(err)));
	EXPECT_EQ(t, dt.base, 0x9050000ull);
	static const uint32_t small[] = {0, 0x9050000, 0, 0x10000};
	EXPECT_FALSE(t, smmu_dt_reg(buf, make_map(buf, small, 1), 2, 2, &dt, err, sizeof(err)));
	EXPECT_TRUE(t, glob_match("*'reg'*", err));
	static const uint32_t odd[] = {0, 0x9051000, 0, 0x20000};
	EXPECT_FALSE(t, smmu_dt_reg(buf, make_map(buf, odd, 1), 2, 2, &dt, err, sizeof(err)));
	EXPECT_FALSE(t, smmu_dt_reg(buf, 12, 2, 2, &dt, err, sizeof(err)));
}

/* ---- Through the SMMU ------------------------------------------------------------------ */

/*
 * (a) The device reads what the CPU wrote at a virtual address and writes
 * where the CPU then reads, through the mm's own tables, tagged with the
 * mm's own ASID. Nothing faults.
 */
static void device_shares_the_cpu_view(struct ktest *t)
{
	need_smmu(t);
	struct bound b;
	ASSERT_TRUE(t, bind(t, &b));
	EXPECT_EQ(t, b.bond.asid, asid_hw(b.mm)); /* shared, SVA-style */
	EXPECT_EQ(t, vm_map_anon(b.mm, VA(0), 2 * PAGE_SIZE, RW_USER), 0);
	uint64_t events = smmu_events(NULL);
	EXPECT_TRUE(t, cpu_access(b.mm, VA(0), 0x3c, true));
	EXPECT_TRUE(t, cpu_access(b.mm, VA(1), 0x00, true));
	EXPECT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(1), 0, EDU_BUF_SIZE), 0);
	EXPECT_TRUE(t, cpu_access(b.mm, VA(1), 0x3c, false));
	EXPECT_EQ(t, smmu_events(NULL), events);
	unbind(&b);
}

/*
 * (b) After vm_unmap the page's frame is freed (and poisoned): a device
 * write at that address must fault, reported with the stream, the
 * address and the direction, and the freed frame must keep its poison.
 */
static void unmapped_page_faults_and_freed_frame_is_untouched(struct ktest *t)
{
	need_smmu(t);
	struct bound b;
	ASSERT_TRUE(t, bind(t, &b));
	EXPECT_EQ(t, vm_map_anon(b.mm, VA(0), PAGE_SIZE, RW_USER), 0);
	EXPECT_TRUE(t, cpu_access(b.mm, VA(0), 0xc3, true));
	/* The device buffer holds 0xc3 and the IOTLB holds VA(0): a stale write would show. */
	EXPECT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	struct pt_query_result q;
	ASSERT_TRUE(t, pt_query(&b.mm->pt, VA(0), &q));
	frame_poison_on_free(true);
	EXPECT_EQ(t, vm_unmap(b.mm, VA(0), PAGE_SIZE), 0);
	frame_poison_on_free(false);
	EXPECT_TRUE(t, page_is(q.pa, FRAME_POISON));

	/* One word: QEMU raises an event per faulting word, and the newest must be at VA(0). */
	struct smmu_event ev = {0};
	uint64_t before = smmu_events(NULL);
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, 4), 0);
	EXPECT_GT(t, smmu_events(&ev), before);
	EXPECT_EQ(t, ev.type, SMMU_EVT_F_TRANSLATION);
	EXPECT_EQ(t, ev.addr, VA(0));
	EXPECT_EQ(t, ev.sid, b.sid);
	EXPECT_FALSE(t, ev.read);
	/* A whole page, and a read of it: faults (several events), nothing reaches the frame. */
	before = smmu_events(NULL);
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	EXPECT_GT(t, smmu_events(NULL), before + 1); /* read out: room for the next ones */
	EXPECT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
	EXPECT_GT(t, smmu_events(&ev), before + 2);
	EXPECT_TRUE(t, ev.read);
	EXPECT_EQ(t, ev.type, SMMU_EVT_F_TRANSLATION);
	EXPECT_TRUE(t, page_is(q.pa, FRAME_POISON));
	unbind(&b);
}

/*
 * (c) The stale-DMA test: the device reads VA(0) (mapped to frame A,
 * 0xaa), which puts the translation in the IOTLB; VA(0) is then unmapped
 * and mapped to frame B (0xbb). The unmap's flush point must have told the
 * SMMU (TLBI + CMD_SYNC): the next device read sees B. Under
 * smmu.break=skip_tlbi it sees A, and this case fails.
 */
static void stale_translation_is_invalidated(struct ktest *t)
{
	need_smmu(t);
	phys_addr_t a, bb, out;
	ASSERT_EQ(t, frame_alloc_zeroed(&a), 0);
	ASSERT_EQ(t, frame_alloc_zeroed(&bb), 0);
	ASSERT_EQ(t, frame_alloc_zeroed(&out), 0);
	memset(kva(a), 0xaa, PAGE_SIZE);
	memset(kva(bb), 0xbb, PAGE_SIZE);
	struct bound b;
	bool bound = bind(t, &b);
	if (bound) {
		struct iommu_stats *st = &iommu_hw()->stats;
		EXPECT_EQ(t, vm_map_phys(b.mm, VA(0), a, PAGE_SIZE, RW_USER), 0);
		EXPECT_EQ(t, vm_map_phys(b.mm, VA(1), out, PAGE_SIZE, RW_USER), 0);
		EXPECT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(1), 0, EDU_BUF_SIZE), 0);
		EXPECT_TRUE(t, page_is(out, 0xaa)); /* warmed: VA(0) -> A is in the IOTLB */

		uint64_t ranges = st->range_invalidations, syncs = st->syncs;
		EXPECT_EQ(t, vm_unmap(b.mm, VA(0), PAGE_SIZE), 0);
		EXPECT_EQ(t, vm_map_phys(b.mm, VA(0), bb, PAGE_SIZE, RW_USER), 0);
		/* One page: one TLBI_NH_VA (one range command with RIL) and one sync. */
		EXPECT_EQ(t, st->range_invalidations - ranges, 1u);
		EXPECT_EQ(t, st->syncs - syncs, 1u);
		EXPECT_EQ(t, edu_dma_bus(EDU_TO_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(1), 0, EDU_BUF_SIZE), 0);
		EXPECT_TRUE(t, page_is(out, 0xbb)); /* 0xaa: the SMMU used the stale entry */
		ktest_log(t, "after the remap the device read %#x (A holds 0xaa, B 0xbb)",
			  ((const uint8_t *)kva(out))[0]);
		unbind(&b);
	}
	frame_free(a, 0);
	frame_free(bb, 0);
	frame_free(out, 0);
}

/*
 * Unbinding makes the stream abort: a DMA to a page the mm still maps
 * reaches nothing (and an abort records no event). Nor does the
 * device's completion MSI, a write through the same stream: the DMA
 * times out waiting for it, and no handler runs.
 */
static void unbound_stream_aborts(struct ktest *t)
{
	need_smmu(t);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	struct bound b;
	if (bind(t, &b)) {
		EXPECT_EQ(t, vm_map_phys(b.mm, VA(0), pa, PAGE_SIZE, RW_USER), 0);
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
		EXPECT_FALSE(t, page_is(pa, 0)); /* bound: the device's buffer landed */
		memset(kva(pa), 0, PAGE_SIZE);
		iommu_sva_unbind(&b.bond);
		const struct pci_irq *irq = edu_irq();
		bool msi = irq && irq->kind == PCI_IRQ_MSI;
		uint64_t events = smmu_events(NULL), raw = irq ? irq_count(irq->irq) : 0;
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE),
			  msi ? -ETIMEDOUT : 0);
		EXPECT_TRUE(t, page_is(pa, 0));
		EXPECT_EQ(t, smmu_events(NULL), events);
		if (msi)
			EXPECT_EQ(t, irq_count(irq->irq), raw);
		smmu_stream_bypass(b.sid);
		mm_destroy(b.mm);
	}
	frame_free(pa, 0);
}

/*
 * (d) edu's completion MSI through a binding: the write goes to the
 * doorbell's IOVA (its physical address, iommu_msi_prepare) and is
 * translated through the mm's own tables, where bind mapped the doorbell
 * kernel-only, as device memory; user mappings there are refused. One DMA
 * gives exactly one interrupt and no SMMU event; unbind takes the doorbell
 * away. Under iommu.break=no_msi_map the write faults at the SMMU (an
 * F_TRANSLATION event at the doorbell, logged) and the DMA times out.
 */
static void msi_reaches_the_cpu_through_the_binding(struct ktest *t)
{
	need_smmu(t);
	const struct pci_irq *irq = edu_irq();
	if (!irq || irq->kind != PCI_IRQ_MSI)
		KTEST_SKIP(t, "edu's interrupt is not an MSI (pci.msi=off)");
	phys_addr_t bell = iommu_msi_doorbell();
	uint64_t addr;
	uint32_t data;
	arch_msi_compose(irq->irq, &addr, &data);
	ASSERT_NE(t, bell, 0ul);
	EXPECT_EQ(t, ALIGN_DOWN(addr, PAGE_SIZE), bell);
	struct bound b;
	ASSERT_TRUE(t, bind(t, &b));
	struct pt_query_result q = {0};
	EXPECT_TRUE(t, pt_query(&b.mm->pt, bell, &q));
	EXPECT_EQ(t, q.pa, bell);
	EXPECT_TRUE(t, q.attrs & PT_DEVICE);
	EXPECT_FALSE(t, q.attrs & PT_USER);
	EXPECT_EQ(t, vm_map_anon(b.mm, bell, PAGE_SIZE, RW_USER), -EINVAL);
	EXPECT_EQ(t, vm_unmap(b.mm, bell, PAGE_SIZE), -EINVAL);
	EXPECT_EQ(t, vm_map_anon(b.mm, VA(0), PAGE_SIZE, RW_USER), 0);
	EXPECT_TRUE(t, cpu_access(b.mm, VA(0), 0x5a, true)); /* populated: the DMA itself is fine */
	struct smmu_event ev = {0};
	struct edu_irq_stats before = edu_irq_stats();
	uint64_t events = smmu_events(NULL), raw = irq_count(irq->irq);
	EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, 64), 0);
	thread_sleep_ns(MSI_SETTLE_NS);
	EXPECT_EQ(t, edu_irq_stats().dma - before.dma, 1u);
	EXPECT_EQ(t, irq_count(irq->irq) - raw, 1u);
	if (smmu_events(&ev) != events)
		ktest_log(t, "the SMMU recorded event %#x at %#llx (the doorbell is %#llx)",
			  ev.type, (unsigned long long)ev.addr, (unsigned long long)bell);
	EXPECT_EQ(t, smmu_events(NULL), events);
	iommu_sva_unbind(&b.bond);
	EXPECT_FALSE(t, pt_query(&b.mm->pt, bell, &q));
	smmu_stream_bypass(b.sid);
	mm_destroy(b.mm);
}

/*
 * A command the SMMU refuses (an undefined opcode) is reported with its
 * words and skipped; the sync behind it and later commands complete.
 */
static void illegal_command_is_reported_and_skipped(struct ktest *t)
{
	need_smmu(t);
	struct iommu *io = iommu_hw();
	struct smmu_cmd_error e = {0};
	uint64_t errors = smmu_cmd_errors(NULL), syncs = io->stats.syncs;
	smmu_test_command(0x3f | 0xabcdull << 32, 0x1234);
	EXPECT_EQ(t, smmu_cmd_errors(&e), errors + 1);
	EXPECT_EQ(t, e.opcode, 0x3fu);
	EXPECT_EQ(t, e.cerror, 1u); /* CERROR_ILL */
	EXPECT_EQ(t, e.cmd[0], 0x3f | 0xabcdull << 32);
	EXPECT_EQ(t, e.cmd[1], 0x1234ull);
	EXPECT_EQ(t, io->stats.syncs - syncs, 1u);
	/* The queue goes on: a full invalidation and its sync complete without an error. */
	io->ops->invalidate(io, 1, 0, 0, true, true);
	EXPECT_EQ(t, io->stats.syncs - syncs, 2u);
	EXPECT_EQ(t, smmu_cmd_errors(NULL), errors + 1);
}

/* ---- Ownership and lifetime ------------------------------------------------------------ */

/*
 * A second binding of a bound stream, and a shadow domain on it, are
 * refused with -EBUSY: rewriting the live CD in place could let the SMMU
 * cache the second mm's walk under the first one's ASID. The refusal
 * leaves the stream to the first binding (a failed bind must not detach
 * it either): edu still DMAs through the first mm. Pins balance.
 */
static void bound_stream_is_not_taken_over(struct ktest *t)
{
	need_smmu(t);
	phys_addr_t pa;
	ASSERT_EQ(t, frame_alloc_zeroed(&pa), 0);
	unsigned pins = asid_pins_held();
	struct bound b;
	struct mm *other = mm_create();
	if (other && bind(t, &b)) {
		EXPECT_EQ(t, vm_map_phys(b.mm, VA(0), pa, PAGE_SIZE, RW_USER), 0);
		EXPECT_EQ(t, vm_map_anon(other, VA(0), PAGE_SIZE, RW_USER), 0);
		static struct iommu_sva second;
		EXPECT_EQ(t, iommu_sva_bind(&second, iommu_hw(), b.sid, other), -EBUSY);
		static struct iommu_shadow sh;
		EXPECT_EQ(t, iommu_shadow_create(&sh, iommu_hw(), b.sid, other, VA(0), PAGE_SIZE),
			  -EBUSY);
		EXPECT_EQ(t, asid_pins_held(), pins + 1); /* only the first binding's */
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
		EXPECT_FALSE(t, page_is(pa, 0)); /* through the first mm's tables */
		unbind(&b);
	}
	EXPECT_EQ(t, asid_pins_held(), pins);
	if (other)
		mm_destroy(other);
	frame_free(pa, 0);
}

/*
 * A shadow domain on the SMMU tags its own tables with an id of the CPU's
 * ASID space (the SMMU's TLB is tagged by ASID, not by stream): it must
 * be reserved there (asid_reserve), or an mm given the same id and bound
 * elsewhere would share IOTLB entries with it. The domain also works:
 * edu writes through the mirror into the mm's page.
 */
static void shadow_domain_reserves_its_id(struct ktest *t)
{
	need_smmu(t);
	unsigned pins = asid_pins_held(), sid;
	ASSERT_EQ(t, smmu_stream_of(edu_pci_dev(), &sid), 0);
	struct mm *mm = mm_create();
	ASSERT_TRUE(t, mm != NULL);
	EXPECT_EQ(t, vm_map_anon(mm, VA(0), PAGE_SIZE, RW_USER), 0);
	static struct iommu_shadow sh;
	int err = iommu_shadow_create(&sh, iommu_hw(), sid, mm, VA(0), PAGE_SIZE);
	EXPECT_EQ(t, err, 0);
	if (!err) {
		EXPECT_EQ(t, asid_pins_held(), pins + 1);
		EXPECT_TRUE(t, cpu_access(mm, VA(0), 0x00, true)); /* populated, and mm has an id */
		EXPECT_NE(t, asid_hw(mm), sh.asid);
		EXPECT_EQ(t, iommu_shadow_fault_in(&sh, VA(0), PAGE_SIZE), 0);
		EXPECT_EQ(t, edu_dma_bus(EDU_FROM_DEVICE, VA(0), 0, EDU_BUF_SIZE), 0);
		EXPECT_FALSE(t, cpu_access(mm, VA(0), 0x00, false)); /* edu's buffer landed */
		ktest_log(t, "shadow id %u, the mm's id %u", sh.asid, asid_hw(mm));
		iommu_shadow_destroy(&sh);
		smmu_stream_bypass(sid);
	}
	EXPECT_EQ(t, asid_pins_held(), pins);
	mm_destroy(mm);
}

struct unbinder {
	struct iommu_sva *bond;
	unsigned delay_ns;
};

static void unbinder_fn(void *arg)
{
	struct unbinder *u = arg;
	uint64_t until = arch_time_ns() + u->delay_ns;
	while (arch_time_ns() < until)
		arch_cpu_relax();
	iommu_sva_unbind(u->bond);
}

/*
 * The narrow interleaving, forced (tests/sva_race.h): this CPU stops the
 * device as unbind does and keeps bond->lock; another CPU unlinks, and its
 * release waits for the lock. Meanwhile mm_destroy finishes: it releases
 * nothing (unlinked) and frees the mm while it is still pinned. The pin
 * must be orphaned, not a panic (asid_release), keep the id taken, and
 * go when the release runs without the mm. False: the case cannot go on.
 */
static bool unbind_outlives_mm(struct ktest *t, unsigned other, unsigned pins)
{
	struct bound b;
	if (!bind(t, &b))
		return false;
	EXPECT_EQ(t, vm_map_anon(b.mm, VA(0), PAGE_SIZE, RW_USER), 0);
	uint64_t orphaned = asid_stats.orphaned;
	struct sva_held_unbind held;
	ASSERT_TRUE(t, sva_unbind_hold(&held, &b.bond, other));
	mm_destroy(b.mm);
	EXPECT_EQ(t, asid_stats.orphaned - orphaned, 1u);
	EXPECT_EQ(t, asid_pins_held(), pins + 1); /* the id outlives its mm */
	sva_unbind_finish(&held);
	EXPECT_TRUE(t, b.bond.released);
	EXPECT_EQ(t, asid_pins_held(), pins);
	smmu_stream_bypass(b.sid);
	return true;
}

/*
 * An unbind on another CPU races the mm's last mm_destroy here: first
 * free-running with a different head start each round, then with the
 * narrow interleaving forced (unbind_outlives_mm), then in order (the
 * teardown releases, the unbind after it finds nothing to do). No panic,
 * and the pins balance every time. The log says how often the
 * free-running rounds went the narrow way (asid_stats.orphaned).
 */
static void unbind_races_teardown(struct ktest *t)
{
	need_smmu(t);
	unsigned pins = asid_pins_held(), other = arch_cpu_id();
	for_each_cpu(c, cpumask_read(&cpu_online_mask))
	{
		if (c != arch_cpu_id())
			other = c;
	}
	if (other == arch_cpu_id())
		KTEST_SKIP(t, "needs two CPUs");
	uint64_t orphaned = asid_stats.orphaned;
	enum { ROUNDS = 32 };
	for (unsigned round = 0; round < ROUNDS; round++) {
		struct bound b;
		if (!bind(t, &b))
			return;
		EXPECT_EQ(t, vm_map_anon(b.mm, VA(0), 4 * PAGE_SIZE, RW_USER), 0);
		struct unbinder u = {.bond = &b.bond, .delay_ns = (round % 16) * 20000};
		struct thread *th = thread_create("smmu-unbind", other, unbinder_fn, &u);
		ASSERT_TRUE(t, th != NULL);
		mm_destroy(b.mm);
		thread_join(th);
		smmu_stream_bypass(b.sid);
		EXPECT_EQ(t, asid_pins_held(), pins);
	}
	ktest_log(t, "%u free-running rounds, the unbind outlived the mm in %lu", ROUNDS,
		  (unsigned long)(asid_stats.orphaned - orphaned));
	if (!unbind_outlives_mm(t, other, pins))
		return;
	struct bound b;
	if (bind(t, &b)) {
		EXPECT_EQ(t, asid_pins_held(), pins + 1);
		mm_destroy(b.mm);
		EXPECT_EQ(t, asid_pins_held(), pins);
		EXPECT_TRUE(t, b.bond.released);
		iommu_sva_unbind(&b.bond);
		smmu_stream_bypass(b.sid);
	}
	EXPECT_EQ(t, asid_pins_held(), pins);
}

static const struct ktest_case smmu_cases[] = {
    KTEST_CASE(iommu_map_and_reg_are_parsed_strictly),
    KTEST_CASE(device_shares_the_cpu_view),
    KTEST_CASE(unmapped_page_faults_and_freed_frame_is_untouched),
    KTEST_CASE(stale_translation_is_invalidated),
    KTEST_CASE(unbound_stream_aborts),
    KTEST_CASE(msi_reaches_the_cpu_through_the_binding),
    KTEST_CASE(illegal_command_is_reported_and_skipped),
    KTEST_CASE(bound_stream_is_not_taken_over),
    KTEST_CASE(shadow_domain_reserves_its_id),
    KTEST_CASE(unbind_races_teardown),
    KTEST_END,
};
KTEST_SUITE(smmu_suite, "smmu", smmu_cases);
