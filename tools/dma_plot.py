# SPDX-License-Identifier: BSD-2-Clause
"""DMA throughput while unmapping: boot Pagoda once with `bench bench.dma_plot`,
read the DMAPLOT samples it prints (kernel/bench/dma_plot.c) and draw a PNG.

The kernel prints cumulative counts every sample period; this script turns
them into rates per sample: the device's throughput (KiB/s of transfers
that moved data), its faulted transfers, the unmaps and the IOMMU's
invalidation commands (range and whole-address-space) per sample. The
figure has two panels over the same time axis: throughput on top, the
unmap/invalidation events below, with the run's four phases shaded and
named in both.

Usage: dma_plot.py --out PNG [--log LOG] [--timeout S] [--exit-style S] -- QEMU...
       dma_plot.py --out PNG --from-log LOG      (draw again from a saved log)

Invariants: one QEMU boot at most; the exit status is 0 only if the boot
ended cleanly (kernel success exit, DMAPLOT_END failed=0, no panic or
BENCH_ERROR) and the samples are well formed (time increasing, counts
never decreasing). Parsing and rates are pure functions of text, tested
by tools/test_dma_plot.py without matplotlib; matplotlib is imported only
to draw.
"""

import argparse
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ktest_run import PANIC_RE, classify_exit, describe_exit, run_qemu, strip_noise  # noqa: E402

LINE_RE = re.compile(r"(?:^|\s)(DMAPLOT_BEGIN|DMAPLOT_END|DMAPLOT|BENCH_ERROR)(?:\s+(.*))?$")
SAMPLE_FIELDS = ["t_ms", "phase", "bytes", "xfers", "faults", "unmaps", "inv_range", "inv_asid",
                 "syncs"]
# What the unmapper does in each phase (kernel/bench/dma_plot.c).
PHASE_NAMES = ["DMA alone", "unmapping other pages\n(back to back)",
               "unmapping the DMA's pages\n(100 ms out, 100 ms in)", "DMA alone"]
PHASE_COLOURS = ["#ffffff", "#dae8fc", "#f8cecc", "#ffffff"]
# How to read the throughput of each kind of device.
DEVICE_NOTE = {
    "edu": "edu moves 4 KiB per transfer, ~100 ms of virtual time each: a sample holds 4-5 "
           "transfers, so one transfer more or less is a 20% step. A faulted transfer moves "
           "nothing.",
    "emu": "The emulated device reads one 4 KiB page per access through the model's IOTLB; "
           "a faulted access moves nothing.",
}


def words(text):
    """{key: value} of the key=value words of a line."""
    return dict(w.split("=", 1) for w in text.split() if "=" in w)


def parse(text):
    """(header, samples, problems) from the console text of one boot.

    header: the DMAPLOT_BEGIN words; samples: one dict of ints per DMAPLOT
    line, in order; problems: every reason the run cannot be used.
    """
    header, samples, problems, end = None, [], [], None
    for raw in text.splitlines():
        line = strip_noise(raw)
        panic = PANIC_RE.search(line)
        if panic:
            problems.append(f"kernel panic: {panic.group(0).strip()}")
        m = LINE_RE.search(line)
        if not m:
            continue
        kind, rest = m[1], (m[2] or "").strip()
        if kind == "DMAPLOT_BEGIN":
            header = words(rest)
        elif kind == "DMAPLOT_END":
            end = words(rest).get("failed")
        elif kind == "BENCH_ERROR":
            problems.append(f"kernel: {rest}")
        else:
            fields = words(rest)
            try:
                samples.append({k: int(fields[k]) for k in SAMPLE_FIELDS})
            except (KeyError, ValueError):
                problems.append(f"malformed DMAPLOT line: {rest}")
    if header is None:
        problems.append("no DMAPLOT_BEGIN line")
    if end != "0":
        problems.append("no DMAPLOT_END failed=0 line" if end is None else "the run failed")
    if len(samples) < 2:
        problems.append(f"{len(samples)} samples: need at least 2")
    for a, b in zip(samples, samples[1:]):
        if b["t_ms"] <= a["t_ms"] or any(b[k] < a[k] for k in SAMPLE_FIELDS if k != "phase"):
            problems.append(f"samples go backwards at t_ms={b['t_ms']}")
            break
    return header, samples, problems


