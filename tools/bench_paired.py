# SPDX-License-Identifier: BSD-2-Clause
"""Host-side driver for `make bench-paired` (docs/benchmarks.md, "Paired in one boot").

Boots Pagoda once with `bench bench.alternate=<modes>`: the kernel runs each
repetition of each scenario once in every mode, switching the TLB mode live
between them (tlb_mode_switch), so repetition i of every mode ran in the
same boot, minutes or less apart, on the same host load. `make bench` boots
once per mode instead, and on this 2-core TCG host a boot's speed can move
by 1.5x from one boot to the next (docs/benchmarks.md): a ratio of medians
taken across boots then measures the boots. Here each repetition gives one
ratio (mode's ops/s over the reference mode's, same repetition), and the
table gives their median and min-max beside the usual per-mode figures and
exact counts (tools/bench.py's tables, reused).

Invariants: one QEMU boot; the exit status is 0 only if it ended cleanly
(no panic, no BENCH_ERROR, a BENCH_END line) and every expected scenario
has the same number of repetitions, at least one, in every mode, printed
in the order the kernel runs them (mode by mode within a repetition).
Parsing and the paired table are pure functions of text, checked without
QEMU by tools/test_bench_paired.py.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from ktest_run import classify_exit, describe_exit, run_qemu  # noqa: E402


def split_by_mode(results, modes):
    """{mode: {scenario: [reps]}} from one boot's {scenario: [reps]}, each rep in its line's mode."""
    by_mode = {m: {} for m in modes}
    for name, reps in results.items():
        for r in reps:
            by_mode.setdefault(r["mode"], {}).setdefault(name, []).append(r)
    return by_mode


def check_paired(by_mode, modes, expected, skipped):
    """Every reason the split results cannot be paired, as messages."""
    problems = []
    extra = sorted(set(by_mode) - set(modes))
    if extra:
        problems.append(f"paired boot: lines in modes not asked for: {' '.join(extra)}")
    for name in expected:
        counts = {m: len(by_mode.get(m, {}).get(name, [])) for m in modes}
        if name in skipped and not any(counts.values()):
            continue
        if not all(counts.values()):
            missing = [m for m in modes if not counts[m]]
            problems.append(f"paired boot: no result for scenario {name} in mode(s) "
                            f"{' '.join(missing)}")
        elif len(set(counts.values())) != 1:
            problems.append(f"paired boot: scenario {name} has unequal repetitions: "
                            + ", ".join(f"{m} {c}" for m, c in counts.items()))
    return problems


def paired_ratios(by_mode, modes, name):
    """{mode: [ops/s ratio to the reference mode, one per repetition]} for one scenario."""
    ref = bench.reference_mode(modes)
    ref_reps = by_mode.get(ref, {}).get(name, [])
    out = {}
    for m in modes:
        reps = by_mode.get(m, {}).get(name, [])
        if not reps or len(reps) != len(ref_reps):
            continue
        out[m] = [(r["ops"] / r["ns"]) / (q["ops"] / q["ns"]) for r, q in zip(reps, ref_reps)]
    return out


def paired_table(scenarios, modes, by_mode):
    """(headings, rows): per scenario and mode, the median paired ratio and its min-max."""
    heads = ["scenario", "mode", "reps", "paired ratio", "min", "max"]
    rows = []
    for name in scenarios:
        for m, ratios in paired_ratios(by_mode, modes, name).items():
            rows.append([name, m, str(len(ratios)), f"{bench.median(ratios):.2f}",
                         f"{min(ratios):.2f}", f"{max(ratios):.2f}"])
    return heads, rows


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="bench_paired.py", usage="%(prog)s [options] -- QEMU...",
        description="Boot Pagoda once, alternating TLB modes live, and compare them per "
        "repetition.")
    ap.add_argument("--modes", default="gen mmgen", help="space- or comma-separated")
    ap.add_argument("--only", metavar="GLOB", help="as the boot's bench.only=")
    ap.add_argument("--log", type=Path, default=Path("build/bench-paired.log"))
    ap.add_argument("--timeout", type=float, default=100)
    ap.add_argument("--exit-style", choices=["x86", "semihosting", "none"], default="none")
    ap.add_argument("--markdown", type=Path, metavar="FILE")
    ap.add_argument("--title", default="Pagoda TLB benchmarks, modes paired in one boot")
    args, cmd = bench.parse_split(ap, argv)
    args.modes = args.modes.replace(",", " ").split()
    if len(args.modes) < 2 or len(set(args.modes)) != len(args.modes):
        ap.error("give at least two different modes")
    bad = [m for m in args.modes if not bench.MODE_RE.match(m)]
    if bad:
        ap.error(f"bad mode name(s): {' '.join(bad)}")
    args.scenarios = [s for s in bench.SCENARIOS
                      if s != bench.THRESHOLD_SCENARIO and bench.selected(s, args.only or "*")]
    if not args.scenarios:
        ap.error(f"--only {args.only}: matches no scenario")
    return args, cmd


def main(argv=None):
    args, cmd = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"bench-paired: modes {' '.join(args.modes)} in one boot, log in {args.log}",
          flush=True)
    start = time.monotonic()
    args.log.parent.mkdir(parents=True, exist_ok=True)
    try:
        run = run_qemu(cmd, args.log, args.timeout, 0, lambda chunk: None)
    except KeyboardInterrupt:
        print("\nbench-paired: interrupted; QEMU killed", file=sys.stderr)
        return 130
    text = args.log.read_bytes().decode("utf-8", errors="replace") if args.log.exists() else ""
    results, errors, end_seen, panics = bench.parse_output(text)
    skipped = bench.parse_skips(text)
    clean = (not run.start_error and not run.killed
             and classify_exit(args.exit_style, run.exit_code) in ("passed", "ignored"))
    problems = [f"paired boot: {e}" for e in errors]
    problems += [f"paired boot: kernel panic: {p}" for p in panics]
    if not clean:
        problems.append(f"paired boot: boot failed (QEMU exit: {describe_exit(args.exit_style, run)})")
    if not end_seen:
        problems.append("paired boot: no BENCH_END line")
    by_mode = split_by_mode(results, args.modes)
    problems += check_paired(by_mode, args.modes, args.scenarios, skipped)
    print(f"bench-paired: {len(results)} scenarios in {time.monotonic() - start:.1f} s", flush=True)
    scenarios = [s for s in args.scenarios if any(s in by_mode[m] for m in args.modes)]
    skip = {m: skipped for m in args.modes}
    print()
    print(bench.format_text(scenarios, args.modes, by_mode, skipped=skip))
    heads, rows = paired_table(scenarios, args.modes, by_mode)
    print()
    print(f"paired ratio: each repetition's ops/s over {bench.reference_mode(args.modes)}'s in "
          "the same repetition (same boot); the median and range of those ratios")
    print("\n".join(bench.text_table(heads, rows)))
    if args.markdown:
        md = bench.format_markdown(scenarios, args.modes, by_mode, args.title, skipped=skip)
        md += "\n## Paired ratios\n\n" + "\n".join(bench.markdown_table(heads, rows)) + "\n"
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(md)
        print(f"\nmarkdown: {args.markdown}")
    return bench.verdict("bench-paired", problems)


if __name__ == "__main__":
    sys.exit(main())
