# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/ktest_run.py: the KTAP parser, the verdict logic and
a few end-to-end runs with a fake "QEMU" (a python -c or sh -c command).

Invariants: no QEMU, no network, no files outside a temporary directory;
the whole file runs in a couple of seconds with `python3 tools/test_ktest_run.py`.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ktest_run as kr  # noqa: E402

RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ktest_run.py")

EXAMPLE = """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: boot_info
    # module: pagoda
    1..2
    ok 1 memory_map_covers_ram
    # cmdline_roundtrip: EXPECTATION FAILED at tests/boot_info_test.c:40
    #     Expected a == b, but
    #         a == 1
    #         b == 2
    not ok 2 cmdline_roundtrip
# boot_info: pass:1 fail:1 skip:0 total:2
not ok 1 boot_info
    KTAP version 1
    # Subtest: smp
    1..1
    ok 1 all_online # SKIP only one cpu
# smp: pass:0 fail:0 skip:1 total:1
ok 2 smp
# Totals: pass:1 fail:1 skip:1 total:3
"""

ALL_PASS = """\
KTAP version 1
1..2
    KTAP version 1
    # Subtest: boot_info
    1..2
    ok 1 memory_map_covers_ram
    ok 2 cmdline_roundtrip
# boot_info: pass:2 fail:0 skip:0 total:2
ok 1 boot_info
    KTAP version 1
    # Subtest: pmm
    1..1
    ok 1 alloc_free
ok 2 pmm
# Totals: pass:3 fail:0 skip:0 total:3
"""

TRUNCATED = """\
KTAP version 1
1..1
    KTAP version 1
    # Subtest: vmm
    1..3
    ok 1 map_unmap
"""

PANIC = TRUNCATED + "[    1.250000] cpu2: PANIC on cpu2: vmm_map: page table corrupt\n"


def exited(code):
    return kr.RunOutcome(exit_code=code)


