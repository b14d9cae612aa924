// SPDX-License-Identifier: BSD-2-Clause
/*
 * What a real PC needs from ACPI beyond the CPUs: the FADT (power
 * management registers, the PM timer, the reset register, where the DSDT
 * is), the HPET table (where the HPET is), and the \_S5 sleep type that
 * powers the machine off, read from the DSDT's AML with a byte scan for
 * the `Name (_S5, Package () {...})` declaration rather than an AML
 * interpreter (what every small kernel does; a firmware that computes
 * _S5 in a method defeats it, and the scan then says so).
 *
 * Invariant: these functions are pure over the bytes given to them and
 * never read past the length given (the table's own length, checked
 * against the caller's bound); a malformed input yields false and one
 * line in err naming the table and field, never a guess.
 */
#include "kernel/acpi/acpi.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define FADT_FLAGS_TMR_VAL_EXT (1u << 8)
#define FADT_FLAGS_RESET_REG_SUP (1u << 10)
#define FADT_IAPC_8042 (1u << 1) /* IAPC_BOOT_ARCH, offset 109, ACPI 2.0 (revision 3) on */

static struct acpi_gas rd_gas(const uint8_t *p)
{
	return (struct acpi_gas){.space = p[0], .bit_width = p[1], .bit_offset = p[2],
				 .access_size = p[3], .address = acpi_get64(p + 4)};
}

/*
 * An I/O-port register of the FADT: the 64-bit GAS when the table is long
 * enough to have it and it is set, else the legacy 32-bit port field.
 * Returns false when the GAS names memory space (Pagoda drives the PM1
 * and PM timer blocks through ports only, as every PC chipset has them).
 */
static bool fadt_port(const uint8_t *t, uint32_t len, unsigned legacy_off, unsigned gas_off,
		      uint64_t *port)
{
	if (gas_off + 12 <= len) {
		struct acpi_gas g = rd_gas(t + gas_off);
		if (g.address) {
			*port = g.address;
			return g.space == ACPI_GAS_IO;
		}
	}
	*port = acpi_get32(t + legacy_off);
	return true;
}

bool acpi_fadt_parse(const struct acpi_sdt_header *fadt, struct acpi_fadt_info *out, char *err,
		     size_t err_size)
{
	const uint8_t *t = (const uint8_t *)fadt;
	*out = (struct acpi_fadt_info){0};
	if (memcmp(fadt->signature, "FACP", 4) != 0) {
		snprintf(err, err_size, "FADT: signature \"%.4s\", expected FACP",
			     fadt->signature);
		return false;
	}
	/* ACPI 1.0's FADT ends at 116; everything Pagoda needs from it is before that. */
	if (fadt->length < ACPI_FADT_MIN_LENGTH) {
		snprintf(err, err_size, "FADT: length %u is shorter than ACPI 1.0's %u",
			     fadt->length, ACPI_FADT_MIN_LENGTH);
		return false;
	}
	uint32_t len = fadt->length;
	uint32_t flags = acpi_get32(t + 112);
	out->dsdt = len >= 148 && acpi_get64(t + 140) ? acpi_get64(t + 140) : acpi_get32(t + 40);
	if (!fadt_port(t, len, 64, 172, &out->pm1a_cnt) ||
	    !fadt_port(t, len, 68, 184, &out->pm1b_cnt)) {
		snprintf(err, err_size, "FADT: X_PM1x_CNT_BLK is in memory space, not I/O");
		return false;
	}
	if (!fadt_port(t, len, 76, 208, &out->pm_tmr)) {
		snprintf(err, err_size, "FADT: X_PM_TMR_BLK is in memory space, not I/O");
		return false;
	}
	if (out->pm_tmr && t[91] != 4) {
		snprintf(err, err_size, "FADT: PM_TMR_LEN is %u, must be 4 with a PM timer",
			     t[91]);
		return false;
	}
	out->pm_tmr_32bit = flags & FADT_FLAGS_TMR_VAL_EXT;
	if (fadt->revision >= 3)
		out->i8042 = (acpi_get16(t + 109) & FADT_IAPC_8042) ? ACPI_8042_PRESENT
								      : ACPI_8042_ABSENT;
	if (len >= 129 && (flags & FADT_FLAGS_RESET_REG_SUP)) {
		out->reset_reg = rd_gas(t + 116);
		out->reset_value = t[128];
		out->reset_supported = out->reset_reg.address != 0;
	}
	return true;
}

