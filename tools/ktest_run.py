# SPDX-License-Identifier: BSD-2-Clause
"""Host-side runner for Pagoda's in-kernel tests.

Boots QEMU headless, copies every byte of the serial console to a log file,
parses the KTAP the kernel prints, and combines it with QEMU's exit status
and any panic into one verdict: a table of suites, the failed cases with
their diagnostics, runner-level errors, and a last line "N passed, N failed".

Invariants: the last line on stdout is always "N passed, N failed", and the
exit status is 0 exactly when it says 0 failed (a run where no case passed
counts as a failure, so 0 failed implies at least 1 passed). QEMU runs in
its own process group and is killed whole on timeout or if we die. The log
holds the raw, unfiltered bytes. Parsing and judging are pure functions of
text and exit codes, so tools/test_ktest_run.py tests them without QEMU.

Beyond KTAP, two kinds of console line matter: "ktest: ERROR: ..." (the
kernel's test runner refusing its filter, e.g. a glob that matches no
case) is a runner error like any other, and --expect-log REGEX (repeatable)
requires some line of the console to match REGEX (e.g. the command-line
checker's one-line report of a bad word). --expect-fail, --expect-panic and
--expect-error turn the run into a check that one deliberate failure is
reported, which `make test-negative` uses.
"""

import argparse
import fnmatch
import hashlib
import json
import os
import re
import select
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

# ESC [ ... final byte (CSI), ESC ( X style charset selects, else ESC + one char.
ANSI_RE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[()*+].|.)")
# \r and other C0 controls (GRUB emits some) would break prefix matching.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
LOG_LINE_RE = re.compile(r"\s*\[[\d\s.]+\]")
PANIC_RE = re.compile(r"PANIC on cpu\d+:.*")
# Searched, not matched, before the header: GRUB may leave junk on that line.
HEADER_RE = re.compile(r"(?:^|\s)K?TAP version \d+$")
PLAN_RE = re.compile(r"1\.\.(\d+)(?:\s*#.*)?$")
RESULT_RE = re.compile(r"(ok|not ok)\s+(\d+)(?:\s+-)?\s*([^#]*?)\s*(?:#\s*(.*))?$")
SUBTEST_RE = re.compile(r"#\s*Subtest:\s*(.*)$")
TOTALS_RE = re.compile(r"#\s*Totals:\s*pass:(\d+)\s+fail:(\d+)\s+skip:(\d+)\s+total:(\d+)")
# The kernel's runner could not do what it was asked (tests/ktest.c).
KERNEL_ERROR_RE = re.compile(r"ktest: ERROR: (.*\S)")

# What QEMU's exit status means, per way the kernel leaves the machine.
EXIT_KINDS = {
    # isa-debug-exit: the kernel writes 0x10 | status, QEMU exits (v << 1) | 1.
    "x86": {33: "passed", 35: "failed", 37: "panic", 0: "no_exit"},
    "semihosting": {0: "passed", 1: "failed", 2: "panic"},
    # The kernel powered the machine off or reset it (QEMU with -no-reboot): QEMU exits 0.
    # The KTAP report alone says whether the tests passed.
    "poweroff": {0: "passed"},
}
EXIT_MEANINGS = {
    "passed": "kernel: all tests passed",
    "failed": "kernel: tests failed",
    "panic": "kernel: panic",
    "no_exit": "QEMU exited by itself",
    "died": "QEMU died",
    "ignored": "not checked, --exit-style none",
}


@dataclass
class Case:
    number: int
    name: str
    status: str  # "pass", "fail" or "skip"
    directive: str = ""
    diagnostics: list[str] = field(default_factory=list)


@dataclass
class Suite:
    name: str
    plan: int | None = None
    status: str | None = None  # None: the output ended before its result line
    cases: list[Case] = field(default_factory=list)

    def count(self, status):
        """Number of this suite's cases with the given status."""
        return sum(case.status == status for case in self.cases)


@dataclass
class Report:
    header_seen: bool = False
    top_plan: int | None = None
    totals: tuple[int, int, int, int] | None = None
    suites: list[Suite] = field(default_factory=list)
    panics: list[str] = field(default_factory=list)
    panic_suite: str | None = None
    errors: list[str] = field(default_factory=list)
    kernel_errors: list[str] = field(default_factory=list)
    # --expect-log: each regex and the first line it matched (None: none yet).
    log_seen: dict[str, str | None] = field(default_factory=dict)

    def count(self, status):
        """Number of cases in every suite with the given status."""
        return sum(suite.count(status) for suite in self.suites)


