/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The kernel's entry points for the architecture: what arch/<arch>/ calls
 * into generic code when an interrupt, an exception or a CPU arrives. The
 * opposite direction (what each arch implements) is kernel/arch.h. Unless
 * a comment says otherwise, these run with interrupts disabled.
 */
#ifndef PAGODA_KERNEL_ENTRY_H
#define PAGODA_KERNEL_ENTRY_H

#include "kernel/arch.h"

/* ---- Boot ---------------------------------------------------------------- */

/*
 * Generic kernel entry on the boot CPU, called by the arch after it has a
 * stack, a console and has filled boot_info. Never returns.
 */
__noreturn void kernel_main(void);
/*
 * Called by the arch on an application processor as soon as it can print
 * (its per-CPU data is set), after its start report and its switch to the
 * kernel's tables, and before anything else shared and the checks that
 * can panic (CPU features, the interrupt controller): claims the CPU's place
 * in the boot and returns, or, if the boot CPU has already given up on it,
 * parks it for good (interrupts off, halted), so it never joins
 * cpu_online_mask behind the count (kernel/smp.c). `late_on_purpose`: the
 * arch's test-only give-up (x86's smp.test_give_up) chose this CPU; the
 * claim then waits, bounded, for the boot CPU's decision, so the test does
 * not depend on who is faster.
 */
void smp_secondary_claim(unsigned cpu, bool late_on_purpose);
/* Generic entry for an application processor, after its claim; never returns. */
__noreturn void smp_secondary_main(unsigned cpu);

/* ---- Interrupts ------------------------------------------------------------ */

/* Generic handler called by the arch with interrupts disabled. */
void ipi_handle(enum ipi_kind kind);
/* Where a timer tick interrupted the CPU, for the profiler (kernel/prof.h). */
struct tick_site {
	virt_addr_t pc; /* the interrupted instruction */
	virt_addr_t fp; /* the frame pointer there: {previous fp, return address} */
	virt_addr_t sp; /* the stack pointer there */
	virt_addr_t lr; /* aarch64: x30, the link register; x86-64: 0 (none) */
};
/* Called by the arch on every CPU's timer tick, interrupts disabled. */
void timer_tick(const struct tick_site *site);
/*
 * Called by the arch at the end of every interrupt taken from kernel code,
 * with interrupts disabled, after the interrupt is acknowledged: the
 * scheduler may switch threads here (preemption).
 */
void sched_irq_exit(void);
/*
 * Called by the arch for a device interrupt (x86-64: a vector the arch
 * handed out with arch_msi_alloc; aarch64: an SPI or an ITS LPI), before it ends the
 * interrupt at the controller. Runs the handler irq_request() installed
 * (kernel/irq.h) and returns true; false when there is none (the arch
 * reports the interrupt as unexpected).
 */
bool irq_dispatch(unsigned irq);

/* ---- Exceptions ------------------------------------------------------------ */

/*
 * What a synchronous exception reports to generic code. The arch decodes
 * its own syndrome into this; `name` is a short architectural name
 * ("#PF", "#BP", "Data Abort", ...).
 */
enum fault_kind {
	FAULT_BREAKPOINT = 1,
	FAULT_PAGE, /* translation or permission fault on a data access or fetch */
	FAULT_ILLEGAL, /* undefined instruction */
	FAULT_GENERAL, /* anything else */
};
struct fault_info {
	enum fault_kind kind;
	const char *name;
	uintptr_t pc;
	uintptr_t address; /* faulting data address (CR2 / FAR), 0 if none */
	uint64_t code; /* x86 error code / arm64 ESR */
	bool write;
	bool exec;
	bool irqs_were_on; /* the faulting context had interrupts enabled */
};
/*
 * Called by the arch for every synchronous exception before it prints
 * anything. Returns true when the fault was resolved (a user page filled,
 * a spurious fault): the arch then returns and the instruction runs again.
 * An armed test fixture longjmps away. When it returns false for a
 * FAULT_BREAKPOINT, the arch logs the breakpoint and resumes after the
 * breakpoint instruction (x86: RIP already points past int3; arm64: ELR
 * points at brk, so it adds 4); every other unresolved fault panics.
 */
bool fault_dispatch(const struct fault_info *info);
/* Breakpoints taken on each CPU and resumed (tests read it). */
extern uint64_t breakpoints_resumed[CPU_MAX];

/* ---- Reports ---------------------------------------------------------------- */

/* Prints the walk for `va` from `root`, one line per level (kernel/mm/pt_dump.c). */
void pt_dump_walk(phys_addr_t root, virt_addr_t va);

#endif
