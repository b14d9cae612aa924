# SPDX-License-Identifier: BSD-2-Clause
"""Draws the shootdown event ring that `make trace` pulls over serial: one
panel per operation (munmap, mprotect), one lane per CPU, time on x.

The kernel prints the ring (kernel/mm/tlb_trace.c, tlb_trace_ring_dump) as
    trace: begin events=N lost=L cpus=C       (C: CPUs online)
    trace: <ns> <cpu> <kind> 0x<a> 0x<b>      (N of them, in time order)
    trace: end
each possibly behind the console's "[time] cpuN: " prefix. This script
checks that dump, cuts it into operations (an unmap_start or protect_start
to its end, on the CPU that ran it, with everything any CPU recorded in
between), pairs every ipi_recv with the ipi_send it answers, and draws:
the operation's span, local invalidations (boxes, labelled page / N pages
/ full), the initiator's wait for the acknowledgements, IPIs as arrows
from sender to receiver, gathers, generation bumps and deferrals,
catch-ups, skipped flushes and frees (a run of frees is one box).

Usage: trace_plot.py --log LOG --out PNG [--title T]

Invariants: parsing, grouping and pairing are pure functions of text,
tested by tools/test_trace_plot.py without matplotlib; matplotlib is
imported only to draw. The exit status is non-zero when the dump is
missing, truncated, malformed or lost events, or holds no operation.
"""

import argparse
import re
import sys

TRACE_RE = re.compile(r"(?:^|\s)trace: ")  # not "tlb_trace: " (KTAP's suite lines)
LINE_RE = re.compile(r"trace: (\d+) (\d+) ([a-z_]+) 0x([0-9a-f]+) 0x([0-9a-f]+)\s*$")
BEGIN_RE = re.compile(r"trace: begin events=(\d+) lost=(\d+) cpus=(\d+)")  # cpus: online
END_RE = re.compile(r"trace: end\s*$")
KINDS = {"unmap_start", "unmap_end", "protect_start", "protect_end", "gather_pages",
         "gather_table", "gen_bump", "defer", "flush_begin", "flush_end", "bcast_begin",
         "bcast_end", "ipi_send", "ipi_recv", "ipi_acked", "catch_up", "skip", "free_page",
         "free_table", "bcast_sync"}
STARTS = {"unmap_start": "unmap_end", "protect_start": "protect_end"}
SKIP_REASONS = {1: "at gen", 2: "not loaded", 3: "completed", 4: "lazy", 5: "switched away"}
PAGE = 4096


def parse(text):
    """(events, problems): events as dicts (ns, cpu, kind, a, b) in dump order."""
    events, problems, header, ended = [], [], None, False
    for line in text.splitlines():
        if not TRACE_RE.search(line):
            continue
        m = BEGIN_RE.search(line)
        if m:
            if header is not None:
                problems.append("two dumps in one log")
            header = dict(events=int(m[1]), lost=int(m[2]), cpus=int(m[3]))
            continue
        if END_RE.search(line):
            ended = True
            continue
        m = LINE_RE.search(line)
        if not m or m[3] not in KINDS:
            problems.append(f"malformed trace line: {line.strip()!r}")
            continue
        events.append(dict(ns=int(m[1]), cpu=int(m[2]), kind=m[3], a=int(m[4], 16),
                           b=int(m[5], 16)))
    if header is None:
        problems.append("no 'trace: begin' line: the ring was not dumped")
        return events, problems
    if not ended:
        problems.append("no 'trace: end' line: the dump was cut short")
    if header["events"] != len(events):
        problems.append(f"header says {header['events']} events, {len(events)} read")
    if header["lost"]:
        problems.append(f"{header['lost']} events were lost (the ring overflowed)")
    last = {}
    for e in events:
        if e["ns"] < last.get(e["cpu"], 0):
            problems.append(f"cpu{e['cpu']}: time goes back at {e['ns']} ns")
        last[e["cpu"]] = e["ns"]
    return events, problems


def describe(start):
    """'munmap 32 pages' for an operation's start event."""
    pages = (start["b"] - start["a"]) // PAGE
    verb = "munmap" if start["kind"] == "unmap_start" else "mprotect"
    return f"{verb} {pages} page{'s' if pages != 1 else ''} at {start['a']:#x}"


def operations(events):
    """[(label, cpu, t0, t1, events)]: each operation from its start to its end event."""
    ops, open_op = [], None
    for e in events:
        if open_op is None:
            if e["kind"] in STARTS:
                open_op = dict(start=e, events=[e])
            continue
        open_op["events"].append(e)
        s = open_op["start"]
        if e["kind"] == STARTS[s["kind"]] and e["cpu"] == s["cpu"] and e["a"] == s["a"]:
            ops.append((describe(s), s["cpu"], s["ns"], e["ns"], open_op["events"]))
            open_op = None
    return ops


