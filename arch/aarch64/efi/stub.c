// SPDX-License-Identifier: BSD-2-Clause
/*
 * Pagoda's EFI stub: the PE entry point of the arm64 Image. The firmware
 * (or GRUB's `linux` command, through LoadImage/StartImage) calls
 * efi_pe_entry with the MMU on, an identity map, at EL2 or EL1. The stub
 *
 *  1. reads the command line from the loaded image's LoadOptions;
 *  2. finds the device tree and the ACPI 2.0 RSDP in the configuration table;
 *  3. makes sure the image sits on a 2 MiB boundary, as head.S requires
 *     (firmware loads PE images on 4 KiB boundaries): if not, it copies the
 *     image into pages it allocates and enters the copy;
 *  4. allocates the boot block, gets the memory map and calls
 *     ExitBootServices with its key (once more with a fresh map when the
 *     firmware answers EFI_INVALID_PARAMETER: the map changed in between,
 *     as the specification allows);
 *  5. fills the block's memory lists from that map and enters head.S
 *     through efi_enter_kernel (caches cleaned, MMU off), x0 = the block.
 *
 * Invariants: every firmware call that fails prints a named line through
 * ConOut and returns its status to the caller, so GRUB or the firmware
 * shows it; after ExitBootServices succeeds no firmware service is called
 * and nothing is allocated; the stub keeps no state outside its stack and
 * the pages it allocates (see stub.h for why).
 */
#include "arch/aarch64/efi/stub.h"
#include "arch/aarch64/layout.h"

/* head.S and the linker script: addresses taken PC-relative, so they are where we run. */
extern char _start[], primary_entry[], __image_end[];

static bool guid_eq(const efi_guid_t *a, const efi_guid_t *b)
{
	const uint8_t *x = (const void *)a, *y = (const void *)b;
	for (unsigned i = 0; i < sizeof(*a); i++)
		if (x[i] != y[i])
			return false;
	return true;
}

static void find_tables(struct efi_system_table *st, struct efi_boot_block *blk)
{
	static const efi_guid_t dtb_guid = EFI_DTB_TABLE_GUID, acpi_guid = EFI_ACPI_20_TABLE_GUID;
	for (uint64_t i = 0; i < st->number_of_table_entries; i++) {
		const struct efi_configuration_table *t = &st->configuration_table[i];
		if (guid_eq(&t->vendor_guid, &dtb_guid))
			blk->dtb = (uintptr_t)t->vendor_table;
		else if (guid_eq(&t->vendor_guid, &acpi_guid))
			blk->rsdp = (uintptr_t)t->vendor_table;
	}
}

static void copy_words(uint64_t *dst, const uint64_t *src, uint64_t bytes)
{
	for (uint64_t i = 0; i < bytes / 8; i++)
		dst[i] = src[i];
}

static void zero_words(uint64_t *dst, uint64_t bytes)
{
	for (uint64_t i = 0; i < bytes / 8; i++)
		dst[i] = 0;
}

/* Where head.S will run: here when 2 MiB aligned, else a copy in pages of our own. */
static efi_status_t place_image(struct efi_system_table *st, uint64_t *image, uint64_t size,
				uint32_t *flags)
{
	uint64_t mem;
	efi_status_t s;

	if (!(*image & (SZ_2M - 1)))
		return EFI_SUCCESS;
	s = st->boot_services->allocate_pages(EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA,
					      (size + SZ_2M) / EFI_PAGE_SIZE, &mem);
	if (s != EFI_SUCCESS)
		return efi_con_fail(st, "AllocatePages (2 MiB-aligned image copy)", s);
	mem = ALIGN_UP(mem, (uint64_t)SZ_2M);
	copy_words((uint64_t *)(uintptr_t)mem, (const uint64_t *)(uintptr_t)*image, size);
	*image = mem;
	*flags |= EFI_BLOCK_IMAGE_MOVED;
	return EFI_SUCCESS;
}

/*
 * GetMemoryMap into a buffer allocated here (with room for the descriptors
 * its own allocation may add), then ExitBootServices with that map's key;
 * on EFI_INVALID_PARAMETER (the map changed since) once more with a fresh
 * map in the same buffer. On success map, map_size and desc_size describe
 * the map the firmware exited with.
 */
