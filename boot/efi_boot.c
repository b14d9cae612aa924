// SPDX-License-Identifier: BSD-2-Clause
/*
 * efi_boot_parse(): the kernel's side of the EFI stub's hand-over. The
 * stub (arch/aarch64/efi/) leaves a struct efi_boot_block in x0; this
 * checks it whole, then copies it into boot_info: usable RAM from the EFI
 * memory map (under UEFI the device tree's /memory nodes are ignored:
 * fdt_boot_parse checks boot_info.efi_memory_map), the command line from
 * LoadOptions, the RSDP and the system table's address. The RAM the
 * firmware keeps goes into the memory map too, typed and never usable, so
 * the direct map reaches what lives there (the device tree edk2 installed,
 * the ACPI tables).
 *
 * Invariants: nothing is read from a block whose magic, version or size is
 * wrong (a named panic instead: the block is the only description of
 * memory, so there is nothing safe to go on with); the block's own pages
 * are reserved, so the allocator never hands them out even though the EFI
 * map lists them as loader data; the ranges the firmware keeps are
 * remembered for the tests, which check none of them is usable.
 */
#include "boot/efi.h"
#include "boot/efi_block.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/fdt.h"
#include "lib/string.h"

CMDLINE_PARAM(efi_break_param, .key = "efi.break", .kind = CMDLINE_ENUM,
	      .values = "magic|version|runtime_usable", .def = "none",
	      .fallback = "none (the EFI stub reads it; a bad value breaks nothing)",
	      .help = "test only: the EFI stub hands over a wrong block magic or version, or "
		      "runtime-services RAM as usable (docs/boot.md)");

static struct efi_block_range kept[EFI_BLOCK_KEPT_MAX];
static unsigned nr_kept;

const struct efi_block_range *efi_boot_kept(unsigned *count)
{
	*count = nr_kept;
	return kept;
}

/* How boot_info lists RAM the firmware keeps: ACPI tables and NVS by name, the rest reserved. */
static enum boot_mem_type kept_type(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_ACPI_RECLAIM_MEMORY:
		return BOOT_MEM_ACPI_RECLAIM;
	case EFI_ACPI_MEMORY_NVS:
		return BOOT_MEM_ACPI_NVS;
	case EFI_UNUSABLE_MEMORY:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static void check_ranges(const struct efi_block_range *r, uint32_t n, const char *list)
{
	for (uint32_t i = 0; i < n; i++)
		if (!r[i].size || r[i].base + r[i].size < r[i].base)
			panic("efi_boot_parse: boot block: %s[%u] = %#lx+%#lx is empty or wraps",
			      list, i, (unsigned long)r[i].base, (unsigned long)r[i].size);
}

/*
 * GRUB's arm64 `linux` command always installs a device tree, an empty one
 * holding only /chosen when the firmware gave none (ACPI-only). Such a
 * tree describes no platform: with an RSDP present, ACPI is the truth.
 * A tree that does not even validate is left to fdt_boot_parse to name.
 */
static bool dtb_is_empty(phys_addr_t dtb)
{
	static struct fdt f; /* kept off the early boot stack */
	struct fdt_error err;
	const void *blob = arch_phys_to_virt(dtb);
	size_t avail;

	if (!blob)
		return false;
	avail = MIN(MAX(fdt_peek_totalsize(blob), FDT_HEADER_SIZE), MiB(2));
	if (fdt_init(&f, blob, avail, &err) != FDT_OK)
		return false;
	return fdt_find_path(&f, "/cpus") < 0;
}

phys_addr_t efi_boot_parse(phys_addr_t block)
{
	const struct efi_boot_block *b = arch_phys_to_virt(block);

	if (!b)
		panic("efi_boot_parse: boot block at %#lx is outside the boot mappings",
		      (unsigned long)block);
	if (b->magic != EFI_BOOT_BLOCK_MAGIC)
		panic("efi_boot_parse: boot block at %#lx: magic %#x, expected %#x",
		      (unsigned long)block, b->magic, EFI_BOOT_BLOCK_MAGIC);
	if (b->version != EFI_BOOT_BLOCK_VERSION)
		panic("efi_boot_parse: boot block at %#lx: version %u, expected %u",
		      (unsigned long)block, b->version, EFI_BOOT_BLOCK_VERSION);
	if (b->size != sizeof(*b))
		panic("efi_boot_parse: boot block at %#lx: size %u, expected %u",
		      (unsigned long)block, b->size, (unsigned)sizeof(*b));
	if (b->nr_mem == 0 || b->nr_mem > EFI_BLOCK_MEM_MAX || b->nr_kept > EFI_BLOCK_KEPT_MAX)
		panic("efi_boot_parse: boot block: nr_mem %u (1..%u), nr_kept %u (max %u)",
		      b->nr_mem, EFI_BLOCK_MEM_MAX, b->nr_kept, EFI_BLOCK_KEPT_MAX);
	if (strnlen(b->cmdline, sizeof(b->cmdline)) == sizeof(b->cmdline))
		panic("efi_boot_parse: boot block: cmdline is not NUL-terminated");
	check_ranges(b->mem, b->nr_mem, "mem");
	check_ranges(b->kept, b->nr_kept, "kept");

	for (uint32_t i = 0; i < b->nr_mem; i++)
		boot_info_add_mem(b->mem[i].base, b->mem[i].size, BOOT_MEM_USABLE,
				  "EFI memory map");
	/* Listed, not usable: the direct map then covers the tables the firmware left there. */
	for (uint32_t i = 0; i < b->nr_kept; i++)
		boot_info_add_mem(b->kept[i].base, b->kept[i].size, kept_type(b->kept[i].efi_type),
				  "EFI memory map (firmware)");
	memcpy(kept, b->kept, b->nr_kept * sizeof(kept[0]));
	nr_kept = b->nr_kept;
	if (b->mem_dropped || b->kept_dropped)
		printk("efi: memory map: %u usable and %u firmware ranges past the block's room "
		       "are not used",
		       b->mem_dropped, b->kept_dropped);
	boot_info_add_reserved(block, sizeof(*b), "EFI boot block");
	strlcpy(boot_info.cmdline, b->cmdline, sizeof(boot_info.cmdline));
	boot_info.efi_system_table = b->system_table;
	boot_info.efi_memory_map = true;
	boot_info.acpi_rsdp = b->rsdp;
	if (b->rsdp)
		boot_info.acpi_revision = 2; /* the ACPI 2.0 table GUID: an XSDT */
	boot_info.loader_name = "UEFI (Pagoda EFI stub)";
	printk("efi: %u map entries: %u usable and %u firmware RAM ranges; DTB %#lx, RSDP %#lx; "
	       "image at %#lx%s",
	       b->map_entries, b->nr_mem, b->nr_kept, (unsigned long)b->dtb, (unsigned long)b->rsdp,
	       (unsigned long)b->image,
	       (b->flags & EFI_BLOCK_IMAGE_MOVED) ? " (moved to a 2 MiB boundary)" : "");
	if (b->dtb && b->rsdp && dtb_is_empty(b->dtb)) {
		printk("efi: the device tree at %#lx has no /cpus (the loader's empty tree): "
		       "the platform comes from ACPI",
		       (unsigned long)b->dtb);
		return 0;
	}
	return b->dtb;
}
