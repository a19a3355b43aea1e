"""An image drawn in the terminal with Rich: two pixels per character cell, the upper half block `▀`
coloured with the top pixel and its background with the bottom one.

Decodes what a labeling campaign's items are likely to be without an imaging library (none is a
dependency): PNG (8-bit grey, grey + alpha, RGB, RGBA; not interlaced, not palette) through zlib, and
the netpbm formats PGM and PPM (binary, 8-bit). Anything else is not an image here (None)."""

from __future__ import annotations

import struct
import zlib

from rich.style import Style
from rich.text import Text

Pixels = list[list[tuple[int, int, int]]]
_PNG = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}  # PNG colour type -> channels
MAX_SIDE = 4096


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _png(data: bytes) -> Pixels | None:
    pos, idat, header = 8, bytearray(), None
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body[:13])
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        return None
    width, height, depth, colour, _, _, interlace = header
    if (
        depth != 8
        or colour not in _CHANNELS
        or interlace
        or not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE)
    ):
        return None
    n = _CHANNELS[colour]
    stride = width * n
    try:
        raw = zlib.decompress(bytes(idat))
    except zlib.error:
        return None
    if len(raw) < height * (stride + 1):
        return None
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            left = line[x - n] if x >= n else 0
            up = previous[x]
            corner = previous[x - n] if x >= n else 0
            add = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind] if kind <= 4 else 0
            line[x] = (line[x] + add) & 0xFF
        rows.append(line)
        previous = line
    out: Pixels = []
    for line in rows:
        pixels = []
        for x in range(width):
            px = line[x * n : (x + 1) * n]
            pixels.append((px[0], px[0], px[0]) if n <= 2 else (px[0], px[1], px[2]))
        out.append(pixels)
    return out


def _netpbm(data: bytes) -> Pixels | None:
    fields: list[bytes] = []
    pos = 2
    while len(fields) < 3 and pos < len(data):
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace():
            pos += 1
        fields.append(data[start:pos])
    pos += 1
    try:
        width, height, top = (int(f) for f in fields)
    except ValueError:
        return None
    n = 1 if data[:2] == b"P5" else 3
    if top != 255 or not (0 < width <= MAX_SIDE and 0 < height <= MAX_SIDE):
        return None
    body = data[pos : pos + width * height * n]
    if len(body) < width * height * n:
        return None
    out: Pixels = []
    for y in range(height):
        row = []
        for x in range(width):
            i = (y * width + x) * n
            row.append((body[i], body[i], body[i]) if n == 1 else (body[i], body[i + 1], body[i + 2]))
        out.append(row)
    return out


def decode(data: bytes) -> Pixels | None:
    """The image's pixels as RGB rows, or None for bytes that are not an image this module reads."""
    if data.startswith(_PNG):
        return _png(data)
    if data[:2] in (b"P5", b"P6"):
        return _netpbm(data)
    return None


def render(pixels: Pixels, max_width: int = 48) -> Text:
    """The pixels scaled (nearest neighbour) to at most `max_width` columns, two rows per line."""
    width = len(pixels[0])
    scale = max(1, -(-width // max_width))
    small = [row[::scale] for row in pixels[::scale]]
    if len(small) % 2:
        small.append([(0, 0, 0)] * len(small[0]))
    text = Text()
    for y in range(0, len(small), 2):
        for top, bottom in zip(small[y], small[y + 1], strict=True):
            text.append(
                "▀",
                Style(
                    color=f"rgb({top[0]},{top[1]},{top[2]})",
                    bgcolor=f"rgb({bottom[0]},{bottom[1]},{bottom[2]})",
                ),
            )
        text.append("\n")
    return text
