# SPDX-License-Identifier: BSD-2-Clause
"""Host-side driver for Pagoda's TLB shootdown benchmarks (docs/benchmarks.md).

Boots the kernel once per TLB mode (command line `bench tlb=<mode>`), saves
each boot's serial output, parses the "BENCH key=value ..." lines the kernel
prints (one per repetition of a scenario), and prints one table per
scenario comparing the modes: the median ops/s over the repetitions and how
far they scatter, the ratio of that median to a reference mode measured in
the same run (`mmgen`, or the first mode if `mmgen` is not run), and counts
per operation (summed over the repetitions: exact, not sampled). A counter
a scenario adds to its lines (say iommu_range=) gets a per-op column in that
scenario's table; the IOMMU's commands and syncs also a per-gather one
(divided by the gathers' flush rounds, `flushes`). A scenario the machine
cannot run (say, with no hardware IOMMU) prints BENCH_SKIP with a reason:
that is not an error, and its table says why it is missing.

With --baseline-dir, it boots one more image once: the NOTIFIER=off build
(the MMU layer's notifier hooks compiled out), in --baseline-mode, and
prints the "notifier cost" table: ns/op of each scenario it ran against
the same scenario of the normal build in that mode (no subscriber), and
its `<scenario>_sub` (one subscriber with no callbacks).

The QEMU command follows "--", as for tools/ktest_run.py; every "@MODE@" in
it is replaced by the mode and every "@BUILD@" by the build directory (the
Makefile builds one image per mode, named after it, in each build).
Invariants: exactly one QEMU boot per mode, and one for the baseline, right
after the boot of its mode; the exit status is 0 only if every boot ended
cleanly (the kernel's success exit, no panic, no BENCH_ERROR, a BENCH_END
line) and printed a line for every expected scenario in the mode it was
asked for. Parsing and formatting are pure functions of text, so they can
be checked without QEMU.
"""

import argparse
import fnmatch
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ktest_run import PANIC_RE, classify_exit, describe_exit, run_qemu, strip_noise  # noqa: E402

SCENARIOS = ["munmap_1", "munmap_1_sub", "munmap_32", "munmap_32_sub", "munmap_512", "mprotect",
             "tlb_flush2", "concurrent", "reclaim", "iommu_unmap_1", "iommu_unmap_32", "iommu_unmap_512",
             "hwiommu_unmap_1", "hwiommu_unmap_32", "hwiommu_unmap_512", "page_zero", "page_zero_bytes", "page_copy", "page_copy_bytes",
             "flush_threshold"]
# Fast page operations and the byte-loop baselines they are compared with (kernel/bench/page_ops.c).
PAGE_OP_PAIRS = [("page_zero", "page_zero_bytes"), ("page_copy", "page_copy_bytes")]
# Those the NOTIFIER=off baseline build does not have (kernel/bench/secondary.c).
NOTIFIER_SCENARIOS = ["munmap_1_sub", "munmap_32_sub", "iommu_unmap_1", "iommu_unmap_32",
                      "iommu_unmap_512", "hwiommu_unmap_1", "hwiommu_unmap_32",
                      "hwiommu_unmap_512"]
REFERENCE_MODE = "mmgen"
# Prints BENCH_POINT lines (tools/bench_threshold.py) and a BENCH line only to say it ran.
THRESHOLD_SCENARIO = "flush_threshold"
# Counter fields every BENCH line carries (per-op columns are derived from them).
COUNT_FIELDS = ["ops", "ns", "ipis", "remote_flush_targets", "local_full", "local_page",
                "flushes", "full_flushes", "elided", "deferrals"]
# What else the hardware was asked and every flush not done, by reason (tlb.h's struct
# tlb_counters): on every line since the counters table came; summed when every repetition
# has them (older logs lack them: "-").
HW_FIELDS = ["ipis_recv", "bcast_page", "bcast_range", "bcast_full", "switch_full",
             "unload_full", "lazy_skipped", "skip_done", "skip_not_loaded",
             "skip_switched_away", "skip_covered", "xcall_wait_ns", "xcall_send_ns", "bcast_ns",
             "xcall_halts", "xcall_wakes"]
