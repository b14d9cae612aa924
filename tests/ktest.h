/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Pagoda's in-kernel test framework. Suites are registered in the
 * .ktest_suites linker section by KTEST_SUITE(); the runner (tests/ktest.c)
 * runs the cases the `ktest=` list of globs on the kernel command line
 * selects (a glob names suites, or with a '.' "suite.case") and prints
 * KTAP version 1 in KUnit's shape on the console.
 *
 *   EXPECT_*  records a failure (file:line and both values) and continues.
 *   ASSERT_*  records a failure and aborts the case (longjmp to the runner).
 *   KTEST_SKIP(reason) ends the case as skipped.
 *
 * Invariants: cases run one at a time, in the boot CPU's main thread, with
 * interrupts enabled; a case that runs past its timeout (default 10 s, per
 * case `.timeout_ms`) is aborted from the timer tick and reported as
 * failed; if it is blocked at that moment (waiting for other threads) the
 * kernel panics naming the case instead, since it cannot be resumed.
 */
#ifndef PAGODA_TESTS_KTEST_H
#define PAGODA_TESTS_KTEST_H

#include "kernel/boot_info.h"
#include "kernel/types.h"

struct ktest;

struct ktest_case {
	const char *name;
	void (*run)(struct ktest *t);
	unsigned timeout_ms; /* 0: the default */
	unsigned timeout_ms_per_cpu; /* added per online CPU, for work that grows with them */
};

struct ktest_suite {
	const char *name;
	const struct ktest_case *cases; /* terminated by a case with run == NULL */
	/* Optional: called before and after every case. */
	void (*init)(struct ktest *t);
	void (*exit)(struct ktest *t);
};

