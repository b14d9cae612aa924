// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `fdt`: the aarch64 boot path's device-tree parser,
 * fdt_boot_parse() (boot/fdt_boot.c over lib/fdt*.c), on the input as a DTB.
 *
 * The blob sits in fake physical memory sized to exactly what the parser
 * reads: the header's totalsize, at least a header, capped at 2 MiB (the
 * kernel's FDT_BOOT_MAX_SIZE); bytes of the input past that are dropped and
 * a claim past the input reads zeros. lib/fdt.h promises no read outside
 * [blob, blob + totalsize): one byte more is an ASan report. A panic is the
 * documented rejection ("fdt_boot_parse: fdt: node ...: property ...: ..."),
 * after which the boot stops; a successful parse goes on to
 * boot_info_finish() as the kernel does (which may panic as well).
 */
#include "boot/fdt_platform.h"
#include "kernel/boot_info.h"
#include "lib/fdt.h"
#include "tests/fuzz/fuzz.h"

#define FDT_BOOT_MAX_SIZE MiB(2) /* boot/fdt_boot.c */

static void parse(void *arg)
{
	fdt_boot_parse(*(phys_addr_t *)arg, 0 /* QEMU virt's boot CPU: MPIDR affinity 0 */);
	boot_info_finish();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t claim = size >= 8 ? fdt_peek_totalsize(data) : 0;
	size_t avail = MIN(MAX((uint64_t)claim, (uint64_t)FDT_HEADER_SIZE), FDT_BOOT_MAX_SIZE);
	phys_addr_t pa = fuzz_phys_place(data, size, avail);

	fuzz_reset_boot_info();
	fuzz_try(parse, &pa);
	return 0;
}