def pair_ipis(events):
    """[(send, recv)]: each ipi_recv with the latest earlier ipi_send of its sender
    whose target mask names the receiver."""
    pairs, last_send = [], {}
    for e in events:
        if e["kind"] == "ipi_send":
            last_send[e["cpu"]] = e
        elif e["kind"] == "ipi_recv":
            s = last_send.get(e["a"])
            if s is not None and (s["a"] >> e["cpu"]) & 1 and s["ns"] <= e["ns"]:
                pairs.append((s, e))
    return pairs


def spans(events, begin, end):
    """[(cpu, begin_event, end_event)]: each `begin` closed by the next `end` on its CPU."""
    out, opened = [], {}
    for e in events:
        if e["kind"] == begin:
            opened[e["cpu"]] = e
        elif e["kind"] == end and e["cpu"] in opened:
            out.append((e["cpu"], opened.pop(e["cpu"]), e))
    return out


def flush_label(e):
    """What a flush_begin/bcast_begin invalidated: page, N pages, or full."""
    if e["b"] == 0:
        return "full"
    return "page" if e["b"] == 1 else f"{e['b']} pages"


def free_runs(events):
    """[(cpu, t0, t1, n, tables)]: frees that follow each other on one CPU (no other
    event of that CPU between them), merged into one run."""
    runs, open_run = [], {}
    for e in events:
        cpu, free = e["cpu"], e["kind"] in ("free_page", "free_table")
        if not free:
            open_run.pop(cpu, None)
            continue
        table = int(e["kind"] == "free_table")
        if cpu in open_run:
            i = open_run[cpu]
            c, t0, _, n, tables = runs[i]
            runs[i] = (c, t0, e["ns"], n + 1, tables + table)
        else:
            open_run[cpu] = len(runs)
            runs.append((cpu, e["ns"], e["ns"], 1, table))
    return runs


STYLE = {  # kind: (marker, colour, legend label)
    "gather_pages": ("o", "#2ca02c", "gather: pages queued"),
    "gather_table": ("s", "#17becf", "gather: table queued"),
    "gen_bump": ("|", "#7f7f7f", "generation bump"),
    "defer": ("x", "#7f7f7f", "table deferral"),
    "catch_up": ("d", "#9467bd", "catch-up (behind by several generations)"),
    "skip": ("X", "#d62728", "flush skipped"),
    "ipi_send": (">", "#ff7f0e", "IPI sent"),
    "ipi_recv": ("v", "#ff7f0e", "IPI received"),
    "ipi_acked": ("<", "#ff7f0e", "all IPIs acknowledged"),
}
OP_COLOUR = {"munmap": "#dae8fc", "mprotect": "#fff2cc"}
FLUSH_COLOUR, BCAST_COLOUR, FREE_COLOUR, WAIT_COLOUR = "#1f77b4", "#8c564b", "#e377c2", "#ffbb78"


