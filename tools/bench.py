# SPDX-License-Identifier: BSD-2-Clause
"""Host-side driver for Pagoda's TLB shootdown benchmarks (docs/benchmarks.md).

Boots the kernel once per TLB mode (command line `bench tlb=<mode>`), saves
each boot's serial output, parses the "BENCH key=value ..." lines the kernel
prints (one per repetition of a scenario), and prints one table per
scenario comparing the modes: the median ops/s over the repetitions and how
far they scatter, the ratio of that median to a reference mode measured in
the same run (`mmgen`, or the first mode if `mmgen` is not run), and counts
per operation (summed over the repetitions: exact, not sampled).

The QEMU command follows "--", as for tools/ktest_run.py; every "@MODE@" in
it is replaced by the mode (the Makefile builds one image per mode, named
after it). Invariants: exactly one QEMU boot per mode; the exit status is 0
only if every boot ended cleanly (the kernel's success exit, no panic, no
BENCH_ERROR, a BENCH_END line) and printed a line for every expected
scenario in the mode it was asked for. Parsing and formatting are pure
functions of text, so they can be checked without QEMU.
"""

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ktest_run import PANIC_RE, classify_exit, describe_exit, run_qemu, strip_noise  # noqa: E402

SCENARIOS = ["munmap_1", "munmap_32", "munmap_512", "mprotect", "tlb_flush2", "concurrent"]
REFERENCE_MODE = "mmgen"
# Counter fields every BENCH line carries (per-op columns are derived from them).
COUNT_FIELDS = ["ops", "ns", "ipis", "remote_flush_targets", "local_full", "local_page",
                "flushes", "full_flushes", "elided"]
INT_FIELDS = COUNT_FIELDS + ["lazy_skipped", "cpus", "rep"]
# Searched, not matched: the console may leave junk before a line.
BENCH_RE = re.compile(r"(?:^|\s)(BENCH|BENCH_ERROR|BENCH_END)(?:\s+(.*))?$")
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
]


def parse_fields(text):
    """{key: value} of "key=value" words; values of INT_FIELDS become ints."""
    fields = {}
    for word in text.split():
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key in INT_FIELDS:
            try:
                fields[key] = int(value)
            except ValueError:
                continue
        else:
            fields[key] = value
    return fields


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
            fields = parse_fields(rest)
            missing = [f for f in ["scenario", "mode"] + COUNT_FIELDS if f not in fields]
            if missing:
                errors.append(f"malformed BENCH line (no {', '.join(missing)}): {rest.strip()}")
            elif fields["ops"] <= 0 or fields["ns"] <= 0:
                errors.append(f"BENCH line with no ops or no time: {rest.strip()}")
            else:
                results.setdefault(fields["scenario"], []).append(fields)
    return results, errors, end_seen, panics


def check_boot(mode, results, errors, end_seen, panics, exit_problem, expected):
    """Every reason this boot's results cannot be used, as messages.

    exit_problem is None when QEMU ended with the kernel's success exit.
    """
    problems = [f"{mode}: {e}" for e in errors]
    problems += [f"{mode}: kernel panic: {p}" for p in panics]
    if exit_problem:
        problems.append(f"{mode}: boot failed (QEMU exit: {exit_problem})")
    if not end_seen:
        problems.append(f"{mode}: no BENCH_END line")
    for name in expected:
        if name not in results:
            problems.append(f"{mode}: no result for scenario {name}")
        elif any(r["mode"] != mode for r in results[name]):
            problems.append(f"{mode}: scenario {name} ran in mode {results[name][0]['mode']}")
    return problems


def median(values):
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def summarize(mode, reps):
    """One mode's figures for one scenario from its repetitions' fields.

    ops_s is the median of the repetitions' ops/s, best the highest, spread
    (max - min) / median of them; every count is summed over the repetitions
    (per_op divides by the summed ops).
    """
    rates = [r["ops"] * 1e9 / r["ns"] for r in reps]
    s = {"mode": mode, "reps": len(reps), "ops_s": median(rates), "best": max(rates)}
    s["spread"] = (max(rates) - min(rates)) / s["ops_s"]
    for field in COUNT_FIELDS:
        s[field] = sum(r[field] for r in reps)
    return s


def per_op(s, field):
    return f"{s[field] / s['ops']:.2f}"


def reference_mode(modes):
    return REFERENCE_MODE if REFERENCE_MODE in modes else modes[0]


def scenario_rows(name, modes, by_mode):
    """Table rows (lists of cells) for one scenario, one per mode that has a result."""
    summaries = {m: summarize(m, by_mode[m][name]) for m in modes
                 if by_mode.get(m, {}).get(name)}
    ref_summary = summaries.get(reference_mode(modes))
    ref = ref_summary["ops_s"] if ref_summary else 0
    return [[cell(summaries[m], ref) for _, cell in COLUMNS] for m in modes if m in summaries]


