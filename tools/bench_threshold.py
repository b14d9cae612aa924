# SPDX-License-Identifier: BSD-2-Clause
"""The flush threshold from the flush_threshold scenario (kernel/bench/flush_threshold.c):
reads its BENCH_POINT lines from the boots' logs, prints per transport the
cost of invalidating N pages by each method (median ns per operation over
the repetitions of each point's median operation), the page count where one whole-mm flush becomes cheaper
than N single-page (or range) invalidations, and the range_max_pages the
boot used (tlb_setup()'s "whole-mm flush past" line), and draws cost vs N per method into a PNG.

Usage: bench_threshold.py --log-dir DIR --modes 'gen broadcast' [--png FILE]
       [--markdown FILE] [--title T] [--before-dir DIR --before-limit N]

With --before-dir (logs of munmap_32 and munmap_512 booted with
tlb.range_max=N, the old limit) it also prints those scenarios before and
after, per mode: ops/s and the page and full invalidations per op.

Invariants: parsing and the crossover are pure functions of text (tested
by tools/test_bench_threshold.py without QEMU or matplotlib); matplotlib is
imported only to draw. The crossover is interpolated linearly between the
last N at which the method was cheaper than the full flush and the next;
"none" when the method is still cheaper at the largest N, "< 1" when the
full flush is cheaper at every N. Exit status non-zero when no log holds a point.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from bench import markdown_table, text_table  # noqa: E402

POINT_RE = re.compile(r"(?:^|\s)BENCH_POINT\s+(.*)$")
# tlb_setup()'s line: the limits in force (the arch's, or tlb.range_max=).
LIMIT_RE = re.compile(r"tlb: whole-mm flush past (\d+) pages \(local\), (\d+) pages \(broadcast\)")
INT_KEYS = ["pages", "ops", "ns", "ipis", "inv_page", "inv_range", "inv_full", "cpus", "rep"]
METHODS = ["page", "range", "full"]
METHOD_COLOURS = {"page": "#1f77b4", "range": "#2ca02c", "full": "#d62728"}


def parse_points(text):
    """The BENCH_POINT lines' fields, in order; malformed lines are left out."""
    points = []
    for line in text.splitlines():
        m = POINT_RE.search(line.replace("\r", ""))
        if not m:
            continue
        fields = dict(w.split("=", 1) for w in m[1].split() if "=" in w)
        try:
            for k in INT_KEYS:
                fields[k] = int(fields[k])
            if "ns_median" in fields:
                fields["ns_median"] = int(fields["ns_median"])
        except (KeyError, ValueError):
            continue
        if fields["ops"] > 0 and {"transport", "method"} <= fields.keys():
            points.append(fields)
    return points


def parse_limit(text):
    """{transport: pages} past which the boot flushed a range whole, from tlb_setup()'s
    line: "ipi" (each CPU's local invalidations) and "broadcast"; {} without the line."""
    m = LIMIT_RE.search(text)
    return {"ipi": int(m[1]), "broadcast": int(m[2])} if m else {}


def limit_for(limits, transport):
    """The limit the boots used for `transport` (one if they agree), or None."""
    known = sorted({lim[transport] for lim in limits.values() if lim.get(transport)})
    return known[0] if len(known) == 1 else None


def median(values):
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def summarize(points):
    """{transport: {method: {N: {"ns": median ns/op, "reps": n, "inv_page": per op, ...}}}}."""
    groups = {}
    for p in points:
        groups.setdefault((p["transport"], p["method"], p["pages"]), []).append(p)
    out = {}
    for (transport, method, pages), reps in groups.items():
        ops = sum(r["ops"] for r in reps)
        # One op's median where the lines carry it (robust to a descheduled vCPU), else the mean.
        per_rep = [r["ns_median"] if "ns_median" in r else r["ns"] / r["ops"] for r in reps]
        cell = {"ns": median(per_rep), "reps": len(reps), "cpus": reps[0]["cpus"]}
        for k in ("ipis", "inv_page", "inv_range", "inv_full"):
            cell[k] = sum(r[k] for r in reps) / ops
        out.setdefault(transport, {}).setdefault(method, {})[pages] = cell
    return out