@dataclass
class RunOutcome:
    exit_code: int | None = None
    killed: str | None = None  # why we killed QEMU, if we did
    start_error: str | None = None


@dataclass
class Verdict:
    passed: int
    failed: int
    errors: list[str]
    notes: list[str] = field(default_factory=list)
    observed: list[str] = field(default_factory=list)

    @property
    def ok(self):
        return self.failed == 0 and self.passed > 0


def strip_noise(line):
    """Removes ANSI escapes, \\r and other control characters from a line."""
    return CONTROL_RE.sub("", ANSI_RE.sub("", line))


def result_fields(match):
    """(number, name, status, directive) of a RESULT_RE match; SKIP wins."""
    directive = (match[4] or "").strip()
    if directive.upper().startswith("SKIP"):
        status = "skip"
    else:
        status = "pass" if match[1] == "ok" else "fail"
    return int(match[2]), match[3].strip(), status, directive


class KtapParser:
    """Incremental KTAP parser: feed_line() each line as it arrives, then finish().

    Depth 0 holds the top-level plan, suite results and Totals; depth 1 holds
    a suite's header, plan, cases and the "#" diagnostics that precede a case.
    Anything unrecognised is console noise and is ignored.
    """

    def __init__(self, expect_log=()):
        self.report = Report()
        self.report.log_seen = {regex: None for regex in expect_log}
        self._suite = None
        self._next_name = None
        self._pending = []  # diagnostics since the last result at depth 1

    def feed_line(self, raw):
        """Parses one line of console output; returns a Suite when one just ended."""
        line = strip_noise(raw)
        self._watch(line)
        panic = PANIC_RE.search(line)
        if panic:
            self._note_panic(panic.group(0).strip())
            return None
        if LOG_LINE_RE.match(line):
            return None
        content = line.lstrip(" ")
        depth = (len(line) - len(content)) // 4
        content = content.rstrip()
        if not content:
            return None
        if not self.report.header_seen:
            self.report.header_seen = depth == 0 and bool(HEADER_RE.search(content))
            return None
        if depth == 0:
            return self._top_line(content)
        if depth == 1:
            return self._suite_line(content)
        if self._suite is not None:  # nested (parameterised) output: keep as context
            self._pending.append(content)
        return None

    def finish(self):
        """Ends the stream: closes a suite cut short, checks plans and totals."""
        if self._suite is not None:
            self._end_suite(self._suite)
        self.report.errors = check_report(self.report)
        return self.report

    def _top_line(self, content):
        if m := PLAN_RE.match(content):
            self.report.top_plan = int(m[1])
        elif m := SUBTEST_RE.match(content):
            self._next_name = m[1].strip()
        elif m := TOTALS_RE.match(content):
            self.report.totals = tuple(int(x) for x in m.groups())
        elif m := RESULT_RE.match(content):
            _, name, status, _ = result_fields(m)
            suite = self._open()
            suite.name = name or suite.name
            suite.status = status
            return self._end_suite(suite)
        return None

    def _suite_line(self, content):
        if HEADER_RE.match(content) or SUBTEST_RE.match(content):
            ended = None
            if self._suite is not None and (self._suite.plan is not None or self._suite.cases):
                ended = self._end_suite(self._suite)  # the previous one never reported
            suite = self._open()
            if m := SUBTEST_RE.match(content):
                suite.name = m[1].strip()
            return ended
        suite = self._open()
        if m := PLAN_RE.match(content):
            suite.plan = int(m[1])
            self._pending = []  # "# module:" and friends are not diagnostics
        elif m := RESULT_RE.match(content):
            number, name, status, directive = result_fields(m)
            diags = self._pending if status == "fail" else []
            suite.cases.append(Case(number, name or f"case{number}", status, directive, diags))
            self._pending = []
        elif content.startswith("#"):
            self._pending.append(content[1:].removeprefix(" "))
        return None

    def _open(self):
        if self._suite is None:
            self._suite = Suite(name=self._next_name or "")
            self._next_name = None
            self._pending = []
        return self._suite

    def _end_suite(self, suite):
        suite.name = suite.name or f"suite{len(self.report.suites) + 1}"
        self.report.suites.append(suite)
        self._suite = None
        self._pending = []
        return suite

    def _watch(self, line):
        for regex, seen in self.report.log_seen.items():
            if seen is None and re.search(regex, line):
                self.report.log_seen[regex] = line.strip()
        if m := KERNEL_ERROR_RE.search(line):
            self.report.kernel_errors.append(m[1])

    def _note_panic(self, text):
        if not self.report.panics and self._suite is not None:
            self.report.panic_suite = self._suite.name or "?"
        self.report.panics.append(text)


