// SPDX-License-Identifier: BSD-2-Clause
/*
 * Building the kernel address space (see vm.h for what it contains).
 *
 * The direct map is built from the firmware memory map merged into
 * page-aligned, disjoint ranges first, so that neighbouring regions (a
 * usable range ending in the page where a reserved one starts) become one
 * mapping with large leaves instead of two that collide. Reserved ranges
 * larger than DIRECT_MAP_RESERVED_MAX are MMIO windows (PCIe ECAM, the
 * HyperTransport hole), not memory, and stay out of it.
 */
#include "kernel/mm/vm.h"
#include "kernel/boot_info.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"

#define DIRECT_MAP_RESERVED_MAX MiB(16)
#define RANGES_MAX		(BOOT_MEM_MAX)

struct pt kernel_pt;
/* The next free address of the MMIO window; windows are carved out under the lock. */
static spinlock_t mmio_lock = SPINLOCK_INIT;
static virt_addr_t mmio_next;

struct range {
	phys_addr_t start, end;
};

/* The kernel image, W^X: code read+execute, constants read-only, data read-write. */
static const struct image_section {
	const char *name;
	const char *start, *end;
	unsigned attrs;
} image_sections[] = {
    {"text", __text_start, __text_end, PT_READ | PT_EXEC},
    {"rodata", __rodata_start, __rodata_end, PT_READ},
    {"data+bss", __data_start, __kernel_end, PT_READ | PT_WRITE},
};

static bool region_in_direct_map(const struct boot_mem_region *r)
{
	if (r->type == BOOT_MEM_RESERVED || r->type == BOOT_MEM_BAD)
		return r->type == BOOT_MEM_RESERVED && r->size <= DIRECT_MAP_RESERVED_MAX;
	return true;
}

/* Sorted (boot_info_finish sorted the map), page-aligned, merged ranges. */
static unsigned direct_map_ranges(struct range *out)
{
	unsigned n = 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *r = &boot_info.mem[i];
		if (!region_in_direct_map(r))
			continue;
		struct range x = {ALIGN_DOWN(r->base, PAGE_SIZE),
				  ALIGN_UP(r->base + r->size, PAGE_SIZE)};
		if (n && x.start <= out[n - 1].end)
			out[n - 1].end = MAX(out[n - 1].end, x.end);
		else
			out[n++] = x;
	}
	return n;
}

static void map_or_panic(virt_addr_t va, phys_addr_t pa, uint64_t size, unsigned attrs,
			 const char *what)
{
	int err = pt_map(&kernel_pt, va, pa, size, attrs);
	if (err)
		panic("vm: mapping %s (%#lx -> %#lx, %#lx bytes) failed: %d", what,
		      (unsigned long)va, (unsigned long)pa, (unsigned long)size, err);
}

void *vm_map_mmio(phys_addr_t pa, uint64_t size, const char *what)
{
	phys_addr_t start = ALIGN_DOWN(pa, PAGE_SIZE);
	uint64_t bytes = ALIGN_UP(pa + size, PAGE_SIZE) - start;
	/* Align like the physical address so large devices can use large leaves. */
	uint64_t align = bytes >= MiB(2) ? MiB(2) : PAGE_SIZE;
	/* Reserve the window first, so that callers on other CPUs get disjoint ones. */
	irqflags_t flags = spin_lock_irqsave(&mmio_lock);
	if (mmio_next == 0)
		mmio_next = arch_mm_layout.mmio_base;
	virt_addr_t va = ALIGN_UP(mmio_next, align) + (start & (align - 1));
	bool full = va + bytes > arch_mm_layout.mmio_base + arch_mm_layout.mmio_size;
	if (!full)
		mmio_next = va + bytes;
	spin_unlock_irqrestore(&mmio_lock, flags);
	if (full)
		panic("vm_map_mmio: %s: MMIO window full", what);
	/* Outside the lock: pt_map may wait for another operation on the kernel's tables. */
	map_or_panic(va, start, bytes, PT_READ | PT_WRITE | PT_DEVICE | PT_GLOBAL, what);
	return (void *)(va + (pa - start));
}

/*
 * Address spaces may copy the kernel half's top-level entries (x86-64),
 * so those entries must exist from now on and never go away: create the
 * tables for every kernel region in use and keep them even when empty.
 */
