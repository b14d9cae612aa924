// SPDX-License-Identifier: BSD-2-Clause
/*
 * The in-kernel test runner. It walks the .ktest_suites section, runs the
 * cases the filter selects, and prints KTAP version 1 in KUnit's shape:
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
 * The filter (`ktest=` on the command line) is a comma-separated list of
 * globs. A glob without a '.' names suites ("tlb", "*fault*"); one with a
 * '.' names cases as "suite.case" ("mm.stale_*", "*.unmap_*"). A case runs
 * when any glob selects it; a suite's plan and numbering count only its
 * selected cases. A glob that selects nothing is a mistake, not an empty
 * wish: it is reported as "ktest: ERROR: ..." (the host runner fails the
 * run on that line) and counted as a failure.
 *
 * Each case runs inside arch_setjmp so that ASSERT, SKIP, an expected
 * fault and a timeout (detected by the boot CPU's tick) all return here.
 *
 * Around every suite the runner compares the free-frame count: a suite
 * that leaves frames allocated is reported "not ok" with a
 * "# <suite>: frame balance: ..." line even if each case passed, so leaks
 * cannot hide behind passing cases. After the balance the page-table
 * audit (kernel/mm/audit.h) checks every live address space and the
 * kernel's tables; a violation fails the suite the same way, with a
 * "# <suite>: audit: ..." line naming it.
 */
#include "tests/ktest.h"
#include "kernel/arch.h"
#include "kernel/atomic.h"
#include "kernel/cmdline.h"
#include "kernel/mm/audit.h"
#include "kernel/mm/failinject.h"
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

CMDLINE_PARAM(ktest_param, .key = "ktest", .kind = CMDLINE_GLOBS, .bare_ok = true, .def = "*",
	      .help = "run the tests selected by these globs (suite or suite.case), then exit");
/* What the host asked QEMU for (make test passes them), so tests compare against it. */
CMDLINE_PARAM(test_cpus_param, .key = "test.cpus", .kind = CMDLINE_U64, .min = 1, .max = 4096,
	      .def = "none", .fallback = "none (the tests comparing with it skip)",
	      .help = "tests: the CPU count QEMU was given (-smp)");
CMDLINE_PARAM(test_mem_param, .key = "test.mem", .kind = CMDLINE_SIZE, .unit = MiB(1),
	      .min = MiB(1), .def = "none", .fallback = "none (the tests comparing with it skip)",
	      .help = "tests: the RAM size QEMU was given (-m; a bare number counts MiB)");

CMDLINE_PARAM(test_nopci_param, .key = "test.nopci", .kind = CMDLINE_FLAG, .def = "off",
	      .help = "tests: QEMU models no PCI bus (BOARD=raspi3b/raspi4b): PCI cases skip");

bool ktest_machine_has_no_pci(void)
{
	return cmdline_has("test.nopci");
}

static struct arch_jmpbuf case_jmp;
static struct ktest *current_case;
static struct thread *case_thread; /* the thread running the cases */
static uint64_t case_deadline_ns; /* 0: no case running */

struct ktest_counts {
	unsigned pass, fail, skip;
};

void ktest_progress(struct ktest *t, unsigned ms)
{
	(void)t;
	uint64_t deadline = READ_ONCE(case_deadline_ns), want = arch_time_ns() + ms * 1000000ull;
	/* 0: the tick already fired; the case is on its way out. */
	if (deadline && want > deadline)
		WRITE_ONCE(case_deadline_ns, want);
}

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
		if (thread_current() != case_thread) {
			struct thread *j = case_thread ? case_thread->joining : NULL;
			if (j)
				printk("ktest: the case waits for thread %s on cpu%u (state %d, in %s)",
				       j->name, j->cpu, (int)j->state,
				       j->blocked_on ? j->blocked_on : "no named wait");
			panic("ktest: %s.%s timed out while blocked in %s",
			      current_case ? current_case->suite : "?",
			      current_case ? current_case->name : "?",
			      case_thread && case_thread->blocked_on ? case_thread->blocked_on
								     : "an unnamed wait");
		}
		/*
		 * Not out of a section with preemption off (a halted cross-call
		 * wait takes this tick): its count, its CPU's halted flag and its
		 * posted requests would outlive it. Such a section ends soon,
		 * and the next tick tries again; one still open after a second
		 * (a case stuck on a spinlock) is left as before, and whatever
		 * it held stays held.
		 */
		if (this_cpu()->preempt_count && arch_time_ns() - deadline < 1000000000ull) {
			WRITE_ONCE(case_deadline_ns, deadline);
			return;
		}
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
	unsigned timeout = (kc->timeout_ms ? kc->timeout_ms : KTEST_DEFAULT_TIMEOUT_MS) +
			   kc->timeout_ms_per_cpu * cpumask_weight(cpumask_read(&cpu_online_mask));

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

bool ktest_requested(char *filter, size_t size)
{
	if (!cmdline_present("ktest"))
		return false;
	/* Bare `ktest`, or a bad list (already reported): the default. */
	if (!cmdline_get("ktest", filter, size) || !filter[0])
		strlcpy(filter, ktest_param.def, size);
	return true;
}

