# SPDX-License-Identifier: BSD-2-Clause
"""Host-side check of Pagoda's screen console (make screen-check).

Boots the given QEMU command (an ISO whose kernel idles after its banner)
with a QMP socket, waits until the banner "Pagoda is up" is on the serial
port and the output has settled, and asks QEMU for the screen: a
`screendump` (PPM) of a framebuffer, or, in VGA text mode, a `pmemsave` of
the text memory. The expected screen is computed from the serial log
itself: the kernel's text (from its first byte, "\\r\\n" back to "\\n") run
through the same grid rules as kernel/console/text.c (wrap, tab, scroll),
then drawn with the font that tools/psf_font.py turned into the kernel's
C array, light grey (0xaaaaaa) on black. Every pixel of every cell must
match; the first cell that does not is named (row, column, character).

Invariants: the verdict is the last line, "1 passed, 0 failed" or
"0 passed, 1 failed" (CI sums these lines); with --expect-mismatch (the
console.break=glyph boot) it passes only when the screen was taken and a
mismatch found, never when QEMU died or the banner never came. QEMU runs
in its own process group and is killed whole on the way out.
"""

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psf_font  # noqa: E402

FG = (0xAA, 0xAA, 0xAA)
BG = (0, 0, 0)
COLS_MAX, ROWS_MAX, TAB = 256, 128, 8
BANNER_RE = re.compile(rb"Pagoda is up on \d+ CPUs")
FIRST_LOG_RE = re.compile(r"\[\s*\d+\.\d{6}\] cpu0: ")
VGA_TEXT_RE = re.compile(r"console: VGA text mode (\d+)x(\d+) at (0x[0-9a-f]+)")


def kernel_text(serial):
    """The kernel's own output from the serial log: from its first "\\r\\n" on, without the "\\r"s."""
    m = FIRST_LOG_RE.search(serial)
    if not m:
        raise ValueError("no kernel log line on the serial port")
    start = m.start()
    if serial[start - 2 : start] == "\r\n":
        start -= 2
    return serial[start:].replace("\r\n", "\n")


def simulate(text, cols, rows):
    """The grid kernel/console/text.c leaves after writing `text` (its escape
    sequences included): a list of row strings."""
    grid = [[" "] * cols for _ in range(rows)]
    row = col = 0

    def new_line():
        nonlocal row, col
        col = 0
        if row + 1 < rows:
            row += 1
        else:
            grid.pop(0)
            grid.append([" "] * cols)

    def put(ch):
        nonlocal col
        if col >= cols:
            new_line()
        grid[row][col] = ch
        col += 1

    esc, arg = None, 0  # the escape sequence in progress: None, "esc" or "csi"
    for ch in text:
        if esc and ch >= " ":
            if esc == "esc":
                esc = "csi" if ch == "[" else None
            elif ch.isdigit():
                arg = min(arg * 10 + int(ch), 99999)
            elif ch >= "@":
                esc, n = None, arg or 1
                if ch == "K" and col < cols:
                    grid[row][col:] = [" "] * (cols - col)
                elif ch == "D":
                    col = max(col - n, 0)
                elif ch == "C":
                    col = min(col + n, cols - 1)
            continue
        esc = None
        if ch == "\x1b":
            esc, arg = "esc", 0
        elif ch == "\n":
            new_line()
        elif ch == "\r":
            col = 0
        elif ch == "\t":
            put(" ")
            while col % TAB and col < cols:
                put(" ")
        else:
            put(ch if " " <= ch <= "~" else "?")
    return ["".join(r) for r in grid]


def read_ppm(path):
    """(width, height, bytes of RGB triples) of a binary PPM (P6, maxval 255)."""
    data = Path(path).read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end : end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError(f"{path}: not a P6 PPM with maxval 255")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1 : pos + 1 + 3 * w * h]
    if len(pixels) != 3 * w * h:
        raise ValueError(f"{path}: truncated: {len(pixels)} bytes of pixels, need {3 * w * h}")
    return w, h, pixels


