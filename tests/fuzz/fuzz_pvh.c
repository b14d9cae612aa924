// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `pvh`: pvh_parse() (boot/pvh.c: pvh_check with the direct
 * map, then the copy into boot_info) on the input as 64 KiB of physical
 * memory just below 4 GiB, the start info at its first byte. The start
 * info's pointers (memory map, module list, command line, RSDP) are
 * physical addresses: the seeds point them into the same 64 KiB (the
 * input is cut or padded with zeros to exactly that size).
 *
 * Memory below the 64 KiB is not modelled: arch_phys_to_virt gives NULL
 * there, which pvh_check reports as unreachable. A read past 4 GiB is past
 * the boot mappings and an ASan report. A panic ("pvh_parse: <field> ...")
 * is the documented rejection.
 */
#include "boot/pvh.h"
#include "kernel/boot_info.h"
#include "tests/fuzz/fuzz.h"

#define PVH_FUZZ_MEM KiB(64)

static void parse(void *arg)
{
	pvh_parse(*(phys_addr_t *)arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	phys_addr_t pa = fuzz_phys_place(data, size, PVH_FUZZ_MEM);

	fuzz_reset_boot_info();
	fuzz_try(parse, &pa);
	return 0;
}