INT_FIELDS = COUNT_FIELDS + HW_FIELDS + ["cpus", "rep"]
TEXT_FIELDS = ["scenario", "mode"]
# A scenario's own counters (any other integer field) that are also shown per gather (flush round).
PER_FLUSH_FIELDS = ["iommu_range", "iommu_asid", "iommu_syncs"]
# Searched, not matched: the console may leave junk before a line.
BENCH_RE = re.compile(r"(?:^|\s)(BENCH|BENCH_ERROR|BENCH_END)(?:\s+(.*))?$")
SKIP_RE = re.compile(r"(?:^|\s)BENCH_SKIP\s+scenario=(\S+).*?\sreason=(.*)$")
MODE_RE = re.compile(r"[A-Za-z0-9_.-]+$")
# (heading, how to compute it from one mode's summary and the reference's ops/s).
COLUMNS = [
    ("mode", lambda r, ref: r["mode"]),
    ("reps", lambda r, ref: str(r["reps"])),
    ("ops/s", lambda r, ref: f"{r['ops_s']:.0f}"),
    ("best", lambda r, ref: f"{r['best']:.0f}"),
    ("spread", lambda r, ref: f"{r['spread'] * 100:.0f}%"),
    ("ratio", lambda r, ref: f"{r['ops_s'] / ref:.2f}" if ref else "-"),
    ("IPIs/op", lambda r, ref: per_op(r, "ipis")),
    ("flushes/op", lambda r, ref: per_op(r, "flushes")),
    ("full flushes/op", lambda r, ref: per_op(r, "full_flushes")),
    ("local full/op", lambda r, ref: per_op(r, "local_full")),
    ("local page/op", lambda r, ref: per_op(r, "local_page")),
    ("elided/op", lambda r, ref: per_op(r, "elided")),
    ("deferrals/op", lambda r, ref: per_op(r, "deferrals")),
]
# The counters table: every instruction kind and every skip reason, per op.
COUNTER_COLUMNS = [
    ("mode", lambda r, ref: r["mode"]),
    ("IPIs sent/op", lambda r, ref: per_op(r, "ipis")),
    ("IPIs recv/op", lambda r, ref: per_op(r, "ipis_recv")),
    ("page inv/op", lambda r, ref: per_op_sum(r, ["local_page", "bcast_page"])),
    ("range inv/op", lambda r, ref: per_op(r, "bcast_range")),
    ("full inv/op", lambda r, ref: per_op_sum(r, ["local_full", "bcast_full", "switch_full",
                                                   "unload_full"])),
    ("skip: done/op", lambda r, ref: per_op(r, "skip_done")),
    ("not loaded/op", lambda r, ref: per_op(r, "skip_not_loaded")),
    ("lazy/op", lambda r, ref: per_op(r, "lazy_skipped")),
    ("switched away/op", lambda r, ref: per_op(r, "skip_switched_away")),
    ("covered/op", lambda r, ref: per_op(r, "skip_covered")),
    ("IPI send us/op", lambda r, ref: us_per_op(r, "xcall_send_ns")),
    ("IPI wait us/op", lambda r, ref: us_per_op(r, "xcall_wait_ns")),
    ("halted waits/op", lambda r, ref: per_op(r, "xcall_halts")),
    ("wakes/op", lambda r, ref: per_op(r, "xcall_wakes")),
    ("broadcast us/op", lambda r, ref: us_per_op(r, "bcast_ns")),
]
COUNTER_NOTE = ("what the hardware was asked, per op: page and full invalidations issued on "
                "any CPU, by IPI or locally (local_*), by broadcast (bcast_*), at switch-in and "
                "unload; range: range TLBIs; every flush not done, by reason: already done "
                "(at its generation), mm not loaded, lazy CPU, switched away, covered by a "
                "completed generation; and the time CPUs spent sending cross-call IPIs and "
                "waiting for other CPUs to finish them, and in broadcast invalidations "
                "(microseconds per op, all CPUs together); waits that halted after spinning "
                "xcall.spin_us, and the wake IPIs that ended them (counted in IPIs sent too)")