def crossover(method_costs, full_costs):
    """(N where a full flush becomes as cheap as `method`, kind): kind is "at" (interpolated),
    "none" (the method is cheaper at the largest N measured; N is that N) or "below" (the
    full flush is cheaper at every N; N is the smallest). The crossover is where the full
    flush starts to win for good: after the last N at which the method was cheaper, so
    that noise where the two are about equal (small N) does not decide it."""
    ns = sorted(set(method_costs) & set(full_costs))
    if not ns:
        return None, "none"
    diff = [(n, method_costs[n]["ns"] - full_costs[n]["ns"]) for n in ns]
    if diff[-1][1] < 0:
        return ns[-1], "none"
    cheaper = [i for i, (_, d) in enumerate(diff) if d < 0]
    if not cheaper:
        return ns[0], "below"
    (n0, d0), (n1, d1) = diff[cheaper[-1]], diff[cheaper[-1] + 1]
    return n0 + (n1 - n0) * (-d0) / (d1 - d0), "at"


def describe(n, kind):
    if n is None:
        return "no data"
    return {"at": f"{n:.0f} pages", "none": f"none up to {n} pages",
            "below": f"< {n} page{'s' if n > 1 else ''}"}[kind]


def tables(summary):
    """[(transport, heads, rows, [(method, crossover text)])] per transport."""
    out = []
    for transport in sorted(summary):
        by = summary[transport]
        methods = [m for m in METHODS if m in by]
        ns = sorted({n for m in methods for n in by[m]})
        heads = ["N"] + [f"{m} ns/op" for m in methods] + \
            [f"{m}/full" for m in methods if m != "full" and "full" in by]
        rows = []
        for n in ns:
            row = [str(n)] + [f"{by[m][n]['ns']:.0f}" if n in by[m] else "-" for m in methods]
            for m in methods:
                if m != "full" and "full" in by:
                    ok = n in by[m] and n in by["full"]
                    row.append(f"{by[m][n]['ns'] / by['full'][n]['ns']:.2f}" if ok else "-")
            rows.append(row)
        cross = [(m, describe(*crossover(by[m], by["full"])))
                 for m in methods if m != "full" and "full" in by]
        out.append((transport, heads, rows, cross))
    return out


def load(log_dir, modes):
    """({mode: points}, {mode: parse_limit()}) from the bench-<mode>.log that exist."""
    points, limits = {}, {}
    for mode in modes:
        log = Path(log_dir) / f"bench-{mode}.log"
        if log.exists():
            text = log.read_text(errors="replace")
            points[mode], limits[mode] = parse_points(text), parse_limit(text)
    return points, limits


def merged(points_by_mode):
    """The points of every mode, one list (the transport, not the mode, sets the costs)."""
    return [p for pts in points_by_mode.values() for p in pts]


def report_lines(points_by_mode, limits, markdown=False):
    """The threshold tables as text (or Markdown) lines; [] without points."""
    summary = summarize(merged(points_by_mode))
    if not summary:
        return []
    out = []
    for transport, heads, rows, cross in tables(summary):
        limit = limit_for(limits, transport) or "unknown"
        cpus = next(iter(next(iter(summary[transport].values())).values()))["cpus"]
        what = (f"flush_threshold, transport {transport}, {cpus} CPUs: ns per operation "
                "(median of the repetitions; invalidate N pages on every CPU in the mm, "
                "then re-read a 64-page hot set)")
        says = "; ".join(f"{m} vs full: crossover {c}" for m, c in cross)
        says += f"; limit in force: {limit} page{'' if limit == 1 else 's'}"
        if markdown:
            out += [f"## flush_threshold ({transport})", "", what + ".", ""]
            out += markdown_table(heads, rows) + ["", says[0].upper() + says[1:] + ".", ""]
        else:
            out += ["", what] + text_table(heads, rows) + ["  " + says]
    return out


BEFORE_AFTER = ["munmap_32", "munmap_512"]


def before_after_lines(before, after, before_limit, markdown=False):
    """munmap_32 and munmap_512 with the old limit (`before`: {mode: bench results}, booted
    with tlb.range_max=before_limit) against the limits in force (`after`), per mode."""
    heads = ["scenario", "mode", "ops/s before", "ops/s after", "after/before",
             "page inv/op before", "after", "full inv/op before", "after"]
    rows = []
    for name in BEFORE_AFTER:
        for mode in [m for m in after if after[m].get(name) and before.get(m, {}).get(name)]:
            b, a = (bench.summarize(mode, d[mode][name]) for d in (before, after))
            inv = [bench.per_op_sum(x, f) for f in (["local_page", "bcast_page"],
                                                     ["local_full", "bcast_full"]) for x in (b, a)]
            rows.append([name, mode, f"{b['ops_s']:.0f}", f"{a['ops_s']:.0f}",
                         f"{a['ops_s'] / b['ops_s']:.2f}"] + inv)
    if not rows:
        return []
    what = (f"before (tlb.range_max={before_limit}) and after (the arch's limits), same "
            "`make bench-threshold` run; ops/s: median of the repetitions")
    if markdown:
        return ["## Before and after", "", what + ".", ""] + markdown_table(heads, rows) + [""]
    return ["", what] + text_table(heads, rows)


