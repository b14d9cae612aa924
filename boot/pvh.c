// SPDX-License-Identifier: BSD-2-Clause
/*
 * PVH start info (QEMU `-kernel` on x86-64) -> struct boot_info.
 *
 * arch/x86_64/boot.S enters at pvh_start with EBX = the start info's
 * physical address and then shares the Multiboot2 path into long mode;
 * x86_boot_main calls pvh_parse() where the Multiboot2 path calls
 * multiboot2_parse(), and the result is the same boot_info: memory map,
 * command line, RSDP, loader name.
 *
 * The start info is untrusted input. pvh_check() validates it before
 * pvh_parse() reads any of it: the magic, version >= 1 (version 0 has no
 * memory map), memmap_entries in [1, BOOT_MEM_MAX], nr_modules at most
 * PVH_MODULES_MAX, every map entry's size and end, and that every pointer
 * (the start info itself, the memory map, the module list, the command
 * line, the RSDP) names bytes "inside RAM": below 4 GiB (all the 32-bit
 * entry can reach, and what the boot tables map) and inside one memory map
 * entry of any type, or inside the legacy first MiB (where firmware keeps
 * the RSDP and the option ROM its data). The command line must end within
 * BOOT_CMDLINE_MAX bytes. The first violation is reported as one line
 * naming the field; pvh_check reads only through its `map` callback, so
 * tests run it on fake physical memory.
 *
 * Everything kept is copied (command line) or reserved (the start info,
 * the memory map), as multiboot2_parse does with its information block.
 */
#include "boot/pvh.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define PVH_REACH (1ull << 32)
#define LEGACY_END 0x100000u
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u

struct pvh_ctx {
	pvh_map_fn map;
	char *err;
	size_t err_size;
	const struct hvm_memmap_table_entry *mm;
	uint32_t nr_mm;
};

static bool fail(struct pvh_ctx *c, const char *fmt, ...) __printf(2, 3);
static bool fail(struct pvh_ctx *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->err_size, fmt, ap);
	va_end(ap);
	return false;
}

/* [pa, pa + len) below 4 GiB and readable through map. */
static const void *reach(struct pvh_ctx *c, phys_addr_t pa, uint64_t len)
{
	if (pa == 0 || len > PVH_REACH || pa > PVH_REACH - len)
		return NULL;
	return c->map(pa, len);
}

/* [pa, pa + len) inside one memory map entry, or inside the first MiB. */
static bool in_ram(const struct pvh_ctx *c, phys_addr_t pa, uint64_t len)
{
	if (pa < LEGACY_END && len <= LEGACY_END - pa)
		return true;
	for (uint32_t i = 0; i < c->nr_mm; i++) {
		const struct hvm_memmap_table_entry *e = &c->mm[i];
		if (pa >= e->addr && pa - e->addr <= e->size && len <= e->size - (pa - e->addr))
			return true;
	}
	return false;
}

/* Both checks for a pointer field: reachable and inside RAM. */
static const void *field_range(struct pvh_ctx *c, const char *field, phys_addr_t pa, uint64_t len)
{
	const void *p = reach(c, pa, len);
	if (!p) {
		fail(c, "%s %#lx: %lu bytes there are unreachable (address 0 or past 4 GiB)", field,
		     (unsigned long)pa, (unsigned long)len);
		return NULL;
	}
	if (!in_ram(c, pa, len)) {
		fail(c, "%s %#lx: %lu bytes there are not inside RAM (no memory map entry holds them)",
		     field, (unsigned long)pa, (unsigned long)len);
		return NULL;
	}
	return p;
}

