# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/bench_threshold.py: BENCH_POINT lines parsed (malformed
ones left out), medians over repetitions, the crossover interpolated where
(method - full) changes sign, "none" and "below" at the ends, the boot's
limits read from tlb_setup()'s line per transport, and the tables
that tools/bench.py prints from the same text.

Invariants: no QEMU and no matplotlib (look at the PNG); runs in well under a
second with `python3 tools/test_bench_threshold.py`.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import bench_threshold as bt  # noqa: E402


def point(method, pages, median, rep=0, transport="ipi", ops=10):
    return (f"BENCH_POINT scenario=flush_threshold mode=gen transport={transport} "
            f"method={method} pages={pages} ops={ops} ns={median * ops} ns_median={median} "
            f"ipis={3 * ops} inv_page={4 * pages * ops if method == 'page' else 0} inv_range=0 "
            f"inv_full={4 * ops if method == 'full' else 0} cpus=4 rep={rep}")


# page: 100 ns per page; full: 1000 ns flat: equal at 10 pages (between 8 and 16).
LINES = [point("page", n, 100 * n) for n in (1, 2, 4, 8, 16, 32)] + \
        [point("full", n, 1000) for n in (1, 2, 4, 8, 16, 32)]


class ParseTest(unittest.TestCase):
    def test_points_and_noise(self):
        text = "junk " + LINES[0] + "\nBENCH_POINT scenario=flush_threshold pages=x\n" + LINES[1]
        pts = bt.parse_points(text)
        self.assertEqual([p["pages"] for p in pts], [1, 2])
        self.assertEqual(pts[0]["ns_median"], 100)
        self.assertEqual(pts[0]["transport"], "ipi")

    def test_limits_per_transport(self):
        line = "[0.1] tlb: whole-mm flush past 33 pages (local), 0 pages (broadcast)"
        self.assertEqual(bt.parse_limit(line), {"ipi": 33, "broadcast": 0})
        self.assertEqual(bt.parse_limit("no such line"), {})
        limits = {"gen": {"ipi": 16, "broadcast": 4}, "broadcast": {"ipi": 16, "broadcast": 4},
                  "old": {}}
        self.assertEqual((bt.limit_for(limits, "ipi"), bt.limit_for(limits, "broadcast")),
                         (16, 4))
        limits["x"] = {"ipi": 33, "broadcast": 4}  # boots that disagree: no one limit
        self.assertIsNone(bt.limit_for(limits, "ipi"))

    def test_bench_line_regexp_ignores_points(self):
        results, errors, _, _ = bench.parse_output("\n".join(LINES))
        self.assertEqual((results, errors), ({}, []))


class CrossoverTest(unittest.TestCase):
    def test_interpolated_between_the_bracketing_counts(self):
        s = bt.summarize(bt.parse_points("\n".join(LINES)))
        n, kind = bt.crossover(s["ipi"]["page"], s["ipi"]["full"])
        self.assertEqual(kind, "at")
        # diff -200 at 8, +600 at 16: 8 + 8 * 200 / 800 = 10.
        self.assertAlmostEqual(n, 10.0)

    def test_noise_where_they_are_equal_does_not_decide(self):
        # full cheaper at 2 by noise, page cheaper again at 4, full for good from 8.
        page = {1: {"ns": 10}, 2: {"ns": 12}, 4: {"ns": 10}, 8: {"ns": 30}}
        full = {1: {"ns": 11}, 2: {"ns": 11}, 4: {"ns": 11}, 8: {"ns": 11}}
        n, kind = bt.crossover(page, full)
        self.assertEqual(kind, "at")
        self.assertAlmostEqual(n, 4 + 4 * 1 / 20)

    def test_ends(self):
        cheap = {n: {"ns": 1} for n in (1, 2)}
        dear = {n: {"ns": 5} for n in (1, 2)}
        self.assertEqual(bt.crossover(cheap, dear), (2, "none"))
        self.assertEqual(bt.crossover(dear, cheap), (1, "below"))
        self.assertEqual(bt.describe(2, "none"), "none up to 2 pages")
        self.assertEqual(bt.describe(1, "below"), "< 1 page")

    def test_median_over_repetitions_and_per_op_counts(self):
        text = "\n".join([point("page", 4, 100, rep=0), point("page", 4, 900, rep=1),
                          point("page", 4, 200, rep=2)])
        cell = bt.summarize(bt.parse_points(text))["ipi"]["page"][4]
        self.assertEqual((cell["ns"], cell["reps"]), (200, 3))
        self.assertEqual(cell["inv_page"], 16)  # 4 pages on 4 CPUs per op

    def test_mean_without_a_median_field(self):
        text = point("full", 1, 300).replace(" ns_median=300", "")
        self.assertEqual(bt.summarize(bt.parse_points(text))["ipi"]["full"][1]["ns"], 300)


class ReportTest(unittest.TestCase):
    def test_tables_per_transport(self):
        text = "\n".join(LINES + [point("range", 4, 50, transport="broadcast"),
                                  point("full", 4, 80, transport="broadcast")])
        lines = bt.report_lines({"gen": bt.parse_points(text)}, {"gen": {"ipi": 33}})
        out = "\n".join(lines)
        self.assertIn("transport ipi, 4 CPUs", out)
        self.assertIn("page vs full: crossover 10 pages; limit in force: 33 pages", out)
        self.assertIn("range vs full: crossover none up to 4 pages", out)
        md = "\n".join(bt.report_lines({"gen": bt.parse_points(text)}, {"gen": {"ipi": 33}}, True))
        self.assertIn("## flush_threshold (ipi)", md)
        self.assertIn("| N | page ns/op | full ns/op | page/full |", md)

    def test_bench_prints_them_from_the_boot_text(self):
        text = ("tlb: whole-mm flush past 33 pages (local), 0 pages (broadcast)\n"
                + "\n".join(LINES))
        out = bench.format_text(["flush_threshold"], ["gen"], {"gen": {}}, texts={"gen": text})
        self.assertIn("page vs full: crossover 10 pages; limit in force: 33 pages", out)
        self.assertNotIn("flush_threshold: no results", out)


def munmap(scenario, mode, ns, local_page, local_full):
    return (f"BENCH scenario={scenario} mode={mode} ops=10 ns={ns} ipis=30 "
            f"remote_flush_targets=30 local_full={local_full} local_page={local_page} flushes=10 "
            f"full_flushes=0 elided=0 deferrals=10 lazy_skipped=0 cpus=4 rep=0 bcast_page=0 "
            f"bcast_full=0")


class BeforeAfterTest(unittest.TestCase):
    def test_rows_per_scenario_and_mode(self):
        before = {"gen": bench.parse_output(munmap("munmap_32", "gen", 2_000_000, 1280, 0))[0]}
        after = {"gen": bench.parse_output(munmap("munmap_32", "gen", 1_000_000, 0, 40))[0],
                 "mmgen": bench.parse_output(munmap("munmap_32", "mmgen", 1, 0, 40))[0]}
        lines = bt.before_after_lines(before, after, 33)
        self.assertIn("tlb.range_max=33", lines[1])
        row = lines[-1].split()
        # 5000 -> 10000 ops/s; 128 page invalidations per op -> 0; 0 full -> 4.
        self.assertEqual(row, ["munmap_32", "gen", "5000", "10000", "2.00", "128.00", "0.00",
                               "0.00", "4.00"])
        self.assertEqual(len(lines), 4)  # mmgen has no before: no row
        self.assertEqual(bt.before_after_lines({}, after, 33), [])


if __name__ == "__main__":
    unittest.main()
