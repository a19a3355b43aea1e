"""`label work`'s terminal images: PNG (each row filter) and PGM/PPM decoded without an imaging
library, drawn two pixels per cell; anything else is not an image."""

from __future__ import annotations

import struct
import zlib

import pytest

from proofwork.cli.terminal_image import decode, render


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(rows: list[list[tuple[int, int, int]]], filters: list[int]) -> bytes:
    """An 8-bit RGB PNG whose row y is written with filter `filters[y]` (0 none, 1 sub, 2 up, 3 average,
    4 Paeth), encoded here so that decoding must undo each filter."""
    width = len(rows[0])
    raw = b""
    previous = bytes(width * 3)
    for y, row in enumerate(rows):
        line = bytes(v for px in row for v in px)
        kind = filters[y]
        out = bytearray()
        for x in range(len(line)):
            left = line[x - 3] if x >= 3 else 0
            up = previous[x]
            corner = previous[x - 3] if x >= 3 else 0
            if kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else corner)
            else:
                pred = (0, left, up, (left + up) // 2)[kind]
            out.append((line[x] - pred) & 0xFF)
        raw += bytes([kind]) + bytes(out)
        previous = line
    header = struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw))
        + _chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4])
def test_png_rows_decode_under_every_filter(kind: int) -> None:
    rows = [[((x * 37 + y * 11) % 256, (x * 5) % 256, (y * 90) % 256) for x in range(5)] for y in range(4)]
    assert decode(png(rows, [kind, kind, 0, kind])) == rows


def test_netpbm_and_non_images() -> None:
    assert decode(b"P5\n# grey\n2 1\n255\n\x00\xff") == [[(0, 0, 0), (255, 255, 255)]]
    assert decode(b"P6 1 1 255 \x01\x02\x03") == [[(1, 2, 3)]]
    assert decode(b"a photo of a cat") is None
    assert decode(b"P5\n2 1\n65535\n\x00\x00\x00\x00") is None  # 16-bit: not drawn here
    assert decode(b"\x89PNG\r\n\x1a\n" + b"garbage") is None


def test_render_two_pixels_per_cell() -> None:
    text = render([[(255, 0, 0)] * 4, [(0, 0, 255)] * 4, [(0, 255, 0)] * 4])
    lines = text.plain.splitlines()
    assert lines == ["▀▀▀▀", "▀▀▀▀"]  # 3 rows: two lines, the last padded
    wide = render([[(9, 9, 9)] * 200] * 2, max_width=48)
    assert max(len(line) for line in wide.plain.splitlines()) <= 48