def rates(samples):
    """Per-interval figures: one dict per pair of consecutive samples.

    t_s: the interval's end in seconds; kib_s: KiB/s moved; and the
    interval's faults, unmaps, invalidations (range + whole) and syncs.
    """
    out = []
    for a, b in zip(samples, samples[1:]):
        dt = (b["t_ms"] - a["t_ms"]) / 1000
        # A sample's phase is the one its interval (since the previous sample) ran in.
        out.append({"t_s": b["t_ms"] / 1000, "dt": dt, "phase": b["phase"],
                    "kib_s": (b["bytes"] - a["bytes"]) / 1024 / dt,
                    "faults": b["faults"] - a["faults"], "unmaps": b["unmaps"] - a["unmaps"],
                    "inv_range": b["inv_range"] - a["inv_range"],
                    "inv_asid": b["inv_asid"] - a["inv_asid"], "syncs": b["syncs"] - a["syncs"]})
    return out


def phase_spans(samples):
    """[(phase, start s, end s)] over the samples, in order."""
    spans = []
    for a, b in zip(samples, samples[1:]):
        t0, t1 = a["t_ms"] / 1000, b["t_ms"] / 1000
        if spans and spans[-1][0] == b["phase"]:
            spans[-1] = (b["phase"], spans[-1][1], t1)
        else:
            spans.append((b["phase"], t0, t1))
    return spans


def title_of(header, arch):
    device = "edu" if header.get("device") == "edu" else "the emulated IOMMU's device"
    mode = header.get("mode", "shared")
    return (f"DMA throughput while unmapping: {device} through {header.get('iommu', '?')} "
            f"({mode} tables), {arch}")


