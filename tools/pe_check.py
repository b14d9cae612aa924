#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that the aarch64 Image is both an arm64 Image and a PE32+ EFI application.

What a firmware's PE loader and GRUB's `linux` command rely on, and what
arch/aarch64/efi/pe_header.S promises: "MZ" at offset 0 and the arm64
magic at 56; e_lfanew (offset 60) pointing at "PE\\0\\0"; an arm64 PE32+
optional header for an EFI application; headers that fit in SizeOfHeaders;
sections aligned as the header says, each one's raw bytes inside the file,
its RVA equal to its file offset (the stub runs the loaded copy as a raw
Image), none overlapping, all inside SizeOfImage; the entry point inside an
executable section; no base relocations. Prints one line per problem and
exits 1, or prints a one-line summary. Usage: pe_check.py IMAGE
(tools/test_pe_check.py breaks each rule on a copy and expects a failure).
"""
import struct
import sys

MACHINE_ARM64 = 0xAA64
PE32PLUS = 0x20B
SUBSYSTEM_EFI_APPLICATION = 10
SCN_MEM_EXECUTE = 0x20000000


def check(data):
    """Returns a list of problems (empty when the image is good) and a summary."""
    errs = []

    def u16(off):
        return struct.unpack_from("<H", data, off)[0]

    def u32(off):
        return struct.unpack_from("<I", data, off)[0]

    if len(data) < 64:
        return ["file is %d bytes: shorter than the 64-byte Image header" % len(data)], ""
    if data[0:2] != b"MZ":
        errs.append("offset 0: %r, not 'MZ'" % data[0:2])
    if data[56:60] != b"ARM\x64":
        errs.append("offset 56: %r, not the arm64 Image magic" % data[56:60])
    pe = u32(60)
    if pe + 24 > len(data) or data[pe:pe + 4] != b"PE\0\0":
        errs.append("e_lfanew 0x%x does not point at 'PE\\0\\0'" % pe)
        return errs, ""
    coff = pe + 4
    machine, nsec = u16(coff), u16(coff + 2)
    opt_size = u16(coff + 16)
    if machine != MACHINE_ARM64:
        errs.append("COFF machine 0x%x, not arm64 (0x%x)" % (machine, MACHINE_ARM64))
    opt = coff + 20
    if u16(opt) != PE32PLUS:
        errs.append("optional header magic 0x%x, not PE32+ (0x%x)" % (u16(opt), PE32PLUS))
    entry = u32(opt + 16)
    image_base = struct.unpack_from("<Q", data, opt + 24)[0]
    sec_align, file_align = u32(opt + 32), u32(opt + 36)
    size_of_image, size_of_headers = u32(opt + 56), u32(opt + 60)
    subsystem = u16(opt + 68)
    ndirs = u32(opt + 108)
    if subsystem != SUBSYSTEM_EFI_APPLICATION:
        errs.append("subsystem %d, not an EFI application (%d)" % (subsystem, SUBSYSTEM_EFI_APPLICATION))
    if opt_size != 112 + 8 * ndirs:
        errs.append("SizeOfOptionalHeader %d, but %d data directories need %d"
                    % (opt_size, ndirs, 112 + 8 * ndirs))
    if ndirs > 5 and struct.unpack_from("<Q", data, opt + 112 + 5 * 8)[0] != 0:
        errs.append("a base relocation directory: the image must need none")
    if image_base % 0x10000:
        errs.append("ImageBase 0x%x is not 64 KiB aligned" % image_base)
    if not sec_align or sec_align & (sec_align - 1) or not file_align or file_align & (file_align - 1):
        errs.append("alignments 0x%x/0x%x are not powers of two" % (sec_align, file_align))
        return errs, ""
    sections_at = opt + opt_size
    if sections_at + 40 * nsec > size_of_headers:
        errs.append("section table ends at 0x%x, past SizeOfHeaders 0x%x"
                    % (sections_at + 40 * nsec, size_of_headers))
    if nsec == 0:
        errs.append("no sections")
    entry_ok = False
    last_end = size_of_headers
    for i in range(nsec):
        s = sections_at + 40 * i
        name = data[s:s + 8].rstrip(b"\0").decode("ascii", "replace")
        vsize, rva, raw, ptr = u32(s + 8), u32(s + 12), u32(s + 16), u32(s + 20)
        flags = u32(s + 36)
        where = "section %s" % name
        if rva % sec_align:
            errs.append("%s: RVA 0x%x not aligned to 0x%x" % (where, rva, sec_align))
        if raw % file_align or ptr % file_align:
            errs.append("%s: raw size 0x%x or offset 0x%x not aligned to 0x%x"
                        % (where, raw, ptr, file_align))
        if ptr + raw > len(data):
            errs.append("%s: raw bytes end at 0x%x, past the file's 0x%x" % (where, ptr + raw, len(data)))
        if rva != ptr:
            errs.append("%s: RVA 0x%x != file offset 0x%x" % (where, rva, ptr))
        if rva < last_end:
            errs.append("%s: RVA 0x%x overlaps what precedes it (ends 0x%x)" % (where, rva, last_end))
        if rva + max(vsize, raw) > size_of_image:
            errs.append("%s: ends at 0x%x, past SizeOfImage 0x%x" % (where, rva + max(vsize, raw), size_of_image))
        last_end = rva + max(vsize, raw)
        if flags & SCN_MEM_EXECUTE and rva <= entry < rva + vsize:
            entry_ok = True
    if not entry_ok:
        errs.append("entry point RVA 0x%x is in no executable section" % entry)
    summary = "pe_check: PE32+ arm64 EFI application, %d sections, entry 0x%x, SizeOfImage 0x%x" % (
        nsec, entry, size_of_image)
    return errs, summary


def main(argv):
    if len(argv) != 2:
        print("usage: pe_check.py IMAGE", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    errs, summary = check(data)
    for e in errs:
        print("pe_check: %s: %s" % (argv[1], e))
    if errs:
        return 1
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
