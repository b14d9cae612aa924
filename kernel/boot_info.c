// SPDX-License-Identifier: BSD-2-Clause
/*
 * struct boot_info and the helpers that fill and check it. The boot
 * protocol parsers (boot/multiboot2.c, boot/fdt_boot.c) only call the
 * adders; boot_info_finish() then sorts the memory map and refuses an
 * overlapping one, so every later consumer can rely on a clean, ordered map.
 */
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"

struct boot_info boot_info;

void boot_info_add_mem(phys_addr_t base, uint64_t size, enum boot_mem_type type,
		       const char *source)
{
	if (size == 0)
		return;
	if (base + size < base)
		panic("boot_info_add_mem: %s: region %#lx+%#lx wraps around", source,
		      (unsigned long)base, (unsigned long)size);
	if (boot_info.nr_mem >= BOOT_MEM_MAX)
		panic("boot_info_add_mem: %s: more than %d memory regions", source, BOOT_MEM_MAX);
	boot_info.mem[boot_info.nr_mem++] = (struct boot_mem_region){base, size, type};
}

void boot_info_add_reserved(phys_addr_t base, uint64_t size, const char *source)
{
	if (size == 0)
		return;
	if (boot_info.nr_reserved >= BOOT_RESERVED_MAX)
		panic("boot_info_add_reserved: %s: more than %d reserved ranges", source,
		      BOOT_RESERVED_MAX);
	boot_info.reserved[boot_info.nr_reserved++] =
		(struct boot_mem_region){base, size, BOOT_MEM_RESERVED};
}

enum boot_mem_type boot_mem_type_from_e820(uint32_t type)
{
	switch (type) {
	case 1:
		return BOOT_MEM_USABLE;
	case 3:
		return BOOT_MEM_ACPI_RECLAIM;
	case 4:
		return BOOT_MEM_ACPI_NVS;
	case 5:
		return BOOT_MEM_BAD;
	default:
		return BOOT_MEM_RESERVED;
	}
}

void boot_info_add_cpu(uint64_t hw_id, bool is_boot_cpu)
{
	boot_info.nr_cpus_firmware++;
	for (unsigned i = 0; i < boot_info.nr_cpus; i++)
		if (boot_info.cpus[i].hw_id == hw_id)
			panic("boot_info_add_cpu: hardware id %#lx listed twice",
			      (unsigned long)hw_id);
	if (boot_info.nr_cpus >= CPU_MAX) {
		if (!is_boot_cpu)
			return;
		/* The boot CPU must be among those kept: it replaces the last other one. */
		boot_info.nr_cpus--;
	}
	struct boot_cpu c = {hw_id, is_boot_cpu};
	if (is_boot_cpu) {
		/* The boot CPU is logical CPU 0: shift the others up. */
		memmove(&boot_info.cpus[1], &boot_info.cpus[0],
			boot_info.nr_cpus * sizeof(struct boot_cpu));
		boot_info.cpus[0] = c;
	} else {
		boot_info.cpus[boot_info.nr_cpus] = c;
	}
	boot_info.nr_cpus++;
}

void boot_info_finish(void)
{
	/* Insertion sort: the map is small and usually nearly sorted already. */
	for (unsigned i = 1; i < boot_info.nr_mem; i++) {
		struct boot_mem_region r = boot_info.mem[i];
		unsigned j = i;
		while (j > 0 && boot_info.mem[j - 1].base > r.base) {
			boot_info.mem[j] = boot_info.mem[j - 1];
			j--;
		}
		boot_info.mem[j] = r;
	}
	for (unsigned i = 1; i < boot_info.nr_mem; i++) {
		const struct boot_mem_region *a = &boot_info.mem[i - 1], *b = &boot_info.mem[i];
		if (a->base + a->size > b->base && a->type == BOOT_MEM_USABLE &&
		    b->type == BOOT_MEM_USABLE)
			panic("boot_info_finish: memory map: usable regions %#lx+%#lx and %#lx+%#lx "
			      "overlap",
			      (unsigned long)a->base, (unsigned long)a->size, (unsigned long)b->base,
			      (unsigned long)b->size);
	}
	if (boot_info.nr_cpus == 0 || !boot_info.cpus[0].boot_cpu)
		panic("boot_info_finish: firmware did not list the boot CPU");
}

uint64_t boot_info_usable_bytes(void)
{
	uint64_t total = 0;
	for (unsigned i = 0; i < boot_info.nr_mem; i++)
		if (boot_info.mem[i].type == BOOT_MEM_USABLE)
			total += boot_info.mem[i].size;
	return total;
}
