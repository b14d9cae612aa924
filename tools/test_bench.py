# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/bench.py: parsing BENCH lines (the scenarios' own
counters included), the per-scenario tables with their extra columns, the
notifier cost table against the NOTIFIER=off baseline, skipped scenarios
(BENCH_SKIP: no hardware IOMMU) accepted and explained, and end-to-end
runs with a fake "QEMU" (sh -c printing canned lines) for @MODE@/@BUILD@.

Invariants: no QEMU, no network, no files outside a temporary directory;
the whole file runs in well under a second with `python3 tools/test_bench.py`.
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench.py")


def line(scenario, mode, ns, ops=10, rep=0, extra=""):
    """One BENCH line with fixed counts (flushes = ops) and the given time."""
    return (f"BENCH scenario={scenario} mode={mode} ops={ops} ns={ns} ipis={3 * ops} "
            f"remote_flush_targets={3 * ops} local_full=0 local_page={4 * ops} flushes={ops} "
            f"full_flushes=0 elided=0 deferrals={ops} lazy_skipped=0 cpus=4 rep={rep}{extra}")


class ParseTest(unittest.TestCase):
    def test_only_takes_comma_separated_globs(self):
        self.assertTrue(bench.selected("munmap_32", "mprotect,munmap_*"))
        self.assertTrue(bench.selected("mprotect", "mprotect,munmap_*"))
        self.assertFalse(bench.selected("munmap_1_sub", "munmap_1,mprotect"))
        self.assertFalse(bench.selected("concurrent", "mprotect,munmap_*"))

    def test_own_counters_are_ints_in_order(self):
        fields = bench.parse_fields(line("iommu_unmap_1", "gen", 1000,
                                         extra=" iommu_range=10 iommu_syncs=10 note=x"))
        self.assertEqual(fields["scenario"], "iommu_unmap_1")
        self.assertEqual(bench.extra_fields(fields), ["iommu_range", "iommu_syncs"])
        self.assertEqual(fields["note"], "x")

    def test_bad_common_count_makes_the_line_malformed(self):
        results, errors, _, _ = bench.parse_output(line("munmap_1", "gen", 1000).replace(
            "ipis=30", "ipis=x"))
        self.assertEqual(results, {})
        self.assertIn("no ipis", errors[0])


class SkipTest(unittest.TestCase):
    SKIP = "BENCH_SKIP scenario=hwiommu_unmap_1 rep=0 reason=no hardware IOMMU (make bench IOMMU=...)"

    def test_skip_is_parsed_with_its_reason(self):
        skips = bench.parse_skips("junk " + self.SKIP + "\n" + line("munmap_1", "gen", 1000))
        self.assertEqual(skips, {"hwiommu_unmap_1": "no hardware IOMMU (make bench IOMMU=...)"})

    def test_skipped_scenario_is_not_missing_but_an_absent_one_is(self):
        results, errors, end, panics = bench.parse_output(line("munmap_1", "gen", 1000))
        expected = ["munmap_1", "hwiommu_unmap_1"]
        skips = bench.parse_skips(self.SKIP)
        self.assertEqual(bench.check_boot("gen", results, errors, True, panics, None, expected,
                                          skipped=skips), [])
        problems = bench.check_boot("gen", results, errors, True, panics, None, expected)
        self.assertEqual(problems, ["gen: no result for scenario hwiommu_unmap_1"])

    def test_tables_say_why(self):
        skipped = {"gen": bench.parse_skips(self.SKIP)}
        text = bench.format_text(["hwiommu_unmap_1"], ["gen"], {"gen": {}}, skipped=skipped)
        self.assertIn("hwiommu_unmap_1: skipped: no hardware IOMMU", text)
        md = bench.format_markdown(["hwiommu_unmap_1"], ["gen"], {"gen": {}}, "t",
                                   skipped=skipped)
        self.assertIn("Skipped: no hardware IOMMU", md)


class TableTest(unittest.TestCase):
    def test_extra_columns_only_where_the_lines_have_them(self):
        text = "\n".join([line("munmap_1", "gen", 1000),
                          line("iommu_unmap_1", "gen", 2000,
                               extra=" iommu_range=10 iommu_syncs=20")])
        by_mode = {"gen": bench.parse_output(text)[0]}
        heads, rows = bench.scenario_table("munmap_1", ["gen"], by_mode)
        self.assertEqual(heads, [h for h, _ in bench.COLUMNS])
        heads, rows = bench.scenario_table("iommu_unmap_1", ["gen"], by_mode)
        self.assertEqual(heads[-4:], ["iommu_range/op", "iommu_syncs/op", "iommu_range/gather",
                                      "iommu_syncs/gather"])
        self.assertEqual(rows[0][-4:], ["1.00", "2.00", "1.00", "2.00"])

    def test_notifier_cost_ratios(self):
        by_mode = {"gen": bench.parse_output("\n".join([
            line("munmap_1", "gen", 1000), line("munmap_1_sub", "gen", 1250),
            line("munmap_32", "gen", 4000)]))[0]}
        baseline = bench.parse_output("\n".join([
            line("munmap_1", "gen", 900, rep=0), line("munmap_1", "gen", 1100, rep=1),
            line("munmap_32", "gen", 4000)]))[0]
        heads, rows = bench.baseline_table(["munmap_1", "munmap_32", "mprotect"], "gen",
                                           by_mode, baseline)
        self.assertEqual(len(heads), len(rows[0]))
        # munmap_1: baseline 100 ns/op (90 and 110: 20% spread), 100 without, 125 with a subscriber.
        self.assertEqual(rows[0], ["munmap_1", "100", "20%", "100", "0%", "1.00", "125", "0%",
                                   "0.80"])
        self.assertEqual(rows[1][-3:], ["-", "-", "-"])
        self.assertEqual(len(rows), 2)


