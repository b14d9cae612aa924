# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/bench_sweep.py: the logs of each CPU count are read
with tools/bench.py's parsing, each scenario's table has a row per CPU
count and mode with the ratio taken at the same CPU count and the exact
counters per op, a missing log is reported and left out (not drawn as 0),
and the threshold scenario is not swept.

Invariants: no QEMU and no matplotlib (look at the PNG); files only in a
temporary directory; runs in well under a second.
"""

import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_sweep  # noqa: E402


def line(scenario, mode, ns, cpus, ops=10, rep=0):
    return (f"BENCH scenario={scenario} mode={mode} ops={ops} ns={ns} ipis={(cpus - 1) * ops} "
            f"remote_flush_targets={(cpus - 1) * ops} local_full=0 local_page={cpus * ops} "
            f"flushes={ops} full_flushes=0 elided=0 deferrals={ops} lazy_skipped=0 cpus={cpus} "
            f"rep={rep} ipis_recv={(cpus - 1) * ops} bcast_page=0 bcast_range=0 bcast_full=0 "
            f"switch_full=0 unload_full=0 skip_done=0 skip_not_loaded=0 skip_switched_away=0 "
            f"skip_covered=0")


class SweepTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        d = Path(self.tmp.name)
        # gen: 1e6 ns per 10 ops = 10000 ops/s at 1 CPU, half that at 2; mmgen only at 1 CPU.
        for n, ns in ((1, 1_000_000), (2, 2_000_000)):
            (d / f"cpus-{n}").mkdir()
            (d / f"cpus-{n}" / "bench-gen.log").write_text(
                line("munmap_1", "gen", ns, n) + "\n" + line("flush_threshold", "gen", 5, n))
        (d / "cpus-1" / "bench-mmgen.log").write_text(line("munmap_1", "mmgen", 2_000_000, 1))
        self.by_cpus, self.problems = bench_sweep.load(d, [1, 2], ["gen", "mmgen"])

    def tearDown(self):
        self.tmp.cleanup()

    def test_missing_log_is_named(self):
        self.assertEqual(len(self.problems), 1)
        self.assertIn("cpus-2/bench-mmgen.log: missing", self.problems[0])

    def test_rows_per_count_and_mode(self):
        self.assertEqual(bench_sweep.scenarios_in(self.by_cpus), ["munmap_1"])
        heads, rows = bench_sweep.table("munmap_1", [1, 2], ["gen", "mmgen"], self.by_cpus)
        cells = [dict(zip(heads, r)) for r in rows]
        self.assertEqual([(c["CPUs"], c["mode"], c["ops/s"], c["ratio"]) for c in cells],
                         [("1", "gen", "10000", "2.00"), ("1", "mmgen", "5000", "1.00"),
                          ("2", "gen", "5000", "-")])
        self.assertEqual((cells[2]["IPIs sent/op"], cells[2]["IPIs recv/op"],
                          cells[2]["page inv/op"]), ("1.00", "1.00", "2.00"))

    def test_series_leave_out_what_did_not_run(self):
        s = bench_sweep.series("munmap_1", [1, 2], ["gen", "mmgen"], self.by_cpus)
        self.assertEqual([n for n, _, _, _ in s["gen"]], [1, 2])
        self.assertEqual([n for n, _, _, _ in s["mmgen"]], [1])

    def test_markdown(self):
        md = "\n".join(bench_sweep.report([1, 2], ["gen", "mmgen"], self.by_cpus, True, "T"))
        self.assertIn("## munmap_1", md)
        self.assertIn("| 2 | gen | 5000 |", md)


if __name__ == "__main__":
    unittest.main()
