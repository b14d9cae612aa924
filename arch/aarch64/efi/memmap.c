// SPDX-License-Identifier: BSD-2-Clause
/*
 * The EFI memory map turned into the boot block's two lists of RAM: what
 * the kernel may use and what the firmware keeps. Runs after
 * ExitBootServices (it allocates nothing and calls no firmware service).
 *
 * Invariants: only descriptors with the write-back attribute are RAM
 * (MMIO and the like appear in neither list); each list stays sorted by
 * base with touching ranges merged (usable ones whatever their EFI type,
 * kept ones only with their own type, which they carry), so the kernel gets few
 * ranges however fragmented the firmware's map is; a range that does not
 * fit is counted in *_dropped (the kernel says so), never written past the
 * array. Boot-services and loader memory is usable: after ExitBootServices
 * nothing of the firmware's lives there, and the kernel reserves what of
 * it is still needed (its image, the block, the device tree).
 */
#include "arch/aarch64/efi/stub.h"

static bool is_usable(uint32_t type)
{
	return type == EFI_LOADER_CODE || type == EFI_LOADER_DATA ||
	       type == EFI_BOOT_SERVICES_CODE || type == EFI_BOOT_SERVICES_DATA ||
	       type == EFI_CONVENTIONAL_MEMORY;
}

/*
 * Inserts [base, base + size) of EFI `type` into the list r[0..*n), sorted
 * by base, merging it with neighbours of the same type that it touches.
 */
static void range_add(struct efi_block_range *r, uint32_t *n, uint32_t max, uint32_t *dropped,
		      uint64_t base, uint64_t size, uint32_t type)
{
	uint32_t i = 0, j;

	while (i < *n && r[i].base <= base)
		i++;
	if (i > 0 && r[i - 1].efi_type == type && r[i - 1].base + r[i - 1].size >= base) {
		i--;
		r[i].size = MAX(r[i].base + r[i].size, base + size) - r[i].base;
	} else {
		if (*n == max) {
			(*dropped)++;
			return;
		}
		for (j = *n; j > i; j--)
			r[j] = r[j - 1];
		r[i] = (struct efi_block_range){.base = base, .size = size, .efi_type = type};
		(*n)++;
	}
	while (i + 1 < *n && r[i + 1].efi_type == type && r[i + 1].base <= r[i].base + r[i].size) {
		r[i].size = MAX(r[i].base + r[i].size, r[i + 1].base + r[i + 1].size) - r[i].base;
		for (j = i + 1; j + 1 < *n; j++)
			r[j] = r[j + 1];
		(*n)--;
	}
}

void efi_block_fill_memory(struct efi_boot_block *blk, const void *map, uint64_t map_size,
			   uint64_t desc_size, enum efi_stub_break brk)
{
	const char *p = map;
	uint64_t off;

	blk->nr_mem = blk->nr_kept = blk->mem_dropped = blk->kept_dropped = 0;
	blk->map_entries = 0;
	for (off = 0; desc_size && off + desc_size <= map_size; off += desc_size) {
		const struct efi_memory_descriptor *d = (const void *)(p + off);
		uint64_t size = d->number_of_pages * EFI_PAGE_SIZE;
		bool runtime =
		    d->type == EFI_RUNTIME_SERVICES_CODE || d->type == EFI_RUNTIME_SERVICES_DATA;

		blk->map_entries++;
		if (!size || !(d->attribute & EFI_MEMORY_WB) ||
		    d->physical_start + size < d->physical_start)
			continue;
		if (is_usable(d->type) || (runtime && brk == EFI_BREAK_RUNTIME_USABLE))
			range_add(blk->mem, &blk->nr_mem, EFI_BLOCK_MEM_MAX, &blk->mem_dropped,
				  d->physical_start, size, EFI_CONVENTIONAL_MEMORY);
		if (!is_usable(d->type) && d->type != EFI_MEMORY_MAPPED_IO &&
		    d->type != EFI_MEMORY_MAPPED_IO_PORT_SPACE && d->type != EFI_PERSISTENT_MEMORY)
			range_add(blk->kept, &blk->nr_kept, EFI_BLOCK_KEPT_MAX, &blk->kept_dropped,
				  d->physical_start, size, d->type);
	}
}