def check_report(report):
    """Problems with the KTAP stream as a whole: missing results, bad totals."""
    errors = [f"kernel: {e}" for e in report.kernel_errors]
    passed, failed, skipped = (report.count(s) for s in ("pass", "fail", "skip"))
    if not report.header_seen or passed + failed == 0:
        detail = "" if report.header_seen else " (no KTAP header)"
        detail += f" ({skipped} skipped)" if skipped else ""
        errors.append(f"no test case ran{detail}")
    for suite in report.suites:
        seen = len(suite.cases)
        if suite.plan is not None and suite.plan != seen:
            errors.append(f"suite {suite.name}: expected {suite.plan} cases, saw {seen}")
        elif suite.status is None:
            errors.append(f"suite {suite.name}: output ended before the suite's result line")
        elif suite.status == "fail" and not suite.count("fail"):
            errors.append(f"suite {suite.name}: reported not ok, but none of its cases failed")
    if report.header_seen and report.top_plan is None:
        errors.append("no top-level plan line (1..N)")
    elif report.top_plan is not None and report.top_plan != len(report.suites):
        errors.append(f"expected {report.top_plan} suites, saw {len(report.suites)}")
    counted = (passed, failed, skipped, passed + failed + skipped)
    if report.totals is not None and report.totals != counted:
        errors.append("Totals line says pass:%d fail:%d skip:%d total:%d" % report.totals
                      + ", but counted pass:%d fail:%d skip:%d total:%d" % counted)
    return errors


def parse_ktap(text, expect_log=()):
    """Parses a whole console log (str) and returns its Report."""
    parser = KtapParser(expect_log)
    for line in text.split("\n"):
        parser.feed_line(line)
    return parser.finish()


def classify_exit(style, code):
    """What QEMU's exit status means: passed, failed, panic, no_exit, died, ignored."""
    if style == "none":
        return "ignored"
    return EXIT_KINDS[style].get(code, "died")


def describe_exit(style, run):
    """Human-readable account of how QEMU ended."""
    if run.start_error:
        return f"QEMU did not start ({run.start_error})"
    if run.killed:
        return f"none, QEMU killed ({run.killed})"
    return f"{run.exit_code} ({EXIT_MEANINGS[classify_exit(style, run.exit_code)]})"


def exit_errors(style, code, report):
    """Errors implied by QEMU's exit status, given what the KTAP said."""
    kind = classify_exit(style, code)
    failed = report.count("fail")
    if kind == "passed" and failed:
        return [f"kernel's exit status says all passed, but {failed} case(s) failed"]
    if kind == "failed" and not failed and not report.kernel_errors:
        return ["kernel's exit status says tests failed, but no failing case was reported"]
    if kind == "panic" and not report.panics:
        return ["kernel exited with the panic status, but no PANIC line was seen"]
    if kind == "no_exit":
        return ["QEMU exited without the kernel's exit code (triple fault or reset?)"]
    if kind == "died":
        return [f"QEMU died with status {code}"]
    return []


def runner_errors(report, run, style):
    """Every problem beyond failed cases: stream, panic, timeout, exit status."""
    errors = list(report.errors)
    if report.panics:
        where = f" (during suite {report.panic_suite})" if report.panic_suite else ""
        errors.append(f"kernel panic: {report.panics[0]}{where}")
    if run.start_error:
        errors.append(f"cannot start QEMU: {run.start_error}")
    elif run.killed:
        errors.append(run.killed)
    else:
        errors.extend(exit_errors(style, run.exit_code, report))
    return errors


