# SPDX-License-Identifier: BSD-2-Clause
"""Bar charts of `make bench`'s tables: reads the boots' saved logs
(bench-<mode>.log, as tools/bench.py left them) and writes, into --out-dir,
bench-<scenario>.png per scenario (ops/s per mode, with the spread of the
repetitions, beside what each operation cost in IPIs, flushes and
invalidations), bench-overview.png (every scenario's ops/s relative to
the reference mode, the tables' "ratio" column) and, when flush_threshold
ran, bench-flush_threshold.png (tools/bench_threshold.py: cost vs N).

Usage: bench_plot.py --log-dir DIR --modes 'gen mmgen' --out-dir DIR [--title T]

Invariants: the numbers are tools/bench.py's own (parse_output, summarize,
the reference mode), so a chart never disagrees with its table; the data
for the charts is a pure function of text (tested by
tools/test_bench_plot.py without matplotlib); matplotlib is imported only
to draw. Exit status non-zero when no log holds a result.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
import bench_threshold  # noqa: E402

# What one operation cost, as in the tables (bench.COLUMNS' per-op columns).
COST_FIELDS = [("ipis", "IPIs"), ("flushes", "flushes"), ("full_flushes", "full flushes"),
               ("local_full", "local full"), ("local_page", "local page"),
               ("deferrals", "deferrals")]
MODE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def load(log_dir, modes, errors=None):
    """{mode: results} from the bench-<mode>.log files that exist (bench.parse_output);
    the lines bench.py refuses are appended to `errors` (a list) if given."""
    by_mode = {}
    for mode in modes:
        log = Path(log_dir) / f"bench-{mode}.log"
        if log.exists():
            results, errs, _, _ = bench.parse_output(log.read_text(errors="replace"))
            by_mode[mode] = results
            if errors is not None:
                errors += [f"{log}: {e}" for e in errs]
    return by_mode


def chart_data(modes, by_mode):
    """[(scenario, [(mode, summary, low, high)])]: each scenario's modes with a result,
    in bench.SCENARIOS order then any other; low/high: the slowest and fastest
    repetition's ops/s."""
    names = [s for s in bench.SCENARIOS if any(s in r for r in by_mode.values())]
    names += sorted({s for r in by_mode.values() for s in r} - set(names))
    names = [s for s in names if s != bench.THRESHOLD_SCENARIO]  # bench_threshold.py draws it
    out = []
    for name in names:
        bars = []
        for mode in modes:
            reps = by_mode.get(mode, {}).get(name)
            if reps:
                rates = [r["ops"] * 1e9 / r["ns"] for r in reps]
                bars.append((mode, bench.summarize(mode, reps), min(rates), max(rates)))
        out.append((name, bars))
    return out


def ratios(modes, data):
    """(reference mode, [(scenario, {mode: ops/s over the reference's}])] for the overview;
    scenarios the reference did not run are left out."""
    ref = bench.reference_mode(modes)
    rows = []
    for name, bars in data:
        by = {m: s["ops_s"] for m, s, _, _ in bars}
        if by.get(ref):
            rows.append((name, {m: v / by[ref] for m, v in by.items()}))
    return ref, rows


def cost_per_op(summary):
    """[(label, value per op)] of COST_FIELDS and the scenario's own counters."""
    fields = COST_FIELDS + [(k, k) for k in summary["extra"]]
    return [(label, summary[f] / summary["ops"]) for f, label in fields if f in summary]


def number(y):
    """A bar's label: whole numbers as such, others with two decimals."""
    return f"{y:.0f}" if abs(y - round(y)) < 0.005 else f"{y:.2f}"


