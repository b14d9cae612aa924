// SPDX-License-Identifier: BSD-2-Clause
/*
 * The device-interrupt handler table (see irq.h).
 *
 * Invariants: a slot's handler and argument are published together, arg
 * first and then the handler with a release store, so irq_dispatch (which
 * loads the handler with acquire) never calls a handler with another
 * one's argument; requests and frees are serialised by one lock, so two
 * owners cannot both win a slot.
 */
#include "kernel/irq.h"
#include "kernel/atomic.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/spinlock.h"

struct irq_slot {
	irq_handler_t fn;
	void *arg;
	uint64_t count;
};

static struct irq_slot slots[IRQ_MAX];
static spinlock_t irq_lock = SPINLOCK_INIT;

int irq_request(unsigned irq, irq_handler_t fn, void *arg)
{
	if (irq >= IRQ_MAX || !fn)
		return -EINVAL;
	irqflags_t flags = spin_lock_irqsave(&irq_lock);
	int err = 0;
	if (slots[irq].fn) {
		err = -EBUSY;
	} else {
		slots[irq].arg = arg;
		__atomic_store_n(&slots[irq].fn, fn, __ATOMIC_RELEASE);
	}
	spin_unlock_irqrestore(&irq_lock, flags);
	return err;
}

void irq_free(unsigned irq)
{
	if (irq >= IRQ_MAX)
		return;
	irqflags_t flags = spin_lock_irqsave(&irq_lock);
	__atomic_store_n(&slots[irq].fn, NULL, __ATOMIC_RELEASE);
	spin_unlock_irqrestore(&irq_lock, flags);
}

uint64_t irq_count(unsigned irq)
{
	return irq < IRQ_MAX ? __atomic_load_n(&slots[irq].count, __ATOMIC_RELAXED) : 0;
}

bool irq_dispatch(unsigned irq)
{
	if (irq >= IRQ_MAX)
		return false;
	irq_handler_t fn = __atomic_load_n(&slots[irq].fn, __ATOMIC_ACQUIRE);
	if (!fn)
		return false;
	__atomic_fetch_add(&slots[irq].count, 1, __ATOMIC_RELAXED);
	fn(slots[irq].arg);
	return true;
}
