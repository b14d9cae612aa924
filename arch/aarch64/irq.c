// SPDX-License-Identifier: BSD-2-Clause
/*
 * IRQ dispatch: one interrupt per exception entry (another pending one is
 * taken again right after eret). The interrupt is ended at the GIC, and
 * the timer re-armed, before its generic handler runs, because
 * timer_tick() may leave by arch_longjmp (a test timeout) and
 * ipi_handle(IPI_STOP) never returns: nothing may stay active behind them.
 *
 * A device interrupt (an SPI with a handler, kernel/irq.h) is ended only
 * after its handler ran, which acknowledged the device and flushed that
 * posted write with a read: ending a level-triggered SPI while the line is
 * still high would take it again at once.
 *
 * Preemption: after the timer, the IPIs and device interrupts, sched_irq_exit() may switch
 * threads from inside this handler. That is safe because Pagoda only
 * takes IRQs at EL1 on the interrupted thread's own stack: the exception
 * frame, including ELR_EL1 and SPSR_EL1, stays there while other threads
 * run, and vectors.S reloads both from the frame before its eret (the
 * registers themselves are overwritten by every exception the other
 * threads take). IRQs stay masked throughout (PSTATE.I set on entry).
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/printk.h"

/* SPSR_EL1.M[3:0]: the exception level and stack the IRQ interrupted. */
#define SPSR_MODE_MASK 0xF
#define SPSR_MODE_EL1H 0x5

void aarch64_irq(struct aarch64_frame *f)
{
	uint32_t raw;
	uint32_t intid = gic_ack(&raw);
	if (intid >= GIC_SPURIOUS && intid < GIC_SPECIAL_END)
		return; /* withdrawn or taken by another CPU: no EOI for these (LPIs do get one) */
	if (intid < 16) {
		gic_eoi(raw);
		if (intid < IPI_KIND_COUNT)
			ipi_handle((enum ipi_kind)intid);
		else
			printk("aarch64_irq: unexpected SGI %u", intid);
	} else if (intid == aarch64_timer_intid()) {
		aarch64_timer_rearm();
		gic_eoi(raw);
		timer_tick(&(struct tick_site){.pc = f->elr, .fp = f->x[29], .sp = f->sp, .lr = f->x[30]});
	} else if (intid >= 32 && irq_dispatch(intid)) {
		/*
		 * After the handler: it quietened a level-triggered device
		 * (kernel/irq.h) with an acknowledgement and a read back. The
		 * DSB makes that read complete before the EOI (a system
		 * register write on GICv3, another device's register on
		 * GICv2), or the line could still be high when the GIC
		 * looks at it again.
		 */
		dsb(sy);
		gic_eoi(raw);
	} else {
		gic_eoi(raw);
		printk("aarch64_irq: unexpected interrupt %u", intid);
		return;
	}
	/* Only kernel code (EL1h) is preempted here; vectors.S routes nothing else to us. */
	if ((f->spsr & SPSR_MODE_MASK) == SPSR_MODE_EL1H)
		sched_irq_exit();
}
