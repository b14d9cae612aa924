// SPDX-License-Identifier: BSD-2-Clause
/*
 * Turning a PC off and restarting it, the ways real machines accept:
 *
 *  - Power off: ACPI sleep state S5, by writing SLP_TYPa (from the DSDT's
 *    \_S5 package) with SLP_EN to PM1a_CNT, and SLP_TYPb to PM1b_CNT if
 *    the FADT has one. Nothing needs ACPI mode switching first under QEMU
 *    or on machines whose firmware boots in ACPI mode (every UEFI PC).
 *  - Reset: the FADT's reset register (the way ACPI 2.0+ firmware asks to
 *    be reset), then port 0xCF9 (the chipset's reset control: system
 *    reset, then a full reset), then the keyboard controller's pulse of
 *    the reset line (0xFE to port 0x64), each given 100 ms to act.
 *
 * Under QEMU the test runner still ends through isa-debug-exit (exit.c);
 * `exit.via=acpi` or `exit.via=reset` make arch_exit take these paths so a
 * check can show them working (QEMU exits on S5, and on reset with
 * -no-reboot).
 *
 * Invariant: what power_init found is logged in one line, and a method
 * that is missing or malformed in the tables is named there; poweroff and
 * reset print which method they try, and never return.
 */
#include "arch/x86_64/x86.h"
#include "kernel/acpi/acpi.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/mmio.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"
#include "lib/fmt.h"

#define SLP_EN		    (1u << 13)
#define SLP_TYP_SHIFT	    10
#define RESET_CONTROL_PORT  0xcf9
#define KBC_STATUS_PORT	    0x64
#define KBC_PULSE_RESET	    0xfe
#define METHOD_GRACE_NS	    100000000ull /* 100 ms for a method to take effect */

static struct {
	bool s5;
	uint16_t pm1a_cnt, pm1b_cnt;
	uint8_t slp_typ_a, slp_typ_b;
	bool fadt_reset;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	/*
	 * A memory-space reset register, mapped at boot: a reset runs with
	 * interrupts off, where changing the kernel's tables is not allowed
	 * (pt.h: it may wait for other CPUs).
	 */
	volatile uint8_t *reset_mmio;
} power;

CMDLINE_PARAM(exit_via_param, .key = "exit.via", .kind = CMDLINE_ENUM,
	      .values = "debugexit|acpi|reset", .def = "debugexit",
	      .help = "x86-64: how the kernel ends a run: QEMU's isa-debug-exit, ACPI S5 power "
		      "off, or a reset (QEMU exits with -no-reboot)");

