// SPDX-License-Identifier: BSD-2-Clause
/*
 * pvh suite: the PVH start-info checker (boot/pvh.c) on fake physical
 * memory, and the start info the kernel actually booted with.
 *
 * Every case builds a good start info in `fake` (a static 8 KiB buffer
 * that fake_map() presents as physical FAKE_PA..FAKE_PA + 8 KiB), breaks
 * one field, and requires pvh_check() to refuse it with a message that
 * starts with that field's name. The fake memory map describes only the
 * first RAM_LEN bytes as RAM, so the buffer's tail is mapped but "outside
 * RAM": pointers there must be refused though they could be read.
 *
 * Invariants: cases run one at a time and each starts from build_good();
 * pvh_check never reads outside the fake buffer (fake_map refuses any
 * range not wholly inside it, so a read past it is a NULL, not a fault).
 */
#include "boot/pvh.h"
#include "kernel/boot_info.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define FAKE_PA 0x10000000ull
#define FAKE_LEN 0x2000u
#define RAM_LEN 0x1800u /* the memory map's RAM: the buffer's tail is outside it */
#define OFF_MEMMAP 0x100u
#define OFF_MODLIST 0x600u
#define OFF_CMDLINE 0x800u
#define OFF_RSDP 0xc00u
#define OFF_OUTSIDE 0x1800u

static uint8_t fake[FAKE_LEN] __aligned(16);

static const void *fake_map(phys_addr_t pa, uint64_t len)
{
	if (pa < FAKE_PA || pa - FAKE_PA > FAKE_LEN || len > FAKE_LEN - (pa - FAKE_PA))
		return NULL;
	return fake + (pa - FAKE_PA);
}

static struct hvm_start_info *si(void)
{
	return (struct hvm_start_info *)fake;
}

static struct hvm_memmap_table_entry *memmap(void)
{
	return (struct hvm_memmap_table_entry *)(fake + OFF_MEMMAP);
}

/* A start info pvh_check accepts: RAM, a reserved MMIO range, a command line, an RSDP v2. */
static void build_good(void)
{
	memset(fake, 0, sizeof(fake));
	*si() = (struct hvm_start_info){
		.magic = HVM_START_MAGIC,
		.version = 1,
		.cmdline_paddr = FAKE_PA + OFF_CMDLINE,
		.rsdp_paddr = FAKE_PA + OFF_RSDP,
		.memmap_paddr = FAKE_PA + OFF_MEMMAP,
		.memmap_entries = 2,
	};
	memmap()[0] = (struct hvm_memmap_table_entry){FAKE_PA, RAM_LEN, 1, 0};
	memmap()[1] = (struct hvm_memmap_table_entry){0xfec00000, 0x1000, 2, 0};
	strlcpy((char *)fake + OFF_CMDLINE, "ktest=pvh console=ttyS0", 64);
	memcpy(fake + OFF_RSDP, "RSD PTR ", 8);
	fake[OFF_RSDP + 15] = 2; /* revision: 36 bytes */
}

static void expect_refused(struct ktest *t, const char *field)
{
	char err[160] = "";
	EXPECT_FALSE(t, pvh_check(FAKE_PA, fake_map, err, sizeof(err)));
	if (strncmp(err, field, strlen(field)) != 0)
		ktest_fail_msg(t, __FILE__, __LINE__, "error \"%s\" does not start with \"%s\"", err,
			       field);
	else
		ktest_log(t, "refused: %s", err);
}

static void good_start_info_is_accepted(struct ktest *t)
{
	char err[160] = "";
	build_good();
	EXPECT_TRUE(t, pvh_check(FAKE_PA, fake_map, err, sizeof(err)));
	EXPECT_STREQ(t, err, "");
	/* With one module in RAM, and without a command line (it is optional). */
	si()->nr_modules = 1;
	si()->modlist_paddr = FAKE_PA + OFF_MODLIST;
	si()->cmdline_paddr = 0;
	EXPECT_TRUE(t, pvh_check(FAKE_PA, fake_map, err, sizeof(err)));
	EXPECT_STREQ(t, err, "");
}

static void bad_header_is_refused(struct ktest *t)
{
	char err[160];
	EXPECT_FALSE(t, pvh_check(0, fake_map, err, sizeof(err)));
	build_good();
	EXPECT_FALSE(t, pvh_check(FAKE_PA + 4, fake_map, err, sizeof(err))); /* misaligned */
	build_good();
	si()->magic = 0x336ec579;
	expect_refused(t, "magic");
	build_good();
	si()->version = 0;
	expect_refused(t, "version");
}

