// SPDX-License-Identifier: BSD-2-Clause
/*
 * Host implementations of what the parsers link against (see fuzz.h):
 * fake physical memory, printk/panic, kva. printk formats with the
 * kernel's lib/fmt.c (so a bad %s argument, such as an unterminated string
 * from a blob, is read the way the kernel would read it, under ASan) and
 * prints nothing unless FUZZ_VERBOSE is set in the environment.
 *
 * Invariant: between fuzz inputs nothing the parsers read survives except
 * what the harness resets itself (boot_info here, a target's own globals
 * in its file); fake memory is rewritten, and re-poisoned, for every input.
 */
#include <sanitizer/asan_interface.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/arch.h"
#include "kernel/boot_info.h"
#include "kernel/mm/frame.h"
#include "kernel/printk.h"
#include "lib/fmt.h"
#include "tests/fuzz/fuzz.h"

const struct arch_mm_layout arch_mm_layout = {.boot_mapped_limit = FUZZ_PHYS_LIMIT};

/*
 * One pool, allocated once: the block of an input is its last `size` bytes
 * (so it ends where ASan's redzone after the pool starts) and the bytes in
 * front of it are poisoned. A fresh malloc of up to 2 MiB per input made
 * the fdt target ten times slower.
 */
static uint8_t *pool;
static uint8_t *mem;
static size_t mem_size;
static phys_addr_t mem_base;

phys_addr_t fuzz_phys_place(const void *data, size_t len, size_t size)
{
	if (!pool && !(pool = malloc(FUZZ_PHYS_MAX)))
		abort();
	if (size > FUZZ_PHYS_MAX)
		fuzz_bug("fuzz_phys_place: %zu bytes of fake memory, at most %u", size,
			 (unsigned)FUZZ_PHYS_MAX);
	ASAN_UNPOISON_MEMORY_REGION(pool, FUZZ_PHYS_MAX);
	ASAN_POISON_MEMORY_REGION(pool, FUZZ_PHYS_MAX - size);
	mem = pool + FUZZ_PHYS_MAX - size;
	mem_size = size;
	mem_base = FUZZ_PHYS_LIMIT - size;
	len = len < size ? len : size;
	memcpy(mem, data, len);
	memset(mem + len, 0, size - len);
	return mem_base;
}

void *arch_phys_to_virt(phys_addr_t pa)
{
	if (!mem || pa < mem_base || pa >= FUZZ_PHYS_LIMIT)
		return NULL;
	return mem + (pa - mem_base);
}

phys_addr_t arch_virt_to_phys(const void *va)
{
	const uint8_t *p = va;
	if (!mem || p < mem || p >= mem + mem_size)
		fuzz_bug("arch_virt_to_phys: %p is not in fake physical memory", va);
	return mem_base + (phys_addr_t)(p - mem);
}

void *kva(phys_addr_t pa)
{
	return arch_phys_to_virt(pa);
}

void fuzz_reset_boot_info(void)
{
	memset(&boot_info, 0, sizeof(boot_info));
}

/* ---- Console ------------------------------------------------------------------ */

static bool verbose(void)
{
	static int v = -1;
	if (v < 0)
		v = getenv("FUZZ_VERBOSE") != NULL;
	return v;
}

/* Formats with the kernel's vsnprintf; prints to stderr when `always` or verbose. */
static void say(const char *prefix, bool always, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (always || verbose())
		fprintf(stderr, "%s%s\n", prefix, line);
}

void vprintk(const char *fmt, va_list ap)
{
	say("printk: ", false, fmt, ap);
}

void printk(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void fuzz_bug(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say("FUZZ BUG: ", true, fmt, ap);
	va_end(ap);
	abort();
}

void fuzz_check_message(const char *who, const char *msg)
{
	if (!msg[0] || strchr(msg, '\n'))
		fuzz_bug("%s: rejection message is not one non-empty line: \"%s\"", who, msg);
}

/* ---- Panic ---------------------------------------------------------------------- */

char fuzz_panic_message[256];
static jmp_buf *panic_catch;

bool fuzz_try(void (*fn)(void *), void *arg)
{
	jmp_buf env;
	jmp_buf *outer = panic_catch;
	fuzz_panic_message[0] = 0;
	if (setjmp(env)) {
		panic_catch = outer;
		/* The kernel's shape, "function: reason", on one line. */
		const char *colon = strstr(fuzz_panic_message, ": ");
		if (!colon || colon == fuzz_panic_message || strchr(fuzz_panic_message, '\n'))
			fuzz_bug("panic message is not one line \"name: reason\": \"%s\"",
				 fuzz_panic_message);
		return false;
	}
	panic_catch = &env;
	fn(arg);
	panic_catch = outer;
	return true;
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(fuzz_panic_message, sizeof(fuzz_panic_message), fmt, ap);
	va_end(ap);
	if (verbose() || !panic_catch)
		fprintf(stderr, "panic: %s\n", fuzz_panic_message);
	if (!panic_catch) {
		fprintf(stderr, "FUZZ BUG: panic where the contract promises a message instead\n");
		abort();
	}
	longjmp(*panic_catch, 1);
}