def expectation(checks, observed, notes):
    """Verdict of a deliberate-failure check: the check itself is the one case."""
    unmet = [complaint for held, complaint in checks if not held]
    held = not unmet
    return Verdict(int(held), int(not held), unmet, notes, observed + [
        "expectation held" if held else "expectation NOT met"])


def log_checks(report):
    """(held, complaint) per --expect-log regex, and what each matched."""
    checks = [(seen is not None, f"no console line matched {regex!r}")
              for regex, seen in report.log_seen.items()]
    observed = [f"expect-log {regex!r}: {seen if seen is not None else 'no match'}"
                for regex, seen in report.log_seen.items()]
    return checks, observed


def judge(report, run, style, expect_fail=None, expect_panic=None, expect_error=None):
    """Turns a parsed report and how QEMU ended into the final Verdict."""
    errors = runner_errors(report, run, style)
    logs, logs_observed = log_checks(report)
    if expect_fail is None and expect_panic is None and expect_error is None:
        errors += [complaint for held, complaint in logs if not held]
        return Verdict(report.count("pass"), report.count("fail") + len(errors), errors,
                       observed=logs_observed)
    kind = "none" if run.killed or run.start_error else classify_exit(style, run.exit_code)
    stopped = (run.killed or run.start_error) is None
    panic = report.panics[0] if report.panics else "none"
    common = [f"kernel exit: {describe_exit(style, run)}", f"panic: {panic}",
              f"timeout: {run.killed or 'no'}"] + logs_observed
    if expect_error is not None:
        matches = [e for e in errors if re.search(expect_error, e)]
        notes = [f"(not counted) {e}" for e in errors if e not in matches]
        return expectation([
            (bool(matches), f"no runner error matched {expect_error!r}"),
            (not report.panics, f"kernel panicked: {panic}"),
            (stopped, f"QEMU did not finish: {run.killed or run.start_error}"),
        ] + logs, [f"expect-error {expect_error!r}: matching errors: "
                   f"{'; '.join(matches) or 'none'}"] + common, notes)
    notes = [f"(not counted) {e}" for e in errors]
    if expect_fail is not None:
        matches = [f"{s.name}.{c.name}" for s in report.suites for c in s.cases
                   if c.status == "fail" and fnmatch.fnmatchcase(f"{s.name}.{c.name}", expect_fail)]
        return expectation([
            (bool(matches), f"no failing case matched {expect_fail!r}"),
            (kind in ("failed", "ignored"), "kernel did not exit with the tests-failed status"),
            (not report.panics, f"kernel panicked: {panic}"),
            (stopped, f"QEMU did not finish: {run.killed or run.start_error}"),
        ] + logs, [f"expect-fail {expect_fail!r}: failed cases matching: "
                   f"{', '.join(matches) or 'none'}"] + common, notes)
    matches = [p for p in report.panics if re.search(expect_panic, p)]
    return expectation([
        (bool(matches), f"no PANIC line matched {expect_panic!r}"),
        (kind in ("panic", "ignored"), "kernel did not exit with the panic status"),
        (stopped, f"QEMU did not finish: {run.killed or run.start_error}"),
    ] + logs, [f"expect-panic {expect_panic!r}: matching PANIC lines: {len(matches)}"] + common,
        notes)


def format_table(suites):
    """One row per suite: name, passed, failed, skipped, total."""
    if not suites:
        return ["(no suite reported results)"]
    width = max(20, *(len(s.name) for s in suites))
    lines = [f"{'suite':<{width}} {'passed':>7} {'failed':>7} {'skipped':>8} {'total':>6}"]
    for s in suites:
        row = (f"{s.name:<{width}} {s.count('pass'):>7} {s.count('fail'):>7}"
               f" {s.count('skip'):>8} {len(s.cases):>6}")
        lines.append(row + ("  (incomplete)" if s.status is None else ""))
    return lines


def format_summary(report, verdict, log_path):
    """The end-of-run report; its last line is always "N passed, N failed"."""
    lines = format_table(report.suites)
    for suite in report.suites:
        for case in (c for c in suite.cases if c.status == "fail"):
            extra = f" ({case.directive})" if case.directive else ""
            lines.append(f"FAIL {suite.name}.{case.name}{extra}")
            lines.extend(("    " + d).rstrip() for d in case.diagnostics)
    lines += verdict.observed
    lines += [f"ERROR: {e}" for e in verdict.errors]
    lines += [f"note: {n}" for n in verdict.notes]
    lines.append(f"log: {log_path}")
    lines.append(f"{verdict.passed} passed, {verdict.failed} failed")
    return lines


