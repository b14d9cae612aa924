# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/dma_plot.py: parsing the DMAPLOT lines, the checks
that refuse a run (no end line, a failed run, samples going backwards, a
panic), the rates per sample with each interval in the phase it ran in,
and the phase spans the figure shades.

Invariants: no QEMU and no matplotlib (drawing is not tested here: look at
the PNG); runs in well under a second with `python3 tools/test_dma_plot.py`.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dma_plot  # noqa: E402

BEGIN = ("DMAPLOT_BEGIN iommu=smmuv3 device=edu mode=shared sample_ms=500 "
         "phase_ms=3000,7000,11000,13000")


def sample(t_ms, phase, bytes_, faults=0, unmaps=0, inv_range=0, inv_asid=0, syncs=0):
    return (f"DMAPLOT t_ms={t_ms} phase={phase} bytes={bytes_} xfers={bytes_ // 4096} "
            f"faults={faults} unmaps={unmaps} inv_range={inv_range} inv_asid={inv_asid} "
            f"syncs={syncs}")


def run(*lines, end="DMAPLOT_END failed=0"):
    return "\n".join([BEGIN, *lines] + ([end] if end else []))


class ParseTest(unittest.TestCase):
    def test_good_run(self):
        header, samples, problems = dma_plot.parse(run(
            "junk " + sample(0, 0, 0), sample(500, 0, 20480), sample(1000, 1, 36864, 0, 7, 7, 0, 7)))
        self.assertEqual(problems, [])
        self.assertEqual(header["iommu"], "smmuv3")
        self.assertEqual([s["t_ms"] for s in samples], [0, 500, 1000])

    def test_refusals(self):
        two = [sample(0, 0, 0), sample(500, 0, 4096)]
        self.assertIn("no DMAPLOT_END failed=0 line", dma_plot.parse(run(*two, end=None))[2])
        self.assertIn("the run failed", dma_plot.parse(run(*two, end="DMAPLOT_END failed=1"))[2])
        back = dma_plot.parse(run(sample(0, 0, 8192), sample(500, 0, 4096)))[2]
        self.assertTrue(any("backwards" in p for p in back))
        panic = dma_plot.parse(run(*two, "PANIC on cpu1: dma: boom"))[2]
        self.assertTrue(any("kernel panic" in p for p in panic))
        self.assertTrue(any("malformed" in p for p in dma_plot.parse(
            run(*two, "DMAPLOT t_ms=9 phase=x"))[2]))
        self.assertIn("no DMAPLOT_BEGIN line", dma_plot.parse("\n".join(two))[2])


class RatesTest(unittest.TestCase):
    def test_rates_and_phases(self):
        _, samples, _ = dma_plot.parse(run(
            sample(0, 0, 0), sample(500, 0, 20480), sample(1000, 1, 36864, 0, 10, 9, 1, 10),
            sample(1500, 2, 45056, 2, 12, 11, 1, 12)))
        r = dma_plot.rates(samples)
        self.assertEqual([x["phase"] for x in r], [0, 1, 2])
        self.assertEqual(r[0]["kib_s"], 40.0)  # 20 KiB in 0.5 s
        self.assertEqual((r[1]["unmaps"], r[1]["inv_range"], r[1]["inv_asid"]), (10, 9, 1))
        self.assertEqual(r[2]["faults"], 2)
        self.assertEqual(dma_plot.phase_spans(samples), [(0, 0.0, 0.5), (1, 0.5, 1.0),
                                                         (2, 1.0, 1.5)])


if __name__ == "__main__":
    unittest.main()
