// SPDX-License-Identifier: BSD-2-Clause
/*
 * The local APIC: x2APIC (MSR access) when CPUID offers it, else xAPIC
 * (MMIO at the base in IA32_APIC_BASE, mapped uncached by the boot tables).
 * One register accessor hides the difference; every CPU uses the mode the
 * boot CPU chose.
 *
 * Also here: the periodic LAPIC timer (its count calibrated against the PIT
 * by x86_time_calibrate), IPIs (fixed vectors; IPI_STOP as an NMI so it
 * gets through code running with interrupts masked) and INIT/SIPI for
 * starting application processors.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

#define APIC_ID 0x20
#define APIC_TPR 0x80
#define APIC_EOI 0xB0
#define APIC_SVR 0xF0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3E0

#define ICR_FIXED (0u << 8)
#define ICR_NMI (4u << 8)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_DELIVERY_PENDING (1u << 12)
#define ICR_ASSERT (1u << 14)
#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2APIC (1u << 10)
#define MSR_X2APIC_BASE	 0x800 /* x2APIC register r is MSR 0x800 + r / 16 */
#define MSR_X2APIC_ICR	 0x830

bool x86_x2apic;
static volatile uint32_t *xapic_mmio;
uint32_t x86_apic_timer_count; /* LAPIC timer counts per tick, set by calibration */

uint32_t x86_apic_read(uint32_t reg)
{
	if (x86_x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return xapic_mmio[reg / 4];
}

void x86_apic_write(uint32_t reg, uint32_t v)
{
	if (x86_x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), v);
	else
		xapic_mmio[reg / 4] = v;
}

static void apic_enable_this_cpu(void)
{
	/*
	 * Enable first, then x2APIC: going from disabled straight to x2APIC
	 * mode is an invalid transition (#GP, SDM "x2APIC State Transitions").
	 */
	uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;
	wrmsr(MSR_APIC_BASE, base);
	if (x86_x2apic)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	x86_apic_write(APIC_TPR, 0);
	x86_apic_write(APIC_LVT_LINT0, LVT_MASKED);
	x86_apic_write(APIC_LVT_LINT1, LVT_MASKED);
	x86_apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);
}

uint32_t x86_apic_id(void)
{
	uint32_t id = x86_apic_read(APIC_ID);
	return x86_x2apic ? id : id >> 24;
}

void x86_apic_init_boot(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	x86_x2apic = c & CPUID_1_ECX_X2APIC;
	if (!x86_x2apic) {
		phys_addr_t pa = rdmsr(MSR_APIC_BASE) & 0xFFFFFF000ull;
		xapic_mmio = vm_map_mmio(pa, PAGE_SIZE, "local APIC");
	}
	/* Mask the legacy 8259 PICs: every interrupt comes through the APIC. */
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
	apic_enable_this_cpu();
	printk("apic: %s, boot CPU APIC id %u",
	       x86_x2apic ? "x2APIC mode (MSR access, 32-bit ids)"
			  : "xAPIC mode (MMIO, 8-bit ids; CPUID offers no x2APIC)",
	       x86_apic_id());
}

bool x86_apic_can_address(uint32_t apic_id)
{
	/* xAPIC: an 8-bit destination, and 0xff is the broadcast. */
	return x86_x2apic ? apic_id != 0xFFFFFFFFu : apic_id < 0xFF;
}

void x86_apic_init_ap(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	if (x86_x2apic && !(c & CPUID_1_ECX_X2APIC))
		panic("x86_apic_init_ap: the boot CPU runs the APICs in x2APIC mode, this CPU "
		      "offers no x2APIC");
	apic_enable_this_cpu();
}

void x86_apic_eoi(void)
{
	x86_apic_write(APIC_EOI, 0);
}

void arch_timer_start(void)
{
	x86_apic_write(APIC_TIMER_DIVIDE, 0x3); /* divide by 16, as calibrated */
	x86_apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
	x86_apic_write(APIC_TIMER_INITIAL, x86_apic_timer_count);
}

static void apic_send(uint32_t apic_id, uint32_t low)
{
	if (x86_x2apic) {
		/*
		 * A WRMSR to an x2APIC register is not serializing (SDM
		 * "x2APIC Register Access"): the IPI could reach the target
		 * before our earlier stores (the request it announces) are
		 * visible. mfence orders those stores, lfence keeps the WRMSR
		 * from starting before the mfence is done (Linux's
		 * weak_wrmsr_fence). The ICR is one 64-bit MSR, destination in
		 * bits 63:32, and has no delivery-status bit to poll.
		 */
		__asm__ __volatile__("mfence; lfence" ::: "memory");
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)apic_id << 32) | low);
		return;
	}
	/*
	 * xAPIC: a new command must not be written while the last one is
	 * still being sent, so wait for the delivery status to go idle before
	 * writing, not after (as Linux does). After costs the same read on
	 * hardware, but under QEMU it is served while the target accepts the
	 * interrupt just sent: 1-2.5 us more per IPI, measured (docs/boot.md).
	 */
	while (x86_apic_read(APIC_ICR_LOW) & ICR_DELIVERY_PENDING)
		arch_cpu_relax();
	x86_apic_write(APIC_ICR_HIGH, apic_id << 24);
	x86_apic_write(APIC_ICR_LOW, low);
}

void arch_ipi_send(cpumask_t targets, enum ipi_kind kind)
{
	uint32_t low;
	switch (kind) {
	case IPI_CALL:
		low = ICR_FIXED | ICR_ASSERT | VEC_IPI_CALL;
		break;
	case IPI_RESCHEDULE:
		low = ICR_FIXED | ICR_ASSERT | VEC_IPI_RESCHEDULE;
		break;
	case IPI_WAKE:
		low = ICR_FIXED | ICR_ASSERT | VEC_IPI_WAKE;
		break;
	case IPI_STOP:
		WRITE_ONCE(x86_stopping, true);
		low = ICR_NMI | ICR_ASSERT;
		break;
	default:
		panic("arch_ipi_send: unknown kind %d", kind);
	}
	irqflags_t flags = arch_irq_save(); /* xAPIC ICR writes are two steps */
	for_each_cpu(cpu, targets) apic_send((uint32_t)cpus[cpu].hw_id, low);
	arch_irq_restore(flags);
}

void x86_apic_send_init_sipi(uint32_t apic_id, uint8_t vector_page, bool init)
{
	/* As arch_ipi_send: no IPI from an interrupt handler between the two ICR writes. */
	irqflags_t flags = arch_irq_save();
	if (init)
		apic_send(apic_id, ICR_INIT | ICR_ASSERT);
	else
		apic_send(apic_id, ICR_STARTUP | ICR_ASSERT | vector_page);
	arch_irq_restore(flags);
}
