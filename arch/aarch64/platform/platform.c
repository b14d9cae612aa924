// SPDX-License-Identifier: BSD-2-Clause
/*
 * Choosing the board: a guess from the CPU and the load address before the
 * device tree is read (only for the early UART), then the device tree's
 * root compatible. The table below is the only list of boards; nothing
 * else in the kernel asks which board it runs on.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/printk.h"
#include "lib/fdt.h"

static const struct platform_ops *const boards[] = {&platform_virt, &platform_bcm2837,
						    &platform_bcm2711};

const struct platform_ops *platform = &platform_virt;

const struct platform_ops *platform_guess(phys_addr_t image_pa)
{
	uint32_t part = (uint32_t)(read_sysreg(midr_el1) >> 4) & 0xFFF;
	platform = &platform_virt;
	if (image_pa >= (1ul << 30))
		return platform; /* RAM from 1 GiB up: virt's layout */
	for (unsigned i = 0; i < ARRAY_SIZE(boards); i++)
		if (boards[i]->cpu_part == part) {
			platform = boards[i];
			return platform;
		}
	return NULL;
}

bool platform_select(void)
{
	const uint8_t *list = (const uint8_t *)fdt_platform.board_compat;
	for (unsigned i = 0; i < ARRAY_SIZE(boards); i++)
		for (const char *const *c = boards[i]->compatible; *c; c++)
			if (fdt_stringlist_contains(list, fdt_platform.board_compat_len, *c)) {
				platform = boards[i];
				printk("platform: %s (root compatible \"%s\")", platform->name,
				       fdt_platform.board);
				return true;
			}
	platform = &platform_virt;
	printk("platform: root compatible \"%s\" is no board Pagoda knows; run as %s",
	       fdt_platform.board, platform->name);
	return false;
}
