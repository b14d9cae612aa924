/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x86-64 private helpers: port I/O, MSRs, CPUID, control registers, and the
 * per-CPU arch block reached through GS. Only arch/x86_64/ includes this.
 */
#ifndef PAGODA_ARCH_X86_64_X86_H
#define PAGODA_ARCH_X86_64_X86_H

#include "kernel/types.h"
#include "arch/x86_64/layout.h"

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ __volatile__("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			     : "memory");
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b, uint32_t *c,
			 uint32_t *d)
{
	__asm__ __volatile__("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_cr2(void)
{
	uint64_t v;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(v));
	return v;
}
static inline uint64_t read_cr3(void)
{
	uint64_t v;
	__asm__ __volatile__("mov %%cr3, %0" : "=r"(v));
	return v;
}

#define CPUID_1_ECX_PCID   (1u << 17)
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)

#define MSR_APIC_BASE 0x1B
#define MSR_EFER 0xC0000080
#define MSR_GS_BASE 0xC0000101

/* Per-CPU arch block; GS base points at it so arch_cpu_id() is one load. */
struct x86_percpu {
	unsigned cpu_id; /* must stay at offset 0: arch_cpu_id reads %gs:0 */
	uint32_t apic_id;
	struct x86_tss *tss;
};
extern struct x86_percpu x86_percpu[];

/* Interrupt vectors. */
#define VEC_TIMER 0x20
#define VEC_IPI_CALL 0xF0
#define VEC_IPI_RESCHEDULE 0xF1
#define VEC_IPI_WAKE	   0xF2
#define VEC_SPURIOUS 0xFF
/* Whether `vector` lies in the range msi.c hands out to devices. */
bool x86_vector_is_device(unsigned vector);

/* The register frame pushed by isr.S, lowest address first. */
struct x86_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/* Installs GDT, TSS (with IST stacks) and IDT on the calling CPU. */
void x86_cpu_tables_init(unsigned cpu);
void x86_percpu_init(unsigned cpu, uint32_t apic_id);
void x86_serial_init(void);
/* The next byte the UART received, or -1 (the console mux, console_in.c, reads it). */
int x86_serial_getc(void);
void x86_apic_init_boot(void);
void x86_apic_init_ap(void);
void x86_apic_eoi(void);
uint32_t x86_apic_read(uint32_t reg);
void x86_apic_write(uint32_t reg, uint32_t v);
uint32_t x86_apic_id(void);
/* Can an IPI reach `apic_id` in the mode the APIC runs in (xAPIC: ids below 255)? */
bool x86_apic_can_address(uint32_t apic_id);
/* Set by the panicking CPU before it sends the stop NMI (traps.c). */
extern bool x86_stopping;
void x86_apic_send_init_sipi(uint32_t apic_id, uint8_t vector_page, bool init);
void x86_time_calibrate(void);
/*
 * The clocks the TSC and LAPIC timer can be calibrated against, best first
 * (time.c): CPUID leaf 0x15 (the TSC's crystal ratio, where the CPU
 * reports it), the HPET and the ACPI PM timer (from the ACPI tables), the
 * PIT (always there on a PC). `time.source=` picks one.
 */
enum x86_clock { X86_CLOCK_CPUID15, X86_CLOCK_HPET, X86_CLOCK_PMTIMER, X86_CLOCK_PIT,
		 X86_CLOCK_COUNT };
extern const char *const x86_clock_names[X86_CLOCK_COUNT];
/* The TSC's rate, measured at boot. */
extern uint64_t x86_tsc_hz;
/* The clock the boot calibrated against. */
extern enum x86_clock x86_clock_used;
/*
 * Measures the TSC's rate against `clock` over `ms` milliseconds into *hz;
 * false when the machine has no such clock. CPUID 0x15 is a ratio, not a
 * clock: it reports the rate without waiting.
 */
bool x86_clock_measure_tsc(enum x86_clock clock, unsigned ms, uint64_t *hz);
/* Power off (ACPI S5) and reset (FADT reset register, 0xCF9, keyboard controller): power.c. */
void x86_power_init(void);
/* exit.via=: 0 isa-debug-exit (default), 1 ACPI S5 power off, 2 reset. */
unsigned x86_exit_via(void);
/* Reads CPUID once on the boot CPU: logs the CPU and its TLB, fills arch_tlb_caps(). */
void x86_cpuinfo_init(void);
void x86_acpi_init(void);
/* With `fwdump` on the command line: the boot information and ACPI tables as hex (fwdump.c). */
void x86_fwdump(uint32_t info_pa, uint32_t protocol);

/* LAPIC timer initial count for one tick, from the calibration in time.c. */
extern uint32_t x86_apic_timer_count;

#endif
