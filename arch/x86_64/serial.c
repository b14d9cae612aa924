// SPDX-License-Identifier: BSD-2-Clause
/*
 * The boot console: a 16550 UART at COM1 (I/O port 0x3F8), 115200 8N1,
 * polled. Polling keeps it usable from any context, panics included.
 * Receiving is polled too (x86_serial_getc, read by arch_console_getc in
 * console_in.c next to the PS/2 keyboard): the FIFO holds 16 bytes,
 * and QEMU stops reading its host side while it is full, so a slow poller
 * loses nothing.
 */
#include "arch/x86_64/x86.h"
#include "kernel/arch.h"

#define COM1 0x3F8
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

void x86_serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB on */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	outb(COM1 + 2, 0xC7); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

void arch_console_putc(char c)
{
	/* Bounded wait: a missing UART must not hang the kernel. */
	for (unsigned i = 0; i < 100000 && !(inb(COM1 + 5) & LSR_THR_EMPTY); i++)
		__asm__ __volatile__("pause");
	outb(COM1, (uint8_t)c);
}

int x86_serial_getc(void)
{
	if (!(inb(COM1 + 5) & LSR_DATA_READY))
		return -1;
	return inb(COM1);
}