def compare_pixels(lines, font, width, pixels):
    """None when every cell of `lines` is drawn exactly, else a message naming the first bad cell."""
    fg, bg = bytes(FG), bytes(BG)
    rendered = {}  # character -> its glyph's rows as RGB bytes
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            if ch not in rendered:
                rendered[ch] = [b"".join(fg if font.pixel(ord(ch), x, y) else bg
                                         for x in range(font.width)) for y in range(font.height)]
            for y, want_row in enumerate(rendered[ch]):
                at = 3 * ((r * font.height + y) * width + c * font.width)
                got_row = pixels[at : at + len(want_row)]
                if got_row == want_row:
                    continue
                x = next(i for i in range(font.width) if got_row[3 * i : 3 * i + 3] != want_row[3 * i : 3 * i + 3])
                return (f"cell row {r} column {c} (character {ch!r}, line {line.rstrip()!r}): "
                        f"pixel ({x}, {y}) of the glyph is #{got_row[3 * x : 3 * x + 3].hex()}, "
                        f"expected #{want_row[3 * x : 3 * x + 3].hex()}")
    return None


def compare_text(lines, memory, cols):
    """The same for VGA text memory: character and attribute 0x07 per cell."""
    for r, line in enumerate(lines):
        for c, ch in enumerate(line):
            at = 2 * (r * cols + c)
            got = memory[at : at + 2]
            want = bytes([ord(ch), 0x07])
            if got != want:
                return (f"cell row {r} column {c} (character {ch!r}, line {line.rstrip()!r}): "
                        f"text memory holds {got.hex()}, expected {want.hex()}")
    return None


class Qmp:
    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        self.sock.settimeout(timeout)
        self.buf = b""
        self._reply()  # the greeting
        self.cmd("qmp_capabilities")

    def _reply(self):
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                msg = json.loads(line)
                if "event" not in msg:
                    return msg
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("QMP closed")
            self.buf += chunk

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        msg = self._reply()
        if "error" in msg:
            raise RuntimeError(f"QMP {name}: {msg['error'].get('desc')}")
        return msg.get("return")


def capture_screen(qmp, serial, work, keep):
    """The screen now: ("text", cols, rows, memory) in VGA text mode (the serial log
    names it), else ("fb", width, height, pixels), whose PPM is also copied to `keep`."""
    text_mode = VGA_TEXT_RE.search(serial)
    if text_mode:
        cols, rows, addr = int(text_mode[1]), int(text_mode[2]), int(text_mode[3], 16)
        dump = os.path.join(work, "text.bin")
        qmp.cmd("pmemsave", val=addr, size=2 * cols * rows, filename=dump)
        return ("text", cols, rows, Path(dump).read_bytes())
    dump = os.path.join(work, "screen.ppm")
    qmp.cmd("screendump", filename=dump)
    # Kept beside the log, to look at when the check fails.
    Path(keep).write_bytes(Path(dump).read_bytes())
    return ("fb",) + read_ppm(dump)