def parse_fields(text):
    """{key: value} of "key=value" words, in order; every value but TEXT_FIELDS' is an int.

    A word of INT_FIELDS that is not a number is left out (the line is then
    malformed); one of another key stays text and gets no column.
    """
    fields = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key in TEXT_FIELDS:
            fields[key] = value
            continue
        try:
            fields[key] = int(value)
        except ValueError:
            if key not in INT_FIELDS:
                fields[key] = value
    return fields


def extra_fields(fields):
    """A line's own counters: its integer fields beyond INT_FIELDS, in order."""
    return [k for k, v in fields.items() if k not in INT_FIELDS and isinstance(v, int)]


def parse_output(text):
    """(results, errors, end seen, panics) from one boot's console text.

    results maps a scenario to the list of its BENCH lines' fields, one per
    repetition, in the order printed.
    """
    results, errors, panics, end_seen = {}, [], [], False
    for raw in text.splitlines():
        line = strip_noise(raw)
        panic = PANIC_RE.search(line)
        if panic:
            panics.append(panic.group(0).strip())
        m = BENCH_RE.search(line)
        if not m:
            continue
        kind, rest = m[1], m[2] or ""
        if kind == "BENCH_END":
            end_seen = True
        elif kind == "BENCH_ERROR":
            errors.append(f"kernel: {rest.strip()}")
        else:
            fields, error = line_fields(rest, ["scenario", "mode"] + COUNT_FIELDS)
            if error:
                errors.append(error)
            else:
                results.setdefault(fields["scenario"], []).append(fields)
    return results, errors, end_seen, panics


def line_fields(rest, required):
    """(fields, None) of a BENCH line's words after "BENCH", or (None, why it is unusable):
    a field of `required` missing, or no operations or no time."""
    fields = parse_fields(rest)
    missing = [f for f in required if f not in fields]
    if missing:
        return None, f"malformed BENCH line (no {', '.join(missing)}): {rest.strip()}"
    if fields["ops"] <= 0 or fields["ns"] <= 0:
        return None, f"BENCH line with no ops or no time: {rest.strip()}"
    return fields, None


def parse_skips(text):
    """{scenario: reason} of the BENCH_SKIP lines in one boot's console text."""
    skips = {}
    for raw in text.splitlines():
        m = SKIP_RE.search(strip_noise(raw))
        if m:
            skips[m[1]] = m[2].strip()
    return skips


def check_boot(mode, results, errors, end_seen, panics, exit_problem, expected, label=None,
               skipped=None):
    """Every reason this boot's results cannot be used, as messages.

    exit_problem is None when QEMU ended with the kernel's success exit;
    label names the boot in the messages (default: the mode); a scenario
    in `skipped` (its BENCH_SKIP reasons) needs no result.
    """
    label = label or mode
    problems = [f"{label}: {e}" for e in errors]
    problems += [f"{label}: kernel panic: {p}" for p in panics]
    if exit_problem:
        problems.append(f"{label}: boot failed (QEMU exit: {exit_problem})")
    if not end_seen:
        problems.append(f"{label}: no BENCH_END line")
    for name in expected:
        if name in (skipped or {}) and name not in results:
            continue
        if name not in results:
            problems.append(f"{label}: no result for scenario {name}")
        elif any(r["mode"] != mode for r in results[name]):
            problems.append(f"{label}: scenario {name} ran in mode {results[name][0]['mode']}")
    return problems


def median(values):
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def spread(values, middle):
    """(max - min) / middle."""
    return (max(values) - min(values)) / middle


