# SPDX-License-Identifier: BSD-2-Clause
"""`make gdb-check`: the gdb helpers (tools/gdb/pagoda.py) against a real boot.

Starts the QEMU command given after "--" with `-gdb tcp:127.0.0.1:PORT -S`
(a free port), runs gdb-multiarch in batch mode with the helpers loaded,
stops the kernel after its TLB layer is set up (a hardware breakpoint on
mn_setup, which kernel_main calls right after tlb_setup, long after
mm_init), runs each helper and checks what it printed:

  pagoda-walk &tlb_mode, kernel_main: every level down to a frame, the
      8 bytes read at the address equal those read through the direct map
      at the physical address found, and (for &tlb_mode) that address is
      the one QEMU's own `monitor gva2gpa` gives;
  pagoda-walk <user_base>: not mapped (the kernel's tables map no user
      address);
  pagoda-cpus: one `online` line per CPU the boot was given (--cpus);
  pagoda-tlb: the mode the boot's command line chose (--mode) and one
      counter line per CPU.

Usage: gdb_check.py --elf ELF --cpus N --mode MODE --log LOG -- QEMU...
Invariants: one QEMU, killed on every path; exit status 0 only when every
check passed. Run it under the machine's QEMU lock (the Makefile's rule
does not take it: the caller's `flock` does).
"""

import argparse
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

HELPERS = Path(__file__).resolve().parent / "gdb" / "pagoda.py"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, qemu, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if qemu.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            time.sleep(0.1)
    return False


def gdb_commands(port):
    return ["set pagination off", "set confirm off", f"source {HELPERS}",
            f"target remote 127.0.0.1:{port}", "hbreak mn_setup", "continue",
            "echo ==walk-data\\n", "pagoda-walk &tlb_mode",
            'eval "monitor gva2gpa %p", &tlb_mode',
            "echo ==walk-text\\n", "pagoda-walk kernel_main",
            "echo ==walk-user\\n", "pagoda-walk arch_mm_layout.user_base",
            "echo ==cpus\\n", "pagoda-cpus",
            "echo ==tlb\\n", "pagoda-tlb", "echo ==end\\n", "kill"]


def sections(out):
    """{name: text} of the output between the ==name markers."""
    parts, name = {}, None
    for line in out.splitlines():
        m = re.match(r"==(\S+)$", line)
        if m:
            name = m[1]
            parts[name] = []
        elif name:
            parts[name].append(line)
    return {k: "\n".join(v) for k, v in parts.items()}


def check(out, cpus, mode):
    """[(description, ok)] for the gdb output."""
    s = sections(out)
    res = []
    for name in ("walk-data", "walk-text"):
        text = s.get(name, "")
        levels = re.findall(r"^  level \d", text, re.M)
        res.append((f"{name}: a level line per level down to a frame",
                    len(levels) >= 2 and " -> phys " in text))
        res.append((f"{name}: same bytes at the address and through the direct map",
                    ": same" in text))
    data = s.get("walk-data", "")
    walked = re.search(r"-> phys (0x[0-9a-f]+)", data)
    qemu = re.search(r"gpa: (0x[0-9a-f]+)", data)
    res.append(("walk-data: the physical address is QEMU's gva2gpa",
                bool(walked and qemu and int(walked[1], 16) == int(qemu[1], 16))))
    res.append(("walk-user: a user address is not mapped in the kernel's tables",
                "not mapped" in s.get("walk-user", "")))
    online = re.findall(r"^cpu\d+: online", s.get("cpus", ""), re.M)
    res.append((f"cpus: {cpus} CPUs online", len(online) == cpus))
    tlb = s.get("tlb", "")
    res.append((f"tlb: mode {mode}", re.search(rf"^tlb: mode TLB_MODE_{mode.upper()}\b", tlb,
                                                re.M) is not None))
    res.append((f"tlb: a counter line for each of {cpus} CPUs",
                len(re.findall(r"^cpu\d+: ipis sent \d+ recv \d+", tlb, re.M)) == cpus))
    return res


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: gdb_check.py --elf ELF --cpus N --mode MODE --log LOG -- QEMU...",
              file=sys.stderr)
        return 2
    split = argv.index("--")
    ap = argparse.ArgumentParser()
    ap.add_argument("--elf", required=True)
    ap.add_argument("--cpus", type=int, required=True)
    ap.add_argument("--mode", required=True, help="the tlb= mode the boot runs (gen, mmgen)")
    ap.add_argument("--log", required=True, type=Path)
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args(argv[:split])
    port = free_port()
    qemu_cmd = argv[split + 1:] + ["-gdb", f"tcp:127.0.0.1:{port}", "-S"]
    args.log.parent.mkdir(parents=True, exist_ok=True)
    with open(args.log.with_suffix(".serial"), "wb") as serial:
        qemu = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL, stdout=serial,
                                stderr=subprocess.STDOUT)
        try:
            if not wait_port(port, qemu):
                print(f"gdb-check: QEMU's gdb stub did not come up on port {port}")
                return 1
            gdb = ["gdb-multiarch", "-nx", "-batch", args.elf]
            for c in gdb_commands(port):
                gdb += ["-ex", c]
            # One stream, so that each command's output stays in its section.
            out = subprocess.run(gdb, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True, timeout=args.timeout).stdout
        except subprocess.TimeoutExpired:
            print(f"gdb-check: gdb did not finish in {args.timeout:.0f} s")
            return 1
        finally:
            qemu.kill()
            qemu.wait()
    args.log.write_text(out)
    results = check(out, args.cpus, args.mode)
    for what, ok in results:
        print(f"  {'ok ' if ok else 'FAIL'} {what}")
    failed = sum(not ok for _, ok in results)
    print(f"gdb-check: log in {args.log}\n{len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
