// SPDX-License-Identifier: BSD-2-Clause
/*
 * Device interrupts on x86-64 (kernel/arch.h, "Device interrupts"): MSI
 * only. A device's MSI is a write to the local APIC window 0xFEE00000
 * whose address names the destination APIC and whose data is the vector;
 * there is no interrupt controller in between to program, so an MSI
 * vector needs only a free IDT slot and a handler. INTx would need the
 * I/O APIC and the ACPI _PRT (AML) to know which pin a device's INTA# is
 * wired to; Pagoda has neither, so it has no INTx (docs/pci.md).
 *
 * Invariants: vectors are handed out from [VEC_DEVICE_FIRST,
 * VEC_DEVICE_LAST], which the timer, the IPIs and the spurious vector lie
 * outside of, each to one owner at a time; every message targets the boot
 * CPU in physical destination mode, edge-triggered, fixed delivery.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/errno.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "lib/fmt.h"

#define VEC_DEVICE_FIRST    0x30
#define VEC_DEVICE_LAST	    0xEF
#define MSI_ADDR_BASE	    0xFEE00000ull
#define MSI_ADDR_DEST_SHIFT 12 /* destination APIC id, bits 19:12 */

static bool vec_used[256];
static spinlock_t vec_lock = SPINLOCK_INIT;

int arch_msi_alloc(uint16_t rid)
{
	(void)rid; /* every MSI goes to the LAPIC window, whoever sends it */
	/* The address holds an 8-bit destination: a boot CPU above 254 is unreachable. */
	if (cpus[0].hw_id > 0xFE)
		return -ENODEV;
	irqflags_t flags = spin_lock_irqsave(&vec_lock);
	int vec = -ENOSPC;
	for (unsigned v = VEC_DEVICE_FIRST; v <= VEC_DEVICE_LAST; v++) {
		if (!vec_used[v]) {
			vec_used[v] = true;
			vec = (int)v;
			break;
		}
	}
	spin_unlock_irqrestore(&vec_lock, flags);
	return vec;
}

void arch_msi_free(unsigned irq)
{
	if (irq < VEC_DEVICE_FIRST || irq > VEC_DEVICE_LAST)
		return;
	irqflags_t flags = spin_lock_irqsave(&vec_lock);
	vec_used[irq] = false;
	spin_unlock_irqrestore(&vec_lock, flags);
}

void arch_msi_compose(unsigned irq, uint64_t *addr, uint32_t *data)
{
	/* Redirection hint 0 and destination mode 0: physical, exactly this APIC. */
	*addr = MSI_ADDR_BASE | (uint64_t)(cpus[0].hw_id & 0xFF) << MSI_ADDR_DEST_SHIFT;
	/* Trigger mode 0 (edge), delivery mode 0 (fixed): only the vector. */
	*data = irq & 0xFF;
}

bool arch_irq_from_fdt(const uint32_t *cells, unsigned n, unsigned *irq, bool *level, char *err,
		       size_t err_size)
{
	(void)cells, (void)n, (void)irq, (void)level;
	snprintf(err, err_size, "x86-64 takes no device-tree interrupts");
	return false;
}

void arch_irq_unmask(unsigned irq, bool level)
{
	(void)irq, (void)level; /* the LAPIC accepts every vector: nothing to unmask */
}

void arch_irq_mask(unsigned irq)
{
	(void)irq;
}

void arch_irq_describe(unsigned irq, char *buf, size_t size)
{
	snprintf(buf, size, "vector %#x", irq);
}

bool x86_vector_is_device(unsigned vector)
{
	return vector >= VEC_DEVICE_FIRST && vector <= VEC_DEVICE_LAST;
}
