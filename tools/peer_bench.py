# SPDX-License-Identifier: BSD-2-Clause
"""Pagoda against Debian's Linux 6.1 under the same QEMU (`make peer-bench`,
docs/benchmarks.md "Against Linux").

Alternates boots in ROUNDS rounds: in each, Pagoda's bench image (the
default TLB mode) and then Linux with the initramfs whose /init runs
tools/peer/peerbench.c; both print the same BENCH lines. Within a round,
each side's ops/s for a scenario is the median of its repetitions, and the
round's ratio is Pagoda's over Linux's; the table gives the median ratio
over the rounds and its min-max, each side's median ops/s, and IPIs per
operation each side (summed over every repetition: exact counts). It also
names the QEMU version, the guest's `uname -r`, what Linux says about THP
and its mitigations (PEER lines from the initramfs), and Pagoda's git
revision, and writes the table in Markdown and a PNG bar chart.

Usage: peer_bench.py --rounds N --log-dir DIR --markdown FILE --png FILE
       --qemu BINARY --pagoda-cmd CMD --linux-cmd CMD --pagoda-exit-style S
(each CMD is run with sh -c).

Invariants: boots strictly alternate, Pagoda first in each round, and only
ratios of the same round are taken, so a change of host load between
rounds moves both sides; the exit status is 0 only if every boot ended
cleanly (Pagoda's success exit; Linux powered off, QEMU status 0), printed
BENCH_END with no BENCH_ERROR and a line for every scenario. Parsing and
the tables are pure functions of text (tools/test_peer_bench.py).
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402
from ktest_run import PANIC_RE, classify_exit, describe_exit, run_qemu, strip_noise  # noqa: E402

SCENARIOS = ["munmap_1", "munmap_32", "munmap_512", "mprotect", "tlb_flush2", "concurrent"]
# The acceptance: Pagoda's ops/s at least this many times Linux's.
GOALS = {"munmap_1": 2.0, "mprotect": 2.0}
REQUIRED = ["scenario", "mode", "ops", "ns", "ipis"]
PEER_RE = re.compile(r"(?:^|\s)PEER (\w+)[ =](.*)$")
# A Linux panic ("Kernel panic - not syncing") or Pagoda's.
LINUX_PANIC_RE = re.compile(r"Kernel panic - not syncing.*")


def parse_boot(text):
    """(results, errors, end seen, info) of one boot's console text.

    results maps a scenario to its BENCH lines' fields (bench.parse_fields),
    one per repetition; a line without REQUIRED fields, with no ops or no
    time, a BENCH_ERROR or a panic is an error. info holds the PEER lines:
    uname, thp, cmdline, exit as text, vuln as {name: text}, kpti as a list.
    """
    results, errors, end_seen = {}, [], False
    info = {"vuln": {}, "kpti": []}
    for raw in text.splitlines():
        line = strip_noise(raw)
        for panic_re in (PANIC_RE, LINUX_PANIC_RE):
            m = panic_re.search(line)
            if m:
                errors.append(f"panic: {m.group(0).strip()}")
        m = PEER_RE.search(line)
        if m:
            key, value = m[1], m[2].strip()
            if key == "vuln":
                name, _, what = value.partition("=")
                info["vuln"][name] = what
            elif key == "kpti":
                info["kpti"].append(value)
            else:
                info[key] = value
            continue
        m = bench.BENCH_RE.search(line)
        if not m:
            continue
        kind, rest = m[1], (m[2] or "").strip()
        if kind == "BENCH_END":
            end_seen = True
        elif kind == "BENCH_ERROR":
            errors.append(f"BENCH_ERROR {rest}")
        else:
            fields, error = bench.line_fields(rest, REQUIRED)
            if error:
                errors.append(error)
            else:
                results.setdefault(fields["scenario"], []).append(fields)
    return results, errors, end_seen, info


def boot_problems(label, results, errors, end_seen, exit_problem, scenarios):
    """Every reason one boot's results cannot be used, as messages."""
    problems = [f"{label}: {e}" for e in errors]
    if exit_problem:
        problems.append(f"{label}: boot failed (QEMU exit: {exit_problem})")
    if not end_seen:
        problems.append(f"{label}: no BENCH_END line")
    problems += [f"{label}: no result for scenario {s}" for s in scenarios if s not in results]
    return problems