def format_text(scenarios, modes, by_mode):
    """Plain-text tables, one per scenario."""
    out = [f"ops/s: median of the repetitions; best: the fastest; spread: (max - min) / median; "
           f"ratio: median ops/s relative to {reference_mode(modes)} in this run; counts per op "
           "are exact"]
    heads = [h for h, _ in COLUMNS]
    for name in scenarios:
        rows = scenario_rows(name, modes, by_mode)
        out.append("")
        if not rows:
            out.append(f"{name}: no results")
            continue
        widths = [max(len(x) for x in col) for col in zip(heads, *rows)]
        out.append(name)
        for row in [heads] + rows:
            cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
            out.append("  " + "  ".join(cells).rstrip())
    return "\n".join(out)


def format_markdown(scenarios, modes, by_mode, title):
    """The same tables in Markdown."""
    out = [f"# {title}", "",
           f"Modes: {', '.join(modes)}. ops/s: median of the repetitions; best: the fastest; "
           "spread: (max - min) / median of their ops/s; ratio: median ops/s relative to "
           f"`{reference_mode(modes)}` in the same run. Counts are exact, per operation.", ""]
    heads = [h for h, _ in COLUMNS]
    for name in scenarios:
        rows = scenario_rows(name, modes, by_mode)
        out += [f"## {name}", ""]
        if not rows:
            out += ["No results.", ""]
            continue
        out += ["| " + " | ".join(heads) + " |",
                "|" + "|".join(["---"] + ["---:"] * (len(heads) - 1)) + "|"]
        out += ["| " + " | ".join(row) + " |" for row in rows]
        out.append("")
    return "\n".join(out)


def parse_args(argv):
    """Splits argv at "--" into our options and the QEMU command."""
    ap = argparse.ArgumentParser(
        prog="bench.py", usage="%(prog)s [options] -- QEMU... (with @MODE@ where the mode goes)",
        description="Boot Pagoda once per TLB mode and compare the BENCH results.")
    ap.add_argument("--modes", default="gen mmgen",
                    help="TLB modes, space- or comma-separated (default: %(default)s)")
    ap.add_argument("--scenarios", default=" ".join(SCENARIOS),
                    help="scenarios every boot must report (default: all)")
    ap.add_argument("--log-dir", type=Path, default=Path("build"),
                    help="where bench-<mode>.log goes (default: %(default)s)")
    ap.add_argument("--timeout", type=float, default=100, help="per boot, seconds")
    ap.add_argument("--exit-style", choices=["x86", "semihosting", "none"], default="none")
    ap.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables here")
    ap.add_argument("--title", default="Pagoda TLB benchmarks", help="Markdown heading")
    if "--" not in argv:
        ap.error("the QEMU command must follow --")
    split = argv.index("--")
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1:]
    if not cmd:
        ap.error("no QEMU command after --")
    args.modes = args.modes.replace(",", " ").split()
    args.scenarios = args.scenarios.replace(",", " ").split()
    if not args.modes:
        ap.error("no modes")
    if len(set(args.modes)) != len(args.modes):
        ap.error("a mode is listed twice")
    bad = [m for m in args.modes if not MODE_RE.match(m)]
    if bad:
        ap.error(f"bad mode name(s): {' '.join(bad)}")
    if args.timeout <= 0:
        ap.error("--timeout must be positive")
    return args, cmd


def boot(mode, cmd, args):
    """Boots one mode; returns (results, problems)."""
    log = args.log_dir / f"bench-{mode}.log"
    print(f"bench: mode {mode}: booting, log in {log}", flush=True)
    start = time.monotonic()
    run = run_qemu([a.replace("@MODE@", mode) for a in cmd], log, args.timeout, 0,
                   lambda chunk: None)
    text = log.read_bytes().decode("utf-8", errors="replace") if log.exists() else ""
    results, errors, end_seen, panics = parse_output(text)
    clean = (not run.start_error and not run.killed
             and classify_exit(args.exit_style, run.exit_code) in ("passed", "ignored"))
    exit_problem = None if clean else describe_exit(args.exit_style, run)
    problems = check_boot(mode, results, errors, end_seen, panics, exit_problem, args.scenarios)
    print(f"bench: mode {mode}: {len(results)} scenarios in {time.monotonic() - start:.1f} s"
          + (", FAILED" if problems else ""), flush=True)
    return results, problems


def main(argv=None):
    """Runs every mode; returns the process exit status."""
    args, cmd = parse_args(sys.argv[1:] if argv is None else argv)
    by_mode, problems = {}, []
    try:
        for mode in args.modes:
            by_mode[mode], p = boot(mode, cmd, args)
            problems += p
    except KeyboardInterrupt:
        print("\nbench: interrupted; QEMU killed", file=sys.stderr)
        return 130
    print()
    print(format_text(args.scenarios, args.modes, by_mode))
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(format_markdown(args.scenarios, args.modes, by_mode, args.title))
        print(f"\nmarkdown: {args.markdown}")
    for p in problems:
        print(f"ERROR: {p}")
    print("bench: FAILED" if problems else "bench: ok", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
