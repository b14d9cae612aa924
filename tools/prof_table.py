#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Where a benchmark's time went: the PROF lines of Pagoda's sampling profiler
(kernel/prof.h, `bench.profile`) in boot logs, as one Markdown table per
scenario and mode, the (function, caller) pairs with the most timer ticks.

Usage: prof_table.py [--top N] LOG... > profile.md

A scenario's profile sums every repetition in one boot. Several logs (the
rounds of make peer-bench) are summed too, by scenario and mode; each boot
prints only its top pairs (BENCH_PROFILE_TOP, 24), so a pair near that cut
may miss some boots' ticks and rank a little low. A log with no PROF totals,
or a scenario with pairs but no totals line, is an error (exit 1).

Invariants: reads only text; a malformed PROF line is reported on stderr and
left out, never guessed at.
"""

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

PAIR_RE = re.compile(r"(?:^|\s)PROF scenario=(\S+) mode=(\S+) fn=(\S+) caller=(\S+) "
                     r"samples=(\d+) pct=\S+\s*$")
TOTAL_RE = re.compile(r"(?:^|\s)PROF scenario=(\S+) mode=(\S+) total=(\d+) outside=(\d+) "
                      r"dropped=(\d+)\s*$")


def parse(text, source="<text>"):
    """(pairs, totals): pairs[(scenario, mode)][(fn, caller)] = samples,
    totals[(scenario, mode)] = [total, outside, dropped]."""
    pairs = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(lambda: [0, 0, 0])
    for n, line in enumerate(text.splitlines(), 1):
        if "PROF " not in line:
            continue
        m = PAIR_RE.search(line)
        if m:
            pairs[(m[1], m[2])][(m[3], m[4])] += int(m[5])
            continue
        m = TOTAL_RE.search(line)
        if m:
            t = totals[(m[1], m[2])]
            for i in range(3):
                t[i] += int(m[3 + i])
            continue
        print(f"prof_table: {source}:{n}: malformed PROF line: {line.strip()}", file=sys.stderr)
    return pairs, totals


def markdown(pairs, totals, top):
    out = []
    for key in sorted(totals):
        scenario, mode = key
        total, outside, dropped = totals[key]
        out.append(f"### {scenario}, tlb={mode}\n")
        out.append(f"{total} ticks on all CPUs; {outside} outside any kernel function, "
                   f"{dropped} not counted (table full).\n")
        out.append("| function | called from | ticks | share |")
        out.append("|---|---|---:|---:|")
        ranked = sorted(pairs[key].items(), key=lambda kv: (-kv[1], kv[0]))
        for (fn, caller), n in ranked[:top]:
            share = 100.0 * n / total if total else 0.0
            out.append(f"| `{fn}` | `{caller}` | {n} | {share:.1f}% |")
        out.append("")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--top", type=int, default=12, help="pairs per table (default 12)")
    ap.add_argument("logs", nargs="+", type=Path)
    args = ap.parse_args(argv)
    pairs = defaultdict(lambda: defaultdict(int))
    totals = defaultdict(lambda: [0, 0, 0])
    bad = []
    for log in args.logs:
        try:
            text = log.read_bytes().decode("utf-8", errors="replace")
        except OSError as e:
            print(f"prof_table: {log}: {e.strerror}", file=sys.stderr)
            return 1
        p, t = parse(text, str(log))
        if not t:
            bad.append(str(log))
        for key in p:
            if key not in t:
                print(f"prof_table: {log}: {key[0]} (tlb={key[1]}) has no PROF total line "
                      "(a boot cut short?)", file=sys.stderr)
                return 1
        for key, d in p.items():
            for pair, n in d.items():
                pairs[key][pair] += n
        for key, v in t.items():
            for i in range(3):
                totals[key][i] += v[i]
    if bad:
        print("prof_table: no PROF totals in " + ", ".join(bad) +
              " (was the boot given bench.profile?)", file=sys.stderr)
        return 1
    print(markdown(pairs, totals, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
