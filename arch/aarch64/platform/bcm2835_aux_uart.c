// SPDX-License-Identifier: BSD-2-Clause
/*
 * The Raspberry Pis' mini UART (BCM2835 AUX UART, "brcm,bcm2835-aux-uart"),
 * a second console beside the PL011: a real Pi 3 or Pi 4 with
 * enable_uart=1 routes its header pins (8 TX, 10 RX) to it, while the
 * PL011 talks to the Bluetooth chip. Polled, like the PL011 driver, so it
 * works from panics; it joins the console through aarch64_uart_add.
 *
 * Its registers are 16550-like, one per word (IO, IER, IIR, LCR, MCR, LSR
 * ...), then the AUX extras (CNTL, STAT, BAUD); the AUX block around it
 * holds AUXENB, whose bit 0 powers the mini UART.
 *
 * Before the device tree is read, the board's guessed address
 * (bcm2835_aux_uart_early) is used only if the firmware left the UART
 * enabled, so that a missing or wrong tree is reported on the header too.
 *
 * Invariants: once the tree is read, the addresses come from it
 * (fdt_platform, set only from an okay node translated through /soc's
 * ranges); any address is touched only when the boot map makes it Device,
 * as the PL011's are;
 * after mm_init only through vm_map_mmio mappings. The baud rate is left
 * as the firmware set it when the firmware enabled the UART (enable_uart=1:
 * 115200 from a fixed core clock); otherwise it is set for 115200 from the
 * clock the device tree states, or left unknown, said in one line. Every
 * wait on the transmitter is bounded: a wedged UART never hangs the kernel.
 */
#include "arch/aarch64/aarch64.h"
#include "arch/aarch64/platform/platform.h"
#include "boot/fdt_platform.h"
#include "kernel/arch.h"
#include "kernel/cmdline.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/vm.h"
#include "kernel/printk.h"

#define AUX_ENB		0x04 /* in the AUX block */
#define MU_IO		0x00 /* from here on: the mini UART's own registers */
#define MU_IER		0x04
#define MU_LCR		0x0C
#define MU_MCR		0x10
#define MU_LSR		0x14
#define MU_CNTL		0x20
#define MU_BAUD		0x28
#define AUX_ENB_UART	(1u << 0)
#define MU_LCR_8BIT	3u /* bit 1 as well: the datasheet's erratum */
#define MU_LSR_RX_READY (1u << 0)
#define MU_LSR_TX_EMPTY (1u << 5)
#define MU_CNTL_RX	(1u << 0)
#define MU_CNTL_TX	(1u << 1)
#define MU_BAUD_RATE	115200u
#define MU_REGS_SIZE	0x40

/* The words of `uart.break=`, in this order. */
enum uart_cmdline_break { UART_BREAK_NONE, UART_BREAK_NO_AUX, UART_BREAK_NO_AUX_RX };
CMDLINE_PARAM(uart_break_param, .key = "uart.break", .kind = CMDLINE_ENUM,
	      .values = "none|no_aux|no_aux_rx", .def = "none",
	      .help = "test-only: leave the Pi's mini UART out of the console, or out of its "
		      "input (make board-miniuart-check must then fail)");

static uintptr_t mu;
/* Test-only (uart.break=no_aux_rx): input typed into the mini UART is never read. */
static bool break_no_rx;

static void aux_uart_putc(char c)
{
	for (unsigned i = 0; i < 100000 && !(mmio_read32(mu + MU_LSR) & MU_LSR_TX_EMPTY); i++)
		arch_cpu_relax();
	mmio_write32(mu + MU_IO, (uint8_t)c);
}

static int aux_uart_getc(void)
{
	if (break_no_rx || !(mmio_read32(mu + MU_LSR) & MU_LSR_RX_READY))
		return -1;
	return (int)(mmio_read32(mu + MU_IO) & 0xff);
}

static void *aux_uart_map(void)
{
	/* AUXENB is written once, before this: only the UART's own registers move. */
	return vm_map_mmio(fdt_platform.aux_uart_base, MU_REGS_SIZE, "console mini UART");
}

