// SPDX-License-Identifier: BSD-2-Clause
/*
 * The small CPU primitives of the arch contract on aarch64: identity
 * (TPIDR_EL1 points at this CPU's struct aarch64_percpu, set by head.S
 * before any C runs), interrupt masking (the I bit of DAIF; Pagoda takes
 * no FIQs), idling, the debugging helpers, address translation for the
 * direct map and the image (layout.h), and a new thread's first frame.
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"

#define DAIF_I (1ul << 7)

_Static_assert(sizeof(struct aarch64_percpu) == PERCPU_SIZE, "head.S indexes by PERCPU_SIZE");
_Static_assert(AARCH64_CPU_MAX == CPU_MAX, "head.S bounds-checks with AARCH64_CPU_MAX");
_Static_assert(((KERNEL_VMA >> 39) & 511) == KERNEL_L0_INDEX, "KERNEL_L0_INDEX");
_Static_assert(((KERNEL_VMA >> 30) & 511) == KERNEL_L1_INDEX, "KERNEL_L1_INDEX");
_Static_assert((KERNEL_VMA & ((1ul << 30) - 1)) == 0, "KERNEL_VMA must be 1 GiB aligned");

struct aarch64_percpu aarch64_percpu[CPU_MAX];
phys_addr_t aarch64_image_pa;
extern const char __kernel_start[];

void aarch64_percpu_init(unsigned cpu)
{
	struct aarch64_percpu *p = &aarch64_percpu[cpu];
	p->cpu_id = cpu;
	p->mpidr = read_sysreg(mpidr_el1) & MPIDR_AFF_MASK;
}

unsigned arch_cpu_id(void)
{
	return aarch64_this_cpu()->cpu_id;
}

void arch_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

/* Devices are outer shareable: an ish barrier would order only the CPUs' view. */
void arch_mmio_wmb(void)
{
	__asm__ __volatile__("dmb oshst" ::: "memory");
}

void arch_mmio_rmb(void)
{
	__asm__ __volatile__("dmb oshld" ::: "memory");
}

void arch_mmio_mb(void)
{
	__asm__ __volatile__("dmb osh" ::: "memory");
}

/*
 * wfi with IRQs masked, then unmask: a pending interrupt is a wake-up event
 * for wfi even while PSTATE.I masks it, so one that arrives after the mask
 * (or was already pending) ends the wait at once, and is taken as soon as
 * daifclr unmasks it. Unmasking first would let the interrupt be taken
 * just before wfi, which would then sleep until the next one.
 */
void arch_cpu_idle(void)
{
	__asm__ __volatile__("msr daifset, #2\n\t"
			     "dsb sy\n\t"
			     "wfi\n\t"
			     "msr daifclr, #2" ::
				 : "memory");
}

void arch_cpu_halt(void)
{
	__asm__ __volatile__("msr daifset, #0xf" ::: "memory");
	for (;;)
		__asm__ __volatile__("wfi");
}

irqflags_t arch_irq_save(void)
{
	irqflags_t flags = read_sysreg(daif);
	__asm__ __volatile__("msr daifset, #2" ::: "memory");
	return flags;
}

void arch_irq_restore(irqflags_t flags)
{
	write_sysreg(daif, flags);
}

void arch_irq_enable(void)
{
	__asm__ __volatile__("msr daifclr, #2" ::: "memory");
}

void arch_irq_disable(void)
{
	__asm__ __volatile__("msr daifset, #2" ::: "memory");
}

bool arch_irq_enabled(void)
{
	return !(read_sysreg(daif) & DAIF_I);
}

/*
 * ELR of a BRK exception points at the brk itself, not after it (x86's
 * int3 leaves RIP past the trap): the handler steps ELR over the brk when
 * it resumes an unclaimed breakpoint. An armed fixture leaves by longjmp.
 */
void arch_breakpoint(void)
{
	__asm__ __volatile__("brk #0" ::: "memory");
}

void *arch_phys_to_virt(phys_addr_t pa)
{
	/*
	 * The boot tables map the low 4 GiB at the direct-map base as well, so
	 * these pointers stay valid on the kernel's tables (RAM is in their
	 * direct map; devices must move to vm_map_mmio before the switch).
	 */
	if (pa >= (uint64_t)BOOT_IDENTITY_GIB << 30)
		return NULL;
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

phys_addr_t arch_virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;
	if (v >= KERNEL_VMA)
		return v - (uintptr_t)__kernel_start + aarch64_image_pa;
	if (v >= DIRECT_MAP_BASE && v - DIRECT_MAP_BASE < DIRECT_MAP_SIZE)
		return v - DIRECT_MAP_BASE;
	return v; /* an identity-mapped address: start-up code running physically */
}

/* switch.S: moves entry from x19 to a call with a zero frame record. */
extern const char aarch64_thread_start[];

void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void))
{
	/*
	 * What arch_context_switch pops: x19-x28, x29, x30 (12 words, 96
	 * bytes). x30 "returns" into aarch64_thread_start, which calls entry
	 * (from x19) with x29 = x30 = 0 so backtraces end there; SP stays
	 * 16-byte aligned (SCTLR_EL1.SA checks it). Interrupts are whatever
	 * the switching thread had: schedule() switches with them masked.
	 */
	uint64_t *sp = (uint64_t *)ALIGN_DOWN((uintptr_t)stack_top, 16);
	sp -= 12;
	for (int i = 0; i < 12; i++)
		sp[i] = 0;
	sp[0] = (uint64_t)(uintptr_t)entry;		    /* popped into x19 */
	sp[11] = (uint64_t)(uintptr_t)aarch64_thread_start; /* popped into x30 */
	ctx->sp = (uintptr_t)sp;
}
