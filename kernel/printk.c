// SPDX-License-Identifier: BSD-2-Clause
/*
 * The console: formatted output over the arch's polled console. One lock
 * serialises whole calls so lines from different CPUs never interleave.
 *
 * Everything written is also kept in a history ring, so a screen console
 * that appears later in the boot (once its framebuffer is mapped) starts
 * with the same text the serial port already showed; registration replays
 * the history and installs the screen under the lock, so no byte is lost
 * or shown twice. The screen's writer runs under the lock and must never
 * print.
 *
 * A CPU that panics takes the console for itself (console_panic_cpu), and
 * every later print from it bypasses the lock: the CPU it interrupted may
 * have been holding it, and the panic message matters more than tidiness.
 */
#include "kernel/printk.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/spinlock.h"
#include "lib/fmt.h"

static spinlock_t console_lock = SPINLOCK_INIT;
int console_panic_cpu = -1;

/* Enough for a screen of 240 x 67 cells, the largest mode a console font fills (1920x1080). */
#define CONSOLE_HISTORY 32768
static char history[CONSOLE_HISTORY];
static uint64_t history_len; /* bytes ever written: the ring's head is history_len % size */
static console_screen_fn screen_write;

static irqflags_t console_enter(bool *locked)
{
	irqflags_t flags = arch_irq_save();
	int owner = atomic_load_acquire(&console_panic_cpu);
	*locked = false;
	if (owner < 0) {
		spin_lock(&console_lock);
		*locked = true;
	} else if ((unsigned)owner != arch_cpu_id()) {
		/* Another CPU is panicking: stay silent and let it speak. */
		for (;;)
			arch_cpu_relax();
	}
	return flags;
}

static void console_leave(irqflags_t flags, bool locked)
{
	if (locked)
		spin_unlock(&console_lock);
	arch_irq_restore(flags);
}

static void emit(const char *s)
{
	const char *start = s;
	for (; *s; s++) {
		if (*s == '\n')
			arch_console_putc('\r');
		arch_console_putc(*s);
		history[history_len++ % CONSOLE_HISTORY] = *s;
	}
	if (screen_write)
		screen_write(start, (size_t)(s - start));
}

void console_add_screen(console_screen_fn write)
{
	bool locked;
	irqflags_t flags = console_enter(&locked);
	size_t head = history_len % CONSOLE_HISTORY;
	if (history_len > CONSOLE_HISTORY) {
		/* The ring wrapped: start at its first whole line. */
		size_t skip = head;
		while (skip < CONSOLE_HISTORY && history[skip] != '\n')
			skip++;
		if (skip + 1 < CONSOLE_HISTORY)
			write(history + skip + 1, CONSOLE_HISTORY - skip - 1);
	}
	write(history, head);
	screen_write = write;
	console_leave(flags, locked);
}

void console_puts(const char *s)
{
	bool locked;
	irqflags_t flags = console_enter(&locked);
	emit(s);
	console_leave(flags, locked);
}

void console_write(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_puts(buf);
}

void vprintk(const char *fmt, va_list ap)
{
	char buf[PRINTK_LINE_MAX];
	uint64_t ns = arch_time_ns();
	int n = snprintf(buf, sizeof(buf), "[%5u.%06u] cpu%u: ", (unsigned)(ns / 1000000000u),
			 (unsigned)(ns / 1000u % 1000000u), arch_cpu_id());
	vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	size_t len = 0;
	while (buf[len])
		len++;
	if (len == 0 || buf[len - 1] != '\n') {
		buf[len++] = '\n';
		buf[len] = 0;
	}
	console_puts(buf);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}
