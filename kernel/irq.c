// SPDX-License-Identifier: BSD-2-Clause
/*
 * The device-interrupt handler table (see irq.h).
 *
 * Invariants: a slot's handler and argument are published together, arg
 * first and then the handler with a release store, so irq_dispatch (which
 * loads the handler with acquire) never calls a handler with another
 * one's argument; requests and frees are serialised by one lock, so two
 * owners cannot both win a slot. irq_free waits for the dispatches that
 * may still run the old handler: a dispatch counts itself in `active`
 * before it loads the handler, and irq_free clears the handler before it
 * reads `active` (all four sequentially consistent, so at least one side
 * sees the other's write). Either the dispatch sees NULL, or irq_free sees
 * it counted and waits for it; so when irq_free returns the old handler
 * and argument are no longer in use, and the slot's next owner (which can
 * only request it after that) is never called with the old argument, nor
 * the old handler with the new one.
 */
#include "kernel/irq.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/printk.h"
#include "kernel/spinlock.h"

CMDLINE_PARAM(irq_break_param, .key = "irq.break", .kind = CMDLINE_ENUM,
	      .values = "none|free_no_wait", .def = "none",
	      .help = "irq: test only: free_no_wait lets irq_free return while the handler runs");

struct irq_slot {
	irq_handler_t fn;
	void *arg;
	uint64_t count;
	uint32_t active; /* dispatches between counting themselves and leaving */
};

static struct irq_slot slots[IRQ_MAX];
static spinlock_t irq_lock = SPINLOCK_INIT;
/* Set by a CPU around the handler it runs; written and read by that CPU alone. */
static bool in_handler[CPU_MAX];

int irq_request(unsigned irq, irq_handler_t fn, void *arg)
{
	if (irq >= IRQ_MAX || !fn)
		return -EINVAL;
	irqflags_t flags = spin_lock_irqsave(&irq_lock);
	int err = 0;
	if (slots[irq].fn) {
		err = -EBUSY;
	} else {
		__atomic_store_n(&slots[irq].arg, arg, __ATOMIC_RELAXED);
		__atomic_store_n(&slots[irq].fn, fn, __ATOMIC_RELEASE);
	}
	spin_unlock_irqrestore(&irq_lock, flags);
	return err;
}

void irq_free(unsigned irq)
{
	if (irq >= IRQ_MAX)
		return;
	if (irq_in_handler())
		panic("irq_free: interrupt %u freed from an interrupt handler", irq);
	irqflags_t flags = spin_lock_irqsave(&irq_lock);
	__atomic_store_n(&slots[irq].fn, NULL, __ATOMIC_SEQ_CST);
	spin_unlock_irqrestore(&irq_lock, flags);
	if (cmdline_enum("irq.break") == 1)
		return; /* test only: the handler may still be running */
	while (__atomic_load_n(&slots[irq].active, __ATOMIC_SEQ_CST))
		arch_cpu_relax();
}

uint64_t irq_count(unsigned irq)
{
	return irq < IRQ_MAX ? __atomic_load_n(&slots[irq].count, __ATOMIC_RELAXED) : 0;
}

bool irq_in_handler(void)
{
	irqflags_t flags = arch_irq_save(); /* stay on this CPU while reading its flag */
	bool in = in_handler[arch_cpu_id()];
	arch_irq_restore(flags);
	return in;
}

bool irq_dispatch(unsigned irq)
{
	if (irq >= IRQ_MAX)
		return false;
	struct irq_slot *s = &slots[irq];
	__atomic_fetch_add(&s->active, 1, __ATOMIC_SEQ_CST);
	irq_handler_t fn = __atomic_load_n(&s->fn, __ATOMIC_SEQ_CST);
	if (fn) {
		__atomic_fetch_add(&s->count, 1, __ATOMIC_RELAXED);
		unsigned cpu = arch_cpu_id();
		bool outer = in_handler[cpu];
		in_handler[cpu] = true;
		fn(__atomic_load_n(&s->arg, __ATOMIC_RELAXED));
		in_handler[cpu] = outer;
	}
	__atomic_fetch_sub(&s->active, 1, __ATOMIC_RELEASE);
	return fn != NULL;
}
