# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/peer_bench.py (make peer-bench) and
tools/peer/mkinitramfs.py: parsing both sides' BENCH lines and the Linux
guest's PEER lines, the per-round ratios and their median and spread, the
acceptance column, a failed or incomplete boot reported, and the initramfs
archive's layout (the newc headers, /dev/console, the trailer).

Invariants: no QEMU, no network, no matplotlib, no files outside a
temporary directory; runs in well under a second.
"""

import gzip
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "peer"))
import mkinitramfs  # noqa: E402
import peer_bench  # noqa: E402


def pagoda_line(scenario, ns, ops=100, rep=0, ipis=100):
    return (f"BENCH scenario={scenario} mode=gen ops={ops} ns={ns} ipis={ipis} "
            f"remote_flush_targets={ipis} local_full=0 local_page=0 flushes={ops} "
            f"full_flushes=0 elided=0 deferrals={ops} lazy_skipped=0 cpus=2 rep={rep}")


def linux_line(scenario, ns, ops=100, rep=0, ipis=200, tlb=True):
    return (f"BENCH scenario={scenario} mode=linux ops={ops} ns={ns} ipis={ipis} cpus=2 "
            f"rep={rep}" + (f" tlb_ipis={ipis}" if tlb else "") + " resched_ipis=3")


def boot_text(lines, end=True):
    return "\n".join(lines + (["BENCH_END failed=0"] if end else []))


class ParseTest(unittest.TestCase):
    def test_linux_lines_and_peer_info(self):
        text = boot_text([
            "[    5.0] Run /init as init process",
            "PEER uname=6.1.0-57-cloud-amd64",
            "PEER thp=always madvise [never]",
            "PEER vuln meltdown=Not affected",
            "PEER kpti=[    0.0] CPU features: detected: Kernel page table isolation (KPTI)",
            linux_line("munmap_1", 2_000_000, rep=0),
            linux_line("munmap_1", 4_000_000, rep=1),
        ])
        results, errors, end, info = peer_bench.parse_boot(text)
        self.assertEqual(errors, [])
        self.assertTrue(end)
        self.assertEqual(len(results["munmap_1"]), 2)
        self.assertEqual(results["munmap_1"][0]["tlb_ipis"], 200)
        self.assertEqual(info["uname"], "6.1.0-57-cloud-amd64")
        self.assertEqual(info["thp"], "always madvise [never]")
        self.assertEqual(info["vuln"], {"meltdown": "Not affected"})
        self.assertEqual(len(info["kpti"]), 1)

    def test_errors_panics_and_malformed_lines(self):
        text = boot_text([
            "BENCH scenario=munmap_1 mode=linux ops=10 ns=5 cpus=2",  # no ipis
            "BENCH scenario=mprotect mode=linux ops=0 ns=5 ipis=0",
            "BENCH_ERROR scenario=concurrent rep=0 error=12",
            "[    1.0] Kernel panic - not syncing: VFS: Unable to mount root fs",
        ], end=False)
        results, errors, end, _ = peer_bench.parse_boot(text)
        self.assertEqual(results, {})
        self.assertFalse(end)
        self.assertEqual(len(errors), 4)
        problems = peer_bench.boot_problems("Linux", results, errors, end, None, ["munmap_1"])
        self.assertIn("Linux: no BENCH_END line", problems)
        self.assertIn("Linux: no result for scenario munmap_1", problems)

    def test_replay_reads_the_logs_back_and_names_a_missing_one(self):
        import tempfile
        from pathlib import Path
        with tempfile.TemporaryDirectory() as d:
            log = Path(d) / "peer-pagoda-0.log"
            log.write_text(boot_text([pagoda_line("munmap_1", 1_000_000)]))
            results, _, problems = peer_bench.replay("Pagoda", log, ["munmap_1"])
            self.assertEqual(problems, [])
            self.assertEqual(results["munmap_1"][0]["ns"], 1_000_000)
            missing = Path(d) / "peer-linux-0.log"
            _, _, problems = peer_bench.replay("Linux", missing, ["munmap_1"])
            self.assertEqual(problems, [f"Linux: no log {missing} to replay"])
            log.write_text(boot_text([pagoda_line("munmap_1", 1_000_000)], end=False))
            _, _, problems = peer_bench.replay("Pagoda", log, ["munmap_1", "mprotect"])
            self.assertEqual(problems, ["Pagoda: no BENCH_END line",
                                        "Pagoda: no result for scenario mprotect"])

    def test_failed_exit_is_a_problem(self):
        problems = peer_bench.boot_problems("Pagoda", {"munmap_1": [{}]}, [], True,
                                            "37 (kernel: panic)", ["munmap_1"])
        self.assertEqual(problems, ["Pagoda: boot failed (QEMU exit: 37 (kernel: panic))"])


class SummaryTest(unittest.TestCase):
    def rounds(self):
        """Three rounds: Pagoda 2x, 3x, 4x as fast on munmap_1 (median of its own reps)."""
        out = []
        for factor in (2, 3, 4):
            pagoda = {"munmap_1": peer_bench.parse_boot(boot_text([
                pagoda_line("munmap_1", 1_000_000, rep=0),
                pagoda_line("munmap_1", 1_000_000, rep=1),
                pagoda_line("munmap_1", 9_000_000, rep=2)]))[0]["munmap_1"]}
            linux = {"munmap_1": peer_bench.parse_boot(boot_text([
                linux_line("munmap_1", factor * 1_000_000)]))[0]["munmap_1"]}
            out.append((pagoda, linux))
        return out

    def test_ratio_is_taken_within_a_round(self):
        [row] = peer_bench.summarize(["munmap_1", "mprotect"], self.rounds())
        self.assertEqual(row["rounds"], 3)
        self.assertAlmostEqual(row["ratio"], 3.0)
        self.assertAlmostEqual(row["ratio_min"], 2.0)
        self.assertAlmostEqual(row["ratio_max"], 4.0)
        self.assertAlmostEqual(row["pagoda_ops_s"], 100_000)
        self.assertAlmostEqual(row["linux_ops_s"], 100 / 0.003)
        # Counts are summed over every repetition of every round: exact per op.
        self.assertAlmostEqual(row["pagoda_ipis_op"], 1.0)
        self.assertAlmostEqual(row["linux_ipis_op"], 2.0)
        self.assertAlmostEqual(row["linux_tlb_ipis_op"], 2.0)
        self.assertTrue(peer_bench.goal_met(row))

    def test_ipi_times_per_op_in_microseconds(self):
        extra = " xcall_send_ns=250000 xcall_wait_ns=500000"  # 100 ops: 2.5 and 5.0 us each
        rounds = [({"munmap_1": peer_bench.parse_boot(boot_text([
                       pagoda_line("munmap_1", 1_000_000) + extra]))[0]["munmap_1"]},
                   {"munmap_1": peer_bench.parse_boot(boot_text([
                       linux_line("munmap_1", 2_000_000)]))[0]["munmap_1"]})]
        [row] = peer_bench.summarize(["munmap_1"], rounds)
        cells = dict(zip(peer_bench.HEADINGS, peer_bench.table_rows([row])[0]))
        self.assertEqual(cells["Pagoda us/op"], "10.0")
        self.assertEqual(cells["Pagoda IPI send us/op"], "2.5")
        self.assertEqual(cells["Pagoda IPI wait us/op"], "5.0")
        # Lines without them (an older kernel): a dash, not a zero.
        [row] = peer_bench.summarize(["munmap_1"], self.rounds())
        cells = dict(zip(peer_bench.HEADINGS, peer_bench.table_rows([row])[0]))
        self.assertEqual(cells["Pagoda IPI send us/op"], "-")

    def test_goal_needs_ratio_and_no_more_ipis(self):
        row = {"ratio": 1.9, "goal": 2.0, "pagoda_ipis_op": 1.0, "linux_ipis_op": 2.0}
        self.assertFalse(peer_bench.goal_met(row))
        row.update(ratio=2.1, pagoda_ipis_op=2.5)
        self.assertFalse(peer_bench.goal_met(row))
        row.update(pagoda_ipis_op=2.0)
        self.assertTrue(peer_bench.goal_met(row))

    def test_tables_name_versions_and_have_one_row_per_scenario(self):
        rows = peer_bench.summarize(["munmap_1"], self.rounds())
        meta = {"qemu": "QEMU emulator version 10.0.2", "git": "abc1234", "uname": "6.1.0-57",
                "vuln": {"meltdown": "Not affected"}, "rounds": 3, "pagoda_mode": "tlb=gen"}
        text = peer_bench.format_text(rows, meta)
        self.assertIn("QEMU emulator version 10.0.2", text)
        self.assertIn("git abc1234", text)
        self.assertIn("6.1.0-57", text)
        md = peer_bench.format_markdown(rows, meta, "t")
        table = [line for line in md.splitlines() if line.startswith("| munmap_1 ")]
        self.assertEqual(len(table), 1)
        self.assertIn("| 3.00 | 2.00-4.00 |", table[0])
        self.assertIn("| >= 2x | yes |", table[0])

    def test_a_scenario_missing_on_one_side_gets_no_row(self):
        rounds = [({"munmap_1": []}, {})]
        self.assertEqual(peer_bench.summarize(["munmap_1"], rounds), [])


class InitramfsTest(unittest.TestCase):
    def entries(self, archive):
        """(name, mode, rdev major, rdev minor, data) of each newc entry."""
        out, pos = [], 0
        while True:
            self.assertEqual(archive[pos:pos + 6], b"070701")
            f = [int(archive[pos + 6 + 8 * i:pos + 14 + 8 * i], 16) for i in range(13)]
            size, namesize = f[6], f[11]
            name = archive[pos + 110:pos + 110 + namesize - 1].decode()
            pos += 110 + namesize
            pos += -pos % 4
            data = archive[pos:pos + size]
            pos += size + (-size % 4)
            out.append((name, f[1], f[9], f[10], data))
            if name == mkinitramfs.TRAILER:
                return out, pos

    def test_layout(self):
        files = {"init": (0o755, b"#!/bin/busybox sh\n"), "bin/busybox": (0o755, b"x" * 5)}
        archive = mkinitramfs.build(files)
        entries, end = self.entries(archive)
        self.assertEqual(end, len(archive))
        byname = {e[0]: e for e in entries}
        self.assertEqual(byname["dev/console"][1:4], (0o20600, 5, 1))
        self.assertEqual(byname["init"][1], 0o100755)
        self.assertEqual(byname["init"][4], b"#!/bin/busybox sh\n")
        self.assertEqual(byname["bin/busybox"][4], b"xxxxx")
        self.assertEqual(entries[-1][0], "TRAILER!!!")
        # Same inputs, same bytes (gzip without a timestamp).
        self.assertEqual(gzip.compress(archive, mtime=0), gzip.compress(mkinitramfs.build(files),
                                                                        mtime=0))


if __name__ == "__main__":
    unittest.main()