#define KTEST_CASE(fn) {.name = #fn, .run = fn}
#define KTEST_CASE_TIMEOUT(fn, ms) {.name = #fn, .run = fn, .timeout_ms = (ms)}
/* Timeout = base_ms + per_cpu_ms * online CPUs: the bound a case states for its CPU scaling. */
#define KTEST_CASE_TIMEOUT_CPUS(fn, base_ms, per_cpu_ms)                                           \
	{.name = #fn, .run = fn, .timeout_ms = (base_ms), .timeout_ms_per_cpu = (per_cpu_ms)}
#define KTEST_END {0}

#define KTEST_SUITE(var, suite_name, case_array, ...)                                              \
	static const struct ktest_suite var = {.name = suite_name, .cases = case_array,            \
					       ##__VA_ARGS__};                                     \
	static const struct ktest_suite *const var##_ptr __section(".ktest_suites") __used = &var

/* Per-case state; a case may keep a pointer to its own data in `priv`. */
struct ktest {
	const char *suite;
	const char *name;
	unsigned failures;
	bool skipped;
	char skip_reason[96];
	bool quiet; /* record failures without printing (framework self-tests) */
	void *priv;
};

/* Failure reporting used by the macros; prints in KTAP comment form. */
void ktest_fail_int(struct ktest *t, const char *file, int line, const char *op, const char *lhs,
		    const char *rhs, int64_t lv, int64_t rv, bool is_signed);
void ktest_fail_msg(struct ktest *t, const char *file, int line, const char *fmt, ...)
	__printf(4, 5);
__noreturn void ktest_abort(struct ktest *t);
__noreturn void ktest_skip(struct ktest *t, const char *reason);
/* Prints a diagnostic line ("# ...") inside the current case's output. */
void ktest_log(struct ktest *t, const char *fmt, ...) __printf(2, 3);
/*
 * Moves the running case's deadline to `ms` from now, never earlier than it
 * was. A long case whose length the command line sets (the soak) calls it
 * each time it made progress, so its timeout bounds a stall, not the run.
 * Case thread only.
 */
void ktest_progress(struct ktest *t, unsigned ms);
/*
 * Whether the host said QEMU models no PCI bus (test.nopci, the Raspberry
 * Pi boards): cases that need PCI devices then check that none was found
 * and skip; everywhere else a missing device is a failure.
 */
bool ktest_machine_has_no_pci(void);

#define KTEST_CMP_(t, a, op, b, fatal)                                                             \
	do {                                                                                       \
		__typeof__(a) a_ = (a);                                                            \
		__typeof__(b) b_ = (b);                                                            \
		if (!(a_ op b_)) {                                                                 \
			ktest_fail_int((t), __FILE__, __LINE__, #op, #a, #b, (int64_t)a_,          \
				       (int64_t)b_, ((__typeof__(a_))-1 < (__typeof__(a_))1));                     \
			if (fatal)                                                                 \
				ktest_abort(t);                                                    \
		}                                                                                  \
	} while (0)

#define EXPECT_EQ(t, a, b) KTEST_CMP_(t, a, ==, b, false)
#define EXPECT_NE(t, a, b) KTEST_CMP_(t, a, !=, b, false)
#define EXPECT_LT(t, a, b) KTEST_CMP_(t, a, <, b, false)
#define EXPECT_LE(t, a, b) KTEST_CMP_(t, a, <=, b, false)
#define EXPECT_GT(t, a, b) KTEST_CMP_(t, a, >, b, false)
#define EXPECT_GE(t, a, b) KTEST_CMP_(t, a, >=, b, false)
#define ASSERT_EQ(t, a, b) KTEST_CMP_(t, a, ==, b, true)
#define ASSERT_NE(t, a, b) KTEST_CMP_(t, a, !=, b, true)
#define ASSERT_LT(t, a, b) KTEST_CMP_(t, a, <, b, true)
#define ASSERT_LE(t, a, b) KTEST_CMP_(t, a, <=, b, true)
#define ASSERT_GT(t, a, b) KTEST_CMP_(t, a, >, b, true)
#define ASSERT_GE(t, a, b) KTEST_CMP_(t, a, >=, b, true)
#define EXPECT_TRUE(t, c) EXPECT_EQ(t, !!(c), 1)
#define EXPECT_FALSE(t, c) EXPECT_EQ(t, !!(c), 0)
#define ASSERT_TRUE(t, c) ASSERT_EQ(t, !!(c), 1)
#define ASSERT_FALSE(t, c) ASSERT_EQ(t, !!(c), 0)

#define EXPECT_STREQ(t, a, b)                                                                      \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (strcmp(a_, b_) != 0)                                                           \
			ktest_fail_msg((t), __FILE__, __LINE__,                                    \
				       "Expected %s == %s, but\n    %s == \"%s\"\n    %s == \"%s\"", \
				       #a, #b, #a, a_, #b, b_);                                    \
	} while (0)

#define KTEST_SKIP(t, reason) ktest_skip((t), (reason))

/*
 * Runs fn(arg) with a fault fixture armed on this CPU. Returns true when fn
 * raised a synchronous exception (its details stored in *info, which may
 * be NULL), false when fn returned normally. The fault is reported, not
 * fatal: the fixture longjmps back here.
 */
struct fault_info;
bool ktest_expect_fault(void (*fn)(void *arg), void *arg, struct fault_info *info);

/* A plain load or store at `va` (volatile, never optimised away): provokes a fault. */
static inline uint8_t probe_read(const volatile uint8_t *va)
{
	return *va;
}
static inline void probe_write(volatile uint8_t *va, uint8_t value)
{
	*va = value;
}

/* A filter is part of the command line, so a buffer this large always holds it whole. */
#define KTEST_FILTER_MAX BOOT_CMDLINE_MAX
/*
 * Whether the command line asks for the tests (`ktest` or `ktest=<globs>`);
 * if so the filter is copied to `filter` ("*" for a bare `ktest` or a bad
 * list, which the command-line check has reported).
 */
bool ktest_requested(char *filter, size_t size);
/*
 * Does `glob` select case `case_name` of `suite`? Without a '.' it is
 * matched against the suite's name, with one against "suite.case".
 * ktest_filter_selects: does any glob of the comma-separated `filter`?
 */
bool ktest_glob_selects(const char *glob, const char *suite, const char *case_name);
bool ktest_filter_selects(const char *filter, const char *suite, const char *case_name);
/*
 * Runs every selected case, prints KTAP and returns the number of failed
 * cases plus leaking suites plus globs of the filter that select nothing
 * (each reported on a "ktest: ERROR:" line).
 */
unsigned ktest_run_all(const char *filter);

#endif
