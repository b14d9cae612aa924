// SPDX-License-Identifier: BSD-2-Clause
/*
 * IRQ dispatch: one interrupt per exception entry (another pending one is
 * taken again right after eret). The interrupt is ended at the GIC, and
 * the timer re-armed, before its generic handler runs, because
 * timer_tick() may leave by arch_longjmp (a test timeout) and
 * ipi_handle(IPI_STOP) never returns: nothing may stay active behind them.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/gic.h"
#include "kernel/arch.h"
#include "kernel/printk.h"

void aarch64_irq(struct aarch64_frame *f)
{
	(void)f;
	uint32_t raw;
	uint32_t intid = gic_ack(&raw);
	if (intid >= GIC_SPURIOUS)
		return; /* withdrawn or taken by another CPU: no EOI for these */
	if (intid < 16) {
		gic_eoi(raw);
		if (intid < IPI_KIND_COUNT)
			ipi_handle((enum ipi_kind)intid);
		else
			printk("aarch64_irq: unexpected SGI %u", intid);
		return;
	}
	if (intid == aarch64_timer_intid()) {
		aarch64_timer_rearm();
		gic_eoi(raw);
		timer_tick();
		return;
	}
	gic_eoi(raw);
	printk("aarch64_irq: unexpected interrupt %u", intid);
}
