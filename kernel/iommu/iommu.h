/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The generic IOMMU layer: what every IOMMU driver (Pagoda's emulated one
 * today; SMMUv3 and VT-d are meant to be the next) provides, and the two
 * ways a device gets an address space through it (docs/iommu.md):
 *
 *  - Shared (SVA): the device's stream translates through an mm's own
 *    page tables. The IOMMU caches those translations, so the binding
 *    subscribes to the mm's notifier: the gather's flush point calls
 *    invalidate_secondary_tlbs, which issues ONE range invalidation for
 *    the gather's range (or one for the whole address space), then a sync,
 *    and returns only when it completed; only then does the gather free
 *    frames (notifier.h rule 2). Teardown of the mm (release) makes the
 *    stream abort and drops its cached translations before any table goes.
 *  - Shadow (shadow.c): the driver keeps its own tables, mirrored from
 *    the mm on request through an interval subscription; an invalidation
 *    of the interval unmaps the mirror, invalidates, then lets the change
 *    go on.
 *
 * Driver contract: `attach` and `detach` take effect (configuration
 * caches invalidated) before they return; `invalidate` returns once the
 * IOMMU can no longer use any translation it covers (its sync completed).
 */
#ifndef PAGODA_KERNEL_IOMMU_IOMMU_H
#define PAGODA_KERNEL_IOMMU_IOMMU_H

#include "kernel/atomic.h"
#include "kernel/mm/notifier.h"
#include "kernel/spinlock.h"
#include "kernel/sync/wait.h"

struct iommu;

#define IOMMU_ASIDS 4096

/*
 * Tables in an IOMMU's own format, for shadow domains on an IOMMU that
 * does not walk the CPU's format there (VT-d second stage). `root`
 * names one domain's tables. map installs one 4 KiB page (`attrs`:
 * PT_READ, PT_WRITE) where none is; unmap clears [start, end) and keeps
 * the emptied tables (the IOMMU walks them with no flush protocol of
 * its own) until free. Callers serialise per domain.
 */
struct iommu_iopt_ops {
	int (*alloc)(struct iommu *io, phys_addr_t *root);
	int (*map)(struct iommu *io, phys_addr_t root, virt_addr_t va, phys_addr_t pa,
		   unsigned attrs);
	void (*unmap)(struct iommu *io, phys_addr_t root, virt_addr_t start, virt_addr_t end);
	/* The page mapped at `va`: true with its address and PT_READ/PT_WRITE. */
	bool (*query)(struct iommu *io, phys_addr_t root, virt_addr_t va, phys_addr_t *pa,
		      unsigned *attrs);
	/* Frees every table; the stream was detached and its translations invalidated. */
	void (*free)(struct iommu *io, phys_addr_t root);
	/* Like iommu_ops.attach, for tables made by alloc. */
	int (*attach)(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid);
};

struct iommu_ops {
	/* Stream `stream` translates through the tables at `root`, tagged `asid`. */
	int (*attach)(struct iommu *io, unsigned stream, phys_addr_t root, unsigned asid);
	/* Every access by `stream` now faults; its cached configuration is gone. */
	void (*detach)(struct iommu *io, unsigned stream);
	/*
	 * Drops cached translations of `asid` for [start, end) (`full`: all
	 * of them), including cached walks when `walks` (tables were freed).
	 * Synchronous: returns when the IOMMU has completed it.
	 */
	void (*invalidate)(struct iommu *io, unsigned asid, virt_addr_t start, virt_addr_t end,
			   bool walks, bool full);
	/* Optional: shadow domains use these tables (NULL: CPU-format struct pt). */
	const struct iommu_iopt_ops *iopt;
};

/*
 * Counters; gathers on several CPUs invalidate at once, so drivers count
 * with iommu_stat_add (one atomic add), never with a plain increment.
 */
struct iommu_stats {
	uint64_t range_invalidations; /* commands covering a range */
	uint64_t asid_invalidations; /* commands covering a whole address space */
	uint64_t syncs;
};

/* Adds `n` to one counter of an iommu_stats (e.g. &io->stats.syncs). */
static inline void iommu_stat_add(uint64_t *counter, uint64_t n)
{
	atomic_fetch_add(counter, n);
}

struct iommu {
	const char *name;
	const struct iommu_ops *ops;
	unsigned nr_streams;
	/*
	 * The IOMMU tags an SVA binding's translations with the mm's own CPU
	 * ASID (SMMUv3, sharing the CPU's ASID space as Linux's arm64 SVA
	 * does): bind pins it (asid_pin) instead of taking an id from
	 * asid_map, and release unpins it once the stream aborts and its
	 * translations are gone. Off for the emulated IOMMU (own ids), but
	 * for the soak's second instance (soak.churn, tests/soak_dma.c).
	 */
	bool shares_cpu_asid;
	/*
	 * A device's MSI write is translated like its DMA (SMMUv3): the
	 * doorbell must be mapped wherever the device translates (msi.c).
	 * Off for VT-d (interrupt writes are not DMA there) and the emulated IOMMU.
	 */
	bool translates_msi;
	/* IOMMU-side ids, one per attached address space; bit set = in use (id 0 never). */
	spinlock_t asid_lock;
	uint64_t asid_map[IOMMU_ASIDS / 64];
	struct iommu_stats stats;
};

