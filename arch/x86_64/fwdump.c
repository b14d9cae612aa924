// SPDX-License-Identifier: BSD-2-Clause
/*
 * `fwdump` on the command line: prints the boot information block
 * (Multiboot2, or PVH's start info with its memory map and command line)
 * and every ACPI table the root lists (plus the DSDT the FADT names) as hex
 * lines on the console, so that tools/fuzz_seeds.py can turn a QEMU boot
 * into seed inputs for the fuzz targets (tests/fuzz/, docs/reliability.md).
 *
 * Runs after acpi_init has accepted the tables; reads each block only
 * within the length its parser already checked, and only through
 * acpi_table_at (length and checksum checked again). Prints, per block:
 *   fwdump: begin <name> <bytes>
 *   fwdump: <up to 32 bytes in hex>   (repeated)
 *   fwdump: end <name>
 */
#include "arch/x86_64/x86.h"
#include "boot/pvh.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/cmdline.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "lib/string.h"

CMDLINE_PARAM(fwdump_param, .key = "fwdump", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "x86-64: print the boot information and ACPI tables as hex (fuzz seeds)");

#define LINE_BYTES 32

static void dump(const char *name, const void *p, size_t len)
{
	const uint8_t *b = p;
	char hex[2 * LINE_BYTES + 1];
	printk("fwdump: begin %s %zu", name, len);
	for (size_t off = 0; off < len; off += LINE_BYTES) {
		size_t n = MIN(len - off, (size_t)LINE_BYTES);
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", b[off + i]);
		printk("fwdump: %s", hex);
	}
	printk("fwdump: end %s", name);
}

static void dump_pvh(phys_addr_t si_pa)
{
	const struct hvm_start_info *si = arch_phys_to_virt(si_pa);
	dump("pvh", si, sizeof(*si));
	dump("pvh-memmap", arch_phys_to_virt(si->memmap_paddr),
	     si->memmap_entries * sizeof(struct hvm_memmap_table_entry));
	if (si->cmdline_paddr)
		dump("pvh-cmdline", arch_phys_to_virt(si->cmdline_paddr),
		     strlen(arch_phys_to_virt(si->cmdline_paddr)) + 1);
}

static void dump_acpi(void)
{
	const uint8_t *rsdp = arch_phys_to_virt(boot_info.acpi_rsdp);
	uint64_t root_pa = 0;
	unsigned entry = rsdp[15] >= 2 ? 8 : 4;
	dump("rsdp", rsdp, entry == 8 ? 36 : 20);
	memcpy(&root_pa, rsdp + (entry == 8 ? 24 : 16), entry == 8 ? 8 : 4);
	const struct acpi_sdt_header *root = acpi_table_at(root_pa);
	if (!root)
		return;
	dump("root", root, root->length);
	for (unsigned i = 0; i < (root->length - sizeof(*root)) / entry; i++) {
		uint64_t pa = 0;
		char name[16];
		memcpy(&pa, (const uint8_t *)(root + 1) + i * entry, entry);
		const struct acpi_sdt_header *t = acpi_table_at(pa);
		if (!t)
			continue;
		snprintf(name, sizeof(name), "table-%.4s", t->signature);
		dump(name, t, t->length);
	}
	struct acpi_fadt_info f;
	char err[128];
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
	if (fadt && acpi_fadt_parse(fadt, &f, err, sizeof(err)) && acpi_table_at(f.dsdt))
		dump("table-DSDT", acpi_table_at(f.dsdt), acpi_table_at(f.dsdt)->length);
}

void x86_fwdump(uint32_t info_pa, uint32_t protocol)
{
	if (!cmdline_has("fwdump"))
		return;
	if (protocol == BOOT_PROTO_PVH)
		dump_pvh(info_pa);
	else
		dump("mb2", arch_phys_to_virt(info_pa),
		     *(const uint32_t *)arch_phys_to_virt(info_pa));
	dump_acpi();
}