bool pvh_check(phys_addr_t si_pa, pvh_map_fn map, char *err, size_t err_size)
{
	struct pvh_ctx c = {.map = map, .err = err, .err_size = err_size};
	const struct hvm_start_info *si = reach(&c, si_pa, sizeof(*si));
	if (!si || (si_pa & 7))
		return fail(&c, "start info at %#lx (EBX): unreachable or not 8-byte aligned",
			    (unsigned long)si_pa);
	if (si->magic != HVM_START_MAGIC)
		return fail(&c, "magic %#x, expected %#x", si->magic, HVM_START_MAGIC);
	if (si->version < 1)
		return fail(&c, "version %u: no memory map before version 1", si->version);
	if (si->memmap_entries < 1 || si->memmap_entries > BOOT_MEM_MAX)
		return fail(&c, "memmap_entries %u out of range [1, %d]", si->memmap_entries,
			    BOOT_MEM_MAX);
	uint64_t mm_len = (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_table_entry);
	c.mm = reach(&c, si->memmap_paddr, mm_len);
	if (!c.mm || (si->memmap_paddr & 7))
		return fail(&c, "memmap_paddr %#lx: %lu bytes there are unreachable or misaligned",
			    (unsigned long)si->memmap_paddr, (unsigned long)mm_len);
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		const struct hvm_memmap_table_entry *e = &c.mm[i];
		if (e->addr + e->size < e->addr)
			return fail(&c, "memmap entry %u: %#lx+%#lx wraps around", i,
				    (unsigned long)e->addr, (unsigned long)e->size);
	}
	c.nr_mm = si->memmap_entries;
	/* Now that RAM is known, the two structures read so far must lie in it. */
	if (!in_ram(&c, si_pa, sizeof(*si)))
		return fail(&c, "start info at %#lx: not inside RAM (no memory map entry holds it)",
			    (unsigned long)si_pa);
	if (!in_ram(&c, si->memmap_paddr, mm_len))
		return fail(&c, "memmap_paddr %#lx: not inside RAM (no memory map entry holds it)",
			    (unsigned long)si->memmap_paddr);
	bool usable = false;
	for (uint32_t i = 0; i < c.nr_mm; i++)
		usable |= c.mm[i].type == 1 && c.mm[i].size;
	if (!usable)
		return fail(&c, "memmap: none of %u entries is usable RAM (type 1)", c.nr_mm);

	if (si->nr_modules > PVH_MODULES_MAX)
		return fail(&c, "nr_modules %u out of range [0, %d]", si->nr_modules,
			    PVH_MODULES_MAX);
	if (si->nr_modules &&
	    !field_range(&c, "modlist_paddr", si->modlist_paddr,
			 (uint64_t)si->nr_modules * sizeof(struct hvm_modlist_entry)))
		return false;

	if (si->cmdline_paddr) {
		if (!field_range(&c, "cmdline_paddr", si->cmdline_paddr, 1))
			return false;
		/* The string must end within BOOT_CMDLINE_MAX bytes, all inside RAM. */
		uint64_t len = 0;
		for (;; len++) {
			if (len == BOOT_CMDLINE_MAX)
				return fail(&c, "cmdline_paddr %#lx: command line not NUL-terminated "
						"within %d bytes",
					    (unsigned long)si->cmdline_paddr, BOOT_CMDLINE_MAX);
			const char *ch = field_range(&c, "cmdline_paddr", si->cmdline_paddr, len + 1);
			if (!ch)
				return false;
			if (ch[len] == '\0')
				break;
		}
	}

	if (!si->rsdp_paddr)
		return fail(&c, "rsdp_paddr 0: no ACPI RSDP (the MADT lists the CPUs)");
	const uint8_t *rsdp = field_range(&c, "rsdp_paddr", si->rsdp_paddr, RSDP_V1_LEN);
	if (!rsdp)
		return false;
	if (rsdp[15] >= 2 && !field_range(&c, "rsdp_paddr", si->rsdp_paddr, RSDP_V2_LEN))
		return false;
	return true;
}

static const void *direct_map(phys_addr_t pa, uint64_t len)
{
	(void)len; /* the boot tables map all of the low 4 GiB, and reach() stays below it */
	return arch_phys_to_virt(pa);
}

static char loader_name[48];

void pvh_parse(phys_addr_t si_pa)
{
	char err[160];
	if (!pvh_check(si_pa, direct_map, err, sizeof(err)))
		panic("pvh_parse: %s", err);
	const struct hvm_start_info *si = arch_phys_to_virt(si_pa);
	const struct hvm_memmap_table_entry *mm = arch_phys_to_virt(si->memmap_paddr);
	boot_info_add_reserved(si_pa, sizeof(*si), "PVH start info");
	boot_info_add_reserved(si->memmap_paddr, si->memmap_entries * sizeof(*mm), "PVH memory map");
	for (uint32_t i = 0; i < si->memmap_entries; i++) {
		boot_info_add_mem(mm[i].addr, mm[i].size, boot_mem_type_from_e820(mm[i].type),
				  "PVH memory map");
	}
	if (si->cmdline_paddr)
		strlcpy(boot_info.cmdline, arch_phys_to_virt(si->cmdline_paddr),
			sizeof(boot_info.cmdline));
	const uint8_t *rsdp = arch_phys_to_virt(si->rsdp_paddr);
	boot_info.acpi_rsdp = si->rsdp_paddr;
	boot_info.acpi_revision = rsdp[15] >= 2 ? 2 : 0;
	snprintf(loader_name, sizeof(loader_name), "PVH start info v%u", si->version);
	boot_info.loader_name = loader_name;
}
