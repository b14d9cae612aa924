# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/icount_profile.py (make bench-icount): symbols from
nm, the plugin's block counts, operations from BENCH lines, blocks charged
to the function they start in, calls counted at function entries, and the
difference of two boots divided by the operations between them.

Invariants: no QEMU, no nm run, no files; runs in well under a second.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import icount_profile  # noqa: E402

NM = """ffffffff80200000 T start
ffffffff80200100 t walk
ffffffff80200180 D some_data
ffffffff80200200 T spin_lock
ffffffff80200300 W weak_fn
"""


class IcountProfileTest(unittest.TestCase):
    def test_symbols_are_text_only_and_sorted(self):
        syms = icount_profile.parse_symbols(NM)
        self.assertEqual([n for _, n in syms], ["start", "walk", "spin_lock", "weak_fn"])

    def test_counts_parse_and_reject_malformed(self):
        self.assertEqual(icount_profile.parse_counts("ffffffff80200100 12 3\n"),
                         [(0xffffffff80200100, 12, 3)])
        with self.assertRaises(ValueError):
            icount_profile.parse_counts("ffffffff80200100 12\n")

    def test_ops_sum_the_scenario_only(self):
        log = ("BENCH scenario=munmap_1 mode=gen ops=600 ns=1 ipis=0\n"
               "[ 1.0] cpu0: BENCH scenario=munmap_1 mode=gen ops=60 ns=1 ipis=0\n"
               "BENCH scenario=mprotect mode=gen ops=300 ns=1 ipis=0\nBENCH_END failed=0\n")
        self.assertEqual(icount_profile.ops_in_log(log, "munmap_1"), 660)
        self.assertEqual(icount_profile.ops_in_log(log, "tlb_flush2"), 0)

    def test_blocks_charged_and_calls_counted_at_entries(self):
        syms = icount_profile.parse_symbols(NM)
        blocks = [(0xffffffff80200100, 10, 4),   # walk's entry: 4 calls
                  (0xffffffff80200140, 5, 8),    # inside walk
                  (0xffffffff80200190, 2, 1),    # past a data symbol: still walk
                  (0xffffffff80200200, 7, 2)]    # spin_lock's entry
        insns, calls = icount_profile.charge(blocks, syms)
        self.assertEqual(insns["walk"], 10 * 4 + 5 * 8 + 2)
        self.assertEqual(calls["walk"], 4)
        self.assertEqual(insns["spin_lock"], 14)
        self.assertEqual(calls["spin_lock"], 2)

    def test_profile_is_the_difference_per_extra_op(self):
        syms = icount_profile.parse_symbols(NM)
        low = [(0xffffffff80200000, 1000, 1), (0xffffffff80200100, 10, 10)]
        high = [(0xffffffff80200000, 1000, 1), (0xffffffff80200100, 10, 110),
                (0xffffffff80200200, 4, 200)]
        rows, total, calls = icount_profile.profile(low, high, 100, syms)
        self.assertEqual(rows[0], ("walk", 10.0, 1.0))
        self.assertEqual(rows[1], ("spin_lock", 8.0, 2.0))
        self.assertEqual(len(rows), 2)  # `start` cancels out
        self.assertAlmostEqual(total, 18.0)
        self.assertAlmostEqual(calls, 3.0)
        text = icount_profile.markdown("munmap_1", 100, rows, total, calls, 10)
        self.assertIn("### munmap_1: 18 guest instructions per operation", text)
        self.assertIn("| `walk` | 10.0 | 55.6% | 1.00 |", text)


if __name__ == "__main__":
    unittest.main()
