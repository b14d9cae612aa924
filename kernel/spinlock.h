/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Ticket spinlocks: FIFO-fair, so a CPU that waits is served in order, which
 * keeps 4 virtual CPUs on 2 host cores from starving one another.
 *
 * spin_lock_irqsave() is the form to use for any lock also taken from an
 * interrupt handler. A lock records its owner CPU so that a recursive
 * acquisition panics instead of deadlocking silently.
 */
#ifndef PAGODA_KERNEL_SPINLOCK_H
#define PAGODA_KERNEL_SPINLOCK_H

#include "kernel/arch.h"

typedef struct spinlock {
	uint16_t next; /* ticket handed to the next arrival */
	uint16_t owner; /* ticket being served */
	int32_t holder; /* holding CPU's id + 1, 0 when free (so a zeroed lock is valid) */
} spinlock_t;

#define SPINLOCK_INIT {0, 0, 0}

void spin_lock(spinlock_t *lock);
void spin_unlock(spinlock_t *lock);
bool spin_trylock(spinlock_t *lock);
bool spin_is_locked(spinlock_t *lock);

static inline irqflags_t spin_lock_irqsave(spinlock_t *lock)
{
	irqflags_t flags = arch_irq_save();
	spin_lock(lock);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *lock, irqflags_t flags)
{
	spin_unlock(lock);
	arch_irq_restore(flags);
}

#endif
