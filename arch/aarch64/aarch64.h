/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 private helpers: system register access, barriers, MMIO, the
 * per-CPU arch block reached through TPIDR_EL1, the exception frame, and
 * the functions the files of arch/aarch64/ share. Only arch/aarch64/
 * includes this.
 */
#ifndef PAGODA_ARCH_AARCH64_AARCH64_H
#define PAGODA_ARCH_AARCH64_AARCH64_H

#include "kernel/types.h"
#include "arch/aarch64/layout.h"

#define read_sysreg(reg)                                                                           \
	({                                                                                         \
		uint64_t v_;                                                                       \
		__asm__ __volatile__("mrs %0, " #reg : "=r"(v_));                                  \
		v_;                                                                                \
	})
#define write_sysreg(reg, v)                                                                       \
	__asm__ __volatile__("msr " #reg ", %0" ::"r"((uint64_t)(v)) : "memory")

#define isb()	 __asm__ __volatile__("isb" ::: "memory")
#define dsb(opt) __asm__ __volatile__("dsb " #opt ::: "memory")
#define dmb(opt) __asm__ __volatile__("dmb " #opt ::: "memory")

/* MMIO through the Device-nGnRE identity window: ordered among themselves. */
static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}
static inline uint64_t mmio_read64(uintptr_t addr)
{
	return *(volatile uint64_t *)addr;
}
static inline void mmio_write64(uintptr_t addr, uint64_t v)
{
	*(volatile uint64_t *)addr = v;
}

/* MPIDR_EL1 affinity fields Aff3 (39:32) and Aff2..Aff0 (23:0): a CPU's hardware id. */
#define MPIDR_AFF_MASK 0xFF00FFFFFFul

/* Per-CPU arch block; TPIDR_EL1 points at it so arch_cpu_id() is two loads. */
struct aarch64_percpu {
	unsigned cpu_id;       /* must stay at offset 0 */
	uint32_t gicv2_target; /* GICv2: this CPU's interface bit in GICD_SGIR's target list */
	uintptr_t gicr;	       /* GICv3: this CPU's redistributor (RD_base) */
	uint64_t mpidr;	       /* MPIDR_EL1 & MPIDR_AFF_MASK */
} __aligned(PERCPU_SIZE);
extern struct aarch64_percpu aarch64_percpu[];

static inline struct aarch64_percpu *aarch64_this_cpu(void)
{
	return (struct aarch64_percpu *)read_sysreg(tpidr_el1);
}

/* The register frame built by vectors.S, lowest address first. */
struct aarch64_frame {
	uint64_t x[31];
	uint64_t sp; /* the interrupted stack pointer */
	uint64_t elr, spsr, esr, far;
	uint64_t record[2]; /* {x29, elr + 4}: chains backtraces through the exception */
};

/* head.S */
extern const char secondary_entry[];
/* The stack top each secondary CPU loads in secondary_entry, by logical id. */
extern uint64_t aarch64_secondary_stack[];
/* firmware.S: the semihosting trap instruction, and a call through it. */
extern const char aarch64_semihosting_insn[];
uint64_t aarch64_semihosting_call(uint64_t op, const void *arg);

/* Physical address the image was loaded at (arch_virt_to_phys uses it). */
extern phys_addr_t aarch64_image_pa;

/* Fills this CPU's arch block; TPIDR_EL1 is already set by head.S. */
void aarch64_percpu_init(unsigned cpu);
/* Console: (re)points the PL011 driver at `base` (physical, 0 = no console). */
void aarch64_uart_init(phys_addr_t base);
/* Time: reads the counter frequency; arch_time_ns() counts from this call. */
void aarch64_time_init(void);
/* The virtual timer's interrupt id (INTID, not PPI number). */
unsigned aarch64_timer_intid(void);
/* Reloads this CPU's timer for the next tick; called before EOI. */
void aarch64_timer_rearm(void);
uint64_t aarch64_timer_hz(void);
/* PSCI through the conduit the device tree names; returns x0 (negative on error). */
int64_t aarch64_psci_call(uint32_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
const char *aarch64_psci_error(int64_t err);
/* Exception entry from vectors.S: `slot` is VEC_<group> + VEC_<kind>. */
void aarch64_exception(unsigned slot, struct aarch64_frame *f);
void aarch64_irq(struct aarch64_frame *f);
void aarch64_sync(struct aarch64_frame *f);

#endif
