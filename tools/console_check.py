# SPDX-License-Identifier: BSD-2-Clause
"""Drives the `pagoda>` console (docs/console.md) through a pseudo-terminal.

Runs the command after `--` (make's console-check target passes `make run`)
with its stdin, stdout and stderr on the slave side of a pty, as a person at
a terminal would, and checks, in order: the prompt appears after the
"Pagoda is up on N CPUs" line; `help` lists `walk`; `mm new`, `map`, `touch`,
`walk` (one line per level), `unmap` and `tlb` (IPI columns) answer; an
unknown command is named; 200 random bytes and a 10 KiB line leave the
prompt working (a following `help` still answers); `poweroff` ends QEMU
with exit status 0. Each check prints one line; the last line is
"N passed, N failed" (tools/ktest_run.py's convention, which .ci/run sums).

Invariants: the child runs in its own session and process group and is
killed whole on timeout or when this script dies; every byte it wrote is
saved to --log; the exit status is 0 exactly when 0 checks failed. The
random bytes never include Ctrl-A (QEMU's mon:stdio escape: Ctrl-A X would
quit QEMU, which is QEMU's business, not the kernel's) nor the bytes a
terminal turns into signals (Ctrl-C, Ctrl-Z, Ctrl-\\).
"""

import argparse
import os
import random
import re
import select
import signal
import subprocess
import sys
import time

ANSI_RE = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]")
PROMPT = b"pagoda> "
SIGNAL_BYTES = {0x01, 0x03, 0x1A, 0x1C}


class Console:
    """The child on a pty: send bytes, wait for patterns in what it wrote."""

    def __init__(self, argv, log):
        master, slave = os.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        os.set_blocking(master, False)
        self.fd = master
        self.log = log
        self.buf = b""  # output not yet consumed by expect()
        self.closed = False

    def _pump(self, timeout, data=b""):
        """Reads what is there (waiting up to timeout) while writing `data`; returns what is left."""
        wlist = [self.fd] if data else []
        r, w, _ = select.select([self.fd], wlist, [], timeout)
        if r:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:
                chunk = b""
            if chunk:
                self.log.write(chunk)
                self.log.flush()
                self.buf += chunk
            else:
                self.closed = True
        if w and data:
            try:
                n = os.write(self.fd, data[:256])
                data = data[n:]
            except BlockingIOError:
                pass
        return data

    def send(self, data, timeout=30):
        deadline = time.monotonic() + timeout
        while data and time.monotonic() < deadline and not self.closed:
            data = self._pump(0.05, data)
        return not data

    def expect(self, pattern, timeout):
        """Waits for regex `pattern` (bytes) in the output after ANSI escapes are removed."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            text = ANSI_RE.sub(b"", self.buf)
            m = rx.search(text)
            if m:
                self.buf = text[m.end():]
                return m
            if self.closed or time.monotonic() >= deadline:
                return None
            self._pump(min(0.2, max(0.0, deadline - time.monotonic())))

    def command(self, line, pattern, timeout=20):
        """Sends one line; the output up to the next prompt must match `pattern`."""
        self.send(line.encode() + b"\r")
        m = self.expect(rb"[^\n]*\n([\s\S]*?)" + re.escape(PROMPT), timeout)
        if not m:
            return False, "no prompt after it"
        out = m.group(1)
        return bool(re.search(pattern, out)), out.decode(errors="replace").strip()

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return self.proc.returncode
            self._pump(0.2)
        return None

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 usage="%(prog)s --log PATH [--boot-timeout S] -- COMMAND...")
    ap.add_argument("--log", required=True)
    ap.add_argument("--boot-timeout", type=float, default=120)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not cmd:
        ap.error("no command after --")
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)

    results = []

    def check(name, ok, detail=""):
        results.append(ok)
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f": {detail}"), flush=True)

    start = time.monotonic()
    with open(args.log, "wb") as log:
        con = Console(cmd, log)
        try:
            up = con.expect(rb"Pagoda is up on \d+ CPUs[^\n]*\n", args.boot_timeout)
            prompt = up and con.expect(re.escape(PROMPT), 10)
            check("prompt after 'Pagoda is up'", bool(prompt), "no banner and prompt")
            if not prompt:
                raise SystemExit
            steps = [
                ("help", rb"\bwalk\b"),
                ("mm new", rb"mm \d+: new address space"),
                ("map 0x400000 0x4000 rw", rb"mm \d+: mapped \[0x400000, 0x404000\) rw"),
                ("touch 0x400000 0x4000", rb"touched 4 page"),
                ("walk 0x400000", rb"L3\[.*table[\s\S]*L0\[.*leaf -> 0x[0-9a-f]+ rw"),
                ("trace on", rb"trace: recording"),
                ("unmap 0x400000 0x4000", rb"mm \d+: unmapped \[0x400000, 0x404000\)"),
                ("trace dump", rb"trace: begin events=[1-9][\s\S]*unmap_start 0x400000 0x404000"
                 rb"[\s\S]*free_page[\s\S]*unmap_end[\s\S]*trace: end"),
                ("tlb mode mmgen", rb"tlb: mode mmgen from now on"),
                ("tlb mode fast", rb"'fast' is not one of"),
                ("touch 0x400000 0x1000 on 1", rb"touch: write fault at 0x400000 on cpu1"),
                ("test asid", rb"test: 0 failure\(s\)", 90),
                ("touch 0x400000 0x1000", rb"touch: write fault at 0x400000"),
                ("tlb", rb"ipi-sent ipi-recv[\s\S]*\n\s*0\s+\d+\s+\d+"),
                ("frobnicate 12", rb"unknown command 'frobnicate'"),
                ("map 0x400000 0x4000 rq", rb"'rq' is not one of rw\|r\|rx"),
                ("map 0x400000 12K", rb"expects 3 arguments, got 2"),
                ("map 0x4000z 0x1000 rw", rb"ADDR: bad number '0x4000z'"),
            ]
            for line, pattern, *timeout in steps:
                ok, out = con.command(line, pattern, *timeout)
                check(f"'{line}'", ok, out[-300:])
            garbage = bytes(b for b in (rng.randrange(256) for _ in range(400))
                            if b not in SIGNAL_BYTES)[:200]
            con.send(garbage)
            # Ctrl-U and a marker line: whatever line the garbage left is ended, and the
            # marker's report is where its output stops.
            con.send(b"\x15\rmarker%d\r" % seed)
            con.expect(rb"unknown command 'marker%d'[^\n]*\n" % seed + re.escape(PROMPT), 20)
            ok, out = con.command("help", rb"\bwalk\b")
            check(f"200 random bytes (seed {seed}), then 'help'", ok, out[-300:])
            con.send(b"a" * 10240 + b"\r", timeout=60)
            m = con.expect(rb"line too long: \d+ bytes over the limit[^\n]*\n" + re.escape(PROMPT),
                           60)
            check("10 KiB line refused in one line", bool(m), "no 'line too long' report")
            ok, out = con.command("help", rb"\bwalk\b")
            check("after the 10 KiB line, 'help'", ok, out[-300:])
            con.buf = b""
            con.send(b"poweroff\r")
            rc = con.wait_exit(30)
            check("'poweroff' ends QEMU with status 0", rc == 0, f"exit status {rc}")
        except SystemExit:
            pass
        finally:
            con.kill()
    failed = results.count(False)
    print(f"console check: {time.monotonic() - start:.0f} s, log {args.log}")
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
