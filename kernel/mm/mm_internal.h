/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Between the address-space files of kernel/mm (mm.c: lifetime; switch.c:
 * loading an mm on a CPU; fault.c: faults; vma.c: the VMA list and the
 * range operations). Not for other subsystems. Each function says which
 * lock or context it expects.
 */
#ifndef PAGODA_KERNEL_MM_MM_INTERNAL_H
#define PAGODA_KERNEL_MM_MM_INTERNAL_H

#include "kernel/mm/mm.h"

struct mmu_gather;

/* The VMA containing `va`, or NULL. mm->vma_lock held, or mm->lock for write. */
struct vma *vma_find(struct mm *mm, virt_addr_t va);
/*
 * Sleeps until no change owns a VMA holding `va` (a fault that must not
 * act beside a change in flight, fault.c). mm->lock held for read, no
 * spinlock; the change it waits for needs no new hold to end.
 */
void vma_wait_unowned(struct mm *mm, virt_addr_t va);
/*
 * A change of one page outside vma.c (the TLB batch, tlb_batch.c): takes
 * mm->lock for read, waits until no change owns a VMA holding `va`, and
 * owns the VMA holding `va` for `me`, copying it to *copy: 0, or -EINVAL
 * when no VMA holds `va` (nothing owned). Either way mm->lock stays held
 * for read until vma_disown(mm, me), which lets go of what `me` owns and
 * wakes the changes and maps waiting for it. The owned VMA is neither cut
 * nor marked: the caller changes only the tables of `va`.
 */
int vma_own_page(struct mm *mm, virt_addr_t va, const void *me, struct vma *copy);
void vma_disown(struct mm *mm, const void *me);
/* Unmaps every VMA and sweeps the user half into `g` (teardown). mm->lock held for write. */
void vma_unmap_all(struct mm *mm, struct mmu_gather *g);
/*
 * mm_destroy's cross-call, on every CPU that may hold `mm`, interrupts off:
 * this CPU lets go of it for good (unloads it if it is loaded, forgets its
 * slots, drops its tagged entries). No thread uses `mm` any more.
 */
void mm_unload_here(struct mm *mm);
/*
 * Calls fn(mm, arg) for every live address space (created, not yet being
 * destroyed) until fn returns non-zero, which is returned. Thread context:
 * holds the list's mutex throughout, so no mm on it is destroyed meanwhile
 * (mm_destroy waits); fn may take mm->lock (either way).
 */
int mm_for_each_live(int (*fn)(struct mm *mm, void *arg), void *arg);
/*
 * The same in two passes under one hold of the list: check(mm, arg) for
 * every live mm until one returns non-zero (returned, and fn is called for
 * none), then fn(mm, arg) for every one, then, if every fn returned 0,
 * commit(arg) (may be NULL), and last release(mm, arg) (may be NULL) for
 * every mm whose check passed, whatever the outcome, all still in the hold.
 * For an action that must be refused whole rather than done halfway, and
 * whose result must be in place before anything the hold keeps out (a
 * thread counted by mm_add_user) can start; a check may take something of
 * each mm (its lock) that release gives back. Callbacks must not create
 * threads in an mm.
 */
int mm_for_each_live_checked(int (*check)(struct mm *mm, void *arg),
			     int (*fn)(struct mm *mm, void *arg), void (*commit)(void *arg),
			     void (*release)(struct mm *mm, void *arg), void *arg);

#endif