def read_screen(capture, font):
    """The text on the screen as a list of row strings: each cell recognised by its
    exact glyph (light grey on black) or character byte; '?' for anything else."""
    if capture[0] == "text":
        _, cols, rows, memory = capture
        return ["".join(chr(c) if 0x20 <= c < 0x7F else "?" for c in memory[2 * r * cols : 2 * (r + 1) * cols : 2])
                for r in range(rows)]
    _, width, height, pixels = capture
    fg, bg = bytes(FG), bytes(BG)
    glyphs = {}
    for code in range(0x7E, 0x1F, -1):  # the lowest code point wins a shared glyph (space first)
        glyphs[b"".join(fg if font.pixel(code, x, y) else bg
                        for y in range(font.height) for x in range(font.width))] = chr(code)
    cols = min(width // font.width, COLS_MAX)
    rows = min(height // font.height, ROWS_MAX)
    step = 3 * font.width
    lines = []
    for r in range(rows):
        line = []
        for c in range(cols):
            cell = b"".join(pixels[at : at + step] for at in
                            (3 * ((r * font.height + y) * width + c * font.width) for y in range(font.height)))
            line.append(glyphs.get(cell, "?"))
        lines.append("".join(line))
    return lines


def stop_group(proc, grace):
    """Gives QEMU `grace` seconds to leave by itself, then kills its whole process group."""
    if proc.poll() is None:
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def parse_qemu_args(argv, prog, timeout, flag, flag_help):
    """(options, QEMU command, font) from `--log PATH --font PSF [--timeout S] [flag] -- QEMU...`."""
    split = argv.index("--") if "--" in argv else len(argv)
    ap = argparse.ArgumentParser(prog=prog, usage=f"%(prog)s --log PATH --font PSF [{flag}] -- QEMU...")
    ap.add_argument("--log", required=True, help="where to save the serial output")
    ap.add_argument("--font", required=True, help="the PSF font the kernel was built with")
    ap.add_argument("--timeout", type=float, default=timeout)
    ap.add_argument(flag, action="store_true", help=flag_help)
    args = ap.parse_args(argv[:split])
    cmd = argv[split + 1 :]
    if not cmd:
        ap.error("the QEMU command must follow --")
    return args, cmd, psf_font.load_psf(args.font)


def boot_and_capture(cmd, log_path, timeout, work):
    """Boots, waits for the banner, captures the screen. Returns (serial text, capture)."""
    sock_path = os.path.join(work, "qmp.sock")
    cmd = cmd + ["-qmp", f"unix:{sock_path},server=on,wait=off"]
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    out = bytearray()
    last = [time.monotonic()]

    def reader():
        for chunk in iter(lambda: proc.stdout.read1(65536), b""):
            out.extend(chunk)
            last[0] = time.monotonic()

    threading.Thread(target=reader, daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while not BANNER_RE.search(out):
            if proc.poll() is not None:
                raise RuntimeError(f"QEMU exited ({proc.returncode}) before the banner")
            if time.monotonic() > deadline:
                raise RuntimeError(f"no banner 'Pagoda is up' within {timeout:.0f} s")
            time.sleep(0.1)
        while time.monotonic() - last[0] < 0.5:  # the screen is drawn right after the serial
            time.sleep(0.1)
        qmp = Qmp(sock_path, 10)
        serial = bytes(out).decode("latin-1")
        capture = capture_screen(qmp, serial, work, Path(log_path).with_suffix(".ppm"))
        try:
            qmp.cmd("quit")
        except (ConnectionError, OSError):
            pass
        return serial, capture
    finally:
        stop_group(proc, 5)
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        Path(log_path).write_bytes(bytes(out))


def judge(serial, capture, font):
    """(mismatch message or None, a line describing what was compared)."""
    text = kernel_text(serial)
    if capture[0] == "text":
        _, cols, rows, memory = capture
        lines = simulate(text, cols, rows)
        what = f"VGA text {cols}x{rows}"
        bad = compare_text(lines, memory, cols)
    else:
        _, width, height, pixels = capture
        cols = min(width // font.width, COLS_MAX)
        rows = min(height // font.height, ROWS_MAX)
        lines = simulate(text, cols, rows)
        what = f"framebuffer {width}x{height}, {cols}x{rows} cells of {font.name}"
        bad = compare_pixels(lines, font, width, pixels)
    banner = [i for i, line in enumerate(lines) if "Pagoda" in line]
    if not banner:
        return "the banner is not on the expected screen", what
    return bad, f"{what}; banner lines {banner}"


def main(argv):
    args, cmd, font = parse_qemu_args(argv, "screen_check.py", 90, "--expect-mismatch",
                                      "pass only if the screen differs (a console.break=glyph boot)")
    with tempfile.TemporaryDirectory(prefix="pagoda-screen-") as work:
        try:
            serial, capture = boot_and_capture(cmd, args.log, args.timeout, work)
            bad, what = judge(serial, capture, font)
        except (RuntimeError, ValueError, OSError) as e:
            print(f"screen check: ERROR: {e} (log: {args.log})")
            print("0 passed, 1 failed")
            return 1
    print(f"screen check: {what}")
    if bad:
        print(f"screen check: MISMATCH at {bad}")
    else:
        print("screen check: every cell matches")
    ok = bool(bad) == args.expect_mismatch
    if args.expect_mismatch:
        print("screen check: a mismatch was expected (console.break=glyph): "
              + ("found" if bad else "NOT found"))
    print("1 passed, 0 failed" if ok else "0 passed, 1 failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
