// SPDX-License-Identifier: BSD-2-Clause
/*
 * aarch64_exception: the C side of every vector (vectors.S). IRQs go to
 * aarch64_irq. A synchronous exception is decoded from ESR_EL1 into a
 * struct fault_info and offered to fault_dispatch() (test fixtures). An
 * unclaimed breakpoint is logged and resumed after the brk. Any other
 * unclaimed exception, and every FIQ, SError or exception from a lower EL
 * (Pagoda has no EL0 yet), is reported in full: the exception class and
 * syndrome decoded (for an abort also the page-table walk of the faulting
 * address), FAR, ELR, SPSR, every register, the CPU and a backtrace; then
 * panic.
 *
 * Only one CPU reports at a time, and an exception while reporting stops
 * the machine instead of recursing (the report itself is broken).
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/printk.h"

/* ESR_EL1 exception classes Pagoda names. */
enum {
	EC_UNKNOWN = 0x00,
	EC_WFX = 0x01,
	EC_FP = 0x07,
	EC_ILLEGAL_STATE = 0x0E,
	EC_SVC64 = 0x15,
	EC_HVC64 = 0x16,
	EC_SMC64 = 0x17,
	EC_SYSREG = 0x18,
	EC_SVE = 0x19,
	EC_IABT_LOWER = 0x20,
	EC_IABT = 0x21,
	EC_PC_ALIGN = 0x22,
	EC_DABT_LOWER = 0x24,
	EC_DABT = 0x25,
	EC_SP_ALIGN = 0x26,
	EC_FP_EXC = 0x2C,
	EC_SERROR = 0x2F,
	EC_BREAKPOINT = 0x31,
	EC_STEP = 0x33,
	EC_WATCHPOINT = 0x35,
	EC_BRK = 0x3C,
};

#define ESR_EC(esr)  ((unsigned)((esr) >> 26) & 0x3F)
#define ESR_IL	     (1u << 25)
#define ESR_ISS(esr) ((uint32_t)(esr)&0x1FFFFFF)
#define ISS_FSC(iss) ((iss)&0x3F)
#define ISS_WNR	     (1u << 6)
#define ISS_FNV	     (1u << 10)

static const char *ec_name(unsigned ec)
{
	switch (ec) {
	case EC_UNKNOWN:
		return "Undefined Instruction";
	case EC_WFX:
		return "Trapped WFI/WFE";
	case EC_FP:
		return "FP/SIMD Access";
	case EC_ILLEGAL_STATE:
		return "Illegal Execution State";
	case EC_SVC64:
		return "SVC";
	case EC_HVC64:
		return "HVC";
	case EC_SMC64:
		return "SMC";
	case EC_SYSREG:
		return "Trapped MSR/MRS";
	case EC_SVE:
		return "SVE Access";
	case EC_IABT_LOWER:
	case EC_IABT:
		return "Instruction Abort";
	case EC_PC_ALIGN:
		return "PC Alignment";
	case EC_DABT_LOWER:
	case EC_DABT:
		return "Data Abort";
	case EC_SP_ALIGN:
		return "SP Alignment";
	case EC_FP_EXC:
		return "FP Exception";
	case EC_SERROR:
		return "SError";
	case EC_BREAKPOINT:
		return "Hardware Breakpoint";
	case EC_STEP:
		return "Software Step";
	case EC_WATCHPOINT:
		return "Watchpoint";
	case EC_BRK:
		return "BRK";
	default:
		return "Unknown Exception Class";
	}
}

/* Data/instruction fault status code (DFSC/IFSC) in words. */
static const char *fsc_name(uint32_t fsc, unsigned *level)
{
	*level = fsc & 3;
	switch (fsc & 0x3C) {
	case 0x00:
		return "address size fault";
	case 0x04:
		return "translation fault";
	case 0x08:
		return "access flag fault";
	case 0x0C:
		return "permission fault";
	}
	*level = ~0u;
	switch (fsc) {
	case 0x10:
		return "synchronous external abort";
	case 0x11:
		return "synchronous tag check fault";
	case 0x21:
		return "alignment fault";
	case 0x30:
		return "TLB conflict abort";
	default:
		return "other fault";
	}
}

static void print_symbol(const char *what, uintptr_t addr)
{
	uintptr_t off;
	const char *sym = symbol_lookup(addr, &off);
	if (sym)
		console_write("  %s is %s+0x%lx\n", what, sym, (unsigned long)off);
}

static void dump_frame(const struct aarch64_frame *f)
{
	console_write("  ELR %016lx  SPSR %016lx  FAR %016lx\n", f->elr, f->spsr, f->far);
	for (unsigned i = 0; i < 30; i += 3)
		console_write("  x%-2u %016lx  x%-2u %016lx  x%-2u %016lx\n", i, f->x[i], i + 1,
			      f->x[i + 1], i + 2, f->x[i + 2]);
	console_write("  x30 %016lx  SP   %016lx\n", f->x[30], f->sp);
	print_symbol("ELR", f->elr);
	print_symbol("LR ", f->x[30]);
	/* The interrupted function's callers, starting at its frame pointer. */
	backtrace_print(f->x[29]);
}

/*
 * Claims the report for this CPU. An exception while this CPU reports one
 * stops the machine; another CPU's report in progress just stops this CPU
 * (the first report is the one worth reading).
 */
