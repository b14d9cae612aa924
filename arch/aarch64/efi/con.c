// SPDX-License-Identifier: BSD-2-Clause
/*
 * The EFI stub's console: ASCII strings through the firmware's ConOut
 * (UTF-16), in chunks of a small on-stack buffer. Used only before
 * ExitBootServices, for the stub's error lines ("efi: ExitBootServices:
 * status 0x8000000000000002"), so a failed boot is never silent.
 */
#include "arch/aarch64/efi/stub.h"

#define CON_CHUNK 64

void efi_con_puts(struct efi_system_table *st, const char *s)
{
	efi_char16_t buf[CON_CHUNK + 2];
	unsigned n = 0;

	if (!st || !st->con_out)
		return;
	for (; *s; s++) {
		if (*s == '\n')
			buf[n++] = '\r';
		buf[n++] = (efi_char16_t)(unsigned char)*s;
		if (n >= CON_CHUNK) {
			buf[n] = 0;
			st->con_out->output_string(st->con_out, buf);
			n = 0;
		}
	}
	buf[n] = 0;
	st->con_out->output_string(st->con_out, buf);
}

/* "0x" and 16 hex digits: a status reads the same as the spec writes it. */
static void con_put_hex(struct efi_system_table *st, uint64_t v)
{
	char buf[19];
	buf[0] = '0';
	buf[1] = 'x';
	for (int i = 0; i < 16; i++) {
		unsigned d = (unsigned)(v >> (60 - 4 * i)) & 0xf;
		buf[2 + i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
	}
	buf[18] = 0;
	efi_con_puts(st, buf);
}

void efi_con_hex(struct efi_system_table *st, const char *what, uint64_t value)
{
	efi_con_puts(st, "efi: ");
	efi_con_puts(st, what);
	efi_con_puts(st, " ");
	con_put_hex(st, value);
	efi_con_puts(st, "\n");
}

efi_status_t efi_con_fail(struct efi_system_table *st, const char *what, efi_status_t status)
{
	efi_con_puts(st, "efi: ");
	efi_con_puts(st, what);
	efi_con_puts(st, ": status ");
	con_put_hex(st, status);
	efi_con_puts(st, "\n");
	return status;
}
