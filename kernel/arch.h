/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The architecture contract: the only way generic code (kernel/, lib/,
 * tests/) reaches hardware. Each architecture implements every function
 * here under arch/<arch>/; generic code never includes an arch's private
 * header, never uses inline assembly and never names a descriptor bit.
 * The other direction, what the kernel provides for the arch to call
 * (interrupt, fault and boot entry points), is kernel/entry.h.
 *
 * Naming: arch_<subsystem>_<verb>(). Unless a comment says otherwise a
 * function may be called on any CPU, with interrupts on or off.
 */
#ifndef PAGODA_KERNEL_ARCH_H
#define PAGODA_KERNEL_ARCH_H

#include "kernel/cpumask.h"

/* ---- Identity and idling ---------------------------------------------- */

/* Logical id (0..CPU_MAX-1) of the calling CPU; valid from arch_early_init on. */
unsigned arch_cpu_id(void);
/* A hint inside busy-wait loops (x86 pause, arm64 yield). */
void arch_cpu_relax(void);
/*
 * Enables interrupts and waits for one, atomically: an interrupt that is
 * already pending ends the wait at once (x86 sti;hlt, arm64 wfi). Returns
 * with interrupts enabled. Idle CPUs use this and never spin, because four
 * virtual CPUs may share two host cores.
 */
void arch_cpu_idle(void);
/* Disables interrupts and stops this CPU for good. */
__noreturn void arch_cpu_halt(void);
/*
 * Turns the machine off (x86-64: ACPI S5; aarch64: PSCI SYSTEM_OFF), or
 * restarts it (x86-64: FADT reset register, 0xCF9, keyboard controller;
 * aarch64: PSCI SYSTEM_RESET). Each says which method it tries; when
 * none works the CPU halts. Interrupts are disabled first.
 */
__noreturn void arch_poweroff(void);
__noreturn void arch_reset(void);

/* ---- Interrupt masking ------------------------------------------------- */

typedef unsigned long irqflags_t;
irqflags_t arch_irq_save(void); /* disable, return the previous state */
void arch_irq_restore(irqflags_t flags);
void arch_irq_enable(void);
void arch_irq_disable(void);
bool arch_irq_enabled(void);

/* ---- Inter-processor interrupts ----------------------------------------- */

enum ipi_kind {
	IPI_CALL,	/* run the cross-call requests queued for this CPU */
	IPI_RESCHEDULE, /* thread_wake on another CPU: reschedule at interrupt exit */
	IPI_STOP,	/* panic: stop now (NMI on x86 so it gets through masked code) */
	IPI_WAKE,	/* ends a halted cross-call wait (kernel/xcall.c): nothing else to do */
	IPI_KIND_COUNT,
};
/*
 * Sends `kind` to every CPU in `targets` (the caller is never in it).
 * Interrupts of one kind may merge: a receiver must look at request state,
 * never count interrupts. On receipt the arch calls ipi_handle(kind).
 */
void arch_ipi_send(cpumask_t targets, enum ipi_kind kind);

/* ---- Device interrupts ---------------------------------------------------- */

/*
 * Interrupt numbers are the arch's own: x86-64 IDT vectors, aarch64 GIC
 * INTIDs. Every device interrupt is delivered to the boot CPU. Handlers
 * are installed with irq_request() (kernel/irq.h).
 *
 * arch_msi_alloc: a free interrupt the PCI function with requester id
 * `rid` (bus << 8 | devfn) can raise by a memory write (MSI), or -ENODEV
 * when the platform has no MSI target this kernel drives for it (no
 * GICv2m frame or ITS, or an ITS whose msi-map does not cover `rid`),
 * -ENOSPC when all are taken. The requester id matters where the
 * controller tells devices apart (the GICv3 ITS: device id and event);
 * x86-64 and GICv2m ignore it. arch_msi_free gives it back.
 * arch_msi_compose: the address and data a device writes to raise `irq`
 * (x86-64: the LAPIC window with the boot CPU's APIC id, data = vector,
 * edge, fixed; GICv2m: the frame's MSI_SETSPI_NS register, data = INTID;
 * ITS: GITS_TRANSLATER, data = the event id). The address is the
 * doorbell's physical one: behind an IOMMU that translates MSI writes the
 * caller makes it reachable (kernel/iommu/iommu.h, iommu_msi_prepare).
 */
