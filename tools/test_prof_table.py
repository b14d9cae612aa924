# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/prof_table.py: PROF lines parsed (malformed ones
reported and left out, console prefixes allowed), logs summed by scenario and
mode, pairs ranked by ticks, and a log without PROF totals refused.

Invariants: no QEMU; runs in well under a second with
`python3 tools/test_prof_table.py`.
"""

import contextlib
import io
import os
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prof_table as pt  # noqa: E402

LOG = """[    1.0] bench: mode gen on 4 CPUs
PROF scenario=munmap_1 mode=gen fn=arch_cpu_relax caller=tlb_wait samples=30 pct=60.0
PROF scenario=munmap_1 mode=gen fn=idle_loop caller=? samples=20 pct=40.0
PROF scenario=munmap_1 mode=gen fn=broken samples=x
PROF scenario=munmap_1 mode=gen total=50 outside=0 dropped=0
"""


class ProfTableTest(unittest.TestCase):
    def test_parse(self):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            pairs, totals = pt.parse(LOG)
        self.assertEqual(pairs[("munmap_1", "gen")][("arch_cpu_relax", "tlb_wait")], 30)
        self.assertEqual(totals[("munmap_1", "gen")], [50, 0, 0])
        self.assertIn("malformed", err.getvalue())

    def test_logs_summed_and_ranked(self):
        with tempfile.TemporaryDirectory() as d:
            a, b = Path(d) / "a.log", Path(d) / "b.log"
            a.write_text(LOG)
            b.write_text(LOG.replace("samples=20", "samples=50").replace("total=50", "total=80"))
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
                self.assertEqual(pt.main([str(a), str(b)]), 0)
        text = out.getvalue()
        self.assertIn("130 ticks", text)
        # idle_loop: 70 ticks, ahead of arch_cpu_relax's 60.
        self.assertLess(text.index("`idle_loop`"), text.index("`arch_cpu_relax`"))
        self.assertIn("| `idle_loop` | `?` | 70 | 53.8% |", text)

    def test_scenario_without_total_refused(self):
        with tempfile.TemporaryDirectory() as d:
            a = Path(d) / "a.log"
            a.write_text(LOG + "PROF scenario=mprotect mode=gen fn=f caller=g samples=1 pct=1.0\n")
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                self.assertEqual(pt.main([str(a)]), 1)
        self.assertIn("mprotect", err.getvalue())

    def test_log_without_profile_refused(self):
        with tempfile.TemporaryDirectory() as d:
            a = Path(d) / "a.log"
            a.write_text("BENCH scenario=munmap_1 mode=gen ops=1 ns=1\n")
            err = io.StringIO()
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
                self.assertEqual(pt.main([str(a)]), 1)
        self.assertIn("bench.profile", err.getvalue())


if __name__ == "__main__":
    unittest.main()
