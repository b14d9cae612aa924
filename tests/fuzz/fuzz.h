/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The host shim the fuzz targets (tests/fuzz/fuzz_*.c) link the kernel's
 * parsers against: fake physical memory behind arch_phys_to_virt/kva,
 * printk through the kernel's own formatter, and a panic() that tells a
 * documented rejection from a crash. Built by tools/fuzz.mk only; the
 * kernel's Makefile never compiles tests/fuzz/.
 *
 * Fake physical memory is one heap block that ends exactly at
 * FUZZ_PHYS_LIMIT, the boot_mapped_limit the shim reports: below the block
 * arch_phys_to_virt gives NULL (memory the harness does not model), and a
 * read past its end is a read past the boot mappings, which ASan reports.
 * A harness sizes the block to what the parser may read (the header's own
 * claim, capped as the kernel caps it), so reading one byte more is a bug.
 *
 * Panics: a parser whose contract is to panic on malformed input
 * (fdt_boot_parse, multiboot2_parse, pvh_parse, acpi_init, the boot_info
 * adders) runs inside fuzz_try(), where panic() longjmps back: a clean
 * rejection. Anywhere else panic() is a bug (the pure decoders promise a
 * message in err instead) and aborts, which libFuzzer records as a crash.
 */
#ifndef PAGODA_TESTS_FUZZ_FUZZ_H
#define PAGODA_TESTS_FUZZ_FUZZ_H

#include "kernel/types.h"

#define FUZZ_PHYS_LIMIT (1ull << 32) /* x86-64's boot mappings end at 4 GiB too */
#define FUZZ_PHYS_MAX	MiB(2)	     /* the largest block: the FDT parser's cap */

/*
 * Makes fake physical memory of `size` bytes (at most FUZZ_PHYS_MAX) ending
 * at FUZZ_PHYS_LIMIT, holding `data` (len bytes; cut at size) followed by
 * zeros; the previous block is gone. Returns the block's physical address.
 */
phys_addr_t fuzz_phys_place(const void *data, size_t len, size_t size);

/*
 * Runs fn(arg) with panics allowed. True when fn returned; false when it
 * panicked, with the message in fuzz_panic_message (then checked: one
 * non-empty line of the form "name: reason").
 */
bool fuzz_try(void (*fn)(void *), void *arg);
extern char fuzz_panic_message[256];

/* Zeroes boot_info, as the kernel starts with it (.bss). */
void fuzz_reset_boot_info(void);

/*
 * An error message a decoder returned with `false`: it must be one
 * non-empty line (the kernel prints it as a log line). Aborts otherwise.
 */
void fuzz_check_message(const char *who, const char *msg);

/* Reports a broken invariant of the harness's own checks and aborts: a crash. */
__noreturn void fuzz_bug(const char *fmt, ...) __printf(1, 2);

#endif
