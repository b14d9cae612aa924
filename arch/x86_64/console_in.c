// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console's input on x86-64: bytes from the serial line (serial.c) or
 * the PS/2 keyboard (ps2kbd.c), whichever has one. The mux lives here and
 * not as a generic list of input sources in kernel/console because x86-64
 * is the only architecture with a second source (aarch64 reads its PL011
 * alone); a registry in kernel/ for one member would be code without a
 * second user, and kernel/ keeps seeing the one arch_console_getc().
 *
 * Invariants: the bytes one key turns into (ESC [ A for Up) are handed
 * out back to back, never with a serial byte between them, so the line
 * editor's escape decoder sees whole sequences; otherwise the serial line
 * goes first, then the keyboard. Never waits (arch.h's contract).
 */
#include "arch/x86_64/ps2kbd.h"
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"

int arch_console_getc(void)
{
	if (ps2kbd_queued())
		return ps2kbd_getc();
	int c = x86_serial_getc();
	return c >= 0 ? c : ps2kbd_getc();
}