def progress_line(suite):
    """The short line printed as each suite finishes."""
    text = f"  {suite.name:<20} {suite.count('pass')}/{len(suite.cases)} passed"
    if suite.count("fail"):
        text += f", {suite.count('fail')} FAILED"
    if suite.count("skip"):
        text += f", {suite.count('skip')} skipped"
    return text + (" (incomplete)" if suite.status is None else "")


class LineFeeder:
    """Cuts the byte stream into lines (before decoding, so no UTF-8 sequence
    is split) and hands them to the parser, reporting each finished suite."""

    def __init__(self, parser, on_suite=None):
        self.parser, self.on_suite, self.buf = parser, on_suite, b""

    def feed(self, chunk):
        """Takes the next chunk of raw output."""
        self.buf += chunk
        *lines, self.buf = self.buf.split(b"\n")
        for line in lines:
            self._line(line)

    def close(self):
        """Parses a final line that had no newline."""
        if self.buf:
            self._line(self.buf)
            self.buf = b""

    def _line(self, raw):
        suite = self.parser.feed_line(raw.decode("utf-8", errors="replace"))
        if suite is not None and self.on_suite is not None:
            self.on_suite(suite)


def pump(proc, log, timeout, idle_timeout, on_output):
    """Copies proc's output to log and on_output until it exits.

    Returns why we gave up on it (timeout) or None if it ended by itself.
    """
    fd = proc.stdout.fileno()
    start = last = time.monotonic()
    while True:
        now = time.monotonic()
        if now - start >= timeout:
            return f"TIMEOUT after {timeout:g} s"
        if idle_timeout and now - last >= idle_timeout:
            return f"no output for {idle_timeout:g} s (idle timeout)"
        wait = timeout - (now - start)
        if idle_timeout:
            wait = min(wait, idle_timeout - (now - last))
        # Wake up now and then: a stray child may hold the pipe after QEMU exits.
        ready, _, _ = select.select([fd], [], [], min(wait, 0.2))
        if not ready:
            if proc.poll() is not None:
                return None
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            try:
                proc.wait(timeout=max(timeout - (time.monotonic() - start), 0.01))
            except subprocess.TimeoutExpired:
                return f"TIMEOUT after {timeout:g} s"
            return None
        last = time.monotonic()
        log.write(chunk)
        log.flush()
        on_output(chunk)