/* Copies the next glob of the comma-separated *list into buf; false at the end. */
static bool next_glob(const char **list, char *buf, size_t size)
{
	const char *p = *list;
	if (!*p)
		return false;
	size_t n = 0;
	while (p[n] && p[n] != ',')
		n++;
	size_t copy = MIN(n, size - 1);
	memcpy(buf, p, copy);
	buf[copy] = 0;
	*list = p[n] ? p + n + 1 : p + n;
	return true;
}

bool ktest_glob_selects(const char *glob, const char *suite, const char *case_name)
{
	if (!strchr(glob, '.'))
		return glob_match(glob, suite);
	char full[160];
	snprintf(full, sizeof(full), "%s.%s", suite, case_name);
	return glob_match(glob, full);
}

bool ktest_filter_selects(const char *filter, const char *suite, const char *case_name)
{
	char glob[KTEST_FILTER_MAX];
	for (const char *p = filter; next_glob(&p, glob, sizeof(glob));)
		if (ktest_glob_selects(glob, suite, case_name))
			return true;
	return false;
}

static unsigned selected_cases(const struct ktest_suite *s, const char *filter)
{
	unsigned n = 0;
	for (const struct ktest_case *c = s->cases; c->run; c++)
		n += ktest_filter_selects(filter, s->name, c->name);
	return n;
}

/* Reports each glob of the filter that selects no case at all; returns how many. */
static unsigned report_unmatched_globs(const char *filter)
{
	unsigned unmatched = 0;
	char glob[KTEST_FILTER_MAX];
	for (const char *p = filter; next_glob(&p, glob, sizeof(glob));) {
		bool used = false;
		for (const struct ktest_suite *const *s = __ktest_suites_start;
		     s < __ktest_suites_end && !used; s++)
			for (const struct ktest_case *c = (*s)->cases; c->run && !used; c++)
				used = ktest_glob_selects(glob, (*s)->name, c->name);
		if (!used) {
			printk("ktest: ERROR: '%s' (in ktest=%s) matches no suite or case", glob,
			       filter);
			unmatched++;
		}
	}
	return unmatched;
}

unsigned ktest_run_all(const char *filter)
{
	const struct ktest_suite *const *begin = __ktest_suites_start;
	const struct ktest_suite *const *end = __ktest_suites_end;
	unsigned unmatched = report_unmatched_globs(filter);
	unsigned nr_suites = 0, nr_selected = 0;
	for (const struct ktest_suite *const *s = begin; s < end; s++) {
		unsigned n = selected_cases(*s, filter);
		nr_suites += n > 0;
		nr_selected += n;
	}
	printk("ktest: running %u cases in %u suites selected by '%s'", nr_selected, nr_suites,
	       filter);
	case_thread = thread_current();
	timer_tick_hook = ktest_tick;
	mm_fail_boot_arm();

	struct ktest_counts total = {0};
	unsigned leaks = 0;
	console_write("KTAP version 1\n1..%u\n", nr_suites);
	unsigned index = 0;
	for (const struct ktest_suite *const *sp = begin; sp < end; sp++) {
		const struct ktest_suite *s = *sp;
		unsigned nr_cases = selected_cases(s, filter);
		if (nr_cases == 0)
			continue;
		console_write("    KTAP version 1\n    # Subtest: %s\n    # module: pagoda\n    1..%u\n",
			      s->name, nr_cases);
		struct ktest_counts c = {0};
		uint64_t frames_before = frame_free_count();
		unsigned number = 0;
		for (const struct ktest_case *kc = s->cases; kc->run; kc++)
			if (ktest_filter_selects(filter, s->name, kc->name))
				run_case(s, kc, ++number, &c);
		uint64_t frames_after = frame_free_count();
		bool leaked = frames_after != frames_before;
		console_write("# %s: pass:%u fail:%u skip:%u total:%u\n", s->name, c.pass, c.fail,
			      c.skip, nr_cases);
		console_write("# %s: frame balance: %lu free before, %lu after%s\n", s->name,
			      (unsigned long)frames_before, (unsigned long)frames_after,
			      leaked ? " (LEAK)" : "");
		if (leaked)
			leaks++;
		/* Every live address space's tables against its VMAs and the allocator. */
		char why[160];
		bool bad_tables = mm_audit_all(why, sizeof(why)) != 0;
		console_write("# %s: %s\n", s->name, bad_tables ? why : "audit: tables consistent");
		leaks += bad_tables;
		bool suite_skipped = c.pass == 0 && c.fail == 0 && c.skip > 0;
		console_write("%s %u %s%s\n", c.fail || leaked || bad_tables ? "not ok" : "ok",
			      ++index, s->name, suite_skipped ? " # SKIP" : "");
		total.pass += c.pass;
		total.fail += c.fail;
		total.skip += c.skip;
	}
	timer_tick_hook = NULL;
	console_write("# Totals: pass:%u fail:%u skip:%u total:%u\n", total.pass, total.fail,
		      total.skip, total.pass + total.fail + total.skip);
	return total.fail + leaks + unmatched;
}