def summarize(mode, reps):
    """One mode's figures for one scenario from its repetitions' fields.

    ops_s is the median of the repetitions' ops/s, best the highest, spread
    (max - min) / median of them; every count (the scenario's own counters
    included, if every repetition has them) is summed over the repetitions
    (per_op divides by the summed ops). `extra` lists the own counters.
    """
    rates = [r["ops"] * 1e9 / r["ns"] for r in reps]
    s = {"mode": mode, "reps": len(reps), "ops_s": median(rates), "best": max(rates)}
    s["spread"] = spread(rates, s["ops_s"])
    s["extra"] = [k for k in extra_fields(reps[0]) if all(k in r for r in reps)]
    hw = [k for k in HW_FIELDS if all(k in r for r in reps)]
    for field in COUNT_FIELDS + hw + s["extra"]:
        s[field] = sum(r[field] for r in reps)
    s["cpus"] = reps[0].get("cpus")
    return s


def per_op(s, field):
    return f"{s[field] / s['ops']:.2f}" if field in s else "-"


def us_per_op(s, field):
    """A field counting nanoseconds, in microseconds per op."""
    return f"{s[field] / s['ops'] / 1000:.1f}" if field in s else "-"


def per_op_sum(s, fields):
    """The fields' sum per op; "-" unless every one was counted."""
    if not all(f in s for f in fields):
        return "-"
    return f"{sum(s[f] for f in fields) / s['ops']:.2f}"


def per_flush(s, field):
    return f"{s[field] / s['flushes']:.2f}" if field in s and s["flushes"] else "-"


def extra_columns(summaries):
    """(heading, cell) columns for the own counters any of these summaries has."""
    keys = []
    for s in summaries:
        keys += [k for k in s["extra"] if k not in keys]
    cols = [(f"{k}/op", lambda r, ref, k=k: per_op(r, k)) for k in keys]
    cols += [(f"{k}/gather", lambda r, ref, k=k: per_flush(r, k))
             for k in PER_FLUSH_FIELDS if k in keys]
    return cols


def reference_mode(modes):
    return REFERENCE_MODE if REFERENCE_MODE in modes else modes[0]


def scenario_table(name, modes, by_mode, counters=False):
    """(headings, rows) of one scenario's table, one row per mode that has a result;
    with `counters`, its counters table (COUNTER_COLUMNS) instead."""
    summaries = {m: summarize(m, by_mode[m][name]) for m in modes
                 if by_mode.get(m, {}).get(name)}
    ref_summary = summaries.get(reference_mode(modes))
    ref = ref_summary["ops_s"] if ref_summary else 0
    columns = COUNTER_COLUMNS if counters else COLUMNS + extra_columns(summaries.values())
    rows = [[cell(summaries[m], ref) for _, cell in columns] for m in modes if m in summaries]
    return [h for h, _ in columns], rows


def ns_per_op(reps):
    """(median ns/op, spread) over the repetitions, or None without any."""
    if not reps:
        return None
    values = [r["ns"] / r["ops"] for r in reps]
    mid = median(values)
    return mid, spread(values, mid)


def baseline_table(scenarios, mode, by_mode, baseline):
    """(headings, rows) of the notifier cost: ns/op of the baseline against the normal build.

    ratio: the baseline's ns/op divided by the other's (below 1: the other is slower).
    """
    heads = ["scenario", "no notifier ns/op", "spread", "no subscriber ns/op", "spread", "ratio",
             "1 empty subscriber ns/op", "spread", "ratio"]
    rows = []
    for name in scenarios:
        base = ns_per_op(baseline.get(name)) if name != THRESHOLD_SCENARIO else None
        if not base:
            continue
        row = [name, f"{base[0]:.0f}", f"{base[1] * 100:.0f}%"]
        for other in (name, f"{name}_sub"):
            figures = ns_per_op(by_mode.get(mode, {}).get(other))
            row += ([f"{figures[0]:.0f}", f"{figures[1] * 100:.0f}%", f"{base[0] / figures[0]:.2f}"]
                    if figures else ["-", "-", "-"])
        rows.append(row)
    return heads, rows


