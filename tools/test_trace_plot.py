# SPDX-License-Identifier: BSD-2-Clause
"""Unit tests for tools/trace_plot.py: parsing the ring's dump (prefixes
and KTAP lines around it, the checks that refuse a dump: no begin or end,
a count that does not match, lost events, time going back on a CPU, a
malformed line), cutting it into operations, pairing each IPI received
with the send it answers, and the spans and free runs the figure draws.

Invariants: no QEMU and no matplotlib (drawing is not tested here: look at
the PNG); runs in well under a second with `python3 tools/test_trace_plot.py`.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import trace_plot  # noqa: E402

# A 1-page unmap on cpu0 with cpu1 and cpu2 holding the mm, as the kernel prints it.
EVENTS = [
    (1000, 0, "unmap_start", 0x400000, 0x401000),
    (1100, 0, "gather_pages", 0xffd8000, 1),
    (1200, 0, "gen_bump", 2, 0x400000),
    (1300, 0, "ipi_send", 0x6, 2),
    (1400, 0, "flush_begin", 0x400000, 1),
    (1450, 1, "ipi_recv", 0, 2),
    (1500, 0, "flush_end", 0x400000, 1),
    (1500, 1, "flush_begin", 0x400000, 1),
    (1600, 1, "flush_end", 0x400000, 1),
    (1700, 2, "ipi_recv", 0, 2),
    (1710, 2, "skip", 1, 2),
    (1800, 0, "ipi_acked", 0x6, 2),
    (1900, 0, "free_page", 0xffd8000, 0),
    (1905, 0, "free_table", 0xffd9000, 0),
    (2000, 0, "unmap_end", 0x400000, 0x401000),
]


def dump(events=EVENTS, count=None, lost=0, end=True, prefix="[    0.1] cpu0: "):
    lines = ["ok 1 tlb_trace", "# tlb_trace: pass:1 fail:0",
             f"{prefix}trace: begin events={len(events) if count is None else count} "
             f"lost={lost} cpus=3"]
    lines += [f"{prefix}trace: {ns} {cpu} {kind} {a:#x} {b:#x}" for ns, cpu, kind, a, b in events]
    if end:
        lines.append(f"{prefix}trace: end")
    return "\n".join(lines)


class ParseTest(unittest.TestCase):
    def test_good_dump(self):
        events, problems = trace_plot.parse(dump())
        self.assertEqual(problems, [])
        self.assertEqual(len(events), len(EVENTS))
        self.assertEqual(events[3], dict(ns=1300, cpu=0, kind="ipi_send", a=6, b=2))

    def test_without_console_prefix(self):
        events, problems = trace_plot.parse(dump(prefix=""))
        self.assertEqual((len(events), problems), (len(EVENTS), []))

    def test_refusals(self):
        def problems(text):
            return " ".join(trace_plot.parse(text)[1])
        self.assertIn("no 'trace: begin'", problems("trace: 1 0 gen_bump 0x1 0x0"))
        self.assertIn("cut short", problems(dump(end=False)))
        self.assertIn("header says 99 events", problems(dump(count=99)))
        self.assertIn("3 events were lost", problems(dump(lost=3)))
        back = EVENTS[:2] + [(900, 0, "gen_bump", 2, 0)]
        self.assertIn("cpu0: time goes back", problems(dump(back)))
        self.assertIn("malformed", problems(dump() + "\ntrace: 5 0 nonsense 0x1 0x2"))
        self.assertIn("malformed", problems(dump() + "\ntrace: 5 0 gen_bump 12 0x2"))


class StructureTest(unittest.TestCase):
    def setUp(self):
        self.events = trace_plot.parse(dump())[0]

    def test_one_operation(self):
        ops = trace_plot.operations(self.events)
        self.assertEqual(len(ops), 1)
        label, cpu, t0, t1, evs = ops[0]
        self.assertEqual((label, cpu, t0, t1), ("munmap 1 page at 0x400000", 0, 1000, 2000))
        self.assertEqual(len(evs), len(EVENTS))

    def test_unfinished_operation_is_dropped(self):
        self.assertEqual(trace_plot.operations(self.events[:-1]), [])

    def test_protect_and_plural(self):
        evs = trace_plot.parse(dump([(1, 0, "protect_start", 0x400000, 0x408000),
                                     (2, 0, "protect_end", 0x400000, 0x408000)]))[0]
        self.assertEqual(trace_plot.operations(evs)[0][0], "mprotect 8 pages at 0x400000")

    def test_ipi_pairs(self):
        pairs = trace_plot.pair_ipis(self.events)
        self.assertEqual([(s["ns"], r["cpu"]) for s, r in pairs], [(1300, 1), (1300, 2)])

    def test_recv_outside_the_mask_is_not_paired(self):
        evs = [dict(ns=1, cpu=0, kind="ipi_send", a=0x2, b=1),
               dict(ns=2, cpu=3, kind="ipi_recv", a=0, b=1)]
        self.assertEqual(trace_plot.pair_ipis(evs), [])

    def test_flush_spans_and_labels(self):
        spans = trace_plot.spans(self.events, "flush_begin", "flush_end")
        self.assertEqual([(c, b["ns"], e["ns"]) for c, b, e in spans],
                         [(0, 1400, 1500), (1, 1500, 1600)])
        self.assertEqual(trace_plot.flush_label(dict(b=1)), "page")
        self.assertEqual(trace_plot.flush_label(dict(b=8)), "8 pages")
        self.assertEqual(trace_plot.flush_label(dict(b=0)), "full")

    def test_free_runs(self):
        self.assertEqual(trace_plot.free_runs(self.events), [(0, 1900, 1905, 2, 1)])
        # Another CPU's event between two frees does not cut the run; the CPU's own does.
        evs = [dict(ns=1, cpu=0, kind="free_page"), dict(ns=2, cpu=1, kind="flush_end"),
               dict(ns=3, cpu=0, kind="free_page"), dict(ns=4, cpu=0, kind="gen_bump"),
               dict(ns=5, cpu=0, kind="free_table")]
        self.assertEqual(trace_plot.free_runs(evs), [(0, 1, 3, 2, 0), (0, 5, 5, 1, 1)])


if __name__ == "__main__":
    unittest.main()
