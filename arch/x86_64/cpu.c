// SPDX-License-Identifier: BSD-2-Clause
/*
 * Per-CPU descriptor tables and the small CPU primitives of the arch
 * contract (identity, interrupt masking, idling).
 *
 * Every CPU gets its own GDT (it holds that CPU's TSS descriptor) and TSS
 * with two IST stacks: double faults and NMIs switch to a known-good stack
 * so that a kernel stack overflow or an NMI arriving anywhere can still be
 * reported. The IDT is shared and read-only after boot.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"
#include "kernel/percpu.h"

struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __packed;

struct descriptor_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_STACK_SIZE 8192

struct x86_percpu x86_percpu[CPU_MAX];
static struct x86_tss tss[CPU_MAX];
static uint64_t gdt[CPU_MAX][5] __aligned(16);
static uint8_t ist_stacks[CPU_MAX][2][IST_STACK_SIZE] __aligned(16);
static struct idt_entry idt[256] __aligned(16);
extern const uint64_t isr_stub_table[256];

static void idt_build(void)
{
	for (unsigned v = 0; v < 256; v++) {
		uint64_t a = isr_stub_table[v];
		idt[v] = (struct idt_entry){
			.offset_low = (uint16_t)a,
			.selector = GDT_KERNEL_CODE,
			.ist = v == 8 ? IST_DOUBLE_FAULT : v == 2 ? IST_NMI : 0,
			.type_attr = 0x8E, /* present, DPL 0, 64-bit interrupt gate */
			.offset_mid = (uint16_t)(a >> 16),
			.offset_high = (uint32_t)(a >> 32),
		};
	}
}

void x86_percpu_init(unsigned cpu, uint32_t apic_id)
{
	x86_percpu[cpu].cpu_id = cpu;
	x86_percpu[cpu].apic_id = apic_id;
	x86_percpu[cpu].tss = &tss[cpu];
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)&x86_percpu[cpu]);
}

void x86_cpu_tables_init(unsigned cpu)
{
	if (cpu == 0)
		idt_build();
	struct x86_tss *t = &tss[cpu];
	t->ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(ist_stacks[cpu][0] + IST_STACK_SIZE);
	t->ist[IST_NMI - 1] = (uint64_t)(uintptr_t)(ist_stacks[cpu][1] + IST_STACK_SIZE);
	t->iomap_base = sizeof(*t);

	uint64_t base = (uint64_t)(uintptr_t)t, limit = sizeof(*t) - 1;
	uint64_t *g = gdt[cpu];
	g[0] = 0;
	g[1] = 0x00af9a000000ffff; /* kernel code */
	g[2] = 0x00cf92000000ffff; /* kernel data */
	/* 16-byte available 64-bit TSS descriptor (type 9, present). */
	g[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
	       ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56);
	g[4] = base >> 32;

	struct descriptor_ptr gp = {sizeof(gdt[cpu]) - 1, (uint64_t)(uintptr_t)g};
	struct descriptor_ptr ip = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ __volatile__("lgdt %0\n\t"
			     "pushq %1\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "lretq\n"
			     "1:\n\t"
			     "movw %w2, %%ax\n\t"
			     "movw %%ax, %%ds\n\t"
			     "movw %%ax, %%es\n\t"
			     "movw %%ax, %%ss\n\t"
			     "ltr %w3\n\t"
			     "lidt %4"
			     :
			     : "m"(gp), "i"(GDT_KERNEL_CODE), "i"(GDT_KERNEL_DATA), "r"(GDT_TSS),
			       "m"(ip)
			     : "rax", "memory");
}

unsigned arch_cpu_id(void)
{
	unsigned id;
	__asm__ __volatile__("movl %%gs:0, %0" : "=r"(id));
	return id;
}

void arch_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

/* mfence for all three: it also orders write-combining and uncached accesses. */
void arch_mmio_wmb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

void arch_mmio_rmb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

void arch_mmio_mb(void)
{
	__asm__ __volatile__("mfence" ::: "memory");
}

void arch_cpu_idle(void)
{
	/* sti takes effect after the next instruction, so no wake-up is lost before hlt. */
	__asm__ __volatile__("sti; hlt" ::: "memory");
}

void arch_cpu_halt(void)
{
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

irqflags_t arch_irq_save(void)
{
	unsigned long f;
	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(f)::"memory");
	return f;
}

void arch_irq_restore(irqflags_t flags)
{
	if (flags & (1ul << 9))
		__asm__ __volatile__("sti" ::: "memory");
	else
		__asm__ __volatile__("cli" ::: "memory");
}

void arch_irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}

void arch_irq_disable(void)
{
	__asm__ __volatile__("cli" ::: "memory");
}

bool arch_irq_enabled(void)
{
	unsigned long f;
	__asm__ __volatile__("pushfq; popq %0" : "=r"(f));
	return f & (1ul << 9);
}

void arch_breakpoint(void)
{
	__asm__ __volatile__("int3" ::: "memory");
}

void *arch_phys_to_virt(phys_addr_t pa)
{
	/* The boot tables already map the low 4 GiB at the direct-map base. */
	if (pa >= (uint64_t)BOOT_IDENTITY_GIB << 30)
		return NULL;
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

phys_addr_t arch_virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;
	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	if (v >= DIRECT_MAP_BASE && v - DIRECT_MAP_BASE < DIRECT_MAP_SIZE)
		return v - DIRECT_MAP_BASE;
	return v; /* the .boot section runs at its physical address */
}

void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void))
{
	/* What arch_context_switch pops: six registers, then the return address. */
	uint64_t *sp = (uint64_t *)ALIGN_DOWN((uintptr_t)stack_top, 16);
	*--sp = 0; /* keeps entry's stack aligned like after a call */
	*--sp = (uint64_t)(uintptr_t)entry;
	for (int i = 0; i < 6; i++)
		*--sp = 0; /* rbp = 0 ends backtraces */
	ctx->sp = (uintptr_t)sp;
}

void arch_dcache_clean_range(const void *p, size_t n)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	uintptr_t line = ((b >> 8) & 0xff) * 8; /* CLFLUSH line size, in 8-byte units */
	if (!line)
		line = 64;
	/* mfence around: CLFLUSH is ordered only against writes to its own line. */
	__asm__ __volatile__("mfence" ::: "memory");
	for (uintptr_t q = ALIGN_DOWN((uintptr_t)p, line); q < (uintptr_t)p + n; q += line)
		__asm__ __volatile__("clflush (%0)" ::"r"(q) : "memory");
	__asm__ __volatile__("mfence" ::: "memory");
}

bool arch_cpu_hypervisor(void)
{
	uint32_t a, b, c, d;
	cpuid(1, 0, &a, &b, &c, &d);
	return c & CPUID_1_ECX_HYPERVISOR;
}
