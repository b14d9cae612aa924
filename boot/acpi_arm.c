// SPDX-License-Identifier: BSD-2-Clause
/*
 * ACPI-only boot on aarch64: turns the MADT, FADT, SPCR and GTDT into
 * boot_info's CPUs and struct fdt_platform, the same description the
 * device-tree path (fdt_boot.c) produces. The parsers are pure
 * (kernel/acpi/acpi_arm.h); this file decides what is fatal. PCI comes
 * from the MCFG (kernel/pci), the SMMUv3 and the ITS's device ids from the
 * IORT (kernel/iommu), each read by its own subsystem later.
 *
 * The register frame sizes are not in ACPI; they are the architected
 * ones (GICD 64 KiB on GICv3, 4 KiB on GICv2; GICC 8 KiB; a GICv2m frame
 * 4 KiB). Secondary CPUs start through PSCI only: ACPI's parking protocol
 * is not supported.
 */
#include "boot/acpi_arm.h"
#include "boot/fdt_platform.h"
#include "kernel/acpi/acpi_arm.h"
#include "kernel/boot_info.h"
#include "kernel/printk.h"
#include "lib/string.h"

#define PSCI_CPU_ON_64 0xC4000003u
#define MPIDR_AFF_MASK 0xff00ffffffull

static const struct acpi_sdt_header *required(const char sig[4])
{
	const struct acpi_sdt_header *t = acpi_find_table(sig);
	if (!t)
		panic("acpi_arm_boot_parse: no %.4s table: this machine cannot be run without it",
		      sig);
	return t;
}

static void parse_madt(uint64_t boot_mpidr)
{
	static struct acpi_madt_gic g; /* kept off the early boot stack */
	char err[160];
	if (!acpi_madt_gic_walk(required("APIC"), &g, err, sizeof(err)))
		panic("acpi: %s", err);
	bool boot_found = false;
	for (unsigned i = 0; i < g.nr_cpus; i++) {
		bool is_boot = g.mpidrs[i] == (boot_mpidr & MPIDR_AFF_MASK);
		boot_found |= is_boot;
		boot_info_add_cpu(g.mpidrs[i], is_boot);
	}
	if (!boot_found)
		panic("acpi: MADT: the boot CPU (MPIDR %#llx) has no enabled GICC entry",
		      (unsigned long long)(boot_mpidr & MPIDR_AFF_MASK));
	boot_info.nr_cpus_firmware += g.nr_cpus_unstored;
	fdt_platform.gic_version = g.gic_version >= 3 ? 3 : 2; /* GICv4 is driven as a GICv3 */
	fdt_platform.gicd_base = g.gicd_base;
	fdt_platform.gicd_size = g.gic_version >= 3 ? 0x10000 : 0x1000;
	if (fdt_platform.gic_version == 3) {
		fdt_platform.gicr_base = g.gicr_base;
		fdt_platform.gicr_size = g.gicr_length;
		if (g.nr_its) { /* the first ITS; its_probe_acpi reads the IORT's device ids */
			fdt_platform.its_base = g.its[0].base;
			fdt_platform.its_size = 0x20000;
			fdt_platform.its_phandle = g.its[0].id;
		}
	} else {
		fdt_platform.gicc_base = g.gicc_base;
		fdt_platform.gicc_size = 0x2000;
		if (g.nr_msi) {
			fdt_platform.v2m_base = g.msi[0].base;
			fdt_platform.v2m_size = 0x1000;
		}
	}
	printk("acpi: MADT: %u CPUs (%u disabled), GICv%u GICD %#llx %s %#llx, %u MSI frames, "
	       "%u ITSs", g.nr_cpus + g.nr_cpus_unstored, g.nr_disabled, g.gic_version,
	       (unsigned long long)g.gicd_base, g.gic_version >= 3 ? "GICR" : "GICC",
	       (unsigned long long)(g.gic_version >= 3 ? g.gicr_base : g.gicc_base), g.nr_msi,
	       g.nr_its);
}

static void parse_psci(void)
{
	char err[160];
	uint16_t flags;
	if (!acpi_fadt_arm_boot(required("FACP"), &flags, err, sizeof(err))) {
		printk("acpi: %s; secondary CPUs stay off", err);
		return;
	}
	if (!(flags & ACPI_ARM_PSCI_COMPLIANT)) {
		printk("acpi: FADT: ARM_BOOT_ARCH %#x is not PSCI compliant (the parking protocol "
		       "is not supported); secondary CPUs stay off", flags);
		return;
	}
	fdt_platform.psci = flags & ACPI_ARM_PSCI_USE_HVC ? PSCI_HVC : PSCI_SMC;
	fdt_platform.psci_cpu_on = PSCI_CPU_ON_64;
	fdt_platform.cpu_enable = CPU_ENABLE_PSCI;
}

static void parse_console(void)
{
	const struct acpi_sdt_header *spcr = acpi_find_table("SPCR");
	char err[160];
	phys_addr_t uart;
	uint8_t interface;
	if (!spcr) {
		printk("acpi: no SPCR table; keeping the early console");
		return;
	}
	if (!acpi_spcr_parse(spcr, &uart, &interface, err, sizeof(err))) {
		printk("acpi: %s; keeping the early console", err);
		return;
	}
	fdt_platform.uart_base = uart;
	fdt_platform.uart_size = 0x1000;
	strlcpy(fdt_platform.stdout_path, "ACPI SPCR", sizeof(fdt_platform.stdout_path));
}

static void parse_timer(void)
{
	char err[160];
	if (!acpi_gtdt_parse(required("GTDT"), &fdt_platform.timer_ppi_phys,
			     &fdt_platform.timer_ppi_virt, err, sizeof(err)))
		panic("acpi: %s", err);
}

void acpi_arm_boot_parse(phys_addr_t rsdp, uint64_t boot_mpidr)
{
	memset(&fdt_platform, 0, sizeof(fdt_platform));
	acpi_tables_init(rsdp);
	boot_info.acpi_rsdp = rsdp;
	parse_madt(boot_mpidr);
	parse_psci();
	parse_console();
	parse_timer();
	printk("acpi: %u tables; PSCI %s, console %#llx, timer PPIs phys %u virt %u",
	       acpi_info.nr_tables,
	       fdt_platform.psci == PSCI_HVC ? "hvc" : fdt_platform.psci == PSCI_SMC ? "smc" : "none",
	       (unsigned long long)fdt_platform.uart_base, fdt_platform.timer_ppi_phys,
	       fdt_platform.timer_ppi_virt);
}
