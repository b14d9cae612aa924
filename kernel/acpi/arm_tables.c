// SPDX-License-Identifier: BSD-2-Clause
/*
 * Three small Arm tables: the SPCR (which UART is the console), the GTDT
 * (the generic timer's interrupts) and the FADT's ARM_BOOT_ARCH flags
 * (whether CPUs start through PSCI, and by HVC or SMC).
 *
 * Invariant: pure over the bytes given; a field is read only when the
 * table's length covers it; a problem is one line naming table and field.
 */
#include "kernel/acpi/acpi_arm.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define SPCR_INTERFACE	 36
#define SPCR_BASE_GAS	 40 /* Generic Address Structure: space, width, offset, size, address */
#define SPCR_MIN_LENGTH	 52
#define GTDT_NS_EL1_GSIV 56
#define GTDT_VIRT_GSIV	 64
#define GTDT_MIN_LENGTH	 72 /* through the virtual timer's flags */
#define FADT_ARM_BOOT	 129
#define PPI_FIRST	 16
#define PPI_LAST	 31

static bool table_ok(const struct acpi_sdt_header *h, const char *sig, uint32_t min, char *err,
		     size_t n)
{
	if (memcmp(h->signature, sig, 4) != 0) {
		snprintf(err, n, "%s: signature \"%.4s\"", sig, h->signature);
		return false;
	}
	if (h->length < min) {
		snprintf(err, n, "%s: length %u is shorter than the %u its fields need", sig,
			 h->length, min);
		return false;
	}
	return true;
}

bool acpi_spcr_parse(const struct acpi_sdt_header *spcr, phys_addr_t *uart, uint8_t *interface,
		     char *err, size_t err_size)
{
	const uint8_t *t = (const uint8_t *)spcr;
	if (!table_ok(spcr, "SPCR", SPCR_MIN_LENGTH, err, err_size))
		return false;
	*interface = t[SPCR_INTERFACE];
	if (*interface != ACPI_SPCR_PL011 && *interface != ACPI_SPCR_SBSA_UART) {
		snprintf(err, err_size, "SPCR: interface type %#x is not a PL011 (3) or SBSA UART "
			 "(0xe)", *interface);
		return false;
	}
	uint64_t base = acpi_get64(t + SPCR_BASE_GAS + 4);
	if (t[SPCR_BASE_GAS] != ACPI_GAS_MEMORY || !base || base % 4096) {
		snprintf(err, err_size, "SPCR: base address (space %u, %#llx) is not a non-zero "
			 "4 KiB-aligned memory address", t[SPCR_BASE_GAS], (unsigned long long)base);
		return false;
	}
	*uart = base;
	return true;
}

static bool gtdt_ppi(const uint8_t *t, unsigned off, const char *which, unsigned *ppi, char *err,
		     size_t n)
{
	uint32_t gsiv = acpi_get32(t + off);
	if (gsiv < PPI_FIRST || gsiv > PPI_LAST) {
		snprintf(err, n, "GTDT: %s timer GSIV %u is not a PPI (16-31)", which, gsiv);
		return false;
	}
	*ppi = gsiv - PPI_FIRST;
	return true;
}

bool acpi_gtdt_parse(const struct acpi_sdt_header *gtdt, unsigned *ppi_phys, unsigned *ppi_virt,
		     char *err, size_t err_size)
{
	const uint8_t *t = (const uint8_t *)gtdt;
	return table_ok(gtdt, "GTDT", GTDT_MIN_LENGTH, err, err_size) &&
	       gtdt_ppi(t, GTDT_NS_EL1_GSIV, "non-secure EL1", ppi_phys, err, err_size) &&
	       gtdt_ppi(t, GTDT_VIRT_GSIV, "virtual", ppi_virt, err, err_size);
}

bool acpi_fadt_arm_boot(const struct acpi_sdt_header *fadt, uint16_t *flags, char *err,
			size_t err_size)
{
	if (!table_ok(fadt, "FACP", FADT_ARM_BOOT + 2, err, err_size))
		return false;
	*flags = acpi_get16((const uint8_t *)fadt + FADT_ARM_BOOT);
	return true;
}
