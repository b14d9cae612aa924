// SPDX-License-Identifier: BSD-2-Clause
/*
 * The in-kernel test runner. It walks the .ktest_suites section, runs the
 * suites whose names match the filter (a glob, or comma-separated globs),
 * and prints KTAP version 1 in KUnit's shape:
 *
 *   KTAP version 1
 *   1..<suites>
 *       KTAP version 1
 *       # Subtest: <suite>
 *       1..<cases>
 *       ok 1 <case>
 *       not ok 2 <case>          (preceded by "# ..." diagnostics)
 *       ok 3 <case> # SKIP <why>
 *   # <suite>: pass:N fail:N skip:N total:N
 *   ok 1 <suite>
 *   # Totals: pass:N fail:N skip:N total:N
 *
 * Each case runs inside arch_setjmp so that ASSERT, SKIP, an expected
 * fault and a timeout (detected by the boot CPU's tick) all return here.
 *
 * Around every suite the runner compares the free-frame count: a suite
 * that leaves frames allocated is reported "not ok" with a
 * "# <suite>: frame balance: ..." line even if each case passed, so leaks
 * cannot hide behind passing cases.
 */
#include "tests/ktest.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/mm/frame.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "kernel/time.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define KTEST_DEFAULT_TIMEOUT_MS 10000

enum { CASE_RETURNED = 0, CASE_ABORTED = 1, CASE_SKIPPED = 2, CASE_TIMED_OUT = 3 };

extern const struct ktest_suite *const __ktest_suites_start[];
extern const struct ktest_suite *const __ktest_suites_end[];

static struct arch_jmpbuf case_jmp;
static struct ktest *current_case;
static struct thread *case_thread; /* the thread running the cases */
static uint64_t case_deadline_ns; /* 0: no case running */

struct ktest_counts {
	unsigned pass, fail, skip;
};

static void ktest_tick(void)
{
	uint64_t deadline = READ_ONCE(case_deadline_ns);
	if (deadline && arch_time_ns() > deadline) {
		WRITE_ONCE(case_deadline_ns, 0);
		/*
		 * Only the case's own thread may be pulled out of the case: when
		 * it is blocked and this tick interrupted another thread, there is
		 * no safe way back, so the run ends with the case named.
		 */
		if (thread_current() != case_thread)
			panic("ktest: %s.%s timed out while blocked (waiting for other threads)",
			      current_case ? current_case->suite : "?",
			      current_case ? current_case->name : "?");
		/* The arch has already acknowledged this tick: leaving by longjmp is safe. */
		arch_longjmp(&case_jmp, CASE_TIMED_OUT);
	}
}

void ktest_log(struct ktest *t, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)t;
	console_write("    # %s\n", buf);
}

