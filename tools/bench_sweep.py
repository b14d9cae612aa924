# SPDX-License-Identifier: BSD-2-Clause
"""The CPU-count sweep of `make bench-sweep` (docs/benchmarks.md): reads the logs
tools/bench.py left in DIR/cpus-<n>/bench-<mode>.log for each CPU count n,
prints (and writes in Markdown) one table per scenario with a row per CPU
count and mode: ops/s, its spread, the ratio to the reference mode at that
CPU count, and the exact counters per operation (bench.COUNTER_COLUMNS:
IPIs sent and received, page, range and full invalidations, skips by
reason); and draws bench-sweep.png: one panel per scenario, ops/s against
CPUs, one line per mode (the bars: slowest..fastest repetition).

Usage: bench_sweep.py --dir DIR --cpus '1 2 4 8' --modes 'gen mmgen' [--png F]
       [--markdown F] [--title T]

Invariants: every number is tools/bench.py's own (parse_output, summarize,
the per-op cells), so the sweep never disagrees with a single `make bench`
table; parsing is a pure function of the logs (tools/test_bench_sweep.py
tests it without QEMU or matplotlib). A CPU count or mode whose log is
missing or holds no result for a scenario is left out of that scenario
(and named in a note), not drawn as zero. Exit status non-zero when no
log holds a result.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402

MODE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
HEADS = (["CPUs", "mode", "ops/s", "spread", "ratio", "flushes/op"]
         + [h for h, _ in bench.COUNTER_COLUMNS[1:]])


def load(sweep_dir, cpus, modes):
    """({n: {mode: results}}, [problems]) from DIR/cpus-<n>/bench-<mode>.log."""
    by_cpus, problems = {}, []
    for n in cpus:
        for mode in modes:
            log = Path(sweep_dir) / f"cpus-{n}" / f"bench-{mode}.log"
            if not log.exists():
                problems.append(f"{log}: missing")
                continue
            results, errors, _, _ = bench.parse_output(log.read_text(errors="replace"))
            problems += [f"{log}: {e}" for e in errors]
            by_cpus.setdefault(n, {})[mode] = results
    return by_cpus, problems


def scenarios_in(by_cpus):
    """The scenarios any log has, in bench.SCENARIOS order (the threshold one left out)."""
    seen = {s for modes in by_cpus.values() for r in modes.values() for s in r}
    names = [s for s in bench.SCENARIOS if s in seen]
    return [s for s in names + sorted(seen - set(names)) if s != bench.THRESHOLD_SCENARIO]


def series(name, cpus, modes, by_cpus):
    """{mode: [(n, summary, slowest ops/s, fastest ops/s)]} of one scenario, by CPU count."""
    out = {}
    for mode in modes:
        for n in cpus:
            reps = by_cpus.get(n, {}).get(mode, {}).get(name)
            if reps:
                rates = [r["ops"] * 1e9 / r["ns"] for r in reps]
                out.setdefault(mode, []).append((n, bench.summarize(mode, reps), min(rates),
                                                 max(rates)))
    return out


def table(name, cpus, modes, by_cpus):
    """(HEADS, rows) of one scenario: a row per CPU count and mode that has a result."""
    ref_mode = bench.reference_mode(modes)
    data = series(name, cpus, modes, by_cpus)
    rows = []
    for n in cpus:
        at = {m: s for m, pts in data.items() for k, s, _, _ in pts if k == n}
        ref = at[ref_mode]["ops_s"] if ref_mode in at else 0
        for mode in [m for m in modes if m in at]:
            s = at[mode]
            rows.append([str(n), mode, f"{s['ops_s']:.0f}", f"{s['spread'] * 100:.0f}%",
                         f"{s['ops_s'] / ref:.2f}" if ref else "-", bench.per_op(s, "flushes")]
                        + [cell(s, ref) for _, cell in bench.COUNTER_COLUMNS[1:]])
    return HEADS, rows


def report(cpus, modes, by_cpus, markdown=False, title="CPU sweep"):
    """Every scenario's table as text lines (or Markdown)."""
    ref = bench.reference_mode(modes)
    note = (f"ops/s: median of the repetitions; spread: (max - min) / median; ratio: ops/s "
            f"relative to {ref} at the same CPU count; counters: {bench.COUNTER_NOTE}")
    out = [f"# {title}", "", note + ".", ""] if markdown else [note]
    for name in scenarios_in(by_cpus):
        heads, rows = table(name, cpus, modes, by_cpus)
        if markdown:
            out += [f"## {name}", ""] + bench.markdown_table(heads, rows) + [""]
        else:
            out += ["", name] + bench.text_table(heads, rows)
    return out


def draw(cpus, modes, by_cpus, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    names = scenarios_in(by_cpus)
    cols = min(3, len(names))
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        for mode, pts in series(name, cpus, modes, by_cpus).items():
            colour = MODE_COLOURS[modes.index(mode) % len(MODE_COLOURS)]
            xs = [n for n, _, _, _ in pts]
            ys = [s["ops_s"] for _, s, _, _ in pts]
            err = [[y - lo for (_, _, lo, _), y in zip(pts, ys)],
                   [hi - y for (_, _, _, hi), y in zip(pts, ys)]]
            ax.errorbar(xs, ys, yerr=err, marker="o", ms=4, capsize=3, color=colour, label=mode)
        ax.set_xscale("log", base=2)
        ax.set_xticks(cpus, [str(n) for n in cpus])
        ax.set_yscale("log")  # 1 CPU (nothing remote) is 10-100x faster than 4 or 8
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.tick_params(axis="y", which="both", labelsize=7)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("CPUs", fontsize=8)
        ax.set_ylabel("ops/s (median, log scale)", fontsize=8)
        ax.grid(True, lw=0.3)
        ax.legend(title="tlb=", fontsize=7, title_fontsize=7)
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    bench.save_figure(fig, out, f"{title}: ops/s against CPU count, one line per mode")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, help="holds cpus-<n>/bench-<mode>.log")
    ap.add_argument("--cpus", default="1 2 4 8", help="the CPU counts swept")
    ap.add_argument("--modes", default="gen mmgen", help="the modes, as for tools/bench.py")
    ap.add_argument("--png", help="draw the sweep here")
    ap.add_argument("--markdown", help="write the tables here")
    ap.add_argument("--title", default="Pagoda TLB benchmarks, CPU sweep")
    args = ap.parse_args(argv)
    try:
        cpus = [int(n) for n in args.cpus.replace(",", " ").split()]
    except ValueError:
        ap.error(f"--cpus {args.cpus!r}: not a list of numbers")
    modes = args.modes.replace(",", " ").split()
    by_cpus, problems = load(args.dir, cpus, modes)
    for p in problems:
        print(f"bench_sweep: {p}", file=sys.stderr)
    if not scenarios_in(by_cpus):
        print(f"bench_sweep: no BENCH result under {args.dir}", file=sys.stderr)
        return 1
    print("\n".join(report(cpus, modes, by_cpus)))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(report(cpus, modes, by_cpus, True,
                                                        args.title)) + "\n")
        print(f"\nmarkdown: {args.markdown}")
    if args.png:
        draw(cpus, modes, by_cpus, args.png, args.title)
        print(f"bench_sweep: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
