/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * An SVA unbind held half-way, for tests that race it with the mm's last
 * mm_destroy (the smmu suite's unbind_outlives_mm, the soak's orphan
 * stage). iommu_sva_unbind is two steps: stop the device under
 * bond->lock, then mn_unregister, whose release takes bond->lock and
 * gives the bond's id back. Here the caller does the first step as unbind
 * does and keeps the lock; a thread on another CPU runs the second: it
 * unlinks the subscription, and its release waits for the lock. Between
 * the two calls below the mm's teardown releases nothing of the bond (it
 * is unlinked), and the bond's id is still held: the narrow interleaving
 * in which asid_release must orphan a pin (kernel/mm/asid.c).
 */
#ifndef PAGODA_TESTS_SVA_RACE_H
#define PAGODA_TESTS_SVA_RACE_H

#include "kernel/iommu/iommu.h"

struct sva_held_unbind {
	struct iommu_sva *bond;
	struct thread *th; /* runs mn_unregister on the other CPU */
};

/*
 * Stops `bond`'s device, keeps bond->lock, and starts the unregister on
 * `other_cpu` (not the caller's); returns once the subscription is
 * unlinked. False: the bond was not linked (its mm was torn down), or no
 * thread could be made; nothing is held, and the bond ends with
 * iommu_sva_unbind as usual.
 */
bool sva_unbind_hold(struct sva_held_unbind *h, struct iommu_sva *bond, unsigned other_cpu);
/* Drops the lock and waits for the release: the bond is released and its id given back. */
void sva_unbind_finish(struct sva_held_unbind *h);

#endif