def ops_per_s(reps):
    """Median ops/s of one boot's repetitions of a scenario."""
    return bench.median([r["ops"] * 1e9 / r["ns"] for r in reps])


def summarize(scenarios, rounds):
    """One row of figures per scenario from rounds = [(pagoda results, linux results)].

    Per scenario: ratios (one per round that has both sides), the median
    of each side's per-round ops/s, and per-op counts summed over every
    repetition of every round (ipis each side; Linux's tlb_ipis and
    resched_ipis if its lines have them; Pagoda's xcall_send_ns and
    xcall_wait_ns, the time its CPUs spent sending cross-call IPIs and
    waiting for them to finish, and bcast_ns, in broadcast invalidations).
    """
    rows = []
    for name in scenarios:
        pairs = [(p[name], lx[name]) for p, lx in rounds if p.get(name) and lx.get(name)]
        if not pairs:
            continue
        ratios = [ops_per_s(p) / ops_per_s(lx) for p, lx in pairs]
        row = {"scenario": name, "rounds": len(pairs), "ratio": bench.median(ratios),
               "ratio_min": min(ratios), "ratio_max": max(ratios),
               "pagoda_ops_s": bench.median([ops_per_s(p) for p, _ in pairs]),
               "linux_ops_s": bench.median([ops_per_s(lx) for _, lx in pairs])}
        for side, idx in (("pagoda", 0), ("linux", 1)):
            reps = [r for pair in pairs for r in pair[idx]]
            ops = sum(r["ops"] for r in reps)
            for key in ("ipis", "tlb_ipis", "resched_ipis", "xcall_send_ns", "xcall_wait_ns",
                        "bcast_ns"):
                if all(key in r for r in reps):
                    row[f"{side}_{key}_op"] = sum(r[key] for r in reps) / ops
        row["goal"] = GOALS.get(name, 1.0)
        rows.append(row)
    return rows


def goal_met(row):
    """The acceptance for this row: ops/s ratio >= its goal and IPIs/op <= Linux's."""
    return (row["ratio"] >= row["goal"]
            and row.get("pagoda_ipis_op", 0) <= row.get("linux_ipis_op", 0) + 1e-9)


def us_op(row, key):
    """A per-op nanosecond figure in microseconds, or "-" if the lines had none."""
    return f"{row[key] / 1000:.1f}" if key in row else "-"


def fmt(row, key, spec=".2f"):
    return format(row[key], spec) if key in row else "-"


HEADINGS = ["scenario", "rounds", "Pagoda ops/s", "Linux ops/s", "ratio (median)",
            "ratio min-max", "Pagoda IPIs/op", "Linux IPIs/op", "Linux TLB IPIs/op",
            "Linux resched IPIs/op", "Pagoda us/op", "Pagoda IPI send us/op", "Pagoda IPI wait us/op",
            "Pagoda broadcast us/op", "goal", "met"]


def table_rows(rows):
    """The table's cells, one list of strings per scenario."""
    return [[r["scenario"], str(r["rounds"]), f"{r['pagoda_ops_s']:.0f}",
             f"{r['linux_ops_s']:.0f}", f"{r['ratio']:.2f}",
             f"{r['ratio_min']:.2f}-{r['ratio_max']:.2f}", fmt(r, "pagoda_ipis_op", ".4f"),
             fmt(r, "linux_ipis_op", ".4f"), fmt(r, "linux_tlb_ipis_op", ".4f"),
             fmt(r, "linux_resched_ipis_op", ".4f"),
             f"{1e6 / r['pagoda_ops_s']:.1f}",
             us_op(r, "pagoda_xcall_send_ns_op"), us_op(r, "pagoda_xcall_wait_ns_op"),
             us_op(r, "pagoda_bcast_ns_op"),
             f">= {r['goal']:g}x", "yes" if goal_met(r) else "no"] for r in rows]