void x86_power_init(void)
{
	char err[128] = "";
	struct acpi_fadt_info f;
	const struct acpi_sdt_header *fadt = acpi_find_table("FACP");
	if (!fadt) {
		printk("power: no FADT: no ACPI power off; reset through 0xCF9 and the keyboard "
		       "controller only");
		return;
	}
	if (!acpi_fadt_parse(fadt, &f, err, sizeof(err))) {
		printk("power: %s; no ACPI power off or FADT reset", err);
		return;
	}
	power.fadt_reset = f.reset_supported;
	power.reset_reg = f.reset_reg;
	power.reset_value = f.reset_value;
	if (power.fadt_reset && power.reset_reg.space == ACPI_GAS_MEMORY) {
		/* vm_map_mmio panics, naming the range, rather than return NULL. */
		volatile uint8_t *page = vm_map_mmio(power.reset_reg.address & ~(PAGE_SIZE - 1),
						     PAGE_SIZE, "ACPI reset register");
		power.reset_mmio = page + (power.reset_reg.address & (PAGE_SIZE - 1));
	}
	const struct acpi_sdt_header *dsdt = acpi_table_at(f.dsdt);
	if (!dsdt)
		snprintf(err, sizeof(err), "DSDT at %#llx unreadable (length or checksum)",
			 (unsigned long long)f.dsdt);
	else if (!f.pm1a_cnt || f.pm1a_cnt > 0xffff || f.pm1b_cnt > 0xffff)
		snprintf(err, sizeof(err), "FADT: PM1a_CNT_BLK %#llx is not an I/O port",
			 (unsigned long long)f.pm1a_cnt);
	else if (acpi_aml_find_s5((const uint8_t *)(dsdt + 1), dsdt->length - sizeof(*dsdt),
				  &power.slp_typ_a, &power.slp_typ_b, err, sizeof(err))) {
		power.s5 = true;
		power.pm1a_cnt = (uint16_t)f.pm1a_cnt;
		power.pm1b_cnt = (uint16_t)f.pm1b_cnt;
	}
	char off[64], reset[96];
	if (power.s5)
		snprintf(off, sizeof(off), "S5 (SLP_TYP %u) via PM1a_CNT %#x", power.slp_typ_a,
			 power.pm1a_cnt);
	else
		snprintf(off, sizeof(off), "none (%s)", err);
	if (power.fadt_reset)
		snprintf(reset, sizeof(reset), "FADT reset register (%s %#llx = %#x), then 0xCF9, "
			 "keyboard controller", power.reset_reg.space == ACPI_GAS_IO ? "I/O" : "memory",
			 (unsigned long long)power.reset_reg.address, power.reset_value);
	else
		snprintf(reset, sizeof(reset), "0xCF9, then keyboard controller (no FADT reset "
			 "register)");
	printk("power: off: %s; reset: %s", off, reset);
}

static void grace(void)
{
	uint64_t end = arch_time_ns() + METHOD_GRACE_NS;
	while (arch_time_ns() < end)
		arch_cpu_relax();
}

__noreturn void arch_poweroff(void)
{
	arch_irq_disable();
	if (power.s5) {
		printk("power: powering off (ACPI S5)");
		outw(power.pm1a_cnt, (uint16_t)(power.slp_typ_a << SLP_TYP_SHIFT | SLP_EN));
		if (power.pm1b_cnt)
			outw(power.pm1b_cnt, (uint16_t)(power.slp_typ_b << SLP_TYP_SHIFT | SLP_EN));
		grace();
		printk("power: still running 100 ms after S5: halting instead");
	} else {
		printk("power: no ACPI power-off method: halting");
	}
	arch_cpu_halt();
}

/* The FADT's reset register: I/O or memory space (PCI config space is not supported). */
static void fadt_reset(void)
{
	if (power.reset_reg.space == ACPI_GAS_IO && power.reset_reg.address <= 0xffff) {
		outb((uint16_t)power.reset_reg.address, power.reset_value);
	} else if (power.reset_reg.space == ACPI_GAS_MEMORY) {
		if (power.reset_mmio) /* mapped at boot (x86_power_init) */
			mmio_write8(power.reset_mmio, power.reset_value);
	} else {
		printk("power: FADT reset register in address space %u: not supported",
		       power.reset_reg.space);
	}
}

__noreturn void arch_reset(void)
{
	arch_irq_disable();
	if (power.fadt_reset) {
		printk("power: resetting through the FADT reset register");
		fadt_reset();
		grace();
	}
	printk("power: resetting through port 0xCF9");
	outb(RESET_CONTROL_PORT, 0x02); /* system reset armed... */
	outb(RESET_CONTROL_PORT, 0x06); /* ...and triggered (bit 2) */
	grace();
	printk("power: resetting through the keyboard controller");
	for (unsigned i = 0; i < 100000 && (inb(KBC_STATUS_PORT) & 0x02); i++)
		arch_cpu_relax(); /* its input buffer must be empty */
	outb(KBC_STATUS_PORT, KBC_PULSE_RESET);
	grace();
	printk("power: no reset method worked: halting");
	arch_cpu_halt();
}

/* How arch_exit ends the run (exit.c): 0 isa-debug-exit, 1 S5, 2 reset. */
unsigned x86_exit_via(void)
{
	return (unsigned)cmdline_enum("exit.via");
}
