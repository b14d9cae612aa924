/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * aarch64 private helpers: system register access, barriers, MMIO, the
 * per-CPU arch block reached through TPIDR_EL1, the exception frame, the
 * secondary CPUs' boot block, and the functions the files of arch/aarch64/
 * share. Only arch/aarch64/ includes this.
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

/* MMIO through Device-nGnRE mappings (vm_map_mmio): ordered among themselves. */
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

/*
 * What a starting secondary CPU reads in head.S's secondary_entry, with
 * its MMU off (so the boot CPU cleans it to the point of coherency).
 * Offsets are AP_BOOT_* in layout.h.
 */
struct aarch64_ap_boot {
	uint64_t ttbr0; /* root of the table mapping the stub at its physical address */
	uint64_t ttbr1; /* kernel_pt.root */
	uint64_t stack; /* stack top, a kernel virtual address */
	uint64_t cpu;	/* logical id */
} __aligned(AP_BOOT_SIZE);

/* head.S */
extern const char secondary_entry[], aarch64_ap_stub_start[], aarch64_ap_stub_end[];
/* head.S: where a released spin-table CPU enters, and its boot blocks by MPIDR Aff0. */
extern const char spin_table_entry[];
extern uint64_t aarch64_spin_boot[AARCH64_CPU_MAX];
/* Runs at its physical address through the boot identity map (see head.S). */
void aarch64_idmap_replace_ttbr1(phys_addr_t root, phys_addr_t empty);
/* firmware.S: the semihosting trap instruction, and a call through it. */
extern const char aarch64_semihosting_insn[];
uint64_t aarch64_semihosting_call(uint64_t op, const void *arg);

/* Physical address the image was loaded at (arch_virt_to_phys uses it). */
extern phys_addr_t aarch64_image_pa;

/*
 * Reads the boot CPU's ID registers once: logs the CPU and its TLB and
 * fills arch_tlb_caps(). Before kernel_main.
 */
void aarch64_cpuinfo_init(void);
/* On a starting secondary: panics, naming it, if it offers less than the caps promise. */
void aarch64_cpuinfo_check(unsigned cpu);
/* Fills this CPU's arch block; TPIDR_EL1 is already set by head.S. */
void aarch64_percpu_init(unsigned cpu);
/* Console: (re)points the PL011 driver at `base` (physical, 0 = no console). */
void aarch64_uart_init(phys_addr_t base);
/* The PL011's reference clock, when the board states it (0: unknown); before aarch64_uart_init. */
void aarch64_uart_set_clock(uint32_t hz);
/* Maps the console with vm_map_mmio(); returns the new address, NULL without a console. */
void *aarch64_uart_map(void);
/* Makes the console use `va` from now on (after the switch to the kernel's tables). */
void aarch64_uart_use(void *va);
/*
 * A second console UART beside the PL011 (a board's, chosen from the
 * device tree): output goes to both, input comes from either. `map` maps
 * it with vm_map_mmio (NULL: none) and `use` switches it to that address,
 * both called at the console's own move to the kernel's tables; `use` must
 * not print. Boot CPU, before other CPUs run; `ops` stays valid forever.
 * A later call replaces the UART; NULL removes it.
 */
struct aarch64_uart_ops {
	void (*putc)(char c);
	int (*getc)(void); /* -1: nothing waiting */
	void *(*map)(void);
	void (*use)(void *va);
};
void aarch64_uart_add(const struct aarch64_uart_ops *ops);
/*
 * Whether head.S's boot identity map makes physical `pa` Device memory
 * (layout.h's rule for the image's load address): a device may be touched
 * before mm_init only then, never through a Normal (RAM) alias.
 */
bool aarch64_boot_map_device(phys_addr_t pa);
/* Cleans (writes back and invalidates) data cache lines over [va, va + size) to PoC. */
void aarch64_dcache_clean_inval(const void *va, size_t size);
/* Physical address of an all-zero, never written table: TTBR0 once it is not needed. */
phys_addr_t aarch64_empty_table(void);
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