def describe(meta):
    """Lines naming what was compared (QEMU, kernels, mitigations, THP, rounds)."""
    vuln = meta.get("vuln", {})
    lines = [f"QEMU: {meta.get('qemu', '?')}",
             f"Pagoda: git {meta.get('git', '?')}, {meta.get('pagoda_mode', '?')}",
             f"Linux: {meta.get('uname', '?')} (Debian), command line: {meta.get('cmdline', '?')}",
             f"Linux THP: {meta.get('thp', '?')}; meltdown: {vuln.get('meltdown', '?')}; "
             f"spectre_v2: {vuln.get('spectre_v2', '?')}"]
    lines += [f"Linux KPTI: {k}" for k in meta.get("kpti", [])]
    lines.append(f"machine: {meta.get('machine', '?')}; rounds: {meta.get('rounds', '?')}")
    return lines


NOTE = ("ratio: Pagoda's ops/s over Linux's within one round (each side: median of its "
        "repetitions in that boot), median and min-max over the rounds; ops/s columns: median "
        "over the rounds; IPIs/op: Pagoda's IPIs sent, Linux's function-call IPIs received "
        "(TLB: x86's shootdown row; resched: rescheduling IPIs), summed over every repetition, "
        "to 4 decimals (Linux skips a few in a thousand for CPUs gone lazy); "
        "met: ratio >= goal and Pagoda's IPIs/op <= Linux's")


def format_text(rows, meta):
    out = describe(meta) + [NOTE, ""]
    return "\n".join(out + bench.text_table(HEADINGS, table_rows(rows)))


def format_markdown(rows, meta, title):
    out = [f"# {title}", ""] + [f"* {line}" for line in describe(meta)] + ["", NOTE + ".", ""]
    return "\n".join(out + bench.markdown_table(HEADINGS, table_rows(rows)) + [""])


def draw(rows, out, title):
    """A PNG: the ratio per scenario (min-max whiskers, goal marks) beside IPIs/op each side."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = [r["scenario"] for r in rows]
    x = range(len(rows))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    ratio = [r["ratio"] for r in rows]
    err = [[r["ratio"] - r["ratio_min"] for r in rows], [r["ratio_max"] - r["ratio"] for r in rows]]
    colours = ["#2ca02c" if goal_met(r) else "#d62728" for r in rows]
    bars = ax1.bar(x, ratio, yerr=err, capsize=4, color=colours)
    # Each label sits halfway up to 1.0 (or the bar's top, if lower): below every goal mark and
    # the 1.0 line, which a label at the bar's centre could sit on.
    for bar, v in zip(bars, ratio):
        ax1.text(bar.get_x() + bar.get_width() / 2, min(v, 1.0) / 2, f"{v:.2f}x", ha="center",
                 va="center", fontsize=8, color="white")
    ax1.scatter(x, [r["goal"] for r in rows], marker="_", s=600, linewidths=2.5,
                color="#6a3d9a", zorder=3, label="goal")
    ax1.axhline(1.0, color="grey", linestyle="--", linewidth=1)
    ax1.set_xticks(list(x), names, rotation=30, ha="right")
    ax1.set_ylabel("Pagoda ops/s / Linux ops/s (same round)")
    ax1.set_title("ratio: median, min-max over rounds (green: goal met)", fontsize=9)
    ax1.legend(fontsize=8)
    width = 0.4
    pag = [r.get("pagoda_ipis_op", 0) for r in rows]
    lin = [r.get("linux_ipis_op", 0) for r in rows]
    ax2.bar([i - width / 2 for i in x], pag, width, label="Pagoda (sent, wakes included)",
            color="#1f77b4")
    ax2.bar([i + width / 2 for i in x], lin, width, label="Linux (function-call IPIs received)",
            color="#ff7f0e")
    ax2.set_xticks(list(x), names, rotation=30, ha="right")
    ax2.set_ylabel("IPIs per operation")
    ax2.set_title("IPIs per operation", fontsize=9)
    ax2.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def git_revision():
    """Pagoda's short revision, "-dirty" if the tree has uncommitted changes."""
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def qemu_version(binary):
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
        return out.splitlines()[0] if out else "unknown"
    except OSError:
        return "unknown"