def run_qemu(cmd, log_path, timeout, idle_timeout, on_output):
    """Runs cmd in its own process group with output saved to log_path."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            return RunOutcome(start_error=str(e))
        killed = None
        try:
            killed = pump(proc, log, timeout, idle_timeout, on_output)
        finally:
            if proc.poll() is None:  # timeout, or an exception (^C) on our side
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()
            proc.stdout.close()
    return RunOutcome(None if killed else proc.returncode, killed)


def parse_args(argv):
    """Splits argv at "--" into our options and the QEMU command."""
    ap = argparse.ArgumentParser(
        prog="ktest_run.py", usage="%(prog)s --log PATH --exit-style STYLE [options] -- QEMU...",
        description="Boot Pagoda's test kernel under QEMU and judge its KTAP output.")
    ap.add_argument("--log", type=Path, required=True, help="where to save the serial output")
    ap.add_argument("--timeout", type=float, default=100, help="wall-clock limit, seconds")
    ap.add_argument("--idle-timeout", type=float, default=0,
                    help="fail if no output for this long (0: off)")
    ap.add_argument("--exit-style", choices=["x86", "semihosting", "poweroff", "none"],
                    required=True)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--expect-fail", metavar="CASE_GLOB",
                      help="succeed only if a case matching suite.case failed")
    mode.add_argument("--expect-panic", metavar="REGEX",
                      help="succeed only if the kernel panicked with a matching message")
    mode.add_argument("--expect-error", metavar="REGEX",
                      help="succeed only if the run failed with a matching runner error "
                           "(e.g. a 'ktest: ERROR:' line), without a panic")
    ap.add_argument("--expect-log", metavar="REGEX", action="append", default=[],
                    help="require a console line matching REGEX (repeatable)")
    ap.add_argument("--verbose", "-v", action="store_true", help="echo the serial output live")
    ap.add_argument("--summary-json", type=Path, metavar="PATH", help="also write results as JSON")
    if "--" not in argv:
        ap.error("the QEMU command must follow --")
    split = argv.index("--")
    args = ap.parse_args(argv[:split])
    if not argv[split + 1:]:
        ap.error("no QEMU command after --")
    if args.timeout <= 0 or args.idle_timeout < 0:
        ap.error("timeouts must be positive")
    for option, regexes in (("--expect-panic", [args.expect_panic]),
                            ("--expect-error", [args.expect_error]),
                            ("--expect-log", args.expect_log)):
        for regex in regexes:
            try:
                re.compile(regex or "")
            except re.error as e:
                ap.error(f"bad {option} regex {regex!r}: {e}")
    return args, argv[split + 1:]


def booted_file_line(cmd):
    """"ktest: boots FILE sha256 HEX" for QEMU's -kernel file, or None without one.

    `make board-image-check` compares these lines across machines: the same
    file must boot virt and the Raspberry Pis.
    """
    for i, word in enumerate(cmd[:-1]):
        if word == "-kernel":
            try:
                digest = hashlib.sha256(Path(cmd[i + 1]).read_bytes()).hexdigest()
            except OSError as e:
                return f"ktest: boots {cmd[i + 1]} (unreadable: {e.strerror})"
            return f"ktest: boots {cmd[i + 1]} sha256 {digest}"
    return None


def main(argv=None):
    """Runs the tests; returns the process exit status."""
    args, cmd = parse_args(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    booted = booted_file_line(cmd)
    if booted:
        print(booted, flush=True)
    if args.verbose:
        print(f"ktest: running {shlex.join(cmd)}", flush=True)
    else:
        print(f"ktest: booting {Path(cmd[0]).name}, log in {args.log}", flush=True)
    parser = KtapParser(args.expect_log)
    progress = None if args.verbose else (lambda s: print(progress_line(s), flush=True))
    feeder = LineFeeder(parser, progress)
    tail = [b"\n"]

    def on_output(chunk):
        feeder.feed(chunk)
        if args.verbose:
            out.buffer.write(chunk)
            out.buffer.flush()
            tail[0] = chunk[-1:]

    started = time.monotonic()
    try:
        run = run_qemu(cmd, args.log, args.timeout, args.idle_timeout, on_output)
    except KeyboardInterrupt:
        print("\nktest: interrupted; QEMU killed", file=sys.stderr)
        return 130
    feeder.close()
    if tail[0] != b"\n":
        print()
    print(f"ktest: qemu ran for {time.monotonic() - started:.1f} s", flush=True)
    report = parser.finish()
    verdict = judge(report, run, args.exit_style, args.expect_fail, args.expect_panic,
                    args.expect_error)
    if args.summary_json:
        write_json(args, report, run, verdict)
    print("\n".join(format_summary(report, verdict, args.log)), flush=True)
    return 0 if verdict.ok else 1


def write_json(args, report, run, verdict):
    """Saves the results for later tooling; a failure here only warns."""
    mode = ("expect-fail" if args.expect_fail is not None
            else "expect-panic" if args.expect_panic is not None
            else "expect-error" if args.expect_error is not None else "normal")
    data = {
        "mode": mode, "ok": verdict.ok, "passed": verdict.passed, "failed": verdict.failed,
        "errors": verdict.errors, "notes": verdict.notes, "observed": verdict.observed,
        "exit_code": run.exit_code, "exit": describe_exit(args.exit_style, run),
        "killed": run.killed, "panics": report.panics, "totals": report.totals,
        "log": str(args.log), "suites": [asdict(s) for s in report.suites],
        "kernel_errors": report.kernel_errors, "expect_log": report.log_seen,
    }
    try:
        args.summary_json.parent.mkdir(parents=True, exist_ok=True)
        args.summary_json.write_text(json.dumps(data, indent=2) + "\n")
    except OSError as e:
        print(f"ktest: warning: cannot write {args.summary_json}: {e}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