def draw(header, samples, out, arch):
    """Writes the two-panel PNG to `out`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    r = rates(samples)
    t = [x["t_s"] for x in r]
    width = [x["dt"] for x in r]
    left = [x["t_s"] - x["dt"] for x in r]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.4), sharex=True,
                                      gridspec_kw={"height_ratios": [3, 2]})
    for ax in (top, bottom):
        for phase, t0, t1 in phase_spans(samples):
            ax.axvspan(t0, t1, color=PHASE_COLOURS[phase % len(PHASE_COLOURS)], alpha=0.6, lw=0)
        ax.grid(True, axis="y", alpha=0.3)
    # MiB/s for the emulated device (GiB/s-fast under TCG), KiB/s for edu.
    unit, div = ("MiB/s", 1024) if max(x["kib_s"] for x in r) > 10240 else ("KiB/s", 1)
    top.step(t, [x["kib_s"] / div for x in r], where="pre", color="#1f4e79", lw=1.8,
             label=f"bytes moved ({unit})")
    top.set_ylabel(f"DMA throughput ({unit})")
    top.set_ylim(0, max(max(x["kib_s"] / div for x in r) * 1.3, 1))
    faulted = [(x["t_s"] - x["dt"] / 2, x["faults"]) for x in r if x["faults"]]
    ax2 = top.twinx()
    if faulted:
        ax2.plot([f[0] for f in faulted], [f[1] for f in faulted], "x", color="#c00000",
                 label="faulted transfers per sample")
    ax2.set_ylabel("faulted transfers / sample", color="#c00000")
    ax2.set_ylim(0, max([f[1] for f in faulted] + [1]) * 1.3)
    ax2.yaxis.set_major_locator(MaxNLocator(integer=True))
    for phase, t0, t1 in phase_spans(samples):
        top.text((t0 + t1) / 2, top.get_ylim()[1] * 0.97, PHASE_NAMES[phase % len(PHASE_NAMES)],
                 ha="center", va="top", fontsize=8.5, color="#333333")
    lines = top.get_legend_handles_labels()
    extra = ax2.get_legend_handles_labels()
    top.legend(lines[0] + extra[0], lines[1] + extra[1], loc="lower right", fontsize=8.5)
    top.set_title(title_of(header, arch), fontsize=11)

    inv = [x["inv_range"] + x["inv_asid"] for x in r]
    bottom.bar(left, [x["inv_range"] for x in r], width=width, align="edge", color="#6c8ebf",
               label="range invalidation commands")
    bottom.bar(left, [x["inv_asid"] for x in r], width=width, align="edge",
               bottom=[x["inv_range"] for x in r], color="#9673a6",
               label="whole-address-space invalidation commands")
    bottom.plot(t, [x["unmaps"] for x in r], drawstyle="steps-pre", color="#b85450", lw=1.5,
                label="unmaps (vm_unmap calls)")
    bottom.plot(t, [x["syncs"] for x in r], drawstyle="steps-pre", color="#333333", lw=1,
                ls="--", label="syncs")
    bottom.set_yscale("symlog", linthresh=10)
    bottom.set_ylim(0, max(inv + [x["syncs"] for x in r] + [10]) * 3)
    bottom.set_ylabel(f"per {header.get('sample_ms', '?')} ms sample")
    n = sum(x["unmaps"] for x in r)
    if n:
        bottom.set_title(f"IOMMU work: {n} unmaps gave {sum(x['inv_range'] for x in r)} range + "
                         f"{sum(x['inv_asid'] for x in r)} whole-address-space commands and "
                         f"{sum(x['syncs'] for x in r)} syncs "
                         f"({sum(inv) / n:.2f} commands, {sum(x['syncs'] for x in r) / n:.2f} "
                         "syncs per unmap)", fontsize=9.5)
    bottom.set_xlabel("time since the DMA started (s)")
    bottom.legend(loc="upper right", fontsize=8)
    bottom.set_xlim(0, samples[-1]["t_ms"] / 1000)
    fig.text(0.01, 0.005, DEVICE_NOTE.get(header.get("device"), ""), fontsize=8, color="#555555")
    fig.tight_layout(rect=(0, 0.025, 1, 1))
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)


def summary(header, samples):
    """One line per phase: KiB/s, faults, unmaps, commands (range + whole) and syncs."""
    lines = []
    for phase, t0, t1 in phase_spans(samples):
        r = [x for x in rates(samples) if x["phase"] == phase and t0 < x["t_s"] <= t1]
        secs = sum(x["dt"] for x in r)
        total = {k: sum(x[k] for x in r) for k in ("faults", "unmaps", "inv_range", "inv_asid",
                                                   "syncs")}
        kib = sum(x["kib_s"] * x["dt"] for x in r)
        name = PHASE_NAMES[phase].replace("\n", " ")
        lines.append(f"  phase {phase} ({name}), {t0:.1f}-{t1:.1f} s: {kib / secs:.0f} KiB/s, "
                     f"{total['faults']} faulted transfers, {total['unmaps']} unmaps, "
                     f"{total['inv_range']} range + {total['inv_asid']} whole invalidations, "
                     f"{total['syncs']} syncs")
    return lines


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="dma_plot.py", description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True, help="the PNG to write")
    ap.add_argument("--log", type=Path, default=Path("build/dmaplot.log"),
                    help="where the boot's console goes (default: %(default)s)")
    ap.add_argument("--from-log", type=Path, help="draw from this saved log; no boot")
    ap.add_argument("--arch", default="?", help="named in the title")
    ap.add_argument("--timeout", type=float, default=100, help="seconds (default: %(default)s)")
    ap.add_argument("--exit-style", choices=["x86", "semihosting", "none"], default="none")
    split = argv.index("--") if "--" in argv else len(argv)
    args = ap.parse_args(argv[:split])
    args.cmd = argv[split + 1:]
    if not args.from_log and not args.cmd:
        ap.error("give the QEMU command after --, or --from-log")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problems = []
    log = args.from_log or args.log
    if not args.from_log:
        print(f"dma-plot: booting, log in {log}", flush=True)
        run = run_qemu(args.cmd, log, args.timeout, 0, lambda chunk: None)
        if (run.start_error or run.killed
                or classify_exit(args.exit_style, run.exit_code) not in ("passed", "ignored")):
            problems.append(f"boot failed (QEMU exit: {describe_exit(args.exit_style, run)})")
    text = log.read_bytes().decode("utf-8", errors="replace") if log.exists() else ""
    header, samples, p = parse(text)
    problems += p
    if not problems:
        draw(header, samples, args.out, args.arch)
        print(f"dma-plot: {len(samples)} samples, {title_of(header, args.arch)}")
        print("\n".join(summary(header, samples)))
        print(f"dma-plot: wrote {args.out}")
    for p in problems:
        print(f"ERROR: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