static void aux_uart_use(void *va)
{
	mu = (uintptr_t)va; /* never NULL: vm_map_mmio panics rather than fail */
}

static const struct aarch64_uart_ops aux_uart_ops = {
    .putc = aux_uart_putc,
    .getc = aux_uart_getc,
    .map = aux_uart_map,
    .use = aux_uart_use,
};

/*
 * Powers the mini UART in AUXENB and sets 8N1, no interrupts, no flow
 * control; the divisor only when the tree states the clock. Returns what
 * the log line should say about the baud rate.
 */
static const char *aux_uart_enable(uintptr_t aux)
{
	uint32_t hz = fdt_platform.aux_uart_clock_hz;
	mmio_write32(aux + AUX_ENB, mmio_read32(aux + AUX_ENB) | AUX_ENB_UART);
	mmio_write32(mu + MU_CNTL, 0);
	mmio_write32(mu + MU_IER, 0);
	mmio_write32(mu + MU_LCR, MU_LCR_8BIT);
	mmio_write32(mu + MU_MCR, 0);
	if (hz >= 8 * MU_BAUD_RATE) {
		/* baud = clock / (8 * (BAUD + 1)), rounded to the nearest divisor. */
		uint32_t div = (hz + 4 * MU_BAUD_RATE) / (8 * MU_BAUD_RATE);
		mmio_write32(mu + MU_BAUD, div - 1);
	}
	mmio_write32(mu + MU_CNTL, MU_CNTL_RX | MU_CNTL_TX);
	return hz >= 8 * MU_BAUD_RATE ? "enabled by Pagoda, 115200 baud from the tree's clock"
				      : "enabled by Pagoda; baud rate unknown (the device tree "
					"states no clock rate): whatever the divisor gives";
}

void bcm2835_aux_uart_early(phys_addr_t pa)
{
	if (!aarch64_boot_map_device(pa))
		return;
	uintptr_t va = (uintptr_t)arch_phys_to_virt(pa);
	/* A UART the firmware left off (or AUXENB clear: reads 0) waits for the tree. */
	if (!va || !(mmio_read32(va + MU_CNTL) & MU_CNTL_TX))
		return;
	mu = va;
	aarch64_uart_add(&aux_uart_ops);
}

void bcm2835_aux_uart_console_init(void)
{
	phys_addr_t pa = fdt_platform.aux_uart_base, aux_pa = fdt_platform.aux_base;
	const char *how = "enabled by the firmware, its baud rate kept";
	unsigned broken = cmdline_enum("uart.break");
	/* From here on the tree decides: the early guess goes, whatever follows. */
	aarch64_uart_add(NULL);
	if (!pa)
		return; /* fdt_boot said why */
	if (broken == UART_BREAK_NO_AUX) {
		printk("console: WARNING: mini UART left out (uart.break=no_aux): "
		       "board-miniuart-check must fail");
		return;
	}
	if (!aarch64_boot_map_device(pa) || !aarch64_boot_map_device(aux_pa)) {
		printk("console: mini UART %#lx or AUX %#lx is not Device memory in the boot map; "
		       "PL011 only",
		       (unsigned long)pa, (unsigned long)aux_pa);
		return;
	}
	mu = (uintptr_t)arch_phys_to_virt(pa);
	uintptr_t aux = (uintptr_t)arch_phys_to_virt(aux_pa);
	if (!(mmio_read32(aux + AUX_ENB) & AUX_ENB_UART) ||
	    (mmio_read32(mu + MU_CNTL) & MU_CNTL_TX) == 0)
		how = aux_uart_enable(aux);
	else if (!(mmio_read32(mu + MU_CNTL) & MU_CNTL_RX))
		mmio_write32(mu + MU_CNTL, mmio_read32(mu + MU_CNTL) | MU_CNTL_RX);
	aarch64_uart_add(&aux_uart_ops);
	printk("console: mini UART %#lx (the header's pins 8/10) beside the PL011: %s",
	       (unsigned long)pa, how);
	if (broken == UART_BREAK_NO_AUX_RX) {
		break_no_rx = true;
		printk("console: WARNING: mini UART input ignored (uart.break=no_aux_rx): "
		       "board-miniuart-check must fail");
	}
}
