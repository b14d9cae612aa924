// SPDX-License-Identifier: BSD-2-Clause
/*
 * panic(): the one way Pagoda gives up. It claims the console, prints the
 * message with the CPU id and a backtrace, stops every other CPU with
 * IPI_STOP and leaves the machine with EXIT_PANIC, so the host runner sees
 * a failure at once instead of waiting for its timeout.
 *
 * A second panic (on another CPU, or a fault inside panic) does not print
 * over the first: only the first CPU to claim console_panic_cpu speaks.
 */
#include "kernel/printk.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/percpu.h"
#include "lib/fmt.h"


void panic(const char *fmt, ...)
{
	arch_irq_disable();
	int expected = -1;
	int me = (int)arch_cpu_id();
	if (!atomic_cmpxchg(&console_panic_cpu, &expected, me)) {
		if (expected == me) /* panic while panicking: just leave */
			arch_exit(EXIT_PANIC);
		arch_cpu_halt();
	}

	/* Stop the others first so they cannot scribble over the report. */
	cpumask_t others = cpumask_read(&cpu_online_mask);
	cpumask_clear(&others, (unsigned)me);
	if (!cpumask_empty(others))
		arch_ipi_send(others, IPI_STOP);

	char buf[PRINTK_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* In pieces: a long reason must not push its own end of line out of a buffer. */
	console_write("\nPANIC on cpu%d: ", me);
	console_puts(buf);
	console_puts("\n");
	backtrace_print(current_frame_pointer());
	console_puts("---[ end panic ]---\n");
	arch_exit(EXIT_PANIC);
}
