/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The Multiboot2 boot information parser (boot/multiboot2.c), used by
 * x86-64's GRUB boot path (arch/x86_64/main.c) and by the fuzz target
 * tests/fuzz/fuzz_multiboot2.c.
 */
#ifndef PAGODA_BOOT_MULTIBOOT2_H
#define PAGODA_BOOT_MULTIBOOT2_H

#include "kernel/types.h"

/*
 * Parses the Multiboot2 information at physical `info_pa` (8-byte
 * aligned, reachable with arch_phys_to_virt) into boot_info; reads nothing
 * past its total_size. Panics naming the tag and field on malformed input.
 */
void multiboot2_parse(phys_addr_t info_pa);

#endif