HW = (" ipis_recv=20 bcast_page=0 bcast_range=5 bcast_full=1 switch_full=2 unload_full=1"
      " skip_done=3 skip_not_loaded=4 skip_switched_away=6 skip_covered=7"
      " xcall_wait_ns=50000 xcall_send_ns=25000 bcast_ns=10000")


class CounterTableTest(unittest.TestCase):
    def test_every_counter_per_op_and_not_an_own_column(self):
        fields = bench.parse_fields(line("munmap_1", "gen", 1000, extra=HW))
        self.assertEqual(bench.extra_fields(fields), [])  # not a scenario's own counter
        by_mode = {"gen": bench.parse_output(line("munmap_1", "gen", 1000, extra=HW))[0]}
        heads, rows = bench.scenario_table("munmap_1", ["gen"], by_mode, counters=True)
        cells = dict(zip(heads, rows[0]))
        # ops=10: 30 IPIs sent, 20 received; 40 local page + 0 broadcast; range 5;
        # full: 0 local + 1 broadcast + 2 switch-in + 1 unload.
        self.assertEqual(cells["IPIs sent/op"], "3.00")
        self.assertEqual(cells["IPIs recv/op"], "2.00")
        self.assertEqual(cells["page inv/op"], "4.00")
        self.assertEqual(cells["range inv/op"], "0.50")
        self.assertEqual(cells["full inv/op"], "0.40")
        self.assertEqual([cells[h] for h in ("skip: done/op", "not loaded/op", "lazy/op",
                                              "switched away/op", "covered/op")],
                         ["0.30", "0.40", "0.00", "0.60", "0.70"])
        # 25 us sending and 50 us waiting over 10 ops.
        self.assertEqual(cells["IPI send us/op"], "2.5")
        self.assertEqual(cells["IPI wait us/op"], "5.0")
        self.assertEqual(cells["broadcast us/op"], "1.0")

    def test_old_lines_without_them_show_dashes(self):
        by_mode = {"gen": bench.parse_output(line("munmap_1", "gen", 1000))[0]}
        heads, rows = bench.scenario_table("munmap_1", ["gen"], by_mode, counters=True)
        cells = dict(zip(heads, rows[0]))
        self.assertEqual(cells["IPIs recv/op"], "-")
        self.assertEqual(cells["full inv/op"], "-")
        self.assertEqual(cells["lazy/op"], "0.00")  # on every line from the start

    def test_tables_carry_the_counters(self):
        by_mode = {"gen": bench.parse_output(line("munmap_1", "gen", 1000, extra=HW))[0]}
        self.assertIn("munmap_1: counters", bench.format_text(["munmap_1"], ["gen"], by_mode))
        md = bench.format_markdown(["munmap_1"], ["gen"], by_mode, "t")
        self.assertIn("| mode | IPIs sent/op | IPIs recv/op |", md)


class OnlyTest(unittest.TestCase):
    def test_comma_separated_globs_as_the_kernel(self):
        args, _ = bench.parse_args(["--only", "munmap_1,page_*", "--", "true"])
        self.assertEqual(args.scenarios, ["munmap_1", "page_zero", "page_zero_bytes",
                                          "page_copy", "page_copy_bytes"])


class RunTest(unittest.TestCase):
    """bench.py end to end, with a shell script standing in for QEMU."""

    def test_modes_and_baseline(self):
        with tempfile.TemporaryDirectory() as tmp:
            builds = (("main", ["munmap_1", "munmap_1_sub"]), ("base", ["munmap_1"]))
            for build, scenarios in builds:
                os.mkdir(os.path.join(tmp, build))
                for mode in ("gen", "mmgen"):
                    with open(os.path.join(tmp, build, f"{mode}.txt"), "w") as f:
                        f.write("\n".join(line(s, mode, 1000) for s in scenarios))
                        f.write("\nBENCH_END failed=0\n")
            cmd = ["sh", "-c", f"cat {tmp}/@BUILD@/@MODE@.txt"]
            out = subprocess.run([sys.executable, BENCH, "--modes", "gen mmgen", "--scenarios",
                                  "munmap_1 munmap_1_sub", "--log-dir", tmp, "--build-dir", "main",
                                  "--baseline-dir", "base", "--", *cmd],
                                 capture_output=True, text=True, check=False)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("bench: baseline (NOTIFIER=off) mode gen: 1 scenarios", out.stdout)
            self.assertRegex(out.stdout, r"munmap_1 +100 +0% +100 +0% +1.00 +100 +0% +1.00")
            self.assertTrue(os.path.exists(os.path.join(tmp, "bench-nonotifier-gen.log")))

    def test_skip_exits_zero(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "gen.txt"), "w") as f:
                f.write(line("munmap_1", "gen", 1000) + "\n" + SkipTest.SKIP
                        + "\nBENCH_END failed=0\n")
            out = subprocess.run([sys.executable, BENCH, "--modes", "gen", "--scenarios",
                                  "munmap_1 hwiommu_unmap_1", "--log-dir", tmp, "--",
                                  "sh", "-c", f"cat {tmp}/@MODE@.txt"],
                                 capture_output=True, text=True, check=False)
            self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
            self.assertIn("1 scenarios in", out.stdout)
            self.assertIn("1 skipped", out.stdout)

    def test_baseline_needs_build_placeholder(self):
        out = subprocess.run([sys.executable, BENCH, "--baseline-dir", "x", "--", "true"],
                             capture_output=True, text=True, check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("needs @BUILD@", out.stderr)


if __name__ == "__main__":
    unittest.main()