def boot(label, cmd, log, args, exit_style, scenarios):
    """Runs one boot; returns (results, info, problems)."""
    print(f"peer-bench: {label}: booting, log in {log}", flush=True)
    start = time.monotonic()
    run = run_qemu(["sh", "-c", cmd], log, args.timeout, 0, lambda chunk: None)
    text = log.read_bytes().decode("utf-8", errors="replace") if log.exists() else ""
    results, errors, end_seen, info = parse_boot(text)
    clean = (not run.start_error and not run.killed
             and classify_exit(exit_style, run.exit_code) == "passed")
    problems = boot_problems(label, results, errors, end_seen,
                             None if clean else describe_exit(exit_style, run), scenarios)
    print(f"peer-bench: {label}: {len(results)} scenarios in {time.monotonic() - start:.1f} s"
          + (", FAILED" if problems else ""), flush=True)
    return results, info, problems


def replay(label, log, scenarios):
    """One earlier boot's log, read back; returns (results, info, problems) as boot() does."""
    if not log.exists():
        return {}, {}, [f"{label}: no log {log} to replay"]
    results, errors, end_seen, info = parse_boot(log.read_bytes().decode("utf-8", "replace"))
    return results, info, boot_problems(label, results, errors, end_seen, None, scenarios)


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="peer_bench.py", description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", metavar="GLOB", default="*", help="scenarios to compare (comma-separated globs)")
    ap.add_argument("--log-dir", type=Path, required=True)
    ap.add_argument("--markdown", type=Path, required=True)
    ap.add_argument("--png", type=Path)
    ap.add_argument("--title", default="Pagoda against Linux")
    ap.add_argument("--qemu", default="qemu-system-x86_64", help="for its --version")
    ap.add_argument("--machine", default="?", help="the QEMU machine options, for the table")
    ap.add_argument("--pagoda-mode", default="?", help="Pagoda's tlb= mode, for the table")
    ap.add_argument("--pagoda-cmd")
    ap.add_argument("--pagoda-exit-style", choices=["x86", "semihosting"])
    ap.add_argument("--linux-cmd")
    ap.add_argument("--timeout", type=float, default=300, help="per boot, seconds")
    ap.add_argument("--replay", action="store_true",
                    help="boot nothing: tabulate and draw the logs of the last --rounds rounds "
                         "left in --log-dir")
    args = ap.parse_args(argv)
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    if not args.replay:
        for opt in ("pagoda_cmd", "pagoda_exit_style", "linux_cmd"):
            if getattr(args, opt) is None:
                ap.error(f"--{opt.replace('_', '-')} is required unless --replay")
    args.scenarios = [s for s in SCENARIOS if bench.selected(s, args.only)]
    if not args.scenarios:
        ap.error(f"--only {args.only}: matches no scenario")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    rounds, problems, meta = [], [], {}
    try:
        for r in range(args.rounds):
            plog, llog = args.log_dir / f"peer-pagoda-{r}.log", args.log_dir / f"peer-linux-{r}.log"
            if args.replay:
                pagoda, _, p = replay(f"round {r + 1} Pagoda", plog, args.scenarios)
                problems += p
                linux, info, p = replay(f"round {r + 1} Linux", llog, args.scenarios)
                problems += p
                meta.update(info)
                rounds.append((pagoda, linux))
                continue
            pagoda, _, p = boot(f"round {r + 1} Pagoda", args.pagoda_cmd, plog, args,
                                args.pagoda_exit_style, args.scenarios)
            problems += p
            linux, info, p = boot(f"round {r + 1} Linux", args.linux_cmd, llog, args, "poweroff",
                                  args.scenarios)
            problems += p
            meta.update(info)
            rounds.append((pagoda, linux))
    except KeyboardInterrupt:
        print("\npeer-bench: interrupted; QEMU killed", file=sys.stderr)
        return 130
    git = "(the logs' build; replayed)" if args.replay else git_revision()
    meta.update(qemu=qemu_version(args.qemu), git=git, rounds=args.rounds,
                machine=args.machine, pagoda_mode=f"tlb={args.pagoda_mode}")
    rows = summarize(args.scenarios, rounds)
    print()
    print(format_text(rows, meta))
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(format_markdown(rows, meta, args.title))
    print(f"\nmarkdown: {args.markdown}")
    if args.png and rows:
        try:
            draw(rows, args.png, args.title)
            print(f"chart: {args.png}")
        except ImportError:
            problems.append("no matplotlib for the chart (tools/deps.sh plots installs it)")
    return bench.verdict("peer-bench", problems)


if __name__ == "__main__":
    sys.exit(main())
