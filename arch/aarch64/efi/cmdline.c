// SPDX-License-Identifier: BSD-2-Clause
/*
 * The command line under UEFI: the loaded image's LoadOptions, which
 * GRUB's `linux` command fills with "BOOT_IMAGE=<path> <arguments>" in
 * UTF-16. The stub turns it into the ASCII line the kernel parses.
 *
 * Invariants: the result is NUL-terminated and holds only printable ASCII
 * (anything else becomes '?', so a bad character is visible to the
 * command-line checker instead of cutting the line short); GRUB's leading
 * BOOT_IMAGE= word is dropped (it names the file, not a kernel key); a line
 * longer than the buffer is cut at a word boundary, never mid-word.
 */
#include "arch/aarch64/efi/stub.h"

static bool starts_with(const char *s, const char *prefix)
{
	while (*prefix)
		if (*s++ != *prefix++)
			return false;
	return true;
}

void efi_cmdline_from_utf16(char *out, size_t out_size, const efi_char16_t *in, uint32_t bytes)
{
	size_t n = 0, i, last_space = 0, len = in ? bytes / 2 : 0;
	const char *p;

	for (i = 0; i < len && in[i]; i++) {
		efi_char16_t c = in[i];
		if (n + 1 >= out_size) {
			n = last_space; /* cut at the last word boundary */
			break;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			last_space = n;
		out[n++] = (c == '\t' || c == '\r' || c == '\n') ? ' '
			   : (c >= 0x20 && c < 0x7f)		 ? (char)c
								 : '?';
	}
	out[n] = 0;
	if (!starts_with(out, "BOOT_IMAGE="))
		return;
	p = out;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	for (i = 0; p[i]; i++)
		out[i] = p[i];
	out[i] = 0;
}

enum efi_stub_break efi_cmdline_break(const char *cmdline)
{
	static const char key[] = "efi.break=";
	const char *p = cmdline, *v;

	while (*p) {
		while (*p == ' ')
			p++;
		if (starts_with(p, key)) {
			v = p + sizeof(key) - 1;
			if (starts_with(v, "magic"))
				return EFI_BREAK_MAGIC;
			if (starts_with(v, "version"))
				return EFI_BREAK_VERSION;
			if (starts_with(v, "runtime_usable"))
				return EFI_BREAK_RUNTIME_USABLE;
		}
		while (*p && *p != ' ')
			p++;
	}
	return EFI_BREAK_NONE;
}
