// SPDX-License-Identifier: BSD-2-Clause
/*
 * An SVA unbind held half-way (sva_race.h). The device is stopped as
 * sva.c's unbind does it: detached, then every entry of the bond's id
 * invalidated, before anything is unlinked, so the stream reaches nothing
 * while the race runs.
 */
#include "tests/sva_race.h"
#include "kernel/arch.h"
#include "kernel/sched/thread.h"

static void unregister_fn(void *sub)
{
	mn_unregister(sub);
}

bool sva_unbind_hold(struct sva_held_unbind *h, struct iommu_sva *bond, unsigned other_cpu)
{
	h->bond = bond;
	/* Unlinked already (a teardown released it): nothing would end the wait below. */
	if (!mn_linked(&bond->sub))
		return false;
	mutex_lock(&bond->lock);
	if (bond->attached) {
		bond->io->ops->detach(bond->io, bond->stream);
		bond->io->ops->invalidate(bond->io, bond->asid, 0, 0, true, true);
		bond->attached = false;
	}
	h->th = thread_create("sva-unreg", other_cpu, unregister_fn, &bond->sub);
	if (!h->th) {
		mutex_unlock(&bond->lock);
		return false;
	}
	while (mn_linked(&bond->sub))
		arch_cpu_relax();
	return true;
}

void sva_unbind_finish(struct sva_held_unbind *h)
{
	mutex_unlock(&h->bond->lock);
	thread_join(h->th);
}