int arch_msi_alloc(uint16_t rid);
void arch_msi_free(unsigned irq);
void arch_msi_compose(unsigned irq, uint64_t *addr, uint32_t *data);
/*
 * Decodes an interrupt specifier of the arch's interrupt controller as a
 * device tree writes it (`n` cells, already in CPU byte order): true with
 * the interrupt number and its trigger; false with a one-line reason in
 * err when the specifier is not one this kernel handles (x86-64 has no
 * device-tree interrupts: always false).
 */
bool arch_irq_from_fdt(const uint32_t *cells, unsigned n, unsigned *irq, bool *level, char *err,
		       size_t err_size);
/*
 * Unmasks `irq` at the interrupt controller, routed to the boot CPU,
 * level- or edge-triggered; arch_irq_mask masks it again. x86-64 MSI
 * vectors have no mask at the LAPIC: both do nothing there.
 * arch_irq_unmask is the first enable of a newly allocated interrupt, not
 * a re-enable after a temporary mask: on the GIC it discards an edge left
 * pending by a previous owner, so an edge that arrived while masked would
 * be lost too. (Pagoda never masks temporarily.)
 */
void arch_irq_unmask(unsigned irq, bool level);
void arch_irq_mask(unsigned irq);
/* Writes a short name of `irq` for log lines ("vector 0x30", "GIC INTID 80"). */
void arch_irq_describe(unsigned irq, char *buf, size_t size);
/* ---- Device memory ordering ---------------------------------------------- */

/*
 * Ordering between normal memory a device reads or writes (its queues,
 * tables, DMA buffers) and register accesses. A device is not in the
 * CPUs' inner-shareable domain, so a CPU-to-CPU barrier is not enough on
 * arm64 (these are dmb osh*, like Linux's __iowmb/__iormb); x86 mfence.
 * Generic code uses them through kernel/mmio.h.
 */
/* Earlier stores reach the device before later MMIO writes (fill, then doorbell). */
void arch_mmio_wmb(void);
/* Earlier MMIO reads complete before later loads (status, then what it covers). */
void arch_mmio_rmb(void);
/* Every earlier load and store before every later one (read entries, then free their slots). */
void arch_mmio_mb(void);

/* ---- Time --------------------------------------------------------------- */

/* Monotonic nanoseconds since boot, the same clock on every CPU. */
uint64_t arch_time_ns(void);
/* Periodic tick rate installed by arch_timer_start (per CPU). */
#define TIMER_HZ 100

/* ---- Console and exit --------------------------------------------------- */

/* Writes one byte to the boot console, polling; usable before anything else. */
void arch_console_putc(char c);
/*
 * The next byte typed at the console (0..255): received by the boot
 * console's UART or, on x86-64, typed on the PS/2 keyboard (arch/x86_64/
 * console_in.c); -1 when none is waiting (or there is no input device). Never waits: the console
 * polls it from a thread that sleeps between polls (kernel/shell/shell.c).
 */
int arch_console_getc(void);

enum exit_status {
	EXIT_SUCCESS_ALL = 0, /* every test passed / clean shutdown */
	EXIT_TESTS_FAILED = 1,
	EXIT_PANIC = 2,
};
/*
 * Leaves the machine. Under QEMU the status reaches the host: x86
 * isa-debug-exit writes (status | 0x10) so QEMU exits (v << 1) | 1 = 33, 35, 37;
 * aarch64 semihosting SYS_EXIT gives 0, 1, 2 (PSCI SYSTEM_OFF when semihosting
 * is unavailable).
 */
__noreturn void arch_exit(enum exit_status status);

/* ---- Memory ------------------------------------------------------------- */

/*
 * Bulk zeroing and copying of RAM, as fast as the CPU does it (rep
 * stosq/movsq on x86-64; DC ZVA and LDP/STP pairs on aarch64): what page
 * allocation and page copies use. Any length and any alignment; exactly
 * [dst, dst + n) is written. Normal memory only (RAM with the MMU on),
 * never MMIO; the ranges of a copy do not overlap. Checked for every
 * length and alignment by tests/host/mem_host_test.c.
 */