def draw_scenario(name, bars, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8),
                                      gridspec_kw=dict(width_ratios=[1, 2.4]))
    colours = {m: MODE_COLOURS[i % len(MODE_COLOURS)] for i, (m, _, _, _) in enumerate(bars)}
    for i, (mode, s, low, high) in enumerate(bars):
        left.bar(i, s["ops_s"], color=colours[mode],
                 yerr=[[s["ops_s"] - low], [high - s["ops_s"]]], capsize=4)
        left.text(i, s["ops_s"], f"{s['ops_s']:.0f}\n", ha="center", va="bottom", fontsize=8)
    left.set_xticks(range(len(bars)), [m for m, _, _, _ in bars])
    left.set_ylabel("ops/s (median; bar: slowest..fastest rep)", fontsize=8)
    left.set_ylim(0, max(h for _, _, _, h in bars) * 1.25)
    left.set_title("throughput", fontsize=10)
    costs = [cost_per_op(s) for _, s, _, _ in bars]
    labels = [lbl for lbl, _ in costs[0]]
    width = 0.8 / len(bars)
    for i, ((mode, _, _, _), cost) in enumerate(zip(bars, costs)):
        vals = dict(cost)
        xs = [j + (i - (len(bars) - 1) / 2) * width for j in range(len(labels))]
        ys = [vals.get(lbl, 0) for lbl in labels]
        right.bar(xs, ys, width, color=colours[mode], label=mode)
        for x, y in zip(xs, ys):
            right.text(x, y, number(y), ha="center", va="bottom", fontsize=7)
    right.set_xticks(range(len(labels)), labels, fontsize=8, rotation=20)
    right.set_ylabel("per operation (symlog scale)", fontsize=8)
    # Symlog: a 128-page count and a 1-IPI count both stay readable, and 0 stays 0.
    right.set_yscale("symlog", linthresh=1)
    right.set_ylim(0, max([v for c in costs for _, v in c] + [1]) * 3)
    right.set_title("what one operation cost", fontsize=10)
    right.legend(title="tlb=", fontsize=8)
    cpus = bars[0][1].get("cpus")
    fig.suptitle(f"{title}: {name}", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return cpus


def draw_overview(modes, ref, rows, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 4.2))
    shown = [m for m in modes if m != ref]  # the reference is the dashed line at 1
    width = 0.8 / len(shown)
    for i, mode in enumerate(shown):
        xs = [j + (i - (len(shown) - 1) / 2) * width for j in range(len(rows))]
        ys = [r.get(mode, 0) for _, r in rows]
        ax.bar(xs, ys, width, color=MODE_COLOURS[modes.index(mode) % len(MODE_COLOURS)],
               label=mode)
        for x, y in zip(xs, ys):
            if y:
                ax.text(x, y, f"{y:.2f}", ha="center", va="bottom", fontsize=7)
    ax.axhline(1.0, color="#555555", lw=0.8, ls="--", label=f"{ref} (reference)")
    ax.set_xticks(range(len(rows)), [n for n, _ in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(f"ops/s relative to tlb={ref}", fontsize=9)
    ax.set_ylim(0, max([v for _, r in rows for v in r.values()] + [1]) * 1.2)
    ax.legend(title="tlb=", fontsize=8)
    ax.set_title(f"{title}: every scenario against tlb={ref} (higher is faster)", fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log-dir", required=True, help="where bench-<mode>.log are")
    ap.add_argument("--modes", default="gen mmgen", help="the modes, as for tools/bench.py")
    ap.add_argument("--out-dir", required=True, help="where the PNGs go")
    ap.add_argument("--title", default="Pagoda TLB benchmarks")
    args = ap.parse_args(argv)
    modes = args.modes.replace(",", " ").split()
    errors = []
    data = chart_data(modes, load(args.log_dir, modes, errors))
    for e in errors[:5]:
        print(f"bench_plot: {e}", file=sys.stderr)
    if len(errors) > 5:
        print(f"bench_plot: ... and {len(errors) - 5} more refused lines", file=sys.stderr)
    points, limits = bench_threshold.load(args.log_dir, modes)
    threshold = bench_threshold.summarize(bench_threshold.merged(points))
    if not data and not threshold:
        print(f"bench_plot: no BENCH result in {args.log_dir}/bench-<mode>.log "
              f"for modes {' '.join(modes)}", file=sys.stderr)
        return 1
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if threshold:
        bench_threshold.draw(threshold, limits, out_dir / "bench-flush_threshold.png",
                             args.title)
    for name, bars in data:
        draw_scenario(name, bars, out_dir / f"bench-{name}.png", args.title)
    ref, rows = ratios(modes, data)
    if len(modes) > 1 and rows:
        draw_overview(modes, ref, rows, out_dir / "bench-overview.png", args.title)
    print(f"bench_plot: {len(data)} scenarios -> {out_dir}/bench-*.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
