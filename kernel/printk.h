/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Console output. printk() writes one log line prefixed with the time and
 * the CPU id ("[    0.123456] cpu1: ..."); console_write() writes raw text
 * with no prefix (KTAP output, which the host runner parses). Both hold the
 * console lock for a whole call, so lines from different CPUs never mix.
 *
 * panic() prints "PANIC on cpuN: <message>", a backtrace, stops every other
 * CPU and exits with EXIT_PANIC. Messages follow "function: reason".
 */
#ifndef PAGODA_KERNEL_PRINTK_H
#define PAGODA_KERNEL_PRINTK_H

#include "kernel/types.h"

/*
 * The longest printk() or panic() line kept whole, prefix included; a
 * longer one is cut there, and still ends its line. The longest real one is
 * the command line's report of a bad tlb.break= word, which lists every
 * word (CMDLINE_VALUES_MAX, kernel/cmdline.c).
 */
#define PRINTK_LINE_MAX 1024

void printk(const char *fmt, ...) __printf(1, 2);
void vprintk(const char *fmt, va_list ap);
/* Raw text, no prefix, no newline added. */
void console_write(const char *fmt, ...) __printf(1, 2);
void console_puts(const char *s);
/*
 * A screen console: receives every byte written to the console (raw text,
 * '\n' for a new line), called with the console lock held and interrupts
 * off; it must never print. console_add_screen first replays the text
 * written since boot (as much as the history keeps), then installs it.
 */
typedef void (*console_screen_fn)(const char *s, size_t len);
void console_add_screen(console_screen_fn write);
__noreturn void panic(const char *fmt, ...) __printf(1, 2);
/* Prints a frame-pointer backtrace starting at `fp`, with symbol names. */
void backtrace_print(uintptr_t fp);
/*
 * The caller's frame pointer. Frames are {prev_fp, return_address} on both
 * arches (built with -fno-omit-frame-pointer), so no arch code is needed.
 */
#define current_frame_pointer() ((uintptr_t)__builtin_frame_address(0))
/* Name of the function containing `addr` and the offset into it, or NULL. */
const char *symbol_lookup(uintptr_t addr, uintptr_t *offset);

#define BUG_ON(cond)                                                                               \
	do {                                                                                       \
		if (unlikely(cond))                                                                \
			panic("%s: BUG_ON(%s) at %s:%d", __func__, #cond, __FILE__, __LINE__);     \
	} while (0)

/* The CPU that owns the console after a panic (-1: none); set once by panic(). */
extern int console_panic_cpu;

#endif