def draw(ops, cpus, out, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
    from matplotlib.lines import Line2D

    height = 2.1 + 1.0 * len(cpus) * len(ops)
    fig, axes = plt.subplots(len(ops), 1, figsize=(13, height), squeeze=False)
    lane = {cpu: i for i, cpu in enumerate(sorted(cpus))}
    for ax, (label, init, t0, t1, evs) in zip(axes[:, 0], ops):
        us = lambda ns: (ns - t0) / 1000.0  # noqa: E731
        width = max(us(t1), 1e-3)
        minw = width * 0.006  # the narrowest box still visible
        for cpu, y in lane.items():
            ax.axhline(y, color="#dddddd", lw=0.8, zorder=0)
        verb = label.split()[0]
        ax.barh(lane[init], width, height=0.8, color=OP_COLOUR.get(verb, "#eeeeee"),
                edgecolor="#999999", zorder=1)
        for cpu, s, e in spans(evs, "ipi_send", "ipi_acked"):
            ax.barh(lane[cpu], max(us(e["ns"]) - us(s["ns"]), minw), left=us(s["ns"]),
                    height=0.22, color=WAIT_COLOUR, zorder=2)
        for kind, colour in (("flush", FLUSH_COLOUR), ("bcast", BCAST_COLOUR)):
            for cpu, b, e in spans(evs, kind + "_begin", kind + "_end"):
                x, w = us(b["ns"]), max(us(e["ns"]) - us(b["ns"]), minw)
                ax.barh(lane[cpu], w, left=x, height=0.5, color=colour, zorder=3)
                ax.text(x + w, lane[cpu] - 0.3, " " + flush_label(b), fontsize=7,
                        va="top", color=colour)
        for cpu, a, b, n, tables in free_runs(evs):
            x, w = us(a), max(us(b) - us(a), minw)
            ax.barh(lane[cpu] + 0.3, w, left=x, height=0.2, color=FREE_COLOUR, zorder=3)
            what = f"free {n - tables}" + (f" + {tables} table" if tables else "")
            ax.text(x + w, lane[cpu] + 0.3, " " + what, fontsize=7, va="center",
                    color=FREE_COLOUR)
        for kind, (marker, colour, _) in STYLE.items():
            pts = [e for e in evs if e["kind"] == kind]
            if pts:
                ax.scatter([us(e["ns"]) for e in pts], [lane[e["cpu"]] - 0.32 for e in pts],
                           marker=marker, color=colour, s=28, zorder=5)
            if kind == "skip":
                for e in pts:
                    ax.text(us(e["ns"]), lane[e["cpu"]] - 0.45,
                            SKIP_REASONS.get(e["a"], "?"), fontsize=6, color=colour)
        for e in evs:
            if e["kind"] == "ipi_send":
                ax.text(us(e["ns"]), lane[e["cpu"]] - 0.45, f" IPI x{e['b']}", fontsize=7,
                        color=STYLE["ipi_send"][1])
        for s, r in pair_ipis(evs):
            ax.annotate("", xy=(us(r["ns"]), lane[r["cpu"]] - 0.32),
                        xytext=(us(s["ns"]), lane[s["cpu"]] - 0.32),
                        arrowprops=dict(arrowstyle="->", color="#ff7f0e", lw=1.0,
                                        shrinkA=3, shrinkB=3), zorder=4)
        busy = {e["cpu"] for e in evs}
        bcast = any(e["kind"] == "bcast_begin" for e in evs)
        for cpu in sorted(set(lane) - busy):
            why = ("nothing recorded: the broadcast invalidated this CPU's TLB without "
                   "interrupting it" if bcast else "nothing recorded")
            ax.text(width * 0.02, lane[cpu], why, fontsize=8, va="center", color="#777777")
        ax.set_yticks(list(lane.values()), [f"cpu{c}" for c in lane])
        ax.set_ylim(len(lane) - 0.4, -0.7)
        ax.set_xlim(-width * 0.01, width * 1.08)
        ax.set_title(f"{label} (on cpu{init}): {width:.0f} µs", fontsize=10, loc="left")
        ax.set_xlabel("µs since the operation started", fontsize=8)
        ax.tick_params(labelsize=8)
    handles = [Patch(color=OP_COLOUR["munmap"], label="munmap (initiator)"),
               Patch(color=OP_COLOUR["mprotect"], label="mprotect (initiator)"),
               Patch(color=FLUSH_COLOUR, label="local TLB invalidation"),
               Patch(color=BCAST_COLOUR, label="broadcast invalidation"),
               Patch(color=WAIT_COLOUR, label="waiting for IPI acks"),
               Patch(color=FREE_COLOUR, label="frames/tables freed"),
               Line2D([], [], color="#ff7f0e", marker=None, label="IPI: sender -> receiver")]
    handles += [Line2D([], [], ls="", marker=m, color=c, label=lbl)
                for m, c, lbl in STYLE.values()]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(title, fontsize=12)
    fig.tight_layout(rect=(0, 1.0 / height, 1, 1 - 0.35 / height))  # an inch for the legend
    fig.savefig(out, dpi=110)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--log", required=True, help="console log holding the dump")
    p.add_argument("--out", required=True, help="PNG to write")
    p.add_argument("--title", default="Pagoda TLB shootdown")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    with open(args.log, errors="replace") as f:
        text = f.read()
    events, problems = parse(text)
    # A lane for every CPU online, even one that recorded nothing (broadcast's targets).
    m = BEGIN_RE.search(text)
    online = int(m[3]) if m else 0
    ops = operations(events)
    if not ops:
        problems.append("no complete operation (unmap/protect start to end) in the dump")
    for p in problems:
        print(f"trace_plot: {args.log}: {p}", file=sys.stderr)
    if problems:
        return 1
    cpus = {e["cpu"] for e in events} | set(range(online))
    draw(ops, cpus, args.out, args.title)
    ipis = len(pair_ipis(events))
    print(f"trace: {len(events)} events, {len(ops)} operations, {ipis} IPIs on "
          f"{len(cpus)} CPUs -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
