// SPDX-License-Identifier: BSD-2-Clause
/*
 * SMMUv3 configuration and invalidation: the linear stream table, one
 * context descriptor per stream, and the iommu_ops the generic layer
 * calls (attach, detach, invalidate).
 *
 * A bound stream's STE says "stage-1 translate through the CD" (S1CDMAX
 * = 0: one CD, no substreams); the CD's TTB0 is the mm's own root and its
 * ASID the mm's own (pinned) ASID, with the walk attributes, output size
 * and MAIR the CPU uses (arch_mm_iommu_stage1), AA64, faults recorded
 * (R) and terminated with an abort (A), TTB1 walks off (EPD1).
 *
 * Invariants:
 *  - The SMMU never sees a half-written entry it may use: a CD is written
 *    while no valid STE points at it, valid bit last; an STE changes by
 *    one 64-bit store of word 0 (word 1 is the same in every state).
 *    Hence attach refuses (-EBUSY) a stream whose STE already translates:
 *    rewriting its live CD in place could let the SMMU fetch a new TTB0
 *    with the old ASID. Configuration changes hold s->cfg_lock, so the
 *    check and the writes are one step.
 *  - Every change is followed by CFGI_STE/CFGI_CD and a CMD_SYNC before
 *    the call returns (QEMU caches the decoded STE+CD until then).
 *  - `invalidate` issues TLBI_NH_VA per page (or its range form with
 *    IDR3.RIL) for small ranges, one TLBI_NH_ASID otherwise, and one
 *    CMD_SYNC, waited for. It is called from the gather's flush point
 *    only (sva.c), so nothing else sends TLBIs.
 */
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/iommu/smmuv3_hw.h"
#include "kernel/mm/frame.h"
#include "kernel/mmio.h"
#include "lib/string.h"

/* Without range TLBIs, more pages than this are invalidated as the whole ASID. */
#define SMMU_INV_MAX_PAGES 16
/* With them, up to this many (Linux's arm64 limit; a few range commands cover it). */
#define SMMU_INV_MAX_RANGE_PAGES 512
#define SMMU_BATCH		 (SMMU_INV_MAX_PAGES + 1)

static struct smmu *to_smmu(struct iommu *io)
{
	return (struct smmu *)io;
}

static uint64_t *ste_of(struct smmu *s, unsigned sid)
{
	return s->strtab + (size_t)sid * SMMU_STE_WORDS;
}

static uint64_t *cd_of(struct smmu *s, unsigned sid)
{
	return s->cds + (size_t)sid * SMMU_CD_WORDS;
}

/* One store switches the stream; then the SMMU forgets what it cached of it. */
static void ste_set(struct smmu *s, unsigned sid, uint64_t word0)
{
	atomic_store_release(&ste_of(s, sid)[0], word0);
	const uint64_t cfgi[2][2] = {{CMD_CFGI_STE | CMD_SID(sid), CMD_LEAF},
				     {CMD_CFGI_CD | CMD_SID(sid), CMD_LEAF}};
	smmu_issue(s, cfgi, 2);
}

/* The CD's output size field: the smaller of the CPU's and the SMMU's. */
static unsigned ips_code(unsigned bits)
{
	static const unsigned sizes[] = {32, 36, 40, 42, 44, 48};
	unsigned code = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++)
		if (sizes[i] <= bits)
			code = i;
	return code;
}

static int smmu_attach(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid)
{
	struct smmu *s = to_smmu(io);
	const struct arch_iommu_stage1 *a = &s->s1;
	if (stream >= io->nr_streams || asid == 0 || asid >= (1u << s->asid_bits))
		return -EINVAL;
	mutex_lock(&s->cfg_lock);
	if ((ste_of(s, stream)[0] & STE_CFG_MASK) == STE_CFG_S1) {
		mutex_unlock(&s->cfg_lock);
		return -EBUSY; /* another binding or domain translates through this CD */
	}
	/* Not live: the stream bypasses or aborts, so the CD can be written in any order. */
	uint64_t *cd = cd_of(s, stream);
	memset(cd, 0, SMMU_CD_WORDS * sizeof(*cd));
	cd[1] = root & CD_TTB_MASK;
	cd[3] = a->mair;
	uint64_t word0 =
	    (uint64_t)(64 - a->va_bits) | (uint64_t)a->walk_inner << 8 |
	    (uint64_t)a->walk_outer << 10 | (uint64_t)a->walk_share << 12 | CD_EPD1 | CD_V |
	    (uint64_t)ips_code(a->pa_bits < s->oas_bits ? a->pa_bits : s->oas_bits) << 32 |
	    CD_AA64 | CD_R | CD_A | CMD_ASID(asid); /* TG0 = 0: 4 KiB */
	atomic_store_release(&cd[0], word0);
	ste_set(s, stream, STE_V | STE_CFG_S1 | (s->cds_pa + stream * SMMU_CD_WORDS * 8));
	mutex_unlock(&s->cfg_lock);
	return 0;
}

