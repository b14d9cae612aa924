// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host test of the EFI stub's pure parts (arch/aarch64/efi/memmap.c and
 * cmdline.c), compiled for the host under ASan and UBSan: what the kernel
 * is told about memory and its command line must not depend on the order
 * or the descriptor size of the firmware's map, or on what GRUB prepends.
 *
 * memmap: an unsorted map with 48-byte descriptors (edk2's size, larger
 * than the struct) in which usable ranges of different EFI types touch
 * (one merged range), kept ranges of different types touch (kept apart,
 * typed), MMIO and non-write-back RAM appear (in neither list), and the
 * runtime_usable break lists runtime RAM as usable; then more separate
 * ranges than the block holds (counted as dropped, never written past).
 * cmdline: BOOT_IMAGE= dropped, non-ASCII shown as '?', a long line cut at
 * a word boundary, efi.break= found only as a whole word.
 * Prints one line per failed check and "efi stub host test: N checks, N failed".
 */
#include <stdio.h>
#include <string.h>

#include "arch/aarch64/efi/stub.h"

static unsigned checks, failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			failures++;                                                                \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                     \
		}                                                                                  \
	} while (0)

#define DESC 48 /* bytes between descriptors, as edk2 lays them out */
#define MB   0x100000ull

struct map {
	unsigned char bytes[DESC * 200];
	unsigned n;
};

static void put(struct map *m, uint32_t type, uint64_t base, uint64_t bytes, uint64_t attr)
{
	struct efi_memory_descriptor d = {.type = type,
					  .physical_start = base,
					  .number_of_pages = bytes / EFI_PAGE_SIZE,
					  .attribute = attr};
	memcpy(m->bytes + DESC * m->n++, &d, sizeof(d));
}

static void memory_lists(void)
{
	static struct map m;
	static struct efi_boot_block b;

	/* out of order on purpose */
	put(&m, EFI_CONVENTIONAL_MEMORY, 0x40000000 + 8 * MB, 8 * MB, EFI_MEMORY_WB);
	put(&m, EFI_RUNTIME_SERVICES_DATA, 0x40000000 + 20 * MB, 1 * MB, EFI_MEMORY_WB);
	put(&m, EFI_LOADER_CODE, 0x40000000, 4 * MB, EFI_MEMORY_WB);
	put(&m, EFI_BOOT_SERVICES_DATA, 0x40000000 + 4 * MB, 4 * MB, EFI_MEMORY_WB);
	put(&m, EFI_RUNTIME_SERVICES_CODE, 0x40000000 + 19 * MB, 1 * MB, EFI_MEMORY_WB);
	put(&m, EFI_ACPI_RECLAIM_MEMORY, 0x40000000 + 16 * MB, 3 * MB, EFI_MEMORY_WB);
	put(&m, EFI_MEMORY_MAPPED_IO, 0x09000000, 1 * MB, 1);
	put(&m, EFI_CONVENTIONAL_MEMORY, 0x80000000, 1 * MB, 1); /* not write-back: not RAM */
	put(&m, EFI_CONVENTIONAL_MEMORY, 0x40000000 + 21 * MB, 11 * MB, EFI_MEMORY_WB);

	efi_block_fill_memory(&b, m.bytes, DESC * m.n, DESC, EFI_BREAK_NONE);
	CHECK(b.map_entries == m.n);
	CHECK(b.nr_mem == 2);
	CHECK(b.mem[0].base == 0x40000000 && b.mem[0].size == 16 * MB);
	CHECK(b.mem[1].base == 0x40000000 + 21 * MB && b.mem[1].size == 11 * MB);
	CHECK(b.nr_kept == 3);
	CHECK(b.kept[0].base == 0x40000000 + 16 * MB &&
	      b.kept[0].efi_type == EFI_ACPI_RECLAIM_MEMORY);
	CHECK(b.kept[1].base == 0x40000000 + 19 * MB &&
	      b.kept[1].efi_type == EFI_RUNTIME_SERVICES_CODE);
	CHECK(b.kept[2].base == 0x40000000 + 20 * MB &&
	      b.kept[2].efi_type == EFI_RUNTIME_SERVICES_DATA);
	CHECK(b.mem_dropped == 0 && b.kept_dropped == 0);

	efi_block_fill_memory(&b, m.bytes, DESC * m.n, DESC, EFI_BREAK_RUNTIME_USABLE);
	CHECK(b.nr_mem == 2 && b.mem[1].base == 0x40000000 + 19 * MB); /* runtime RAM now usable */

	/* a partial descriptor at the end is not read */
	efi_block_fill_memory(&b, m.bytes, DESC * m.n - 1, DESC, EFI_BREAK_NONE);
	CHECK(b.map_entries == m.n - 1);

	m.n = 0;
	for (unsigned i = 0; i < EFI_BLOCK_MEM_MAX + 5; i++) /* gaps between them: no merging */
		put(&m, EFI_CONVENTIONAL_MEMORY, 0x40000000 + 2 * i * MB, MB, EFI_MEMORY_WB);
	efi_block_fill_memory(&b, m.bytes, DESC * m.n, DESC, EFI_BREAK_NONE);
	CHECK(b.nr_mem == EFI_BLOCK_MEM_MAX && b.mem_dropped == 5);
	for (unsigned i = 1; i < b.nr_mem; i++)
		CHECK(b.mem[i - 1].base + b.mem[i - 1].size < b.mem[i].base);
}

static void utf16(efi_char16_t *out, const char *s)
{
	while ((*out++ = (unsigned char)*s++))
		;
}

static void command_line(void)
{
	efi_char16_t in[600];
	char out[64];

	utf16(in, "BOOT_IMAGE=/pagoda ktest=* test.boot=uefi");
	efi_cmdline_from_utf16(out, sizeof(out), in, sizeof(in));
	CHECK(strcmp(out, "ktest=* test.boot=uefi") == 0);

	utf16(in, "a=1 b=2");
	in[2] = 0x00e9;					  /* é */
	efi_cmdline_from_utf16(out, sizeof(out), in, 14); /* 7 characters, no NUL in range */
	CHECK(strcmp(out, "a=? b=2") == 0);

	utf16(in, "word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12");
	efi_cmdline_from_utf16(out, sizeof(out), in, sizeof(in));
	CHECK(strlen(out) < sizeof(out));
	CHECK(strcmp(out, "word1 word2 word3 word4 word5 word6 word7 word8 word9 word10") == 0);

	efi_cmdline_from_utf16(out, sizeof(out), NULL, 100);
	CHECK(out[0] == 0);

	CHECK(efi_cmdline_break("ktest=efi efi.break=magic") == EFI_BREAK_MAGIC);
	CHECK(efi_cmdline_break("efi.break=version x") == EFI_BREAK_VERSION);
	CHECK(efi_cmdline_break("efi.break=runtime_usable") == EFI_BREAK_RUNTIME_USABLE);
	CHECK(efi_cmdline_break("xefi.break=magic") == EFI_BREAK_NONE);
	CHECK(efi_cmdline_break("") == EFI_BREAK_NONE);
}

int main(void)
{
	memory_lists();
	command_line();
	printf("efi stub host test: %u checks, %u failed\n", checks, failures);
	return failures != 0;
}