static void prepare_shared_top_tables(phys_addr_t ram_end)
{
	kernel_pt.keep_top_tables = true;
	const struct {
		virt_addr_t base;
		uint64_t size;
	} regions[] = {
	    {arch_mm_layout.direct_map_base, ram_end},
	    {arch_mm_layout.mmio_base, arch_mm_layout.mmio_size},
	    {arch_mm_layout.test_base, arch_mm_layout.test_size},
	};
	uint64_t top = 1ull << pt_level_shift(PT_LEVELS - 1);
	for (unsigned i = 0; i < ARRAY_SIZE(regions); i++)
		for (uint64_t off = 0; off < regions[i].size; off += top)
			if (pt_ensure_top_table(&kernel_pt, regions[i].base + off) != 0)
				panic("mm_init: no frame for a shared kernel table");
}

/*
 * What the running kernel uses, on every CPU: no live break-before-make
 * may unmap any of it, even briefly (pt.h, in_use). The direct map holds
 * the page tables, thread stacks and every frame; the image holds the
 * code and the boot stacks; the MMIO window the devices interrupt
 * handlers touch. Only the test window is left to break in.
 */
static struct pt_range kernel_in_use[3];

static void mark_kernel_in_use(void)
{
	const struct arch_mm_layout *l = &arch_mm_layout;
	kernel_in_use[0] = (struct pt_range){l->direct_map_base,
					     l->direct_map_base + (l->direct_map_size - 1),
					     "direct map"};
	kernel_in_use[1] = (struct pt_range){(virt_addr_t)__text_start,
					     ALIGN_UP((virt_addr_t)__kernel_end, PAGE_SIZE) - 1,
					     "kernel image"};
	kernel_in_use[2] = (struct pt_range){l->mmio_base, l->mmio_base + (l->mmio_size - 1),
					     "MMIO window"};
	kernel_pt.in_use = kernel_in_use;
	kernel_pt.nr_in_use = ARRAY_SIZE(kernel_in_use);
}

void mm_init(void)
{
	frame_init();
	if (pt_init(&kernel_pt) != 0)
		panic("mm_init: no frame for the kernel's root table");

	static struct range ranges[RANGES_MAX];
	unsigned n = direct_map_ranges(ranges);
	uint64_t mapped = 0;
	for (unsigned i = 0; i < n; i++) {
		if (ranges[i].end > arch_mm_layout.direct_map_size)
			panic("mm_init: RAM at %#lx is beyond the direct map (%#lx bytes)",
			      (unsigned long)ranges[i].start,
			      (unsigned long)arch_mm_layout.direct_map_size);
		map_or_panic(arch_mm_layout.direct_map_base + ranges[i].start, ranges[i].start,
			     ranges[i].end - ranges[i].start, PT_READ | PT_WRITE | PT_GLOBAL,
			     "direct map");
		mapped += ranges[i].end - ranges[i].start;
	}

	const struct image_section *s = image_sections;
	for (unsigned i = 0; i < ARRAY_SIZE(image_sections); i++) {
		virt_addr_t start = (virt_addr_t)s[i].start;
		virt_addr_t end = ALIGN_UP((virt_addr_t)s[i].end, PAGE_SIZE);
		map_or_panic(start, arch_virt_to_phys(s[i].start), end - start,
			     s[i].attrs | PT_GLOBAL, s[i].name);
	}
	for (unsigned c = 0; c < CPU_MAX; c++)
		if (pt_unmap(&kernel_pt, cpu_stack_guard(c), PAGE_SIZE) != 0)
			panic("mm_init: cannot unmap the stack guard of cpu%u", c);
	prepare_shared_top_tables(ranges[n - 1].end);
	mark_kernel_in_use();

	arch_mm_switch_kernel(kernel_pt.root);
	kernel_pt.live = true;
	frame_init_late();
	mm_live_setup();
	printk("mm: kernel tables live: direct map %lu MiB in %u ranges, %lu tables, %lu frames "
	       "free",
	       (unsigned long)(mapped >> 20), n, (unsigned long)pt_count_tables(&kernel_pt),
	       (unsigned long)frame_free_count());
}