def draw(summary, limits, out, title):
    """cost vs N per method, one panel per transport, with its crossovers and the limit."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    transports = sorted(summary)
    fig, axes = plt.subplots(1, len(transports), figsize=(max(9.0, 6.2 * len(transports)), 4.2),
                             squeeze=False)
    for ax, transport in zip(axes[0], transports):
        by = summary[transport]
        for m in [m for m in METHODS if m in by]:
            ns = sorted(by[m])
            ax.plot(ns, [by[m][n]["ns"] / 1000 for n in ns], marker="o", ms=4,
                    color=METHOD_COLOURS[m], label=f"{m}" + (" (one per page)" if m == "page" else
                                                              " (whole mm)" if m == "full" else
                                                              " (range TLBIs)"))
        for m in [m for m in METHODS if m in by and m != "full" and "full" in by]:
            n, kind = crossover(by[m], by["full"])
            if kind == "at":
                ax.axvline(n, color=METHOD_COLOURS[m], ls=":", lw=1)
                ax.annotate(f"{m} = full at {n:.0f}", (n, by["full"][min(by["full"])]["ns"] / 1000),
                            textcoords="offset points", xytext=(4, 8), fontsize=8,
                            color=METHOD_COLOURS[m])
        limit = limit_for(limits, transport)
        if limit:
            ax.axvline(limit, color="#555555", ls="--", lw=0.8,
                       label=f"limit in force: {limit} page{'' if limit == 1 else 's'}")
        ax.set_xscale("log", base=2)
        all_n = sorted({n for m in by.values() for n in m})
        ax.set_xticks(all_n, [str(n) for n in all_n], fontsize=8)
        ax.set_yscale("log")
        says = "; ".join(f"{m} vs full: crossover {describe(*crossover(by[m], by['full']))}"
                         for m in METHODS if m in by and m != "full" and "full" in by)
        ax.text(0.98, 0.03, says, transform=ax.transAxes, ha="right", va="bottom", fontsize=8)
        ax.set_xlabel("pages invalidated (N)", fontsize=9)
        ax.set_ylabel("us per operation (median)", fontsize=9)
        cpus = next(iter(next(iter(by.values())).values()))["cpus"]
        ax.set_title(f"transport {transport}, {cpus} CPUs", fontsize=10)
        plain = matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.tick_params(axis="y", which="both", labelsize=7)
        ax.grid(True, which="major", lw=0.3)
        ax.legend(fontsize=8, loc="upper left")  # the verdict is at the bottom right
    bench.save_figure(fig, out, f"{title}: invalidating N pages by page vs one full flush")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log-dir", required=True, help="where bench-<mode>.log are")
    ap.add_argument("--modes", default="gen", help="the modes, as for tools/bench.py")
    ap.add_argument("--png", help="draw cost vs N here")
    ap.add_argument("--markdown", help="append the tables (with --before-dir: only the "
                    "before/after table) to this file")
    ap.add_argument("--title", default="Pagoda flush threshold")
    ap.add_argument("--before-dir", help="logs of the same scenarios booted with tlb.range_max=")
    ap.add_argument("--before-limit", help="that tlb.range_max= value, for the heading")
    args = ap.parse_args(argv)
    modes = args.modes.replace(",", " ").split()
    points, limits = load(args.log_dir, modes)
    lines = report_lines(points, limits)
    compare = []
    if args.before_dir:
        runs = [{m: bench.parse_output((Path(d) / f"bench-{m}.log").read_text(errors="replace"))[0]
                 for m in modes if (Path(d) / f"bench-{m}.log").exists()}
                for d in (args.before_dir, args.log_dir)]
        compare = before_after_lines(runs[0], runs[1], args.before_limit)
        lines += compare
    if not lines:
        print(f"bench_threshold: no BENCH_POINT line in {args.log_dir}/bench-<mode>.log "
              f"for modes {' '.join(modes)}", file=sys.stderr)
        return 1
    print("\n".join(lines))
    if args.markdown:
        # With --before-dir the file is bench.py's, which has the threshold tables already.
        md = (before_after_lines(runs[0], runs[1], args.before_limit, markdown=True)
              if args.before_dir else report_lines(points, limits, markdown=True))
        with open(args.markdown, "a") as f:
            f.write("\n".join(md) + "\n")
    if args.png:
        draw(summarize(merged(points)), limits, args.png, args.title)
        print(f"bench_threshold: {args.png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
