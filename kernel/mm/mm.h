/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Address spaces. A struct mm is a lower-half page-table tree (the kernel
 * half is shared by every mm), the sorted list of its mappings (VMAs), and
 * the set of CPUs that may hold its translations.
 *
 * Invariants:
 *  - mm->cpus contains every CPU that has the mm loaded, and possibly CPUs
 *    that had it (where switching away did not flush). A CPU adds itself
 *    BEFORE it reads any TLB state of the mm when it switches in; a
 *    flusher reads mm->cpus AFTER it changed the tables. One of the two
 *    sees the other (both sides use sequentially consistent operations).
 *  - Every change to the tables goes through an mmu_gather (gather.h), or
 *    fills a hole (a fault), under mm->lock held for read or write and
 *    pt->lock (docs/mm.md, "Locking"): the VMA list and every VMA's fields
 *    change only under vma_lock (a VMA a change owns, only by that
 *    change); table edits only under pt->lock.
 *  - VMAs are sorted by start and do not overlap; anonymous VMAs own the
 *    frames their pages map (zero-filled on first touch, freed by unmap).
 */
#ifndef PAGODA_KERNEL_MM_MM_H
#define PAGODA_KERNEL_MM_MM_H

#include "kernel/mm/pt.h"
#include "kernel/mm/tlb.h"
#include "kernel/sync/rwsem.h"

struct fault_info;
struct mn_mm;

enum vma_kind { VMA_ANON, VMA_PHYS };

struct vma {
	struct vma *next;
	virt_addr_t start, end; /* [start, end), page aligned */
	unsigned attrs; /* enum pt_attr */
	enum vma_kind kind;
	phys_addr_t pa; /* VMA_PHYS: physical address of start */
	uint32_t users; /* the reserved window's VMA: vm_map_reserved calls not yet undone */
	/* The change (unmap, protect, ...) that owns it now (vma.c), or NULL. */
	const void *owner;
	bool dying;	    /* its unmap has begun: faults refuse it */
	bool unlink_at_end; /* its unmap takes it off the list when it ends */
};

/* Counted under a read hold by faults on several CPUs at once: atomic adds. */
struct mm_stats {
	uint64_t faults_filled; /* anonymous pages zero-filled on first touch */
	uint64_t faults_spurious; /* stale, stricter TLB entries met after an upgrade */
	uint64_t faults_refused; /* no VMA, or the VMA forbids the access */
	uint64_t faults_soft_dirty; /* writes to pages write-protected by soft-dirty tracking */
	uint64_t faults_raced; /* fills that found the page filled by another fault meanwhile */
};

struct mm {
	struct pt pt;
	cpumask_t cpus;
	uint64_t asid; /* generation | hardware id (kernel/mm/asid.h) */
	/*
	 * Read: every operation (faults, populate, map, unmap, protect,
	 * discard). Write: what must see the mm still: teardown, the audit,
	 * the console's walk, a notifier state appearing (docs/mm.md).
	 */
	struct rwsem lock;
	/* The VMA list and every VMA's fields; taken inside mm->lock, outside pt->lock. */
	spinlock_t vma_lock;
	struct wait_queue vma_wait; /* operations waiting for a range another change owns */
	struct vma *vmas;
	/*
	 * Written by gathers running side by side under read holds: each
	 * field below is atomic (or, the ring, under ring_lock); none relies on
	 * mm->lock.
	 */
	uint32_t gathers_active; /* mmu_gathers running now: >1 means nested */
	/* Gathers holding unhooked tables whose flush is still to come (gather.c). */
	uint32_t tables_unflushed;
	/* TLB generations (kernel/mm/tlb.h). */
	uint64_t tlb_gen;
	uint64_t tlb_gen_completed;
	uint64_t tlb_gen_deferred;
	/* Orders ring writers (tlb_gen_bump); irqs off, only stores inside, readers lock-free. */
	spinlock_t ring_lock;
	struct tlb_ring_entry ring[TLB_RING_SIZE];
	uint32_t users;	  /* threads whose mm this is: mm_add_user, thread_join */
	struct mn_mm *mn; /* notifier subscriptions (notifier.c); NULL: none */
	struct mm_stats stats;
	struct mm *live_next; /* the list of live address spaces (mm.c), for audits */
};

/* A new, empty address space, or NULL when out of memory. */
struct mm *mm_create(void);
/* Reads the live list's test-only switch, once, at boot (mm_init). */
void mm_live_setup(void);
/*
 * Counts one more thread whose mm this is (thread_create_mm; thread_join
 * takes it back with a plain decrement). Taken under the live list's lock,
 * so a scan of the live list that checks `users` and acts on the result in
 * one hold of it (tlb_mode_switch) never misses a thread that starts
 * meanwhile: the thread is counted before the scan, or starts after it.
 * Sleeps on that lock: thread context, interrupts enabled, and not
 * holding mm->lock (an audit holds the live list while it tries each
 * mm->lock, and would give up on this mm after 100 ms, reporting it).
 */
void mm_add_user(struct mm *mm);
/*
 * Tears the address space down: every mapping, every table, the mm
 * itself. No thread may use it any more; CPUs that still have it loaded
 * lazily are made to drop it first.
 */