static void begin_report(void)
{
	arch_irq_disable();
	static int reporting = -1;
	int me = (int)arch_cpu_id();
	int expected = -1;
	if (!__atomic_compare_exchange_n(&reporting, &expected, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		if (expected != me)
			arch_cpu_halt();
		console_puts("\nEXCEPTION while reporting an exception: stopping\n");
		arch_exit(EXIT_PANIC);
	}
}

static void describe_syndrome(const struct fault_info *info, unsigned ec, uint32_t iss)
{
	console_write("\nEXCEPTION on cpu%u: %s (EC %#x, IL %u, ISS %#x)\n", arch_cpu_id(),
		      info->name, ec, (unsigned)(info->code & ESR_IL ? 1 : 0), iss);
	if (ec == EC_DABT || ec == EC_DABT_LOWER || ec == EC_IABT || ec == EC_IABT_LOWER) {
		unsigned level;
		const char *fault = fsc_name(ISS_FSC(iss), &level);
		const char *access = info->exec	   ? "instruction fetch at"
				     : info->write ? "write to"
						   : "read from";
		console_write("  %s %#lx: %s", access, (unsigned long)info->address, fault);
		if (level != ~0u)
			console_write(", level %u", level);
		console_write(" (%s %#x)%s\n", info->exec ? "IFSC" : "DFSC", ISS_FSC(iss),
			      iss & ISS_FNV ? ", FAR not valid" : "");
		/* The walk through the tables this CPU uses for the address (pt_dump.c). */
		if (!(iss & ISS_FNV))
			pt_dump_walk(arch_mm_root_for(info->address), info->address);
	} else if (ec == EC_BRK) {
		console_write("  brk #%#x (ELR points at the brk instruction)\n", iss & 0xFFFF);
	}
}

void aarch64_sync(struct aarch64_frame *f)
{
	unsigned ec = ESR_EC(f->esr);
	uint32_t iss = ESR_ISS(f->esr);

	/* No semihosting host: make the call return -1 (firmware.S). */
	if (ec == EC_UNKNOWN && f->elr == (uintptr_t)aarch64_semihosting_insn) {
		f->x[0] = ~0ul;
		f->elr += 4;
		return;
	}

	struct fault_info info = {
	    .kind = FAULT_GENERAL,
	    .name = ec_name(ec),
	    .pc = f->elr,
	    .code = f->esr,
	    .irqs_were_on = !(f->spsr & (1u << 7)), /* SPSR.I clear */
	};
	switch (ec) {
	case EC_BRK:
		info.kind = FAULT_BREAKPOINT;
		break;
	case EC_UNKNOWN:
		info.kind = FAULT_ILLEGAL;
		break;
	case EC_DABT:
	case EC_DABT_LOWER:
		info.kind = FAULT_PAGE;
		info.write = iss & ISS_WNR;
		info.address = iss & ISS_FNV ? 0 : f->far;
		break;
	case EC_IABT:
	case EC_IABT_LOWER:
		info.kind = FAULT_PAGE;
		info.exec = true;
		info.address = iss & ISS_FNV ? 0 : f->far;
		break;
	case EC_PC_ALIGN:
	case EC_WATCHPOINT:
		info.address = f->far;
		break;
	}
	if (fault_dispatch(&info))
		return; /* resolved (a user page filled, a spurious fault): retry */
	if (info.kind == FAULT_BREAKPOINT) {
		/* Unclaimed breakpoint: ELR points at the brk itself; note it, resume after it. */
		breakpoints_resumed[arch_cpu_id()]++;
		printk("breakpoint (brk #%#x) at %#lx, resuming", iss & 0xFFFF,
		       (unsigned long)f->elr);
		f->elr += 4;
		return;
	}

	/* Nobody claimed it: report everything, then panic. */
	begin_report();
	describe_syndrome(&info, ec, iss);
	dump_frame(f);
	panic("aarch64_sync: unhandled %s (ESR %#lx) at %#lx", info.name, (unsigned long)f->esr,
	      (unsigned long)f->elr);
}

static const char *const slot_names[16] = {
    "Synchronous (EL1t)",
    "IRQ (EL1t)",
    "FIQ (EL1t)",
    "SError (EL1t)",
    "Synchronous (EL1h)",
    "IRQ (EL1h)",
    "FIQ (EL1h)",
    "SError (EL1h)",
    "Synchronous (EL0, AArch64)",
    "IRQ (EL0, AArch64)",
    "FIQ (EL0, AArch64)",
    "SError (EL0, AArch64)",
    "Synchronous (EL0, AArch32)",
    "IRQ (EL0, AArch32)",
    "FIQ (EL0, AArch32)",
    "SError (EL0, AArch32)",
};

static __noreturn void unexpected(unsigned slot, struct aarch64_frame *f)
{
	begin_report();
	const char *name = slot < 16 ? slot_names[slot] : "?";
	console_write("\nEXCEPTION on cpu%u: unexpected %s exception, ESR %#lx (%s)\n",
		      arch_cpu_id(), name, (unsigned long)f->esr, ec_name(ESR_EC(f->esr)));
	dump_frame(f);
	panic("aarch64_exception: unexpected %s exception at %#lx", name, (unsigned long)f->elr);
}

void aarch64_exception(unsigned slot, struct aarch64_frame *f)
{
	switch (slot) {
	case VEC_CUR_SPX + VEC_SYNC:
		aarch64_sync(f);
		break;
	case VEC_CUR_SPX + VEC_IRQ:
		aarch64_irq(f);
		break;
	default:
		unexpected(slot, f);
	}
}
