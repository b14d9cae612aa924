#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Turns firmware dumps into seed inputs for the fuzz targets (tests/fuzz/).

  fuzz_seeds.py fwdump LOG VARIANT OUT_DIR
      LOG is the serial log of an x86-64 boot with `fwdump` on the command
      line (arch/x86_64/fwdump.c). Writes, under OUT_DIR (tests/fuzz/corpus):
      multiboot2/VARIANT.bin (the information block as GRUB left it),
      pvh/VARIANT.bin (the start info, its memory map, command line and the
      RSDP relocated into the target's 64 KiB window, plus one map entry
      covering the window so the pointers lie "inside RAM"),
      acpi_table/VARIANT-SIG.bin (each table), acpi/VARIANT.bin (the tables
      in the target's built layout, checksums and DSDT link fixed by the
      harness) and acpi/VARIANT-raw.bin (the same laid out by this script:
      the raw-memory mode).
  fuzz_seeds.py packdtb DTB
      Cuts QEMU's DTB (1 MiB, mostly zeros) after its strings block and sets
      totalsize to match (what `fdtput`/libfdt's fdt_pack would do).
  fuzz_seeds.py dtprops DTB OUT_DIR
      The properties dt_props decodes, taken from a QEMU DTB with fdtget:
      the SMMU's reg, the PCI host's iommu-map, reg/bus-range/ranges and
      interrupt-map/-mask.
Identical contents are written once (named by the first variant).
"""
import hashlib
import os
import re
import struct
import subprocess
import sys

PHYS_LIMIT = 1 << 32
PVH_MEM = 64 << 10
ACPI_MEM = 64 << 10
HDR = 36


def write_seed(out_dir, target, name, data):
    d = os.path.join(out_dir, target)
    os.makedirs(d, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()
    for f in os.listdir(d):
        with open(os.path.join(d, f), 'rb') as fh:
            if hashlib.sha1(fh.read()).hexdigest() == digest:
                return
    with open(os.path.join(d, name), 'wb') as fh:
        fh.write(data)


def parse_fwdump(log):
    blocks, cur, buf = [], None, []
    for line in open(log, errors='replace'):
        m = re.search(r'fwdump: (.*)$', line.rstrip('\r\n'))
        if not m:
            continue
        text = m.group(1).strip()
        if text.startswith('begin '):
            cur, buf = text.split()[1], []
        elif text.startswith('end '):
            blocks.append((cur, bytes.fromhex(''.join(buf))))
            cur = None
        elif cur:
            buf.append(text)
    return blocks


def checksum_fix(b, at_sum, length):
    b[at_sum] = 0
    b[at_sum] = (0x100 - sum(b[:length]) % 256) % 256


def pvh_image(si, memmap, cmdline, rsdp):
    base = PHYS_LIMIT - PVH_MEM
    img = bytearray(0x1000)
    mm_at, cmd_at, rsdp_at = 0x40, 0x400, 0x800
    n = len(memmap) // 24
    memmap = memmap + struct.pack('<QQII', base, PVH_MEM, 2, 0)  # the window itself
    magic, version, flags, nr_mod = struct.unpack_from('<IIII', si, 0)
    struct.pack_into('<IIIIQQQQII', img, 0, magic, version, flags, 0, 0,
                     base + cmd_at if cmdline else 0, base + rsdp_at, base + mm_at, n + 1, 0)
    img[mm_at:mm_at + len(memmap)] = memmap
    img[cmd_at:cmd_at + len(cmdline)] = cmdline
    img[rsdp_at:rsdp_at + len(rsdp)] = rsdp
    return bytes(img)


def acpi_raw(tables):
    """The layout tests/fuzz/fuzz_acpi.c builds (RSDP at 0, XSDT at 64, tables from 512)."""
    base = PHYS_LIMIT - ACPI_MEM
    img = bytearray(0x200)
    at = []
    for t in tables:
        at.append(len(img))
        img += t
        img += bytes(-len(img) % 16)
    root = bytearray(b'XSDT' + struct.pack('<I', HDR + 8 * len(at)) + bytes([1]) + bytes(27))
    for a in at:
        root += struct.pack('<Q', base + a)
    for i, t in enumerate(tables):
        if t[:4] == b'FACP':
            for j, u in enumerate(tables):
                if u[:4] == b'DSDT':
                    struct.pack_into('<I', img, at[i] + 40, base + at[j])
                    if len(t) >= 148:
                        struct.pack_into('<Q', img, at[i] + 140, base + at[j])
                    ln = struct.unpack_from('<I', img, at[i] + 4)[0]
                    seg = img[at[i]:at[i] + ln]
                    checksum_fix(seg, 9, ln)
                    img[at[i]:at[i] + ln] = seg
    checksum_fix(root, 9, len(root))
    img[64:64 + len(root)] = root
    rsdp = bytearray(b'RSD PTR ' + bytes(1) + b'FUZZ  ' + bytes([2]) +
                     struct.pack('<IIQ', base + 64, 36, base + 64) + bytes(4))
    checksum_fix(rsdp, 8, 20)
    checksum_fix(rsdp, 32, 36)
    img[0:36] = rsdp
    return bytes(img)


def fwdump(log, variant, out):
    blocks = dict()
    tables = []
    for name, data in parse_fwdump(log):
        blocks[name] = data
        if name.startswith('table-'):
            tables.append(data)
            write_seed(out, 'acpi_table', '%s-%s.bin' % (variant, name[6:]), data)
    if 'mb2' in blocks:
        write_seed(out, 'multiboot2', variant + '.bin', blocks['mb2'])
    if 'pvh' in blocks:
        write_seed(out, 'pvh', variant + '.bin',
                   pvh_image(blocks['pvh'], blocks.get('pvh-memmap', b''),
                             blocks.get('pvh-cmdline', b''), blocks['rsdp']))
    if tables:
        write_seed(out, 'acpi', variant + '.bin', bytes([0x0c, 0]) + b''.join(tables))
        write_seed(out, 'acpi', variant + '-raw.bin', bytes([0x01, 0]) + acpi_raw(tables))
    print('%s: %d blocks, %d tables' % (log, len(blocks), len(tables)))


def fdtget(dtb, node, prop):
    r = subprocess.run(['fdtget', '-t', 'bx', dtb, node, prop], capture_output=True, text=True)
    if r.returncode != 0:
        return None
    return bytes(int(x, 16) for x in r.stdout.split())


def find_node(dtb, compat):
    r = subprocess.run(['fdtget', '-l', dtb, '/'], capture_output=True, text=True)
    for child in r.stdout.split():
        c = fdtget(dtb, '/' + child, 'compatible') or b''
        if compat.encode() in c.split(b'\0'):
            return '/' + child
    return None


def props(*ps):
    out = b''
    for p in ps:
        out += b'\xff\xff' if p is None else struct.pack('<H', len(p)) + p
    return out


def dtprops(dtb, out):
    name = os.path.splitext(os.path.basename(dtb))[0]
    pci = find_node(dtb, 'pci-host-ecam-generic')
    smmu = find_node(dtb, 'arm,smmu-v3')
    if smmu:
        write_seed(out, 'dt_props', name + '-smmu-reg.bin',
                   bytes([0, 2, 2]) + props(fdtget(dtb, smmu, 'reg')))
        ph = fdtget(dtb, smmu, 'phandle')
        write_seed(out, 'dt_props', name + '-iommu-map.bin',
                   bytes([1, ph[3] if ph else 0, 0]) + props(fdtget(dtb, pci, 'iommu-map')))
    if pci:
        write_seed(out, 'dt_props', name + '-pci-host.bin',
                   bytes([2, 2 | 2 << 2, 3 | 2 << 2]) +
                   props(fdtget(dtb, pci, 'reg'), fdtget(dtb, pci, 'bus-range'),
                         fdtget(dtb, pci, 'ranges')))
        # dt_props reads a parent's cells from its phandle's bits: QEMU's entries
        # (4 child cells, the GIC's phandle, 2 address and 3 interrupt cells) get
        # the phandle 2 | 3 << 2 that says so.
        imap = bytearray(fdtget(dtb, pci, 'interrupt-map') or b'')
        if len(imap) % 40 == 0:
            for e in range(0, len(imap), 40):
                struct.pack_into('>I', imap, e + 16, 2 | 3 << 2)
        write_seed(out, 'dt_props', name + '-interrupt-map.bin',
                   bytes([3, 3 | 1 << 2, 0]) +
                   props(bytes(imap), fdtget(dtb, pci, 'interrupt-map-mask')))


def strings_end(b):
    off_strings, size_strings = struct.unpack_from('>I', b, 12)[0], struct.unpack_from('>I', b, 32)[0]
    return off_strings + size_strings


def packdtb(dtb):
    b = bytearray(open(dtb, 'rb').read())
    end = strings_end(b)
    struct.pack_into('>I', b, 4, end)
    open(dtb, 'wb').write(b[:end])


def main():
    if len(sys.argv) == 3 and sys.argv[1] == 'packdtb':
        packdtb(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == 'fwdump':
        fwdump(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == 'dtprops':
        dtprops(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)


if __name__ == '__main__':
    main()