void mm_destroy(struct mm *mm);
/*
 * Makes every CPU that still has the mm loaded (lazily, after a kernel
 * thread borrowed it) and the calling CPU let go of it; the mm and its
 * mappings stay. Thread context; no thread of the mm may be running. The
 * console calls it before running suites that count what CPUs hold (ASIDs).
 */
void mm_unload_everywhere(struct mm *mm);

/*
 * Mappings. All take page-aligned ranges inside [user_base, user_top) and
 * return 0 or a negative errno (-EINVAL, -EEXIST on overlap, -ENOMEM).
 *  vm_map_anon:  zero-filled memory, populated on first touch;
 *  vm_map_phys:  [pa, pa + size) (not owned: never freed by the mm);
 *  vm_unmap:     removes mappings (holes allowed), freeing anonymous frames;
 *  vm_protect:   changes permissions; a pure upgrade flushes nothing;
 *  vm_discard:   drops anonymous pages but keeps the mapping (madvise
 *                DONTNEED): the next touch sees a fresh zero page;
 *  vm_discard_nowait: the same, but -EAGAIN (nothing changed) instead of
 *                waiting for mm->lock or for a subscriber that cannot act
 *                without blocking; it may still sleep in the flush (an
 *                IOMMU's sync), so it is for thread context;
 *  vm_soft_dirty_clear: clears the soft-dirty state of the anonymous pages
 *                in the range and write-protects them; the next write to
 *                each faults, and the fault marks it soft-dirty again.
 * Every change is announced to notifier subscribers (notifier.h).
 */
int vm_map_anon(struct mm *mm, virt_addr_t va, uint64_t size, unsigned attrs);
int vm_map_phys(struct mm *mm, virt_addr_t va, phys_addr_t pa, uint64_t size, unsigned attrs);
int vm_unmap(struct mm *mm, virt_addr_t va, uint64_t size);
int vm_protect(struct mm *mm, virt_addr_t va, uint64_t size, unsigned attrs);
int vm_discard(struct mm *mm, virt_addr_t va, uint64_t size);
int vm_discard_nowait(struct mm *mm, virt_addr_t va, uint64_t size);
int vm_soft_dirty_clear(struct mm *mm, virt_addr_t va, uint64_t size);
/* Has the page at `va` been written (or filled) since its soft-dirty state was cleared? */
bool vm_soft_dirty(struct mm *mm, virt_addr_t va);
/* Populates [va, va + size) of an anonymous VMA now, as if touched (kernel/mm/fault.c). */
int vm_populate(struct mm *mm, virt_addr_t va, uint64_t size);
/* A non-empty, page-aligned range inside the user half that does not wrap. */
bool vm_user_range_ok(virt_addr_t va, uint64_t size);

/*
 * The reserved window: one page-aligned range of the user half that the
 * kernel keeps for itself in every address space (an IOMMU's MSI
 * doorbell, kernel/iommu/msi.c). Set once at boot, before any address
 * space maps anything: 0, -EINVAL (not a user range), -EBUSY (a different
 * window is set). From then on every vm_* call above that touches the
 * window fails with -EINVAL and changes nothing.
 */
int vm_reserve_window(virt_addr_t va, uint64_t size);
/* Does [va, va + size) overlap the reserved window? */
bool vm_in_reserved_window(virt_addr_t va, uint64_t size);
/*
 * Maps the whole window to `pa` in `mm`, kernel-only (never PT_USER:
 * user code cannot reach what is there) with `attrs` (PT_READ, PT_WRITE,
 * PT_DEVICE). Counted: a second call with the same `pa` only counts, and
 * the mapping goes at the last vm_unmap_reserved, through the ordinary
 * gather (subscribers are told, as of any unmap). 0, -EINVAL (no window,
 * or it is mapped to another address), -ENOMEM.
 */
int vm_map_reserved(struct mm *mm, phys_addr_t pa, unsigned attrs);
void vm_unmap_reserved(struct mm *mm);

/*
 * The mm side of a context switch, on the CPU that switches, interrupts
 * off (kernel/mm/switch.c): user addresses translate through `next` from
 * now on; for a kernel thread (`next` NULL) the CPU keeps whatever mm is
 * loaded, lazily (it touches no user address).
 */
void mm_switch(struct mm *next);
/*
 * Page faults at user addresses (kernel/mm/fault.c): fills anonymous pages,
 * recognises spurious faults. `mm` is the address space of the thread that
 * faulted (NULL for a kernel thread: nothing is resolved). Returns true
 * when the access can be retried.
 */
bool mm_handle_fault(struct mm *mm, const struct fault_info *info);

/*
 * Test hook (the concur suite): when set, an unmap or protect calls it at
 * each stage below, holding mm->lock for read and owning its range, with
 * interrupts on and no spinlock held; a test parks the caller there to
 * show what may run beside it.
 */
enum vm_change_stage {
	VM_CHANGE_CLAIMED, /* owns its VMAs, before it tells subscribers, cuts and marks */
	VM_CHANGE_MARKED,  /* cut and marked (dying, new attributes), before the table work */
	VM_CHANGE_WALKED,  /* after the table work, its gather open, before its flush */
};
extern void (*vm_test_change_stage)(struct mm *mm, virt_addr_t va, virt_addr_t end,
				    enum vm_change_stage stage);

#endif