void arch_mem_zero(void *dst, size_t n);
void arch_mem_copy(void *dst, const void *src, size_t n);
/*
 * Writes the data-cache lines holding [p, p + n) back to memory and
 * returns once those writes are complete, ordered before any later store
 * (an MMIO doorbell included): for a device that reads memory without
 * snooping the CPU's caches (a VT-d unit without ECAP.C walking its
 * driver's tables). The lines may stay cached. Normal memory only.
 */
void arch_dcache_clean_range(const void *p, size_t n);
/*
 * True when the CPU says it runs under a hypervisor (x86-64: CPUID leaf 1
 * ECX bit 31; aarch64 has no architectural indication: false). Devices
 * such a machine shows may be emulated by software, which reads memory
 * through the host's coherent caches.
 */
bool arch_cpu_hypervisor(void);

/*
 * Boot-time access to physical memory: the arch's boot page tables already
 * map physical memory below arch_mm_layout.boot_mapped_limit at the
 * direct-map address, so this returns direct_map_base + pa there and NULL
 * above. Pointers made at boot therefore stay valid when the kernel's own
 * tables replace the boot ones. Generic code uses kva() (kernel/mm/frame.h).
 */
void *arch_phys_to_virt(phys_addr_t pa);
/* Physical address of a kernel-image address (code, data, bss, stacks). */
phys_addr_t arch_virt_to_phys(const void *va);

/*
 * The kernel's virtual layout, chosen by the arch (see docs/mm.md):
 *   direct map:  kva(pa) = direct_map_base + pa, for every RAM region;
 *   mmio window: device mappings made by vm_map_mmio();
 *   test window: a range no other code maps, where tests make mappings;
 *   boot_mapped_limit: physical memory below it is reachable through
 *   arch_phys_to_virt at boot (the frame allocator starts with it).
 */
struct arch_mm_layout {
	virt_addr_t direct_map_base;
	uint64_t direct_map_size;
	virt_addr_t mmio_base;
	uint64_t mmio_size;
	virt_addr_t test_base;
	uint64_t test_size;
	phys_addr_t boot_mapped_limit;
	virt_addr_t user_base, user_top; /* where address spaces (struct mm) map */
};
extern const struct arch_mm_layout arch_mm_layout;

/*
 * Each arch's linker script defines, page aligned: __text_start/__text_end,
 * __rodata_start/__rodata_end, __data_start and __kernel_end (data and bss
 * run to the end of the image). kernel/mm/vm.c maps them W^X from these;
 * __kernel_start is where the image starts.
 */
extern const char __kernel_start[], __kernel_end[];
extern const char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern const char __data_start[];
/*
 * Makes the calling CPU translate kernel addresses through `root` (the
 * kernel's own tables) instead of the boot tables, and flushes its TLB. On
 * the boot CPU the arch first moves its device pointers (console, interrupt
 * controller) to vm_map_mmio() mappings, and afterwards returns the boot
 * tables' memory to the frame allocator.
 */
void arch_mm_switch_kernel(phys_addr_t root);
/*
 * Address spaces (the lower half; see kernel/mm/mm.h). `asid` is the tag an
 * arch gives an mm's TLB entries (arm64 ASID; 0 on x86-64 without PCID).
 *
 * arch_mm_root_init prepares a fresh root for a new mm (x86-64 copies the
 * kernel half's top-level entries, which never change after boot).
 * arch_mm_activate makes the calling CPU translate user addresses through
 * `root`; arch_mm_deactivate through nothing (or the kernel's tables).
 */
void arch_mm_root_init(phys_addr_t root);
void arch_mm_activate(phys_addr_t root, unsigned asid);
void arch_mm_deactivate(void);
/*
 * The tag the calling CPU's hardware uses for user translations right now,
 * read back from the register the walker uses (arm64: TTBR0_EL1.ASID,
 * masked to the width in use; x86-64: the PCID in CR3 when CR4.PCIDE is
 * set, else 0, as it is today). 0 with no mm loaded. Tests compare it with
 * the allocator's record (kernel/mm/asid.h), which could be wrong.
 */