static efi_status_t exit_boot_services(efi_handle_t handle, struct efi_system_table *st, void **map,
				       uint64_t *map_size, uint64_t *desc_size)
{
	struct efi_boot_services *bs = st->boot_services;
	uint64_t cap = 0, key;
	uint32_t version;
	efi_status_t s;

	s = bs->get_memory_map(&cap, NULL, &key, desc_size, &version);
	if (s != EFI_BUFFER_TOO_SMALL)
		return efi_con_fail(st, "GetMemoryMap (size)", s);
	cap += 8 * *desc_size;
	s = bs->allocate_pool(EFI_LOADER_DATA, cap, map);
	if (s != EFI_SUCCESS)
		return efi_con_fail(st, "AllocatePool (memory map)", s);
	for (int attempt = 0;; attempt++) {
		*map_size = cap;
		s = bs->get_memory_map(map_size, *map, &key, desc_size, &version);
		if (s != EFI_SUCCESS)
			return efi_con_fail(st, "GetMemoryMap", s);
		s = bs->exit_boot_services(handle, key);
		if (s == EFI_SUCCESS)
			return s;
		if (s != EFI_INVALID_PARAMETER || attempt == 1)
			return efi_con_fail(st, "ExitBootServices", s);
	}
}

efi_status_t efi_pe_entry(efi_handle_t handle, struct efi_system_table *st)
{
	static const efi_guid_t loaded_image_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	struct efi_boot_services *bs = st->boot_services;
	struct efi_loaded_image *li;
	struct efi_boot_block *blk;
	uint64_t here = (uintptr_t)_start, image = here, size = (uintptr_t)__image_end - here;
	uint64_t block_pa, map_size, desc_size;
	uint32_t flags = 0;
	enum efi_stub_break brk;
	void *map;
	efi_status_t s;

	efi_con_puts(st, "efi: Pagoda EFI stub\n");
	s = bs->handle_protocol(handle, &loaded_image_guid, (void **)&li);
	if (s != EFI_SUCCESS)
		return efi_con_fail(st, "HandleProtocol (loaded image)", s);
	if ((uintptr_t)li->image_base != here)
		return efi_con_fail(st, "loaded image base is not where the stub runs",
				    EFI_LOAD_ERROR);
	s = bs->allocate_pages(EFI_ALLOCATE_ANY_PAGES, EFI_LOADER_DATA,
			       ALIGN_UP(sizeof(*blk), EFI_PAGE_SIZE) / EFI_PAGE_SIZE, &block_pa);
	if (s != EFI_SUCCESS)
		return efi_con_fail(st, "AllocatePages (boot block)", s);
	blk = (struct efi_boot_block *)(uintptr_t)block_pa;
	zero_words((uint64_t *)blk, ALIGN_UP(sizeof(*blk), 8));
	efi_cmdline_from_utf16(blk->cmdline, sizeof(blk->cmdline), li->load_options,
			       li->load_options_size);
	brk = efi_cmdline_break(blk->cmdline);
	find_tables(st, blk);
	if (!blk->dtb && !blk->rsdp)
		efi_con_puts(
		    st, "efi: no device tree and no ACPI 2.0 RSDP in the configuration table\n");
	s = place_image(st, &image, size, &flags);
	if (s != EFI_SUCCESS)
		return s;
	if (flags & EFI_BLOCK_IMAGE_MOVED)
		efi_con_hex(st, "image not on a 2 MiB boundary: copied to", image);

	s = exit_boot_services(handle, st, &map, &map_size, &desc_size);
	if (s != EFI_SUCCESS)
		return s;
	/* Boot services are gone: from here on, computation only. */
	efi_block_fill_memory(blk, map, map_size, desc_size, brk);
	blk->magic = brk == EFI_BREAK_MAGIC ? ~EFI_BOOT_BLOCK_MAGIC : EFI_BOOT_BLOCK_MAGIC;
	blk->version =
	    brk == EFI_BREAK_VERSION ? EFI_BOOT_BLOCK_VERSION + 1 : EFI_BOOT_BLOCK_VERSION;
	blk->size = sizeof(*blk);
	blk->flags = flags;
	blk->system_table = (uintptr_t)st;
	blk->image = image;
	efi_enter_kernel(image + ((uintptr_t)primary_entry - here), block_pa, sizeof(*blk), image,
			 size);
}
