# SPDX-License-Identifier: BSD-2-Clause
"""Writes make peer-bench's initramfs: a gzipped "newc" cpio archive with
busybox, peerbench and the /init script (tools/peer/init.sh).

Usage: mkinitramfs.py --busybox BIN --peerbench BIN --init SCRIPT --out FILE.cpio.gz

Written here rather than with `cpio -o -H newc` from a staging directory so
that it needs neither root nor the cpio package: the archive carries the
/dev/console device node (the kernel opens it for /init's output before
anything is mounted), which only root could create in a staging directory.
Invariants: the archive's bytes depend only on the three inputs (owner 0,
mtime 0, fixed inode numbers, gzip without a timestamp), so the same inputs
give the same file.
"""

import argparse
import gzip
import stat
import sys
from pathlib import Path

NEWC_MAGIC = b"070701"
TRAILER = "TRAILER!!!"


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


def newc_entry(ino, name, mode, data=b"", rdev=(0, 0)):
    """One newc header, its name and data, each padded to 4 bytes."""
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name) + 1, 0]
    header = NEWC_MAGIC + b"".join(b"%08x" % f for f in fields)
    return pad4(header + name.encode() + b"\0") + pad4(data)


def build(files):
    """The uncompressed archive: directories, /dev/console, then `files` ({path: (mode, bytes)})."""
    out = []
    entries = [(d, stat.S_IFDIR | 0o755, b"", (0, 0))
               for d in ("bin", "dev", "proc", "sys", "tmp")]
    entries.append(("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)))
    entries += [(p, stat.S_IFREG | mode, data, (0, 0)) for p, (mode, data) in sorted(files.items())]
    for ino, (name, mode, data, rdev) in enumerate(entries, start=1):
        out.append(newc_entry(ino, name, mode, data, rdev))
    out.append(newc_entry(0, TRAILER, 0))
    return b"".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--busybox", type=Path, required=True)
    ap.add_argument("--peerbench", type=Path, required=True)
    ap.add_argument("--init", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)
    files = {"bin/busybox": (0o755, args.busybox.read_bytes()),
             "peerbench": (0o755, args.peerbench.read_bytes()),
             "init": (0o755, args.init.read_bytes())}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(gzip.compress(build(files), mtime=0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
