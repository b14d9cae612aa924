/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The PVH boot protocol's start info (Xen's struct hvm_start_info, as
 * QEMU's `-kernel` hands it to an ELF kernel with a PHYS32_ENTRY note),
 * and Pagoda's checker and parser for it (boot/pvh.c).
 *
 * pvh_check() reads the start info only through the `map` callback it is
 * given, and reports the first bad field as one line in `err` instead of
 * panicking, so the pvh suite can feed it malformed start infos in fake
 * physical memory. pvh_parse() is the boot path: check with the real
 * direct map, panic naming the field, then fill boot_info.
 */
#ifndef PAGODA_BOOT_PVH_H
#define PAGODA_BOOT_PVH_H

#include "kernel/types.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	/* version >= 1 */
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* E820: 1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable */
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

/* Limits the checker enforces (besides BOOT_MEM_MAX map entries). */
#define PVH_MODULES_MAX 16

/* Returns a pointer through which `len` bytes at physical `pa` can be read, or NULL. */
typedef const void *(*pvh_map_fn)(phys_addr_t pa, uint64_t len);

/*
 * Checks the start info at `si_pa` and everything it points to. Returns
 * true if it is usable; otherwise writes one line naming the field into
 * err (e.g. "memmap_entries 0 out of range [1, 128]") and returns false.
 */
bool pvh_check(phys_addr_t si_pa, pvh_map_fn map, char *err, size_t err_size);

/* The boot path: pvh_check() with the direct map (panic on error), then fill boot_info. */
void pvh_parse(phys_addr_t si_pa);

#endif
