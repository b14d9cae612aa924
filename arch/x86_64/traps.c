// SPDX-License-Identifier: BSD-2-Clause
/*
 * x86_interrupt: the single C entry for every vector. Hardware interrupts
 * are acknowledged (EOI) before their generic handler runs, because the
 * generic tick handler may leave by longjmp (a test timeout). Exceptions
 * are decoded into a struct fault_info, offered to fault_dispatch() (test
 * fixtures), and otherwise reported in full: vector, error code, RIP, CR2,
 * every register, the CPU, a backtrace; then panic.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/printk.h"
#include "kernel/xcall.h"

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS", "#NP segment not present",
	"#SS stack fault", "#GP general protection", "#PF page fault", "reserved",
	"#MF x87 error", "#AC alignment check", "#MC machine check", "#XM SIMD error",
	"#VE virtualization", "#CP control protection",
};

bool x86_stopping; /* set by the panicking CPU before it sends the stop NMI */

static void dump_frame(const struct x86_frame *f)
{
	console_write("  RIP %016lx  RSP %016lx  RFLAGS %016lx\n", f->rip, f->rsp, f->rflags);
	console_write("  RAX %016lx  RBX %016lx  RCX %016lx\n", f->rax, f->rbx, f->rcx);
	console_write("  RDX %016lx  RSI %016lx  RDI %016lx\n", f->rdx, f->rsi, f->rdi);
	console_write("  RBP %016lx  R8  %016lx  R9  %016lx\n", f->rbp, f->r8, f->r9);
	console_write("  R10 %016lx  R11 %016lx  R12 %016lx\n", f->r10, f->r11, f->r12);
	console_write("  R13 %016lx  R14 %016lx  R15 %016lx\n", f->r13, f->r14, f->r15);
	console_write("  CS %04lx SS %04lx CR2 %016lx CR3 %016lx\n", f->cs, f->ss, read_cr2(),
		      read_cr3());
	uintptr_t off;
	const char *sym = symbol_lookup(f->rip, &off);
	if (sym)
		console_write("  RIP is %s+0x%lx\n", sym, (unsigned long)off);
	/* The interrupted function's caller chain starts at its RBP. */
	backtrace_print(f->rbp);
}

static void handle_exception(struct x86_frame *f)
{
	unsigned v = (unsigned)f->vector;
	struct fault_info info = {
		.kind = FAULT_GENERAL,
		.name = exception_names[v] ? exception_names[v] : "reserved",
		.pc = f->rip,
		.code = f->error,
		.irqs_were_on = f->rflags & (1u << 9), /* RFLAGS.IF */
	};
	if (v == 3) {
		info.kind = FAULT_BREAKPOINT;
	} else if (v == 6) {
		info.kind = FAULT_ILLEGAL;
	} else if (v == 14) {
		info.kind = FAULT_PAGE;
		info.address = read_cr2();
		info.write = f->error & 2;
		info.exec = f->error & 16;
	}
	if (fault_dispatch(&info))
		return; /* resolved: run the instruction again */
	if (v == 3) {
		/* Unclaimed breakpoint: note it and carry on after the int3. */
		breakpoints_resumed[arch_cpu_id()]++;
		printk("breakpoint at %#lx, resuming", f->rip - 1);
		return;
	}

	/* Nobody claimed it: report everything, then panic. */
	arch_irq_disable();
	static int reporting = -1;
	int expected = -1;
	if (!__atomic_compare_exchange_n(&reporting, &expected, (int)arch_cpu_id(), false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
		/* A fault while reporting a fault: the report itself is broken. */
		console_puts("\nEXCEPTION while reporting an exception: stopping\n");
		arch_exit(EXIT_PANIC);
	}
	console_write("\nEXCEPTION on cpu%u: vector %u (%s), error code %#lx\n", arch_cpu_id(), v,
		      info.name, f->error);
	if (v == 14) {
		console_write("  page fault: %s %s address %#lx (%s)\n",
			      f->error & 4 ? "user" : "kernel",
			      info.exec ? "instruction fetch at" : info.write ? "write to" : "read from",
			      info.address, f->error & 1 ? "protection violation" : "not present");
		pt_dump_walk(arch_mm_root_for(info.address), info.address);
	}
	dump_frame(f);
	panic("x86_interrupt: unhandled exception %u (%s) at %#lx", v, info.name, f->rip);
}

void x86_interrupt(struct x86_frame *f)
{
	unsigned v = (unsigned)f->vector;
	if (v == 2) {
		if (READ_ONCE(x86_stopping))
			arch_cpu_halt();
		panic("x86_interrupt: unexpected NMI at %#lx", f->rip);
	}
	if (v < 32) {
		handle_exception(f);
		return;
	}
	/* Interrupts taken from kernel code may end in a thread switch (preemption). */
	switch (v) {
	case VEC_TIMER:
		x86_apic_eoi();
		timer_tick(&(struct tick_site){.pc = f->rip, .fp = f->rbp, .sp = f->rsp});
		sched_irq_exit();
		break;
	case VEC_IPI_CALL:
		x86_apic_eoi();
		ipi_handle(IPI_CALL);
		break;
	case VEC_IPI_WAKE:
		x86_apic_eoi();
		ipi_handle(IPI_WAKE);
		break;
	case VEC_IPI_RESCHEDULE:
		x86_apic_eoi();
		ipi_handle(IPI_RESCHEDULE);
		sched_irq_exit();
		break;
	case VEC_SPURIOUS:
		break; /* spurious interrupts take no EOI */
	default:
		/* A device's MSI: its handler first, then the EOI (kernel/irq.h). */
		if (x86_vector_is_device(v) && irq_dispatch(v)) {
			x86_apic_eoi();
			sched_irq_exit();
			break;
		}
		x86_apic_eoi();
		printk("x86_interrupt: unexpected vector %u", v);
	}
}
