# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/bench_plot.py: the data behind the charts comes from
tools/bench.py's own parsing and summaries (medians, slowest and fastest
repetitions, per-op costs, the ratio to the reference mode), in the
scenarios' order, with modes that lack a scenario left out of its chart.

Invariants: no QEMU and no matplotlib (drawing is not tested here: look at
the PNGs); runs in well under a second with `python3 tools/test_bench_plot.py`.
"""

import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_plot  # noqa: E402


def line(scenario, mode, ns, rep, ipis=3, extra=""):
    return (f"BENCH scenario={scenario} mode={mode} ops=100 ns={ns} ipis={ipis * 100} "
            f"remote_flush_targets=300 local_full=0 local_page=400 flushes=100 full_flushes=0 "
            f"elided=0 deferrals=100 lazy_skipped=0 cpus=4 rep={rep}{extra}")


GEN = "\n".join(["junk", line("munmap_32", "gen", 1_000_000, 0), line("munmap_32", "gen", 2_000_000, 1),
                 line("munmap_32", "gen", 4_000_000, 2), line("mprotect", "gen", 1_000_000, 0),
                 line("iommu_unmap_1", "gen", 1_000_000, 0, extra=" iommu_range=200"),
                 "BENCH_END"])
MMGEN = "\n".join([line("munmap_32", "mmgen", 4_000_000, 0, ipis=6), "BENCH_END"])


class DataTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        (d / "bench-gen.log").write_text(GEN)
        (d / "bench-mmgen.log").write_text(MMGEN)
        self.by_mode = bench_plot.load(d, ["gen", "mmgen", "missing"])

    def tearDown(self):
        self.dir.cleanup()

    def test_load_skips_missing_logs(self):
        self.assertEqual(sorted(self.by_mode), ["gen", "mmgen"])

    def test_chart_data(self):
        data = bench_plot.chart_data(["gen", "mmgen"], self.by_mode)
        self.assertEqual([n for n, _ in data], ["munmap_32", "mprotect", "iommu_unmap_1"])
        bars = dict(data)["munmap_32"]
        self.assertEqual([m for m, _, _, _ in bars], ["gen", "mmgen"])
        mode, s, low, high = bars[0]
        self.assertAlmostEqual(s["ops_s"], 50_000)  # median of 100k, 50k, 25k ops/s
        self.assertAlmostEqual((low, high), (25_000, 100_000))
        self.assertEqual([m for m, _, _, _ in dict(data)["mprotect"]], ["gen"])

    def test_costs_per_op(self):
        data = dict(bench_plot.chart_data(["gen", "mmgen"], self.by_mode))
        cost = dict(bench_plot.cost_per_op(data["munmap_32"][1][1]))
        self.assertEqual(cost["IPIs"], 6)
        self.assertEqual(cost["local page"], 4)
        own = dict(bench_plot.cost_per_op(data["iommu_unmap_1"][0][1]))
        self.assertEqual(own["iommu_range"], 2)

    def test_ratios_against_mmgen(self):
        data = bench_plot.chart_data(["gen", "mmgen"], self.by_mode)
        ref, rows = bench_plot.ratios(["gen", "mmgen"], data)
        self.assertEqual(ref, "mmgen")
        self.assertEqual([n for n, _ in rows], ["munmap_32"])  # mmgen ran only that one
        self.assertAlmostEqual(rows[0][1]["gen"], 2.0)
        self.assertAlmostEqual(rows[0][1]["mmgen"], 1.0)

    def test_no_results_is_an_error(self):
        with tempfile.TemporaryDirectory() as empty:
            self.assertEqual(bench_plot.main(["--log-dir", empty, "--out-dir", empty]), 1)


if __name__ == "__main__":
    unittest.main()