bool acpi_hpet_parse(const struct acpi_sdt_header *hpet, phys_addr_t *base, char *err,
		     size_t err_size)
{
	const uint8_t *t = (const uint8_t *)hpet;
	if (memcmp(hpet->signature, "HPET", 4) != 0 || hpet->length < 56) {
		snprintf(err, err_size, "HPET table: signature \"%.4s\" or length %u wrong "
			     "(HPET, at least 56)", hpet->signature, hpet->length);
		return false;
	}
	struct acpi_gas g = rd_gas(t + 40);
	if (g.space != ACPI_GAS_MEMORY || !g.address || (g.address & 0x3ff)) {
		snprintf(err, err_size, "HPET table: base address %#llx (space %u) is not a "
			     "1 KiB-aligned memory address", (unsigned long long)g.address, g.space);
		return false;
	}
	*base = g.address;
	return true;
}

/* One AML integer: ZeroOp, OneOp, OnesOp, or a Byte/Word/DWord prefix and its value. */
static int aml_integer(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	if (p >= end)
		return -1;
	switch (p[0]) {
	case 0x00: *v = 0; return 1;
	case 0x01: *v = 1; return 1;
	case 0xff: *v = ~0ull; return 1;
	case 0x0a: if (end - p < 2) return -1; *v = p[1]; return 2;
	case 0x0b: if (end - p < 3) return -1; *v = p[1] | (uint64_t)p[2] << 8; return 3;
	case 0x0c: if (end - p < 5) return -1; *v = acpi_get32(p + 1); return 5;
	default: return -1;
	}
}

bool acpi_aml_find_s5(const uint8_t *aml, size_t len, uint8_t *slp_typ_a, uint8_t *slp_typ_b,
		      char *err, size_t err_size)
{
	const uint8_t *end = aml + len;
	for (const uint8_t *p = aml; p + 4 <= end; p++) {
		if (memcmp(p, "_S5_", 4) != 0)
			continue;
		/* A declaration: NameOp (0x08), optionally the root prefix '\', then the name. */
		bool named = (p > aml && p[-1] == 0x08) || (p - aml >= 2 && p[-1] == '\\' && p[-2] == 0x08);
		if (!named)
			continue; /* a reference to _S5_, not its declaration */
		const uint8_t *q = p + 4;
		if (q >= end || q[0] != 0x12) {
			snprintf(err, err_size, "DSDT: _S5_ at AML offset %u is not a Package "
				     "(computed by a method?)", (unsigned)(p - aml));
			return false;
		}
		q++;
		/* PkgLength: the lead byte's top two bits count the bytes that follow it. */
		if (q >= end || end - q < 1 + (q[0] >> 6)) {
			snprintf(err, err_size, "DSDT: _S5_ package truncated (PkgLength)");
			return false;
		}
		q += 1 + (q[0] >> 6);
		if (q >= end || q[0] < 1) {
			snprintf(err, err_size, "DSDT: _S5_ package has no elements");
			return false;
		}
		unsigned count = q[0];
		q++;
		uint64_t a, b;
		int n = aml_integer(q, end, &a);
		if (n < 0 || a > 7) {
			snprintf(err, err_size, "DSDT: _S5_ element 0 (SLP_TYPa) is not an "
				     "integer 0-7");
			return false;
		}
		b = a;
		if (count >= 2) {
			int m = aml_integer(q + n, end, &b);
			if (m < 0 || b > 7) {
				snprintf(err, err_size, "DSDT: _S5_ element 1 (SLP_TYPb) is not "
					     "an integer 0-7");
				return false;
			}
		}
		*slp_typ_a = (uint8_t)a;
		*slp_typ_b = (uint8_t)b;
		return true;
	}
	snprintf(err, err_size, "DSDT: no _S5_ package declared (%u bytes of AML scanned)",
		     (unsigned)len);
	return false;
}