static void bad_memory_map_is_refused(struct ktest *t)
{
	build_good();
	si()->memmap_entries = 0;
	expect_refused(t, "memmap_entries");
	build_good();
	si()->memmap_entries = BOOT_MEM_MAX + 1;
	expect_refused(t, "memmap_entries");
	build_good();
	si()->memmap_entries = 0xffffffff; /* would overflow a 32-bit size */
	expect_refused(t, "memmap_entries");
	build_good();
	si()->memmap_paddr = 0x100000000ull; /* past 4 GiB */
	expect_refused(t, "memmap_paddr");
	build_good();
	si()->memmap_paddr = FAKE_PA + FAKE_LEN - 24; /* second entry past the mapping */
	expect_refused(t, "memmap_paddr");
	build_good();
	si()->memmap_paddr = FAKE_PA + OFF_OUTSIDE; /* readable, but not in the map's RAM */
	memcpy(fake + OFF_OUTSIDE, memmap(), 2 * sizeof(*memmap()));
	expect_refused(t, "memmap_paddr");
	build_good();
	memmap()[1].addr = ~0ull - 0xfff;
	memmap()[1].size = 0x2000;
	expect_refused(t, "memmap entry 1");
	build_good();
	memmap()[0].type = 2; /* no usable RAM at all */
	expect_refused(t, "memmap");
}

static void start_info_outside_ram_is_refused(struct ktest *t)
{
	char err[160] = "";
	build_good();
	memcpy(fake + OFF_OUTSIDE, fake, sizeof(struct hvm_start_info));
	EXPECT_FALSE(t, pvh_check(FAKE_PA + OFF_OUTSIDE, fake_map, err, sizeof(err)));
	EXPECT_EQ(t, strncmp(err, "start info", 10), 0);
}

static void bad_modules_are_refused(struct ktest *t)
{
	build_good();
	si()->nr_modules = PVH_MODULES_MAX + 1;
	si()->modlist_paddr = FAKE_PA + OFF_MODLIST;
	expect_refused(t, "nr_modules");
	build_good();
	si()->nr_modules = 1;
	si()->modlist_paddr = 0;
	expect_refused(t, "modlist_paddr");
	build_good();
	si()->nr_modules = 2;
	si()->modlist_paddr = FAKE_PA + RAM_LEN - 32; /* the second entry leaves RAM */
	expect_refused(t, "modlist_paddr");
}

static void bad_cmdline_is_refused(struct ktest *t)
{
	build_good();
	memset(fake + OFF_CMDLINE, 'x', BOOT_CMDLINE_MAX);
	expect_refused(t, "cmdline_paddr"); /* not terminated within BOOT_CMDLINE_MAX */
	build_good();
	si()->cmdline_paddr = FAKE_PA + RAM_LEN - 8; /* runs off the end of RAM */
	memset(fake + RAM_LEN - 8, 'x', 16);
	expect_refused(t, "cmdline_paddr");
	build_good();
	si()->cmdline_paddr = 0xfee00000; /* the local APIC: not RAM, not mapped here */
	expect_refused(t, "cmdline_paddr");
	build_good();
	si()->cmdline_paddr = FAKE_PA + OFF_OUTSIDE;
	expect_refused(t, "cmdline_paddr");
}

static void bad_rsdp_is_refused(struct ktest *t)
{
	build_good();
	si()->rsdp_paddr = 0;
	expect_refused(t, "rsdp_paddr");
	build_good();
	si()->rsdp_paddr = FAKE_PA + OFF_OUTSIDE;
	expect_refused(t, "rsdp_paddr");
	build_good();
	si()->rsdp_paddr = FAKE_PA + RAM_LEN - 24; /* a v1 RSDP fits, the v2 one does not */
	memcpy(fake + RAM_LEN - 24, fake + OFF_RSDP, 24);
	expect_refused(t, "rsdp_paddr");
}

/* When this boot came through PVH, boot_info holds what the start info said. */
static void pvh_boot_filled_boot_info(struct ktest *t)
{
	if (!boot_info.loader_name || strncmp(boot_info.loader_name, "PVH", 3) != 0)
		KTEST_SKIP(t, "not booted through PVH (make test BOOT=kernel)");
	EXPECT_NE(t, boot_info.acpi_rsdp, (phys_addr_t)0);
	EXPECT_GT(t, boot_info.nr_mem, 0u);
	EXPECT_EQ(t, strncmp(boot_info.cmdline, "ktest=", 6), 0);
}

static const struct ktest_case pvh_cases[] = {
	KTEST_CASE(good_start_info_is_accepted),
	KTEST_CASE(bad_header_is_refused),
	KTEST_CASE(bad_memory_map_is_refused),
	KTEST_CASE(start_info_outside_ram_is_refused),
	KTEST_CASE(bad_modules_are_refused),
	KTEST_CASE(bad_cmdline_is_refused),
	KTEST_CASE(bad_rsdp_is_refused),
	KTEST_CASE(pvh_boot_filled_boot_info),
	KTEST_END,
};
KTEST_SUITE(pvh_suite, "pvh", pvh_cases);
