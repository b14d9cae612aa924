#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Where one benchmark operation's guest instructions go, function by
function: `make bench-icount` (tools/icount/icount.mk) boots a scenario
twice under QEMU's instruction counting (`-icount shift=0`, one vCPU) with
the tbcount plugin (tools/icount/tbcount.c), at two scales; the difference
between the two boots is the extra operations' work alone (boot, set-up and
report cancel out), divided by the extra operations.

Usage: icount_profile.py --nm NM --elf ELF --scenario S
           --low COUNTS LOG --high COUNTS LOG [--top N] [--markdown OUT]

COUNTS: the plugin's lines "<hex address> <instructions> <executions>";
LOG: the boot's serial log, whose BENCH lines give the operations done.
Prints, and writes as Markdown: instructions per operation, calls per
operation, and per function its instructions and calls per operation.

Invariants: a block is charged to the function its start address falls in
(blocks end at calls and returns); a block starting at a function's first
instruction is one call of it. Exits 1, naming what is wrong, if a log has
no BENCH line for the scenario or the high boot did no more operations.
"""

import argparse
import bisect
import re
import subprocess
import sys
from collections import Counter

BENCH_RE = re.compile(r"(?:^|\s)BENCH scenario=(\S+) mode=\S+ ops=(\d+) ")


def parse_symbols(nm_text):
    """Sorted (address, name) of the text symbols in `nm -n` output."""
    syms = []
    for line in nm_text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            syms.append((int(parts[0], 16), parts[2]))
    syms.sort()
    return syms


def parse_counts(text):
    """[(address, instructions, executions)] from the plugin's output."""
    blocks = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if len(parts) != 3:
            raise ValueError(f"line {n}: expected '<address> <instructions> <executions>'")
        blocks.append((int(parts[0], 16), int(parts[1]), int(parts[2])))
    return blocks


def ops_in_log(text, scenario):
    """The operations the log's BENCH lines report for `scenario`, summed."""
    return sum(int(m[2]) for m in BENCH_RE.finditer(text) if m[1] == scenario)


def charge(blocks, syms):
    """(instructions, calls) per function name, as Counters."""
    addrs = [a for a, _ in syms]
    entries = {a: name for a, name in syms}
    insns, calls = Counter(), Counter()
    for addr, n, execs in blocks:
        i = bisect.bisect_right(addrs, addr) - 1
        name = syms[i][1] if i >= 0 else "?"
        insns[name] += n * execs
        if addr in entries:
            calls[entries[addr]] += execs
    return insns, calls


def profile(low, high, ops, syms):
    """Rows (name, instructions/op, calls/op) sorted by instructions, and the totals."""
    li, lc = charge(low, syms)
    hi, hc = charge(high, syms)
    rows = []
    for name in set(hi) | set(hc):
        d_insns = (hi[name] - li.get(name, 0)) / ops
        d_calls = (hc[name] - lc.get(name, 0)) / ops
        if d_insns > 0 or d_calls > 0:
            rows.append((name, d_insns, d_calls))
    rows.sort(key=lambda r: (-r[1], r[0]))
    return rows, sum(r[1] for r in rows), sum(r[2] for r in rows)


def markdown(scenario, ops, rows, total, calls, top):
    out = [f"### {scenario}: {total:,.0f} guest instructions per operation", "",
           f"{calls:,.0f} function calls per operation; {ops:,} operations between the two "
           "boots (`-icount shift=0`, one vCPU).", "",
           "| function | instructions/op | share | calls/op |", "|---|---:|---:|---:|"]
    for name, n, c in rows[:top]:
        share = 100.0 * n / total if total else 0.0
        out.append(f"| `{name}` | {n:,.1f} | {share:.1f}% | {c:.2f} |")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nm", default="nm")
    ap.add_argument("--elf", required=True)
    ap.add_argument("--scenario", required=True)
    ap.add_argument("--low", nargs=2, required=True, metavar=("COUNTS", "LOG"))
    ap.add_argument("--high", nargs=2, required=True, metavar=("COUNTS", "LOG"))
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--markdown")
    args = ap.parse_args(argv)
    try:
        nm = subprocess.run([args.nm, "-n", args.elf], capture_output=True, text=True,
                            check=True).stdout
        runs = []
        for counts, log in (args.low, args.high):
            with open(counts) as f:
                blocks = parse_counts(f.read())
            with open(log, errors="replace") as f:
                ops = ops_in_log(f.read(), args.scenario)
            if not ops:
                print(f"icount_profile: {log}: no BENCH line for {args.scenario}", file=sys.stderr)
                return 1
            runs.append((blocks, ops))
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        print(f"icount_profile: {e}", file=sys.stderr)
        return 1
    ops = runs[1][1] - runs[0][1]
    if ops <= 0:
        print(f"icount_profile: the high boot did {runs[1][1]} operations, the low one "
              f"{runs[0][1]}: nothing to divide by", file=sys.stderr)
        return 1
    rows, total, calls = profile(runs[0][0], runs[1][0], ops, parse_symbols(nm))
    text = markdown(args.scenario, ops, rows, total, calls, args.top)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
