# SPDX-License-Identifier: BSD-2-Clause
"""Tests of tools/pe_check.py, the check that the aarch64 Image is also a PE32+ EFI application.

No cross toolchain needed: a synthetic Image laid out as arch/aarch64/efi/pe_header.S
lays out the real one must pass, and each rule broken on a copy (the "MZ", e_lfanew,
machine, subsystem, a section's RVA or raw bytes, the entry point, a relocation
directory) must be named. When build/aarch64/Image exists it must pass too.
"""

import os
import struct
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pe_check  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OPT = 64 + 4 + 20  # optional header offset
SECTIONS = OPT + 112 + 6 * 8


def make_image(text=0x3000, data=0x1000, bss=0x2000):
    """An Image: 4 KiB of headers, .text, .data (+ .bss in its virtual size)."""
    img = bytearray(0x1000 + text + data)
    struct.pack_into("<I", img, 0, 0xFA405A4D)
    img[56:60] = b"ARM\x64"
    struct.pack_into("<I", img, 60, 64)
    img[64:68] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", img, 68, 0xAA64, 2, 0, 0, 0, 112 + 6 * 8, 0x020E)
    struct.pack_into("<HBBIIIII", img, OPT, 0x20B, 0, 0, text, data + bss, 0, 0x1100, 0x1000)
    struct.pack_into("<QII", img, OPT + 24, 0, 0x1000, 0x200)
    struct.pack_into("<II", img, OPT + 56, 0x1000 + text + data + bss, 0x1000)
    struct.pack_into("<H", img, OPT + 68, 10)
    struct.pack_into("<I", img, OPT + 108, 6)
    struct.pack_into("<8sIIIIIIHHI", img, SECTIONS, b".text", text, 0x1000, text, 0x1000, 0, 0, 0, 0,
                     0x60000020)
    struct.pack_into("<8sIIIIIIHHI", img, SECTIONS + 40, b".data", data + bss, 0x1000 + text, data,
                     0x1000 + text, 0, 0, 0, 0, 0xC0000040)
    return img


class PeCheck(unittest.TestCase):
    def assert_fails(self, img, words):
        errs, _ = pe_check.check(bytes(img))
        self.assertTrue(any(words in e for e in errs), "expected %r in %r" % (words, errs))

    def test_synthetic_image_passes(self):
        errs, summary = pe_check.check(bytes(make_image()))
        self.assertEqual(errs, [])
        self.assertIn("2 sections", summary)

    def test_built_image_passes(self):
        path = os.path.join(ROOT, "build", "aarch64", "Image")
        if not os.path.exists(path):
            self.skipTest("no build/aarch64/Image")
        with open(path, "rb") as f:
            errs, _ = pe_check.check(f.read())
        self.assertEqual(errs, [])

    def test_each_rule_is_checked(self):
        def broken(off, fmt, value):
            img = make_image()
            struct.pack_into(fmt, img, off, value)
            return img

        self.assert_fails(broken(0, "<H", 0x1234), "not 'MZ'")
        self.assert_fails(broken(56, "<I", 0), "arm64 Image magic")
        self.assert_fails(broken(60, "<I", 0x80), "e_lfanew")
        self.assert_fails(broken(68, "<H", 0x8664), "not arm64")
        self.assert_fails(broken(OPT, "<H", 0x10B), "not PE32+")
        self.assert_fails(broken(OPT + 68, "<H", 3), "not an EFI application")
        self.assert_fails(broken(OPT + 16, "<I", 0x4100), "no executable section")
        self.assert_fails(broken(OPT + 112 + 5 * 8, "<Q", 0x5000_0000_0010), "base relocation")
        self.assert_fails(broken(SECTIONS + 40 + 12, "<I", 0x4200), "not aligned")
        self.assert_fails(broken(SECTIONS + 40 + 20, "<I", 0x3000), "!= file offset")
        self.assert_fails(broken(SECTIONS + 40 + 16, "<I", 0x2000), "past the file")
        self.assert_fails(broken(OPT + 56, "<I", 0x4000), "past SizeOfImage")
        self.assert_fails(make_image()[:40], "shorter than")


if __name__ == "__main__":
    unittest.main()
