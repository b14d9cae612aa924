# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/bench_paired.py: one boot's BENCH lines split by
mode, the checks that refuse unpairable output (a mode missing, unequal
repetitions, a mode not asked for), the per-repetition ratios, and an
end-to-end run with a fake "QEMU" (sh -c printing canned lines).

Invariants: no QEMU, no network, no files outside a temporary directory;
runs in well under a second with `python3 tools/test_bench_paired.py`.
"""

import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import bench_paired  # noqa: E402

PAIRED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_paired.py")


def line(mode, ns, rep, scenario="concurrent", ops=10):
    return (f"BENCH scenario={scenario} mode={mode} ops={ops} ns={ns} ipis={3 * ops} "
            f"remote_flush_targets={3 * ops} local_full=0 local_page={4 * ops} flushes={ops} "
            f"full_flushes=0 elided=0 deferrals={ops} lazy_skipped=0 cpus=4 rep={rep}")


def boot_text(pairs, end=True):
    """Lines as the kernel prints them: per repetition, gen then mmgen, then reversed."""
    out = []
    for rep, (gen_ns, mmgen_ns) in enumerate(pairs):
        order = [("gen", gen_ns), ("mmgen", mmgen_ns)]
        out += [line(m, ns, rep) for m, ns in (order if rep % 2 == 0 else order[::-1])]
    return "\n".join(out + (["BENCH_END failed=0"] if end else [])) + "\n"


class PairTest(unittest.TestCase):
    def split(self, text, modes=("gen", "mmgen")):
        results, errors, _, _ = bench.parse_output(text)
        self.assertEqual(errors, [])
        return bench_paired.split_by_mode(results, list(modes))

    def test_ratios_pair_the_same_repetition(self):
        # gen is twice as fast in rep 0, as fast in rep 1, half as fast in rep 2: the median
        # of the paired ratios is 1.0, and each ratio comes from its own repetition.
        by_mode = self.split(boot_text([(500, 1000), (1000, 1000), (2000, 1000)]))
        ratios = bench_paired.paired_ratios(by_mode, ["gen", "mmgen"], "concurrent")
        self.assertEqual(ratios["gen"], [2.0, 1.0, 0.5])
        self.assertEqual(ratios["mmgen"], [1.0, 1.0, 1.0])
        heads, rows = bench_paired.paired_table(["concurrent"], ["gen", "mmgen"], by_mode)
        self.assertEqual(rows[0], ["concurrent", "gen", "3", "1.00", "0.50", "2.00"])

    def test_a_missing_mode_is_refused(self):
        text = "\n".join(line("gen", 1000, r) for r in range(3)) + "\nBENCH_END failed=0\n"
        problems = bench_paired.check_paired(self.split(text), ["gen", "mmgen"], ["concurrent"],
                                             {})
        self.assertEqual(len(problems), 1)
        self.assertIn("in mode(s) mmgen", problems[0])

    def test_unequal_repetitions_are_refused(self):
        text = boot_text([(1000, 1000), (1000, 1000)]) + line("gen", 1000, 2) + "\n"
        problems = bench_paired.check_paired(self.split(text), ["gen", "mmgen"], ["concurrent"],
                                             {})
        self.assertEqual(len(problems), 1)
        self.assertIn("unequal repetitions: gen 3, mmgen 2", problems[0])

    def test_a_mode_not_asked_for_is_refused(self):
        text = boot_text([(1000, 1000)]) + line("ipi", 1000, 0) + "\n"
        problems = bench_paired.check_paired(self.split(text), ["gen", "mmgen"], ["concurrent"],
                                             {})
        self.assertIn("modes not asked for: ipi", problems[0])

    def test_skipped_scenario_needs_no_result(self):
        self.assertEqual(bench_paired.check_paired({"gen": {}, "mmgen": {}}, ["gen", "mmgen"],
                                                   ["hwiommu_unmap_1"],
                                                   {"hwiommu_unmap_1": "no IOMMU"}), [])


class EndToEndTest(unittest.TestCase):
    def run_fake(self, text, *extra):
        with tempfile.TemporaryDirectory() as d:
            out_file = os.path.join(d, "out.txt")
            with open(out_file, "w") as f:
                f.write(text)
            r = subprocess.run([sys.executable, PAIRED, "--only", "concurrent", "--log",
                                os.path.join(d, "paired.log"), *extra, "--", "cat", out_file],
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout

    def test_clean_boot_passes_and_prints_the_paired_table(self):
        code, out = self.run_fake(boot_text([(1000, 2000), (1000, 1500), (1000, 3000)]))
        self.assertEqual(code, 0, out)
        self.assertIn("bench-paired: ok", out)
        self.assertRegex(out, r"concurrent\s+gen\s+3\s+2\.00\s+1\.50\s+3\.00")

    def test_no_end_line_fails(self):
        code, out = self.run_fake(boot_text([(1000, 1000)], end=False))
        self.assertEqual(code, 1)
        self.assertIn("no BENCH_END line", out)

    def test_kernel_error_fails(self):
        text = ("BENCH_ERROR scenario=concurrent rep=0 mode_switch=1 (tlb mode mmgen: busy)\n"
                + boot_text([(1000, 1000)]))
        code, out = self.run_fake(text)
        self.assertEqual(code, 1)
        self.assertIn("mode_switch=1", out)

    def test_one_mode_is_refused(self):
        code, out = self.run_fake(boot_text([(1000, 1000)]), "--modes", "gen")
        self.assertEqual(code, 2)


if __name__ == "__main__":
    unittest.main()
