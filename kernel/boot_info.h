/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * struct boot_info: everything the firmware and boot loader told us, in one
 * arch-neutral shape. x86-64 fills it from Multiboot2 tags and ACPI;
 * aarch64 from the flattened device tree. Generic code reads only this.
 *
 * Invariants once boot_info_finish() has run: memory regions are sorted by
 * base and do not overlap; cpus[0] is the boot CPU; the command line is
 * NUL-terminated.
 */
#ifndef PAGODA_KERNEL_BOOT_INFO_H
#define PAGODA_KERNEL_BOOT_INFO_H

#include "kernel/cpumask.h"

#define BOOT_MEM_MAX 128
#define BOOT_RESERVED_MAX 32
#define BOOT_CMDLINE_MAX 512

enum boot_mem_type {
	BOOT_MEM_USABLE = 1,
	BOOT_MEM_RESERVED,
	BOOT_MEM_ACPI_RECLAIM,
	BOOT_MEM_ACPI_NVS,
	BOOT_MEM_BAD,
};

struct boot_mem_region {
	phys_addr_t base;
	uint64_t size;
	enum boot_mem_type type;
};

/*
 * The screen the boot loader left set up (x86-64: Multiboot2 tag 8), as the
 * loader described it; kernel/console/ checks it before use. kind NONE: no
 * screen (or a tag that was reported as malformed).
 */
enum boot_fb_kind {
	BOOT_FB_NONE,
	BOOT_FB_RGB,	  /* linear framebuffer, direct colour */
	BOOT_FB_EGA_TEXT, /* VGA text mode: width x height character cells */
};

struct boot_framebuffer {
	enum boot_fb_kind kind;
	phys_addr_t addr;
	uint32_t pitch;		/* bytes per scan line (text mode: per row of cells) */
	uint32_t width, height; /* pixels (text mode: cells) */
	uint8_t bpp;
	/* RGB only: each colour's lowest bit and width in a pixel. */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

struct boot_cpu {
	uint64_t hw_id; /* x86: APIC id; aarch64: MPIDR affinity bits */
	bool boot_cpu;
};

struct boot_info {
	struct boot_mem_region mem[BOOT_MEM_MAX];
	unsigned nr_mem;
	/* Ranges inside usable memory that must never be handed out. */
	struct boot_mem_region reserved[BOOT_RESERVED_MAX];
	unsigned nr_reserved;
	char cmdline[BOOT_CMDLINE_MAX]; /* read through kernel/cmdline.h (the table of keys) */
	const char *loader_name;

	phys_addr_t acpi_rsdp; /* 0 when absent; the RSDP copied by the loader */
	unsigned acpi_revision; /* 0 for ACPI 1.0 (RSDT), 2 for XSDT */
	phys_addr_t efi_system_table; /* 0 when not booted through UEFI */
	bool efi_memory_map; /* the loader handed us the EFI memory map */

	struct boot_framebuffer framebuffer;

	phys_addr_t dtb; /* 0 when absent */
	uint64_t dtb_size;

	struct boot_cpu cpus[CPU_MAX];
	unsigned nr_cpus;
	unsigned nr_cpus_firmware; /* CPUs the firmware listed, even past CPU_MAX */

	phys_addr_t kernel_start, kernel_end; /* physical extent of the image */
};

extern struct boot_info boot_info;

/* Adds a region; panics naming `source` when the table is full. */
void boot_info_add_mem(phys_addr_t base, uint64_t size, enum boot_mem_type type,
		       const char *source);
void boot_info_add_reserved(phys_addr_t base, uint64_t size, const char *source);
/*
 * Adds a CPU; past CPU_MAX the CPU is counted but not started (the boot
 * CPU is always kept: it displaces the last other CPU). Panics on a
 * repeated hardware id.
 */
void boot_info_add_cpu(uint64_t hw_id, bool is_boot_cpu);
/* An E820 type (Multiboot2 and PVH memory maps): 1 RAM, 3 ACPI, 4 NVS, 5 bad, else reserved. */
enum boot_mem_type boot_mem_type_from_e820(uint32_t type);
/* Sorts and checks the memory map; panics on overlap. */
void boot_info_finish(void);
/* Total bytes of usable RAM in the memory map. */
uint64_t boot_info_usable_bytes(void);

#endif
