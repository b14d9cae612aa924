/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Device interrupts, the generic half: a table of handlers indexed by the
 * arch's interrupt number (x86-64: the IDT vector; aarch64: the GIC
 * INTID), which the arch's interrupt entry calls through irq_dispatch()
 * (kernel/entry.h). Allocating an MSI, composing its message, decoding a
 * device-tree interrupt specifier and unmasking a line at the interrupt
 * controller are the arch's (kernel/arch.h, "Device interrupts").
 *
 * Invariants:
 *  - One handler per interrupt number; a second irq_request() for a
 *    number in use is refused, never silently replaces the first.
 *  - A handler runs with interrupts disabled, on the CPU the interrupt was
 *    routed to (the boot CPU for every device interrupt here), before the
 *    arch ends the interrupt at the controller: a level-triggered source
 *    must be quietened (the device acknowledged) inside the handler, and
 *    that quieting write flushed by a read from the same device before the
 *    handler returns. A PCI memory write is posted (and arm64's Device-nGnRE
 *    lets it complete early), so without the read the end of interrupt, a
 *    write to another device or a system register, can overtake it: the
 *    line is still high and the controller takes the interrupt again.
 *  - While its interrupt is active, the same source is not taken again: a
 *    new edge or message is latched (GIC pending, LAPIC IRR) and taken
 *    after the end of interrupt, not lost. A handler may still be called
 *    with nothing to do (a message latched before its source was silenced,
 *    a line another device drives) and must then return without effect.
 *  - A handler never sleeps: wait_queue_wait*() and mutex_lock() panic when
 *    irq_in_handler() is true.
 *  - irq_count() counts handler invocations, so a test can tell one
 *    interrupt per event from none or a storm.
 */
#ifndef PAGODA_KERNEL_IRQ_H
#define PAGODA_KERNEL_IRQ_H

#include "kernel/types.h"

/*
 * Covers x86 vectors (below 256), GIC SGIs/PPIs/SPIs (below 1020) and the
 * GIC LPIs the ITS driver hands out (8192..8255, arch/aarch64/gicv3_its.h).
 */
#define IRQ_MAX 8256

typedef void (*irq_handler_t)(void *arg);

/*
 * Installs fn(arg) as the handler of `irq`. 0; -EINVAL for a number at or
 * above IRQ_MAX or a NULL fn; -EBUSY when `irq` already has a handler.
 * Any context but an interrupt handler. The caller unmasks the line (or
 * points the device at it) afterwards.
 */
int irq_request(unsigned irq, irq_handler_t fn, void *arg);
/*
 * Removes the handler of `irq` and waits until no CPU still runs it, so on
 * return the caller may free the handler's argument or unmap its device,
 * and the number may be handed to a new owner. The caller has silenced the
 * source first (line masked, device's MSI disabled): an interrupt still in
 * flight finds no handler and is reported as unexpected by the arch (on
 * x86-64, a message already latched in the LAPIC may still arrive after
 * release, at whichever owner the vector has then). Thread context only:
 * from the handler itself it would wait for itself (it panics instead).
 */
void irq_free(unsigned irq);
/* How many times irq's handler has run since boot (0 for an unused number). */
uint64_t irq_count(unsigned irq);
/* True while the calling CPU runs a device interrupt handler (irq_dispatch). */
bool irq_in_handler(void);

#endif