class ParserTest(unittest.TestCase):
    def test_all_pass(self):
        report = kr.parse_ktap(ALL_PASS)
        self.assertEqual([s.name for s in report.suites], ["boot_info", "pmm"])
        self.assertEqual(report.errors, [])
        verdict = kr.judge(report, exited(33), "x86")
        self.assertEqual((verdict.passed, verdict.failed, verdict.ok), (3, 0, True))

    def test_failure_with_diagnostics(self):
        report = kr.parse_ktap(EXAMPLE)
        self.assertEqual(report.errors, [])
        case = report.suites[0].cases[1]
        self.assertEqual((case.name, case.status), ("cmdline_roundtrip", "fail"))
        self.assertEqual(case.diagnostics, [
            "cmdline_roundtrip: EXPECTATION FAILED at tests/boot_info_test.c:40",
            "    Expected a == b, but", "        a == 1", "        b == 2"])
        self.assertEqual(report.suites[0].cases[0].diagnostics, [])
        verdict = kr.judge(report, exited(35), "x86")
        lines = kr.format_summary(report, verdict, "build/test.log")
        self.assertIn("FAIL boot_info.cmdline_roundtrip", lines)
        self.assertIn("        Expected a == b, but", lines)
        self.assertEqual(lines[-2:], ["log: build/test.log", "1 passed, 1 failed"])
        self.assertFalse(verdict.ok)

    def test_skip_counts_in_neither(self):
        report = kr.parse_ktap(EXAMPLE)
        smp = report.suites[1]
        self.assertEqual((smp.status, smp.cases[0].status), ("pass", "skip"))
        self.assertEqual(smp.cases[0].directive, "SKIP only one cpu")
        self.assertEqual(report.count("skip"), 1)
        verdict = kr.judge(report, exited(35), "x86")
        self.assertEqual((verdict.passed, verdict.failed), (1, 1))

    def test_not_ok_with_skip_is_skip(self):
        text = "KTAP version 1\n1..1\n    1..1\n    not ok 1 x # SKIP no hw\nok 1 s\n"
        self.assertEqual(kr.parse_ktap(text).suites[0].cases[0].status, "skip")

    def test_timeout_directive_stays_failed(self):
        text = "KTAP version 1\n1..1\n    1..1\n    not ok 1 slow # TIMEOUT 10000 ms\nnot ok 1 s\n"
        report = kr.parse_ktap(text)
        case = report.suites[0].cases[0]
        self.assertEqual((case.status, case.directive), ("fail", "TIMEOUT 10000 ms"))
        lines = kr.format_summary(report, kr.judge(report, exited(35), "x86"), "l")
        self.assertIn("FAIL s.slow (TIMEOUT 10000 ms)", lines)

    def test_truncated_run(self):
        report = kr.parse_ktap(TRUNCATED)
        self.assertIn("suite vmm: expected 3 cases, saw 1", report.errors)
        self.assertIsNone(report.suites[0].status)
        verdict = kr.judge(report, exited(0), "x86")
        self.assertEqual(verdict.passed, 1)
        self.assertGreaterEqual(verdict.failed, 2)  # truncation + no exit code
        self.assertIn("QEMU exited without the kernel's exit code (triple fault or reset?)",
                      verdict.errors)

    def test_missing_suites_at_top_level(self):
        text = ALL_PASS.replace("1..2\n", "1..3\n", 1)
        self.assertIn("expected 3 suites, saw 2", kr.parse_ktap(text).errors)

    def test_panic(self):
        report = kr.parse_ktap(PANIC)
        self.assertEqual(report.panics, ["PANIC on cpu2: vmm_map: page table corrupt"])
        verdict = kr.judge(report, exited(37), "x86")
        self.assertIn("kernel panic: PANIC on cpu2: vmm_map: page table corrupt "
                      "(during suite vmm)", verdict.errors)
        self.assertEqual(report.count("fail"), 0)
        self.assertGreaterEqual(verdict.failed, 1)
        self.assertFalse(verdict.ok)

    def test_ansi_noise_and_log_lines(self):
        noisy = ("\x1b[2J\x1b[H\x1b[0;30;47mGNU GRUB  version 2.06\x1b[m\r\n"
                 "\x1b(B\x1b)0  Booting `Pagoda'\r\n"
                 "[    0.000000] cpu0: Pagoda booting\r\n\x1b[0m")
        for line in ALL_PASS.splitlines():
            noisy += line + "\r\n"
            if line.strip().startswith("ok"):
                noisy += "[    0.123456] cpu1: ap idle tick\r\n[  12.5] cpu0: [1] nested\r\n"
        report = kr.parse_ktap(noisy)
        self.assertEqual(report.errors, [])
        clean = kr.parse_ktap(ALL_PASS)
        self.assertEqual(report.suites, clean.suites)

    def test_header_after_grub_junk_on_same_line(self):
        report = kr.parse_ktap("\x1b[1;1Hjunk KTAP version 1\r\n" + ALL_PASS.split("\n", 1)[1])
        self.assertEqual(report.errors, [])

    def test_no_header_means_no_case_ran(self):
        report = kr.parse_ktap("[    0.1] cpu0: hello\n    ok 1 fake\n")
        self.assertTrue(report.errors[0].startswith("no test case ran"))
        self.assertEqual(report.suites, [])
        verdict = kr.judge(report, exited(33), "x86")
        self.assertEqual((verdict.passed, verdict.failed), (0, 1))

    def test_all_skipped_is_a_failure(self):
        text = "KTAP version 1\n1..1\n    1..1\n    ok 1 a # SKIP x\nok 1 s\n"
        verdict = kr.judge(kr.parse_ktap(text), exited(33), "x86")
        self.assertEqual(verdict.passed, 0)
        self.assertGreaterEqual(verdict.failed, 1)

    def test_totals_mismatch(self):
        report = kr.parse_ktap(ALL_PASS.replace("pass:3 fail:0 skip:0 total:3",
                                                "pass:4 fail:0 skip:0 total:4"))
        self.assertEqual(report.errors, [
            "Totals line says pass:4 fail:0 skip:0 total:4, but counted pass:3 fail:0 skip:0 total:3"])
        self.assertEqual(kr.judge(report, exited(33), "x86").failed, 1)

    def test_incremental_feed_reports_suites(self):
        seen = []
        feeder = kr.LineFeeder(kr.KtapParser(), seen.append)
        data = ALL_PASS.encode()
        for i in range(0, len(data), 7):
            feeder.feed(data[i:i + 7])
        feeder.close()
        self.assertEqual([s.name for s in seen], ["boot_info", "pmm"])
        self.assertEqual(kr.progress_line(seen[0]).split(), ["boot_info", "2/2", "passed"])