unsigned arch_mm_active_asid(void);
/*
 * May this CPU hold TLB entries of the mm tagged `asid`? `loaded` says
 * whether the mm is loaded here now. Without tags (x86-64 without PCID)
 * only a loaded mm can: loading another root flushed them.
 */
bool arch_mm_holds_translations(unsigned asid, bool loaded);
/*
 * What the TLB offers, in one description: the arch fills it once on the
 * boot CPU, before kernel_main, from what the CPU reports (arm64 ID
 * registers, x86 CPUID) and how the arch configured it; it never changes
 * afterwards. Secondary CPUs must offer at least the same (the arch checks
 * as they start). Generic code asks these questions only here.
 */
struct tlb_caps {
	/* Width of the address-space tag in use (arm64: 8 or 16); 0: untagged TLB. */
	unsigned asid_bits;
	/* Loading another root drops every user translation of the old one (untagged). */
	bool switch_flushes;
	/* Hardware broadcast invalidation (arm64 TLBI ...IS): no IPIs needed. */
	bool broadcast;
	/* One instruction invalidates a range of pages (arm64 FEAT_TLBIRANGE). */
	bool range;
	/*
	 * Ranges longer than this many pages are flushed as the whole mm: by
	 * local invalidations (each CPU its own, IPI transport), and by
	 * broadcast (0 without broadcast). Measured per arch by the
	 * flush_threshold bench (`make bench-threshold`); generic code reads
	 * them through tlb_range_max_pages(), which `tlb.range_max=` overrides.
	 */
	unsigned range_max_pages;
	unsigned broadcast_max_pages;
};
/* The boot CPU's TLB description; valid from kernel_main on. */
const struct tlb_caps *arch_tlb_caps(void);
/* Invalidate one user page / every user translation tagged `asid` (full) on this CPU. */
void arch_tlb_flush_user_page(unsigned asid, virt_addr_t va);
void arch_tlb_flush_user_full(unsigned asid);
/* The invalidation instructions one call issued, by kind (the TLB counters add them up). */
struct tlb_invals {
	unsigned pages;	 /* one page each */
	unsigned ranges; /* a range of pages each (arm64 FEAT_TLBIRANGE) */
	unsigned full;	 /* every translation of the ASID */
};
/*
 * Hardware broadcast invalidation, only where arch_tlb_caps()->broadcast:
 * every CPU's TLB at once, one wait at the end (x86-64 has none: flushes
 * need IPIs). Uses range instructions where the caps offer them. Returns
 * what it issued.
 */
struct tlb_invals arch_tlb_broadcast_user(unsigned asid, virt_addr_t start, virt_addr_t end,
					  unsigned stride_shift, bool full);
/*
 * The same for `pages` 4 KiB pages from `start`, with the instructions
 * chosen by the caller: one per page (`range` false), or range
 * instructions (`range` true; requires arch_tlb_caps()->range and a run
 * they can express, else panics). For the flush_threshold bench
 * (kernel/bench/flush_threshold.c), which compares the two and a full
 * flush to choose range_max_pages. Returns what it issued.
 */
struct tlb_invals arch_tlb_broadcast_user_pages(unsigned asid, virt_addr_t start, uint64_t pages,
						bool range);
/*
 * arch_tlb_broadcast_user in two halves, for a batch of address spaces
 * (kernel/mm/tlb_batch.c): _nosync issues the invalidations (after the
 * table writes before it are visible to every walker) and returns without
 * waiting; arch_tlb_broadcast_sync() returns once every invalidation this
 * CPU issued before it is complete on every CPU. Nothing issued is known
 * to be done before the sync. Only where arch_tlb_caps()->broadcast.
 */
struct tlb_invals arch_tlb_broadcast_user_nosync(unsigned asid, virt_addr_t start, virt_addr_t end,
						 unsigned stride_shift, bool full);
void arch_tlb_broadcast_sync(void);
/*
 * The same for kernel translations (global entries included): `pages` pages
 * from `start`, or every translation when `full`, on every CPU, returning
 * once every CPU has dropped them. Only where arch_tlb_caps()->broadcast.
 */
