// SPDX-License-Identifier: BSD-2-Clause
/*
 * Shadow domains (shadow.h): a mirror of part of an mm in tables the
 * IOMMU walks, built under the interval sequence protocol.
 */
#include "kernel/iommu/shadow.h"
#include "kernel/atomic.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "kernel/mm/mm.h"
#include "lib/string.h"

#define BUILD_BATCH 16

/* The mirror's tables: the driver's own format when it has one, else a CPU-format pt. */
static const struct iommu_iopt_ops *own_tables(const struct iommu_shadow *sh)
{
	return sh->io->ops->iopt;
}

static int mirror_map(struct iommu_shadow *sh, virt_addr_t page, phys_addr_t pa, unsigned attrs)
{
	if (own_tables(sh))
		return own_tables(sh)->map(sh->io, sh->iopt_root, page, pa, attrs);
	return pt_map(&sh->pt, page, pa, PAGE_SIZE, attrs | PT_PAGES_ONLY);
}

static int mirror_unmap(struct iommu_shadow *sh, virt_addr_t start, virt_addr_t end)
{
	if (!own_tables(sh))
		return pt_unmap(&sh->pt, start, end - start);
	own_tables(sh)->unmap(sh->io, sh->iopt_root, start, end);
	return 0;
}

static bool mirror_query(struct iommu_shadow *sh, virt_addr_t page, phys_addr_t *pa,
			 unsigned *attrs)
{
	if (own_tables(sh))
		return own_tables(sh)->query(sh->io, sh->iopt_root, page, pa, attrs);
	struct pt_query_result q;
	if (!pt_query(&sh->pt, page, &q))
		return false;
	*pa = q.pa;
	*attrs = q.attrs;
	return true;
}

static void mirror_free(struct iommu_shadow *sh)
{
	if (own_tables(sh))
		own_tables(sh)->free(sh->io, sh->iopt_root);
	else
		pt_destroy(&sh->pt);
}

static bool shadow_invalidate(struct mn_interval *iv, const struct mn_range *r, uint64_t seq)
{
	struct iommu_shadow *sh = (struct iommu_shadow *)iv;
	/* Invalidating the IOMMU means waiting for its sync: impossible without sleeping. */
	if (!mn_range_blockable(r))
		return false;
	mutex_lock(&sh->lock);
	mn_interval_set_seq(iv, seq);
	virt_addr_t start = MAX(r->start, iv->start), end = MIN(r->end, iv->end);
	if (mirror_unmap(sh, start, end))
		panic("shadow_invalidate: unmapping the mirror failed");
	sh->io->ops->invalidate(sh->io, sh->asid, start, end, false, false);
	sh->invalidations++;
	mutex_unlock(&sh->lock);
	return true;
}

static const struct mn_interval_ops shadow_ops = {.invalidate = shadow_invalidate};

int iommu_shadow_create(struct iommu_shadow *sh, struct iommu *io, unsigned stream, struct mm *mm,
			virt_addr_t start, uint64_t len)
{
	if (stream >= io->nr_streams || !vm_user_range_ok(start, len))
		return -EINVAL;
	memset(sh, 0, sizeof(*sh));
	sh->io = io;
	sh->stream = stream;
	sh->mm = mm;
	sh->lock = (struct mutex)MUTEX_INIT;
	sh->asid = iommu_alloc_asid(io);
	if (!sh->asid)
		return -ENOSPC;
	const struct iommu_iopt_ops *own = own_tables(sh);
	int err = own ? own->alloc(io, &sh->iopt_root) : pt_init(&sh->pt);
	if (err) {
		iommu_free_asid(io, sh->asid);
		return err;
	}
	sh->pt.keep_tables = true;
	/* The mirror is what the stream translates through: its MSIs need the doorbell too. */
	err = own ? 0 : iommu_msi_map_pt(io, &sh->pt);
	if (!err)
		err = mn_interval_insert(&sh->iv, mm, start, len, &shadow_ops);
	if (!err)
		err = own ? own->attach(io, stream, sh->iopt_root, sh->asid)
			  : io->ops->attach(io, stream, sh->pt.root, sh->asid);
	if (err) {
		mn_interval_remove(&sh->iv);
		mirror_free(sh);
		iommu_free_asid(io, sh->asid);
	}
	return err;
}

int iommu_shadow_fault_in(struct iommu_shadow *sh, virt_addr_t va, uint64_t len)
{
	if (va < sh->iv.start || len > sh->iv.end - va || !IS_ALIGNED(va | len, PAGE_SIZE))
		return -EINVAL;
	for (virt_addr_t batch = va; batch < va + len; batch += BUILD_BATCH * PAGE_SIZE) {
		unsigned n = (unsigned)MIN((uint64_t)BUILD_BATCH, (va + len - batch) >> PAGE_SHIFT);
		struct pt_query_result q[BUILD_BATCH];
		for (;;) {
			uint64_t seq = mn_interval_read_begin(&sh->iv);
			int err = vm_populate(sh->mm, batch, (uint64_t)n << PAGE_SHIFT);
			for (unsigned i = 0; i < n && !err; i++)
				if (!pt_query(&sh->mm->pt, batch + ((uint64_t)i << PAGE_SHIFT), &q[i]))
					err = -EINVAL; /* not a populated anonymous page (or just unmapped) */
			mutex_lock(&sh->lock);
			if (atomic_load_acquire(&sh->iv.released)) {
				mutex_unlock(&sh->lock);
				return -ENOENT; /* the mm is being torn down */
			}
			if (mn_interval_read_retry(&sh->iv, seq)) {
				/* An invalidation overlapped the lookup: what we read may be stale. */
				mutex_unlock(&sh->lock);
				sh->retries++;
				continue;
			}
			if (err) {
				mutex_unlock(&sh->lock);
				return err;
			}
			for (unsigned i = 0; i < n && !err; i++) {
				virt_addr_t page = batch + ((uint64_t)i << PAGE_SHIFT);
				unsigned attrs = PT_READ | PT_USER | (q[i].attrs & PT_WRITE);
				phys_addr_t have_pa;
				unsigned have_attrs;
				if (mirror_query(sh, page, &have_pa, &have_attrs)) {
					if (have_pa == q[i].pa && (have_attrs & PT_WRITE) == (attrs & PT_WRITE))
						continue;
					/* A promotion notifies nobody: catch up with it here. */
					err = mirror_unmap(sh, page, page + PAGE_SIZE);
					sh->io->ops->invalidate(sh->io, sh->asid, page, page + PAGE_SIZE,
								false, false);
				}
				if (!err)
					err = mirror_map(sh, page, ALIGN_DOWN(q[i].pa, PAGE_SIZE), attrs);
			}
			sh->builds++;
			mutex_unlock(&sh->lock);
			if (err)
				return err;
			break;
		}
	}
	return 0;
}

void iommu_shadow_destroy(struct iommu_shadow *sh)
{
	sh->io->ops->detach(sh->io, sh->stream);
	sh->io->ops->invalidate(sh->io, sh->asid, 0, 0, true, true);
	mn_interval_remove(&sh->iv);
	mirror_free(sh);
	iommu_free_asid(sh->io, sh->asid);
}