class ExitStyleTest(unittest.TestCase):
    def errors(self, style, code, text=ALL_PASS):
        return kr.judge(kr.parse_ktap(text), exited(code), style).errors

    def test_x86(self):
        self.assertEqual(self.errors("x86", 33), [])
        self.assertEqual(self.errors("x86", 35, EXAMPLE), [])
        self.assertIn("kernel's exit status says tests failed, but no failing case was reported",
                      self.errors("x86", 35))
        self.assertIn("kernel's exit status says all passed, but 1 case(s) failed",
                      self.errors("x86", 33, EXAMPLE))
        self.assertEqual(self.errors("x86", 37, PANIC)[-1],
                         "kernel panic: PANIC on cpu2: vmm_map: page table corrupt "
                         "(during suite vmm)")
        self.assertIn("kernel exited with the panic status, but no PANIC line was seen",
                      self.errors("x86", 37))
        self.assertEqual(self.errors("x86", 0),
                         ["QEMU exited without the kernel's exit code (triple fault or reset?)"])
        self.assertEqual(self.errors("x86", 1), ["QEMU died with status 1"])
        self.assertEqual(self.errors("x86", -11), ["QEMU died with status -11"])

    def test_semihosting(self):
        self.assertEqual(self.errors("semihosting", 0), [])
        self.assertEqual(self.errors("semihosting", 1, EXAMPLE), [])
        self.assertNotIn("kernel exited with the panic status, but no PANIC line was seen",
                         self.errors("semihosting", 2, PANIC))
        self.assertEqual(self.errors("semihosting", 33), ["QEMU died with status 33"])

    def test_none(self):
        for code in (0, 1, 33, 255):
            self.assertEqual(self.errors("none", code), [])

    def test_timeout_overrides_exit_code(self):
        run = kr.RunOutcome(killed="TIMEOUT after 100 s")
        verdict = kr.judge(kr.parse_ktap(ALL_PASS), run, "x86")
        self.assertEqual(verdict.errors, ["TIMEOUT after 100 s"])
        self.assertEqual((verdict.passed, verdict.failed), (3, 1))


class ExpectationTest(unittest.TestCase):
    def test_expect_fail_held(self):
        v = kr.judge(kr.parse_ktap(EXAMPLE), exited(35), "x86", expect_fail="boot_info.cmdline_*")
        self.assertEqual((v.passed, v.failed, v.ok), (1, 0, True))
        self.assertIn("expect-fail 'boot_info.cmdline_*': failed cases matching: "
                      "boot_info.cmdline_roundtrip", v.observed)

    def test_expect_fail_not_met(self):
        report = kr.parse_ktap(EXAMPLE)
        cases = [
            (exited(35), "smp.*"),                              # wrong case
            (exited(33), "boot_info.*"),                        # wrong exit status
            (kr.RunOutcome(killed="TIMEOUT after 1 s"), "*"),  # timed out
        ]
        for run, glob in cases:
            v = kr.judge(report, run, "x86", expect_fail=glob)
            self.assertEqual((v.passed, v.failed, v.ok), (0, 1, False), glob)
        panicked = kr.parse_ktap(EXAMPLE + "PANIC on cpu0: late\n")
        v = kr.judge(panicked, exited(35), "x86", expect_fail="*")
        self.assertIn("kernel panicked: PANIC on cpu0: late", v.errors)
        self.assertFalse(v.ok)

    def test_expect_fail_semihosting(self):
        v = kr.judge(kr.parse_ktap(EXAMPLE), exited(1), "semihosting", expect_fail="*.cmdline*")
        self.assertTrue(v.ok)

    def test_expect_panic(self):
        report = kr.parse_ktap(PANIC)
        self.assertTrue(kr.judge(report, exited(37), "x86", expect_panic=r"page table").ok)
        self.assertTrue(kr.judge(report, exited(2), "semihosting", expect_panic=r"vmm_map").ok)
        for run, regex in [(exited(37), "nope"), (exited(35), "page"),
                           (kr.RunOutcome(killed="TIMEOUT after 1 s"), "page")]:
            v = kr.judge(report, run, "x86", expect_panic=regex)
            self.assertEqual((v.passed, v.failed), (0, 1), regex)
        lines = kr.format_summary(report, v, "l")
        self.assertEqual(lines[-1], "0 passed, 1 failed")
        self.assertFalse(any(line.startswith("ERROR: kernel panic") for line in lines))