void arch_tlb_broadcast_kernel(virt_addr_t start, uint64_t pages, bool full);

/* The page-table root that translates `va` on the calling CPU (for fault reports). */
phys_addr_t arch_mm_root_for(virt_addr_t va);

/*
 * How this CPU walks an mm's tables, for an IOMMU that is to walk the same
 * tables the same way (an Arm SMMU stage-1 context descriptor whose TTB0
 * is an mm's root, SVA-style). The walk attributes use the Arm encodings
 * that TCR_EL1 and the SMMU's CD share (IRGN/ORGN: 0 non-cacheable, 1
 * write-back write-allocate, 2 write-through, 3 write-back no-allocate;
 * SH: 0 non-, 2 outer, 3 inner shareable); `mair` is the attribute table
 * the leaves' indexes select, in MAIR_EL1's format.
 */
struct arch_iommu_stage1 {
	unsigned va_bits; /* input addresses the root covers: [0, 2^va_bits) */
	unsigned granule_shift; /* 12: 4 KiB pages */
	unsigned pa_bits; /* output address size the CPU uses */
	unsigned walk_inner, walk_outer, walk_share;
	uint64_t mair;
};
/*
 * Fills *s and returns true where an IOMMU can walk an mm's tables in the
 * CPU's own format (aarch64); false where there is no such sharing through
 * this description (x86-64: VT-d's first stage reads CR3-format tables and
 * needs nothing from here).
 */
bool arch_mm_iommu_stage1(struct arch_iommu_stage1 *s);

/* ---- SMP bring-up ------------------------------------------------------- */

/*
 * Starts the CPU described by boot_info.cpus[cpu] with logical id `cpu` and
 * the given stack top. The new CPU runs its arch setup, then calls
 * smp_secondary_main(cpu). Returns false if the CPU never answered.
 */
bool arch_cpu_start(unsigned cpu, void *stack_top);

/* ---- Saving and resuming a context (tests, fault fixtures) ------------- */

/*
 * arch_setjmp saves callee-saved registers, the stack and the interrupt
 * mask and returns 0; arch_longjmp(buf, v) resumes there returning v (never
 * 0). Used to abort a test case and to recover from an expected fault: an
 * exception handler may longjmp out of itself because kernel exceptions run
 * on the interrupted stack (IST stacks excepted).
 */
struct arch_jmpbuf {
	unsigned long regs[24];
};
int arch_setjmp(struct arch_jmpbuf *buf) __attribute__((returns_twice));
__noreturn void arch_longjmp(struct arch_jmpbuf *buf, int value);

/* ---- Threads -------------------------------------------------------------- */

/*
 * A suspended thread's CPU state: everything the switch saves lives on the
 * thread's own stack, so the context is just the saved stack pointer.
 */
struct arch_context {
	uintptr_t sp;
};
/*
 * Prepares `ctx` so that the first switch to it calls entry() on a stack
 * whose top is `stack_top`, with interrupts disabled. entry never returns.
 */
void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void));
/*
 * Saves the callee-saved registers of the calling thread in `from` and
 * resumes `to`. Returns when something switches back to `from`.
 */
void arch_context_switch(struct arch_context *from, struct arch_context *to);

/* ---- Debugging ---------------------------------------------------------- */

/* Raises the architecture's breakpoint trap (x86 int3, arm64 brk). */
void arch_breakpoint(void);

/* ---- Boot ---------------------------------------------------------------- */

/*
 * Called by kernel_main: finish per-arch setup on the boot CPU (interrupt
 * controller, exception vectors, timer) so that interrupts can be enabled.
 */
void arch_init(void);
/*
 * For the profiler (kernel/prof.h), interrupts off: if `site` was
 * interrupted in the function at `fn` before it saved its return address
 * (a leaf, or its prologue), that return address, when it is one of a
 * direct call to `fn`; 0 when that cannot be told. It may read the word at
 * site->sp, which the caller has checked lies in the running stack, and
 * kernel text.
 */
struct tick_site; /* kernel/entry.h */
virt_addr_t arch_prof_leaf_return(const struct tick_site *site, virt_addr_t fn);
/* Start the periodic tick on the calling CPU. */
void arch_timer_start(void);

#endif