/* A device stream bound to an mm (SVA). */
struct iommu_sva {
	struct mn_subscription sub; /* first: the notifier hands it back */
	struct iommu *io;
	unsigned stream;
	unsigned asid;
	struct mutex lock; /* attach against release (sva.c) */
	bool attached;	   /* this binding attached the stream and has not stopped it */
	bool released;	   /* release ran (teardown or unbind): the stream is not attached again */
	struct mm *mm;	   /* the bound mm while its MSI doorbell is mapped for this binding */
};

/*
 * Binds `stream` to `mm`'s own page tables: from now on the device
 * translates through them and is kept coherent by the notifier. 0,
 * -EINVAL (also: `mm` is being torn down), -ENOMEM, -ENOSPC (no id), or
 * -EBUSY (the stream already translates for another binding or domain;
 * it is left as it was). `bond` is the caller's storage until unbind;
 * `mm` must not be freed before bind returns.
 */
int iommu_sva_bind(struct iommu_sva *bond, struct iommu *io, unsigned stream, struct mm *mm);
/*
 * Ends the binding: the stream aborts and its translations are dropped
 * BEFORE the subscription is removed (from the unlink until release the
 * notifier no longer tells the device anything). Fine after the mm was
 * torn down. Sleeps.
 */
void iommu_sva_unbind(struct iommu_sva *bond);

/*
 * An IOMMU-side address-space id (never 0), or 0 when all are in use. An
 * id is given back only after every cached translation tagged with it
 * was invalidated (and that invalidation completed), so a new user never
 * meets an old user's entries. On an IOMMU sharing the CPU's ASID space
 * (shares_cpu_asid) the id is reserved in the CPU's allocator
 * (asid_reserve: no mm has it), and iommu_free_asid drops that
 * reservation, or a binding's pin on its mm's id.
 */
unsigned iommu_alloc_asid(struct iommu *io);
void iommu_free_asid(struct iommu *io, unsigned asid);

/*
 * Test-only (command line iommu.break=): drop_sync makes the emulated
 * driver post its invalidations without waiting for their sync;
 * no_msi_map binds streams without the MSI doorbell (msi.c), so a bound
 * device's interrupt faults at the SMMU instead of reaching the GIC.
 */
enum iommu_break { IOMMU_BREAK_NONE, IOMMU_BREAK_DROP_SYNC, IOMMU_BREAK_NO_MSI_MAP };
extern enum iommu_break iommu_broken;
/* Reads iommu.break= (boot, once). */
void iommu_setup(void);

/*
 * Probes for the machine's hardware IOMMU (boot CPU, after pci_init(),
 * before any driver starts DMA) and logs what it found, or that there is
 * none and the emulated IOMMU is what the tests use.
 */
void iommu_init(void);
/* The hardware IOMMU in use, or NULL. */
struct iommu *iommu_hw(void);
/* A hardware driver hands over its enabled IOMMU (from its probe). */
void iommu_register_hw(struct iommu *io);
/* ---- MSI doorbell (msi.c) -------------------------------------------------------------- */

struct pt;
/*
 * For a device MSI aimed at *addr (arch_msi_compose): makes the address
 * reachable through the hardware IOMMU where that translates MSI writes
 * (iommu->translates_msi), and rewrites *addr to the IOVA the device must
 * write (today the same: see msi.c). Reserves the doorbell's page in
 * every address space the first time. 0; -EINVAL (the page lies outside
 * the user half) or -EBUSY (another doorbell page is in use): the caller
 * does not use MSI. Boot, before address spaces are created.
 */
int iommu_msi_prepare(uint64_t *addr);
/* The reserved doorbell page (its IOVA and physical address), or 0. */
phys_addr_t iommu_msi_doorbell(void);
/*
 * Maps the doorbell into `mm` for a binding on `io` (nothing when `io`
 * does not translate MSIs or no doorbell was prepared); undone, counted,
 * by iommu_msi_unmap. 0 or -ENOMEM/-EINVAL from vm_map_reserved.
 */
int iommu_msi_map(struct iommu *io, struct mm *mm);
void iommu_msi_unmap(struct iommu *io, struct mm *mm);
/* The same for a shadow domain's CPU-format tables (freed with them). */
int iommu_msi_map_pt(struct iommu *io, struct pt *pt);

/* Hardware drivers' probes: each returns quietly when its firmware describes no such unit. */
void smmuv3_probe(void);
void vtd_probe(void);

#endif