CMDLINE_WARNINGS = (
    "[    0.000000] cpu0: cmdline: 'tlb=bogus': tlb expects one of gen|ipi|mmgen|broadcast; "
    "using the default (broadcast)\r\n"
    "[    0.000000] cpu0: cmdline: 'mem=abc': mem expects a size (e.g. 64M, 1G); "
    "using all memory\r\n")
TLB_WARNING = r"cmdline: 'tlb=bogus': tlb expects one of .*; using the default"
MEM_WARNING = r"cmdline: 'mem=abc': mem expects a size .*; using all memory"
# The kernel refused one glob of its filter but ran the rest.
GLOB_ERROR = ("[    0.050000] cpu0: ktest: ERROR: 'nosuch*' (in ktest=boot_info,nosuch*) "
              "matches no suite or case\n" + ALL_PASS)


class ExpectLogTest(unittest.TestCase):
    def test_lines_seen_pass(self):
        report = kr.parse_ktap(CMDLINE_WARNINGS + ALL_PASS, [TLB_WARNING, MEM_WARNING])
        verdict = kr.judge(report, exited(33), "x86")
        self.assertEqual((verdict.passed, verdict.failed, verdict.ok), (3, 0, True))
        self.assertTrue(report.log_seen[MEM_WARNING].startswith("[    0.000000] cpu0: cmdline:"))
        self.assertIn(f"expect-log {TLB_WARNING!r}: " + CMDLINE_WARNINGS.split("\r\n")[0],
                      verdict.observed)

    def test_missing_line_fails_a_passing_run(self):
        report = kr.parse_ktap(CMDLINE_WARNINGS.split("\r\n")[0] + "\n" + ALL_PASS,
                               [TLB_WARNING, MEM_WARNING])
        verdict = kr.judge(report, exited(33), "x86")
        self.assertEqual((verdict.passed, verdict.failed, verdict.ok), (3, 1, False))
        self.assertEqual(verdict.errors, [f"no console line matched {MEM_WARNING!r}"])

    def test_lines_before_a_panic(self):
        text = CMDLINE_WARNINGS + "PANIC on cpu0: cmdline_check: 'tlb=bogus': ...\n"
        report = kr.parse_ktap(text, [TLB_WARNING])
        self.assertTrue(kr.judge(report, exited(37), "x86", expect_panic="'tlb=bogus'").ok)
        report = kr.parse_ktap(text, [r"no such line"])
        v = kr.judge(report, exited(37), "x86", expect_panic="'tlb=bogus'")
        self.assertFalse(v.ok)
        self.assertIn("no console line matched 'no such line'", v.errors)

    def test_noise_is_stripped_before_matching(self):
        report = kr.parse_ktap("\x1b[0mcmdline: 'x\r\n", [r"cmdline: 'x$"])
        self.assertEqual(report.log_seen, {r"cmdline: 'x$": "cmdline: 'x"})


class KernelErrorTest(unittest.TestCase):
    def test_unmatched_glob_fails_the_run(self):
        report = kr.parse_ktap(GLOB_ERROR)
        self.assertEqual(report.kernel_errors,
                         ["'nosuch*' (in ktest=boot_info,nosuch*) matches no suite or case"])
        verdict = kr.judge(report, exited(35), "x86")
        # The kernel's error explains its failed status: no second complaint about it.
        self.assertEqual(verdict.errors, ["kernel: 'nosuch*' (in ktest=boot_info,nosuch*) "
                                          "matches no suite or case"])
        self.assertEqual((verdict.passed, verdict.failed, verdict.ok), (3, 1, False))

    def test_expect_error(self):
        report = kr.parse_ktap(GLOB_ERROR)
        v = kr.judge(report, exited(35), "x86", expect_error="matches no suite or case")
        self.assertEqual((v.passed, v.failed, v.ok), (1, 0, True))
        for text, run, regex in [(ALL_PASS, exited(33), "matches no"),   # no error at all
                                 (GLOB_ERROR, exited(35), "timeout"),     # another error
                                 (GLOB_ERROR + PANIC, exited(37), "matches no")]:  # panicked
            v = kr.judge(kr.parse_ktap(text), run, "x86", expect_error=regex)
            self.assertEqual((v.passed, v.failed, v.ok), (0, 1, False), regex)


class EndToEndTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.log = Path(self.tmp.name, "sub", "test.log")

    def tearDown(self):
        self.tmp.cleanup()

    def run_runner(self, qemu, *opts):
        cmd = [sys.executable, RUNNER, "--log", str(self.log), "--timeout", "10",
               "--exit-style", "x86", *opts, "--", *qemu]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=30)
        return proc.returncode, proc.stdout.splitlines()

    @staticmethod
    def fake_qemu(text, code):
        script = ("import sys; sys.stdout.buffer.write(sys.argv[1].encode()); "
                  "sys.stdout.flush(); sys.exit(int(sys.argv[2]))")
        return [sys.executable, "-c", script, text, str(code)]

    def test_all_pass(self):
        text = "\x1b[2J" + ALL_PASS.replace("\n", "\r\n")
        status, lines = self.run_runner(self.fake_qemu(text, 33),
                                        "--summary-json", str(Path(self.tmp.name, "s.json")))
        self.assertEqual(status, 0, lines)
        self.assertEqual(lines[-1], "3 passed, 0 failed")
        self.assertIn("  boot_info            2/2 passed", lines)
        self.assertEqual(self.log.read_bytes(), text.encode())
        data = json.loads(Path(self.tmp.name, "s.json").read_text())
        self.assertEqual((data["ok"], data["exit_code"], len(data["suites"])), (True, 33, 2))

    def test_failure(self):
        status, lines = self.run_runner(self.fake_qemu(EXAMPLE, 35))
        self.assertEqual((status, lines[-1]), (1, "1 passed, 1 failed"))

    def test_expect_fail(self):
        status, lines = self.run_runner(self.fake_qemu(EXAMPLE, 35), "--expect-fail", "*.cmdline*")
        self.assertEqual((status, lines[-1]), (0, "1 passed, 0 failed"))

    def test_expect_log(self):
        qemu = self.fake_qemu(CMDLINE_WARNINGS + ALL_PASS, 33)
        status, lines = self.run_runner(qemu, "--expect-log", TLB_WARNING,
                                        "--expect-log", MEM_WARNING)
        self.assertEqual((status, lines[-1]), (0, "3 passed, 0 failed"))
        status, lines = self.run_runner(qemu, "--expect-log", TLB_WARNING,
                                        "--expect-log", "frob")
        self.assertEqual((status, lines[-1]), (1, "3 passed, 1 failed"))
        self.assertIn("ERROR: no console line matched 'frob'", lines)

    def test_expect_error(self):
        status, lines = self.run_runner(self.fake_qemu(GLOB_ERROR, 35),
                                        "--expect-error", "'nosuch[*]'.*matches no")
        self.assertEqual((status, lines[-1]), (0, "1 passed, 0 failed"))
        status, lines = self.run_runner(self.fake_qemu(GLOB_ERROR, 35))
        self.assertEqual((status, lines[-1]), (1, "3 passed, 1 failed"))

    def test_bad_regex_is_a_usage_error(self):
        for option in ("--expect-log", "--expect-error", "--expect-panic"):
            status, _ = self.run_runner(["true"], option, "(")
            self.assertEqual(status, 2, option)

    def test_timeout(self):
        start = time.monotonic()
        cmd = [sys.executable, RUNNER, "--log", str(self.log), "--timeout", "1",
               "--exit-style", "x86", "--", "sh", "-c", "echo booting; sleep 30; true"]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=20)
        lines = proc.stdout.splitlines()
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("ERROR: TIMEOUT after 1 s", lines)
        self.assertEqual(lines[-1], "0 passed, 2 failed")  # no case ran + timeout
        self.assertEqual(self.log.read_text(), "booting\n")

    def test_idle_timeout(self):
        status, lines = self.run_runner(["sh", "-c", "echo x; sleep 30; true"],
                                        "--idle-timeout", "0.3")
        self.assertEqual(status, 1)
        self.assertIn("ERROR: no output for 0.3 s (idle timeout)", lines)

    def test_missing_command(self):
        status, lines = self.run_runner([os.path.join(self.tmp.name, "no-such-qemu")])
        self.assertEqual(status, 1)
        self.assertTrue(any(line.startswith("ERROR: cannot start QEMU") for line in lines))
        self.assertEqual(lines[-1], "0 passed, 2 failed")


if __name__ == "__main__":
    unittest.main()
