/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The boot block: what Pagoda's EFI stub (arch/aarch64/efi/stub.c) hands
 * the kernel after ExitBootServices, in x0 instead of a device tree's
 * address. It is written by the stub into pages of its own (EFI loader
 * data) and read once by efi_boot_parse() before any allocator exists.
 *
 * Invariants: the first word is EFI_BOOT_BLOCK_MAGIC, which can never be
 * the first word of a device tree (0xd00dfeed, big-endian), so x0 says
 * which one it is; `version` and `size` change together with the layout;
 * `mem` holds RAM the kernel may use (conventional, boot-services and
 * loader ranges that are write-back RAM), sorted and merged; `kept` holds
 * the RAM ranges the firmware keeps for itself after ExitBootServices
 * (runtime services, reserved, ACPI NVS), which never appear in `mem`.
 */
#ifndef PAGODA_BOOT_EFI_BLOCK_H
#define PAGODA_BOOT_EFI_BLOCK_H

#include "kernel/types.h"

#define EFI_BOOT_BLOCK_MAGIC   0x50474245u /* "EBGP" little-endian */
#define EFI_BOOT_BLOCK_VERSION 1u
#define EFI_BLOCK_MEM_MAX      96
#define EFI_BLOCK_KEPT_MAX     32
#define EFI_BLOCK_CMDLINE_MAX  512

/* block.flags */
#define EFI_BLOCK_IMAGE_MOVED                                                                      \
	0x1u /* the firmware's copy was not 2 MiB aligned: the stub moved it */

struct efi_block_range {
	uint64_t base, size;
	uint32_t efi_type; /* kept: the EFI memory type; mem: EFI_CONVENTIONAL_MEMORY */
	uint32_t pad;
};

struct efi_boot_block {
	uint32_t magic;
	uint32_t version;
	uint32_t size; /* sizeof(struct efi_boot_block) */
	uint32_t flags;
	uint64_t system_table; /* physical; its boot services are gone */
	uint64_t dtb;	       /* physical, 0: none in the configuration table */
	uint64_t rsdp;	       /* physical ACPI 2.0 RSDP, 0: none */
	uint64_t image;	       /* where the stub entered the image (2 MiB aligned) */
	uint32_t nr_mem, nr_kept;
	uint32_t mem_dropped, kept_dropped; /* ranges past the arrays' ends */
	uint32_t map_entries;		    /* descriptors in the EFI memory map */
	uint32_t pad;
	struct efi_block_range mem[EFI_BLOCK_MEM_MAX];
	struct efi_block_range kept[EFI_BLOCK_KEPT_MAX];
	char cmdline[EFI_BLOCK_CMDLINE_MAX]; /* ASCII, NUL-terminated */
};

/*
 * Reads the block at `block` (physical, reachable with arch_phys_to_virt)
 * into boot_info: memory ranges, command line, RSDP, the EFI system table,
 * and reserves the block itself. Returns the DTB's physical address: 0
 * when the firmware gave none, or when an RSDP is there and the tree is a
 * boot loader's empty one (no /cpus). Panics naming the field when the block is
 * malformed (magic, version, size, counts, a range that wraps).
 */
phys_addr_t efi_boot_parse(phys_addr_t block);
/* The ranges the firmware keeps (from the last efi_boot_parse); tests read them. */
const struct efi_block_range *efi_boot_kept(unsigned *count);

#endif
