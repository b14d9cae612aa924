// SPDX-License-Identifier: BSD-2-Clause
/*
 * The boot console: an Arm PL011 UART, polled, so it works from any
 * context, panics and exception reports included.
 *
 * Before the device tree is read the console writes to an early PL011 at
 * AARCH64_EARLY_UART_BASE (build.mk's EARLY_UART, the QEMU virt address
 * 0x09000000 by default; 0 disables it), so that a malformed device tree
 * can still be reported. aarch64_boot_main then switches to the UART that
 * /chosen/stdout-path names (the same one on virt). Both are reached
 * through the boot tables' direct-map alias of the low 4 GiB until
 * mm_init: the kernel's own tables map RAM only there, so the switch
 * (mm.c) maps the UART with vm_map_mmio() and moves the console to that
 * address in one step with nothing printed in between.
 *
 * Receiving is polled (arch_console_getc), so the receiver must be on:
 * QEMU's PL011 takes no input unless UARTEN and RXE are set, and firmware
 * may enable the transmitter alone.
 *
 * The baud rate is left as the firmware set it when the firmware enabled
 * the UART (the Pi firmware with enable_uart=1: 115200). When the kernel
 * has to enable it, the divisor is set for 115200 only if the board states
 * the UART's reference clock (aarch64_uart_set_clock: the Pi firmware's
 * default 48 MHz); otherwise it is left alone (virt; QEMU ignores it).
 *
 * A board may add one more UART (aarch64_uart_add: the Pis' mini UART, on
 * their header pins): every byte then goes to both, and input is taken
 * from either, the PL011 first. It moves to the kernel's tables with the
 * PL011, in the same step (aarch64_uart_map / aarch64_uart_use).
 */
#include "arch/aarch64/aarch64.h"
#include "kernel/arch.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"

#define UARTDR	  0x00
#define UARTFR	  0x18
#define UARTLCR_H 0x2C
#define UARTCR	  0x30
#define UARTIMSC  0x38

#define FR_RXFE	     (1u << 4)
#define FR_TXFF	     (1u << 5)
#define LCR_H_FEN    (1u << 4)
#define LCR_H_WLEN_8 (3u << 5)
#define CR_UARTEN    (1u << 0)
#define CR_TXE	     (1u << 8)
#define CR_RXE	     (1u << 9)
#define UARTIBRD     0x24
#define UARTFBRD     0x28
#define UART_BAUD    115200u

static uintptr_t uart;
static phys_addr_t uart_pa;
static uint32_t uart_clock_hz; /* 0: unknown, leave the divisor */
static const struct aarch64_uart_ops *extra;
static void *extra_va; /* the extra UART's new mapping, between map and use */

void aarch64_uart_add(const struct aarch64_uart_ops *ops)
{
	extra = ops;
}

void aarch64_uart_set_clock(uint32_t hz)
{
	uart_clock_hz = hz;
}

void aarch64_uart_init(phys_addr_t base)
{
	void *va = base ? arch_phys_to_virt(base) : NULL;
	uart = (uintptr_t)va;
	uart_pa = va ? base : 0;
	if (!uart)
		return;
	mmio_write32(uart + UARTIMSC, 0); /* polled: no interrupts */
	uint32_t cr = mmio_read32(uart + UARTCR);
	if ((cr & (CR_UARTEN | CR_TXE)) != (CR_UARTEN | CR_TXE)) {
		/* Not set up by the firmware: 8N1 with FIFOs, then enable. */
		mmio_write32(uart + UARTCR, 0);
		if (uart_clock_hz) {
			/* Divisor in 1/64ths: clock / (16 * baud), rounded (PL011 TRM). */
			uint32_t div64 = (uart_clock_hz * 4u + UART_BAUD / 2) / UART_BAUD;
			mmio_write32(uart + UARTIBRD, div64 >> 6);
			mmio_write32(uart + UARTFBRD, div64 & 63);
		}
		/* LCR_H last: it latches the divisor. */
		mmio_write32(uart + UARTLCR_H, LCR_H_WLEN_8 | LCR_H_FEN);
		mmio_write32(uart + UARTCR, CR_UARTEN | CR_TXE | CR_RXE);
	} else if (!(cr & CR_RXE)) {
		mmio_write32(uart + UARTCR, cr | CR_RXE);
	}
}

static void pl011_putc(char c)
{
	if (!uart)
		return;
	/* Bounded wait: a wedged UART must not hang the kernel. */
	for (unsigned i = 0; i < 100000 && (mmio_read32(uart + UARTFR) & FR_TXFF); i++)
		arch_cpu_relax();
	mmio_write32(uart + UARTDR, (uint8_t)c);
}

static int pl011_getc(void)
{
	if (!uart || (mmio_read32(uart + UARTFR) & FR_RXFE))
		return -1;
	return (int)(mmio_read32(uart + UARTDR) & 0xff); /* bits 8-11: error flags */
}

void arch_console_putc(char c)
{
	pl011_putc(c);
	if (extra)
		extra->putc(c);
}

int arch_console_getc(void)
{
	int c = pl011_getc();
	return c < 0 && extra ? extra->getc() : c;
}

void *aarch64_uart_map(void)
{
	extra_va = extra ? extra->map() : NULL;
	if (!uart_pa)
		return NULL;
	/* A PL011's registers fill (far) less than one page. */
	return vm_map_mmio(uart_pa, PAGE_SIZE, "console PL011");
}

void aarch64_uart_use(void *va)
{
	uart = (uintptr_t)va;
	if (extra)
		extra->use(extra_va);
}
