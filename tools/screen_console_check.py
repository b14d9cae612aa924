# SPDX-License-Identifier: BSD-2-Clause
"""The `pagoda>` console on the screen, typed at with a keyboard (make screen-console-check).

Boots the given QEMU command (the run ISO: the console, not tests) with a
QMP socket and the serial line's input empty (stdin is /dev/null), so
every key reaches the kernel through the PS/2 keyboard (QMP send-key, as
QEMU's monitor `sendkey` does) and every answer is read back from the
screen (screendump, or VGA text memory), recognised cell by cell with the
kernel's font (screen_check.read_screen). Checks, in order: the prompt is
on the screen after the banner; `help` lists walk; `Xyz_1!` (Shift on a
letter, a digit row key and `-`) is refused by name, exactly as typed;
`mm new`, `map 0x400000 0x1000 rw`, `touch 0x400000 0x1000`, `walk
0x400000` (a leaf); Up then Enter runs the walk again (the 0xE0 arrow
keys); `poweroff` ends QEMU with status 0.

Invariants: the verdict is the last line, "N passed, N failed"; with
--expect-fail (a kbd.break=shift boot) it passes only when the prompt was
on the screen and some later check failed, never when the boot itself
failed. QEMU runs in its own process group and is killed whole on the way
out; its serial output is saved to --log.
"""

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psf_font  # noqa: E402
import screen_check  # noqa: E402

SHIFTED = {"!": "1", "@": "2", "_": "minus", "+": "equal", ":": "semicolon"}
NAMED = {" ": "spc", "-": "minus", "=": "equal", ".": "dot", "/": "slash", ";": "semicolon",
         "\r": "ret", "\x7f": "backspace", "UP": "up"}


def qcodes(ch):
    """The QEMU key codes to press together for one character (or a named key)."""
    if ch in SHIFTED:
        return ["shift", SHIFTED[ch]]
    if ch in NAMED:
        return [NAMED[ch]]
    if ch.isupper():
        return ["shift", ch.lower()]
    if ch.isalnum():
        return [ch]
    raise ValueError(f"no key for {ch!r}")


class Screen:
    """QEMU under QMP: type keys, read the screen as text."""

    def __init__(self, cmd, log_path, work, font):
        self.sock_path = os.path.join(work, "qmp.sock")
        self.work, self.font, self.log_path = work, font, log_path
        self.proc = subprocess.Popen(cmd + ["-qmp", f"unix:{self.sock_path},server=on,wait=off"],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.out = bytearray()
        threading.Thread(target=self._reader, daemon=True).start()
        self.qmp = None

    def _reader(self):
        for chunk in iter(lambda: self.proc.stdout.read1(65536), b""):
            self.out.extend(chunk)

    def wait_banner(self, timeout):
        deadline = time.monotonic() + timeout
        while not screen_check.BANNER_RE.search(self.out):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        self.qmp = screen_check.Qmp(self.sock_path, 10)
        return True

    def lines(self):
        serial = bytes(self.out).decode("latin-1")
        capture = screen_check.capture_screen(self.qmp, serial, self.work,
                                              Path(self.log_path).with_suffix(".ppm"))
        return screen_check.read_screen(capture, self.font)

    def type(self, keys):
        for k in keys:
            self.qmp.cmd("send-key", keys=[{"type": "qcode", "data": q} for q in qcodes(k)],
                         **{"hold-time": 40})

    def wait_for(self, pattern, timeout=10):
        """The screen's text (rows joined by newlines) once `pattern` matches it, else None."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            text = "\n".join(line.rstrip() for line in self.lines())
            if rx.search(text):
                return text
            if time.monotonic() > deadline:
                return None
            time.sleep(0.3)

    def close(self):
        screen_check.stop_group(self.proc, 0)
        Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(self.log_path).write_bytes(bytes(self.out))


# (what is typed, what the screen must then show, what the check says)
STEPS = [
    ("help\r", r"^pagoda> help$[\s\S]*^  walk ADDR", "help typed on the keyboard lists walk"),
    ("Xyz_1!\r", r"^unknown command 'Xyz_1!'", "Shift: Xyz_1! is refused by name, as typed"),
    ("mm new\r", r"^mm 0: new address space", "mm new makes an address space"),
    ("map 0x400000 0x1000 rw\r", r"^mm 0: mapped \[0x400000, 0x401000\) rw",
     "map 0x400000 0x1000 rw maps it"),
    ("touch 0x400000 0x1000\r", r"^touched 1 page", "touch writes the page"),
    ("walk 0x400000\r", r"^pagoda> walk 0x400000$[\s\S]*^ +L0\[ *0\] [0-9a-f]{16} leaf ->",
     "walk 0x400000 prints the levels down to a leaf"),
    (["UP", "\r"], r"walk of 0x400000[\s\S]*^pagoda> walk 0x400000$[\s\S]*walk of 0x400000",
     "Up then Enter runs the walk again (arrow keys, history)"),
]


def run(screen, args):
    """Runs the checks; returns (passed, failed, whether the prompt was reached)."""
    passed = failed = 0

    def report(ok, what, detail=""):
        nonlocal passed, failed
        passed, failed = passed + ok, failed + (not ok)
        print(f"screen console: {'ok' if ok else 'FAIL'}: {what}{detail}", flush=True)

    if not screen.wait_banner(args.timeout):
        report(False, "the banner on the serial line", f" (none within {args.timeout:.0f} s)")
        return passed, failed, False
    if not screen.wait_for(r"^pagoda>$", 15):
        report(False, "the prompt on the screen")
        return passed, failed, False
    report(True, "the prompt on the screen")
    for keys, pattern, what in STEPS:
        screen.type(keys)
        ok = screen.wait_for(pattern) is not None
        report(ok, what, "" if ok else "; the screen shows:\n  " +
               "\n  ".join(line.rstrip() for line in screen.lines() if line.strip()))
    screen.type("poweroff\r")
    try:
        rc = screen.proc.wait(15)
    except subprocess.TimeoutExpired:
        rc = None
    report(rc == 0, "poweroff typed on the keyboard ends QEMU", f" (status {rc})")
    return passed, failed, True


def main(argv):
    args, cmd, font = screen_check.parse_qemu_args(
        argv, "screen_console_check.py", 60, "--expect-fail",
        "pass only if a check after the prompt fails (a kbd.break= boot)")
    with tempfile.TemporaryDirectory(prefix="pagoda-screen-console-") as work:
        screen = Screen(cmd, args.log, work, font)
        try:
            passed, failed, reached = run(screen, args)
        except (RuntimeError, ValueError, OSError) as e:
            print(f"screen console: ERROR: {e} (log: {args.log})")
            passed, failed, reached = 0, 1, False
        finally:
            screen.close()
    if args.expect_fail:
        ok = reached and failed > 0
        print("screen console: a failure was expected (kbd.break=): "
              + ("found" if ok else "NOT found" if reached else "the boot did not reach the prompt"))
        print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
        return 0 if ok else 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
