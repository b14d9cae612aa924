# SPDX-License-Identifier: BSD-2-Clause
"""Tests of the screen check's pure parts (tools/screen_check.py, tools/psf_font.py).

No QEMU: a synthetic PSF1 font with a Unicode table (glyph order unlike
ASCII, as console-setup's are), the grid rules the kernel's
kernel/console/text.c follows (mirrored by tests/x86_64/console_test.c),
and a rendered screen with one pixel changed, which must be named by cell.
"""

import gzip
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import psf_font  # noqa: E402
import screen_check  # noqa: E402


def make_font(path):
    """A PSF1 8x4 font, glyph i = code point 0x7e - i (reversed), each glyph's rows from its code."""
    glyphs, table = b"", b""
    for i in range(256):
        ch = 0x7E - i if i <= 0x7E - 0x20 else 0
        glyphs += bytes([ch, ch ^ 0xFF, 0x81, 0])
        table += (struct.pack("<H", ch) if ch else b"") + b"\xff\xff"
    with gzip.open(path, "wb") as f:
        f.write(b"\x36\x04\x02\x04" + glyphs + table)


class ScreenCheckTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.tmp.name, "t.psf.gz")
        make_font(self.path)
        self.font = psf_font.load_psf(self.path)

    def tearDown(self):
        self.tmp.cleanup()

    def test_unicode_table_maps_ascii(self):
        self.assertEqual((self.font.width, self.font.height), (8, 4))
        self.assertEqual(self.font.glyphs[ord("A")][0], ord("A"))
        self.assertTrue(self.font.pixel(ord("A"), 7, 0))  # 0x41: rightmost bit set

    def test_grid_rules(self):
        # The same sequence as console.grid_wraps_tabs_and_scrolls in the kernel.
        self.assertEqual(screen_check.simulate("abcdefgh\nx\ty", 4, 3), ["efgh", "x   ", "y   "])
        self.assertEqual(screen_check.simulate("ab\rc\x01", 4, 2), ["c?  ", "    "])

    def test_kernel_text_starts_at_its_first_newline(self):
        serial = "GRUB junk\x1b[0m\r\n[    0.000000] cpu0: hi\r\nnext\r\n"
        self.assertEqual(screen_check.kernel_text(serial), "\n[    0.000000] cpu0: hi\nnext\n")

    def render(self, lines, width):
        fg, bg = bytes(screen_check.FG), bytes(screen_check.BG)
        rows = []
        for line in lines:
            for y in range(self.font.height):
                row = b"".join(fg if self.font.pixel(ord(ch), x, y) else bg
                               for ch in line for x in range(self.font.width))
                rows.append(row + bg * (width - len(row) // 3))
        return bytearray(b"".join(rows))

    def test_one_wrong_pixel_is_named(self):
        lines = ["Pagoda", "up    "]
        pixels = self.render(lines, 50)
        self.assertIsNone(screen_check.compare_pixels(lines, self.font, 50, bytes(pixels)))
        at = 3 * ((4 + 2) * 50 + 1 * 8 + 3)  # row 1, column 1 ('p'), pixel (3, 2)
        pixels[at] ^= 0xFF
        bad = screen_check.compare_pixels(lines, self.font, 50, bytes(pixels))
        self.assertRegex(bad, r"^cell row 1 column 1 \(character 'p'.*pixel \(3, 2\)")

    def test_ppm_reader(self):
        path = os.path.join(self.tmp.name, "s.ppm")
        with open(path, "wb") as f:
            f.write(b"P6\n# c\n2 1\n255\n" + bytes(range(6)))
        self.assertEqual(screen_check.read_ppm(path), (2, 1, bytes(range(6))))

    def test_grid_follows_the_editors_escapes(self):
        # The same sequence as console.grid_follows_the_editors_escapes in the kernel.
        text = "> helo\r> hel\x1b[K\r> xhel\x1b[K\x1b[3D\x1b[2C!\x1b[99D\x1b[1;2Hz\x1b[\nq\x1bOA"
        self.assertEqual(screen_check.simulate(text, 8, 3), ["z xhe!  ", "qA      ", "        "])

    def test_read_screen_recognises_rendered_text(self):
        lines = ["ab ~", "} z!"]
        w, h = 4 * self.font.width + 8, 2 * self.font.height + 3  # a margin beyond the cells
        px = bytearray(bytes(screen_check.BG) * (w * h))
        for r, line in enumerate(lines):
            for c, ch in enumerate(line):
                for y in range(self.font.height):
                    for x in range(self.font.width):
                        if self.font.pixel(ord(ch), x, y):
                            at = 3 * ((r * self.font.height + y) * w + c * self.font.width + x)
                            px[at : at + 3] = bytes(screen_check.FG)
        self.assertEqual(screen_check.read_screen(("fb", w, h, bytes(px)), self.font),
                         ["ab ~?", "} z!?"])
        px[3 * (w + 1)] ^= 0xFF  # one pixel of 'a' off: no longer recognised
        self.assertEqual(screen_check.read_screen(("fb", w, h, bytes(px)), self.font)[0], "?b ~?")
        memory = b"".join(bytes([ord(ch), 7]) for ch in "hi\x01!")
        self.assertEqual(screen_check.read_screen(("text", 2, 2, memory), self.font), ["hi", "?!"])


if __name__ == "__main__":
    unittest.main()