void ktest_fail_msg(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
	char buf[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	t->failures++;
	if (t->quiet)
		return;
	console_write("    # %s: EXPECTATION FAILED at %s:%d\n", t->name, file, line);
	/* Prefix every line of the message so the KTAP parser keeps it as a diagnostic. */
	char *p = buf;
	while (*p) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		console_write("    #     %s\n", p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

void ktest_fail_int(struct ktest *t, const char *file, int line, const char *op, const char *lhs,
		    const char *rhs, int64_t lv, int64_t rv, bool is_signed)
{
	if (is_signed)
		ktest_fail_msg(t, file, line, "Expected %s %s %s, but\n    %s == %ld (%#lx)\n    %s == %ld (%#lx)",
			       lhs, op, rhs, lhs, (long)lv, (unsigned long)lv, rhs, (long)rv,
			       (unsigned long)rv);
	else
		ktest_fail_msg(t, file, line, "Expected %s %s %s, but\n    %s == %lu (%#lx)\n    %s == %lu (%#lx)",
			       lhs, op, rhs, lhs, (unsigned long)lv, (unsigned long)lv, rhs,
			       (unsigned long)rv, (unsigned long)rv);
}

void ktest_abort(struct ktest *t)
{
	(void)t;
	arch_longjmp(&case_jmp, CASE_ABORTED);
}

void ktest_skip(struct ktest *t, const char *reason)
{
	t->skipped = true;
	strlcpy(t->skip_reason, reason, sizeof(t->skip_reason));
	arch_longjmp(&case_jmp, CASE_SKIPPED);
}

bool ktest_expect_fault(void (*fn)(void *arg), void *arg, struct fault_info *info)
{
	struct arch_jmpbuf fixup;
	struct thread *c = thread_current();
	if (arch_setjmp(&fixup) == 0) {
		c->fault_record = info;
		c->fault_fixup = &fixup;
		fn(arg);
		c->fault_fixup = NULL;
		c->fault_record = NULL;
		return false;
	}
	c->fault_record = NULL;
	return true;
}

static void run_case(const struct ktest_suite *s, const struct ktest_case *kc, unsigned index,
		     struct ktest_counts *counts)
{
	/* static: arch_longjmp may clobber locals of this frame that live in registers. */
	static struct ktest t;
	memset(&t, 0, sizeof(t));
	t.suite = s->name;
	t.name = kc->name;
	current_case = &t;
	unsigned timeout = kc->timeout_ms ? kc->timeout_ms : KTEST_DEFAULT_TIMEOUT_MS;

	int how = arch_setjmp(&case_jmp);
	if (how == CASE_RETURNED) {
		WRITE_ONCE(case_deadline_ns, arch_time_ns() + (uint64_t)timeout * 1000000ull);
		if (s->init)
			s->init(&t);
		kc->run(&t);
	}
	WRITE_ONCE(case_deadline_ns, 0);
	arch_irq_enable();
	thread_current()->fault_fixup = NULL;
	if (how == CASE_TIMED_OUT) {
		t.failures++;
		console_write("    # %s: TIMEOUT after %u ms\n", t.name, timeout);
	}
	if (s->exit && how != CASE_TIMED_OUT)
		s->exit(&t);
	current_case = NULL;

	if (t.skipped && t.failures == 0) {
		counts->skip++;
		console_write("    ok %u %s # SKIP %s\n", index, t.name, t.skip_reason);
	} else if (t.failures) {
		counts->fail++;
		console_write("    not ok %u %s%s\n", index, t.name,
			      how == CASE_TIMED_OUT ? " # TIMEOUT" : "");
	} else {
		counts->pass++;
		console_write("    ok %u %s\n", index, t.name);
	}
}

unsigned ktest_run_all(const char *filter)
{
	const struct ktest_suite *const *begin = __ktest_suites_start;
	const struct ktest_suite *const *end = __ktest_suites_end;
	unsigned nr_suites = 0;
	for (const struct ktest_suite *const *s = begin; s < end; s++)
		if (glob_match_list(filter, (*s)->name))
			nr_suites++;
	printk("ktest: running %u suites matching '%s'", nr_suites, filter);
	case_thread = thread_current();
	timer_tick_hook = ktest_tick;

	struct ktest_counts total = {0};
	unsigned leaks = 0;
	console_write("KTAP version 1\n1..%u\n", nr_suites);
	unsigned index = 0;
	for (const struct ktest_suite *const *sp = begin; sp < end; sp++) {
		const struct ktest_suite *s = *sp;
		if (!glob_match_list(filter, s->name))
			continue;
		unsigned nr_cases = 0;
		while (s->cases[nr_cases].run)
			nr_cases++;
		console_write("    KTAP version 1\n    # Subtest: %s\n    # module: pagoda\n    1..%u\n",
			      s->name, nr_cases);
		struct ktest_counts c = {0};
		uint64_t frames_before = frame_free_count();
		for (unsigned i = 0; i < nr_cases; i++)
			run_case(s, &s->cases[i], i + 1, &c);
		uint64_t frames_after = frame_free_count();
		bool leaked = frames_after != frames_before;
		console_write("# %s: pass:%u fail:%u skip:%u total:%u\n", s->name, c.pass, c.fail,
			      c.skip, nr_cases);
		console_write("# %s: frame balance: %lu free before, %lu after%s\n", s->name,
			      (unsigned long)frames_before, (unsigned long)frames_after,
			      leaked ? " (LEAK)" : "");
		if (leaked)
			leaks++;
		bool suite_skipped = c.pass == 0 && c.fail == 0 && c.skip > 0;
		console_write("%s %u %s%s\n", c.fail || leaked ? "not ok" : "ok", ++index, s->name,
			      suite_skipped ? " # SKIP" : "");
		total.pass += c.pass;
		total.fail += c.fail;
		total.skip += c.skip;
	}
	timer_tick_hook = NULL;
	console_write("# Totals: pass:%u fail:%u skip:%u total:%u\n", total.pass, total.fail,
		      total.skip, total.pass + total.fail + total.skip);
	return total.fail + leaks;
}