static void smmu_detach(struct iommu *io, unsigned stream)
{
	struct smmu *s = to_smmu(io);
	if (stream >= io->nr_streams)
		return;
	mutex_lock(&s->cfg_lock);
	ste_set(s, stream, STE_V | STE_CFG_ABORT);
	/* No STE points at the CD any more, and the sync above made the SMMU forget it. */
	memset(cd_of(s, stream), 0, SMMU_CD_WORDS * sizeof(uint64_t));
	mutex_unlock(&s->cfg_lock);
}

void smmu_stream_bypass(unsigned sid)
{
	struct smmu *s = &smmu_dev;
	if (!smmu_present() || sid >= s->io.nr_streams)
		return;
	mutex_lock(&s->cfg_lock);
	ste_set(s, sid, STE_V | STE_CFG_BYPASS);
	mutex_unlock(&s->cfg_lock);
}

/* TLBI_NH_VA word 1: the address, TTL 0 (any level), leaf only unless tables went. */
static uint64_t va_word(virt_addr_t va, bool walks)
{
	return (va & ~0xfffull) | (walks ? 0 : CMD_LEAF);
}

/*
 * Range form: NUM+1 pages times 2^SCALE per command (TG = 1: 4 KiB). The
 * largest chunk that fits first; the remainder is below 2^SCALE pages, so
 * a few commands cover any range up to SMMU_INV_MAX_RANGE_PAGES.
 */
static unsigned range_cmds(unsigned asid, virt_addr_t va, uint64_t pages, bool walks,
			   uint64_t (*cmds)[2])
{
	unsigned n = 0;
	while (pages) {
		unsigned scale = 0;
		while ((pages >> scale) > 32)
			scale++;
		uint64_t num = (pages >> scale) - 1, chunk = (num + 1) << scale;
		cmds[n][0] = CMD_TLBI_NH_VA | num << 12 | (uint64_t)scale << 20 | CMD_ASID(asid);
		cmds[n][1] = va_word(va, walks) | 1ull << 10;
		n++;
		va += chunk << PAGE_SHIFT;
		pages -= chunk;
	}
	return n;
}

static void smmu_invalidate(struct iommu *io, unsigned asid, virt_addr_t start, virt_addr_t end,
			    bool walks, bool full)
{
	struct smmu *s = to_smmu(io);
	uint64_t cmds[SMMU_BATCH][2];
	unsigned n = 0;
	uint64_t pages = (end - start + PAGE_SIZE - 1) >> PAGE_SHIFT;
	uint64_t limit = s->ril ? SMMU_INV_MAX_RANGE_PAGES : SMMU_INV_MAX_PAGES;

	if (full || pages > limit) {
		cmds[n][0] = CMD_TLBI_NH_ASID | CMD_ASID(asid);
		cmds[n++][1] = 0;
		iommu_stat_add(&io->stats.asid_invalidations, 1);
	} else if (s->ril) {
		n = range_cmds(asid, start, pages, walks, cmds);
		iommu_stat_add(&io->stats.range_invalidations, n);
	} else {
		for (; n < pages; n++) {
			cmds[n][0] = CMD_TLBI_NH_VA | CMD_ASID(asid);
			cmds[n][1] = va_word(start + ((uint64_t)n << PAGE_SHIFT), walks);
		}
		iommu_stat_add(&io->stats.range_invalidations, n);
	}
	if (smmu_broken == SMMU_BREAK_SKIP_TLBI)
		n = 0; /* test-only: the IOTLB keeps what the CPU side unmapped */
	smmu_issue(s, (const uint64_t(*)[2])cmds, n);
}

const struct iommu_ops smmu_ops = {
    .attach = smmu_attach,
    .detach = smmu_detach,
    .invalidate = smmu_invalidate,
};

void smmu_tables_free(struct smmu *s)
{
	if (s->strtab)
		frame_free(s->strtab_pa, SMMU_TABLE_ORDER);
	if (s->cds)
		frame_free(s->cds_pa, SMMU_TABLE_ORDER);
	s->strtab = s->cds = NULL;
}

int smmu_tables_init(struct smmu *s)
{
	if (frame_alloc(SMMU_TABLE_ORDER, &s->strtab_pa) != 0)
		return -ENOMEM;
	if (frame_alloc(SMMU_TABLE_ORDER, &s->cds_pa) != 0) {
		frame_free(s->strtab_pa, SMMU_TABLE_ORDER);
		return -ENOMEM;
	}
	s->strtab = kva(s->strtab_pa);
	s->cds = kva(s->cds_pa);
	memset(s->strtab, 0, PAGE_SIZE << SMMU_TABLE_ORDER);
	memset(s->cds, 0, PAGE_SIZE << SMMU_TABLE_ORDER);
	for (unsigned sid = 0; sid < (1u << SMMU_STREAM_BITS); sid++) {
		ste_of(s, sid)[1] = STE_W1;
		ste_of(s, sid)[0] = STE_V | STE_CFG_BYPASS;
	}
	s->io.nr_streams = 1u << SMMU_STREAM_BITS;
	mmio_write64(s->regs + SMMU_STRTAB_BASE, Q_BASE_RA | (s->strtab_pa & STE_CTXPTR_MASK));
	mmio_write32(s->regs + SMMU_STRTAB_BASE_CFG, SMMU_STREAM_BITS); /* FMT 0: linear */
	return 0;
}