def page_ops_table(mode, by_mode):
    """(headings, rows): ns/op of each fast page operation against its byte loop, same boot."""
    heads = ["operation", "arch ns/page", "spread", "byte loop ns/page", "spread", "speedup"]
    rows = []
    for fast, slow in PAGE_OP_PAIRS:
        f = ns_per_op(by_mode.get(mode, {}).get(fast))
        b = ns_per_op(by_mode.get(mode, {}).get(slow))
        if f and b:
            rows.append([fast, f"{f[0]:.0f}", f"{f[1] * 100:.0f}%", f"{b[0]:.0f}",
                         f"{b[1] * 100:.0f}%", f"{b[0] / f[0]:.1f}x"])
    return heads, rows


PAGE_OPS_NOTE = ("one 4 KiB page per op, median of the repetitions; speedup: byte-loop ns/op "
                 "divided by arch_mem_zero/arch_mem_copy ns/op in the same boot")


def text_table(heads, rows):
    """Lines of a plain-text table: the first column left-aligned, the others right."""
    widths = [max(len(x) for x in col) for col in zip(heads, *rows)]
    lines = []
    for row in [heads] + rows:
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  " + "  ".join(cells).rstrip())
    return lines


def markdown_table(heads, rows):
    """Lines of the same table in Markdown."""
    return (["| " + " | ".join(heads) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|"]
            + ["| " + " | ".join(row) + " |" for row in rows])


BASELINE_NOTE = ("ns/op (median of the repetitions; spread: (max - min) / median) of the "
                 "NOTIFIER=off build (no notifier hooks), of the normal build with no subscriber, "
                 "and with one subscriber that has no callbacks ({sub}); ratio: no-notifier "
                 "ns/op / that column's ns/op")


def skip_note(name, skipped):
    """"skipped: <reason>" when some boot skipped scenario `name`, else None."""
    reasons = sorted({r for boot in (skipped or {}).values() for n, r in boot.items() if n == name})
    return f"skipped: {'; '.join(reasons)}" if reasons else None


def threshold_lines(texts, markdown):
    """The flush_threshold tables (tools/bench_threshold.py) from the boots' console texts."""
    import bench_threshold  # it imports this module: not at the top
    points = {m: bench_threshold.parse_points(t) for m, t in (texts or {}).items()}
    limits = {m: bench_threshold.parse_limit(t) for m, t in (texts or {}).items()}
    return bench_threshold.report_lines(points, limits, markdown)


def format_text(scenarios, modes, by_mode, baseline=None, baseline_mode=None, skipped=None,
                texts=None):
    """Plain-text tables, one per scenario and its counters, then the notifier cost (with a
    baseline), the page operations and the flush threshold.

    skipped maps a mode to its boot's {scenario: reason} (parse_skips); texts a mode to its
    boot's console text (for the flush_threshold points).
    """
    out = [f"ops/s: median of the repetitions; best: the fastest; spread: (max - min) / median; "
           f"ratio: median ops/s relative to {reference_mode(modes)} in this run; counts per op "
           f"are exact; counters: {COUNTER_NOTE}"]
    for name in scenarios:
        if name == THRESHOLD_SCENARIO:
            continue  # its own table, below
        heads, rows = scenario_table(name, modes, by_mode)
        out.append("")
        if not rows:
            out.append(f"{name}: {skip_note(name, skipped) or 'no results'}")
            continue
        out.append(name)
        out += text_table(heads, rows)
        out.append(f"{name}: counters")
        out += text_table(*scenario_table(name, modes, by_mode, counters=True))
    if baseline is not None:
        heads, rows = baseline_table(scenarios, baseline_mode, by_mode, baseline)
        out += ["", f"notifier cost, mode {baseline_mode}: "
                + BASELINE_NOTE.format(sub="<scenario>_sub")]
        out += text_table(heads, rows) if rows else ["  no results"]
    heads, rows = page_ops_table(modes[0], by_mode)
    if rows:
        out += ["", f"page operations, mode {modes[0]}: {PAGE_OPS_NOTE}"] + text_table(heads, rows)
    out += threshold_lines(texts, markdown=False)
    return "\n".join(out)


def format_markdown(scenarios, modes, by_mode, title, baseline=None, baseline_mode=None,
                    skipped=None, texts=None):
    """The same tables in Markdown."""
    out = [f"# {title}", "",
           f"Modes: {', '.join(modes)}. ops/s: median of the repetitions; best: the fastest; "
           "spread: (max - min) / median of their ops/s; ratio: median ops/s relative to "
           f"`{reference_mode(modes)}` in the same run. Counts are exact, per operation.", ""]
    for name in scenarios:
        if name == THRESHOLD_SCENARIO:
            continue
        heads, rows = scenario_table(name, modes, by_mode)
        out += [f"## {name}", ""]
        note = skip_note(name, skipped)
        out += (markdown_table(heads, rows) if rows
                else [f"{note[0].upper()}{note[1:]}." if note else "No results."]) + [""]
        if rows:
            out += ["Counters (" + COUNTER_NOTE + "):", ""]
            out += markdown_table(*scenario_table(name, modes, by_mode, counters=True)) + [""]
    if baseline is not None:
        heads, rows = baseline_table(scenarios, baseline_mode, by_mode, baseline)
        out += ["## Notifier cost", "", f"Mode `{baseline_mode}`: "
                + BASELINE_NOTE.format(sub="`<scenario>_sub`") + ".", ""]
        out += (markdown_table(heads, rows) if rows else ["No results."]) + [""]
    heads, rows = page_ops_table(modes[0], by_mode)
    if rows:
        out += ["## Page zeroing and copying", "", f"Mode `{modes[0]}`: {PAGE_OPS_NOTE}.", ""]
        out += markdown_table(heads, rows) + [""]
    out += threshold_lines(texts, markdown=True)
    return "\n".join(out)


def save_figure(fig, out, suptitle):
    """Titles, lays out and writes a matplotlib figure to `out`, then frees it (the PNG tools)."""
    import matplotlib.pyplot as plt
    fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def selected(name, only):
    """`name` matches one of the comma-separated globs in `only` (as the kernel's bench.only=)."""
    return any(fnmatch.fnmatchcase(name, glob) for glob in only.split(","))


def parse_split(ap, argv):
    """(options parsed by `ap`, the QEMU command): argv split at "--"; an error without one."""
    if "--" not in argv:
        ap.error("the QEMU command must follow --")
    split = argv.index("--")
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        ap.error("no QEMU command after --")
    return args, cmd


def parse_args(argv):
    """Splits argv at "--" into our options and the QEMU command."""
    ap = argparse.ArgumentParser(
        prog="bench.py", usage="%(prog)s [options] -- QEMU... (with @MODE@ where the mode goes)",
        description="Boot Pagoda once per TLB mode and compare the BENCH results.")
    ap.add_argument("--modes", default="gen mmgen",
                    help="TLB modes, space- or comma-separated (default: %(default)s)")
    ap.add_argument("--scenarios", default=" ".join(SCENARIOS),
                    help="scenarios every boot must report (default: all)")
    ap.add_argument("--only", metavar="GLOB",
                    help="expect only the scenarios matching GLOB, or one of its comma-separated "
                    "globs (the boots' bench.only=)")
    ap.add_argument("--log-dir", type=Path, default=Path("build"),
                    help="where bench-<mode>.log goes (default: %(default)s)")
    ap.add_argument("--build-dir", help="what @BUILD@ stands for in the mode boots")
    ap.add_argument("--baseline-dir", help="what @BUILD@ stands for in the baseline boot "
                    "(the NOTIFIER=off build); without it, no baseline boot")
    ap.add_argument("--baseline-mode", help="the baseline boot's mode (default: the first mode)")
    ap.add_argument("--timeout", type=float, default=100, help="per boot, seconds")
    ap.add_argument("--exit-style", choices=["x86", "semihosting", "none"], default="none")
    ap.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables here")
    ap.add_argument("--title", default="Pagoda TLB benchmarks", help="Markdown heading")
    args, cmd = parse_split(ap, argv)
    args.modes = args.modes.replace(",", " ").split()
    args.scenarios = args.scenarios.replace(",", " ").split()
    if args.only:
        args.scenarios = [s for s in args.scenarios if selected(s, args.only)]
        if not args.scenarios:
            ap.error(f"--only {args.only}: matches no scenario")
    if not args.modes:
        ap.error("no modes")
    if len(set(args.modes)) != len(args.modes):
        ap.error("a mode is listed twice")
    bad = [m for m in args.modes if not MODE_RE.match(m)]
    if bad:
        ap.error(f"bad mode name(s): {' '.join(bad)}")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    uses_build = any("@BUILD@" in a for a in cmd)
    if uses_build and not args.build_dir:
        ap.error("the QEMU command has @BUILD@: give --build-dir")
    if args.baseline_dir and not uses_build:
        ap.error("--baseline-dir needs @BUILD@ in the QEMU command")
    args.baseline_mode = args.baseline_mode or args.modes[0]
    if args.baseline_mode not in args.modes:
        ap.error("--baseline-mode must be one of the modes (it is compared with that boot)")
    return args, cmd


def boot(mode, cmd, args, baseline=False):
    """Boots one mode (of the baseline build if `baseline`); returns (results, skips, problems)."""
    label = f"baseline (NOTIFIER=off) mode {mode}" if baseline else f"mode {mode}"
    log = args.log_dir / (f"bench-nonotifier-{mode}.log" if baseline else f"bench-{mode}.log")
    build = args.baseline_dir if baseline else args.build_dir
    expected = [s for s in args.scenarios if not baseline or s not in NOTIFIER_SCENARIOS]
    print(f"bench: {label}: booting, log in {log}", flush=True)
    start = time.monotonic()
    run = run_qemu([a.replace("@MODE@", mode).replace("@BUILD@", build or "@BUILD@")
                    for a in cmd], log, args.timeout, 0, lambda chunk: None)
    text = log.read_bytes().decode("utf-8", errors="replace") if log.exists() else ""
    results, errors, end_seen, panics = parse_output(text)
    skips = parse_skips(text)
    clean = (not run.start_error and not run.killed
             and classify_exit(args.exit_style, run.exit_code) in ("passed", "ignored"))
    exit_problem = None if clean else describe_exit(args.exit_style, run)
    problems = check_boot(mode, results, errors, end_seen, panics, exit_problem, expected, label,
                          skips)
    print(f"bench: {label}: {len(results)} scenarios in {time.monotonic() - start:.1f} s"
          + (f", {len(skips)} skipped" if skips else "")
          + (", FAILED" if problems else ""), flush=True)
    return results, skips, problems, text


def main(argv=None):
    """Runs every mode; returns the process exit status."""
    args, cmd = parse_args(sys.argv[1:] if argv is None else argv)
    by_mode, skipped, texts, baseline, problems = {}, {}, {}, None, []
    try:
        for mode in args.modes:
            by_mode[mode], skipped[mode], p, texts[mode] = boot(mode, cmd, args)
            problems += p
            # Right after the boot it is compared with, so that the host changed least.
            if args.baseline_dir and mode == args.baseline_mode:
                baseline, _, p, _ = boot(mode, cmd, args, baseline=True)
                problems += p
    except KeyboardInterrupt:
        print("\nbench: interrupted; QEMU killed", file=sys.stderr)
        return 130
    print()
    print(format_text(args.scenarios, args.modes, by_mode, baseline, args.baseline_mode, skipped,
                      texts))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(format_markdown(args.scenarios, args.modes, by_mode, args.title,
                                                 baseline, args.baseline_mode, skipped, texts))
        print(f"\nmarkdown: {args.markdown}")
    return verdict("bench", problems)


def verdict(prog, problems):
    """Prints each problem and "<prog>: ok" or "<prog>: FAILED"; returns the exit status."""
    for p in problems:
        print(f"ERROR: {p}")
    print(f"{prog}: FAILED" if problems else f"{prog}: ok", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
