// SPDX-License-Identifier: BSD-2-Clause
/*
 * Fuzz target `multiboot2`: multiboot2_parse() (boot/multiboot2.c) on the
 * input as a Multiboot2 information block, the way GRUB leaves it.
 *
 * The block sits in fake physical memory of exactly total_size bytes (its
 * first field) when that is in the parser's accepted range [16, 1 MiB],
 * rounded up to the 8-byte alignment the protocol guarantees; otherwise of
 * the input's size (the parser then reads only total_size itself). The
 * file's invariant is that nothing past total_size is read: ASan enforces
 * it. Panics name the tag and field by contract and are clean rejections.
 */
#include "boot/multiboot2.h"
#include "kernel/boot_info.h"
#include "lib/string.h"
#include "tests/fuzz/fuzz.h"

#define MB2_INFO_MAX (1u << 20) /* boot/multiboot2.c */

static void parse(void *arg)
{
	multiboot2_parse(*(phys_addr_t *)arg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t head[4] = {0}; /* what the parser reads as total_size: zeros past a short input */
	uint32_t total;
	memcpy(head, data, MIN(size, sizeof(head)));
	memcpy(&total, head, 4);
	size_t block = total >= 16 && total <= MB2_INFO_MAX ? total : MAX(size, (size_t)8);
	phys_addr_t pa = fuzz_phys_place(data, size, ALIGN_UP(block, (size_t)8));

	fuzz_reset_boot_info();
	fuzz_try(parse, &pa);
	return 0;
}
