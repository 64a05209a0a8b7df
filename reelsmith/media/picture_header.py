"""The size a PNG or JPEG states in its header, read from its first bytes without decoding.

Decoders allocate the whole canvas a header asks for, and PyAV even decodes a PNG while opening
it (to learn its parameters): a 200 KB PNG that says 8192x8192 costs 200 MB and a second before
any rule sees its size. Reading the PNG ``IHDR`` chunk or the JPEG frame header (``SOFn``)
first lets the size rules refuse such a file for the price of a few reads.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG markers that start a frame (and so state its size): SOF0-SOF15 but DHT (C4), JPG (C8)
# and DAC (CC), which share the range.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers that stand alone, without a length: TEM and the restart markers RST0-RST7.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9


@dataclass(frozen=True)
class PictureHeader:
    """What a picture's header says: its format and its stored size (before any EXIF turn)."""

    format: Literal["png", "jpeg"]
    width: int
    height: int


def read_picture_header(path: Path) -> PictureHeader | None:
    """The format and size ``path``'s header states, or None where it is not a PNG or JPEG
    whose header can be read (the decoder then says what is wrong)."""
    try:
        with path.open("rb") as file:
            start = file.read(24)
            if start.startswith(_PNG_SIGNATURE):
                return _png(start)
            if start.startswith(b"\xff\xd8"):
                file.seek(2)
                return _jpeg(file)
    except OSError:
        return None
    return None


def _png(start: bytes) -> PictureHeader | None:
    # The first chunk must be IHDR: length (4), type (4), then width and height (4 each).
    if len(start) < 24 or start[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", start[16:24])
    return PictureHeader("png", width, height)


def _jpeg(file: BinaryIO) -> PictureHeader | None:
    # Walk the segments (marker, 2-byte length, body) up to the frame header; the entropy-coded
    # data comes only after SOS, so this reads the metadata segments and nothing else.
    while True:
        byte = file.read(1)
        if byte != b"\xff":
            return None
        marker = file.read(1)
        while marker == b"\xff":  # fill bytes may precede a marker
            marker = file.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _JPEG_STANDALONE:
            continue
        if code in (_JPEG_SOS, _JPEG_EOI):
            return None
        length_bytes = file.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if length < 2:
            return None
        if code in _JPEG_FRAMES:
            frame = file.read(5)  # sample precision (1), height (2), width (2)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return PictureHeader("jpeg", width, height)
        file.seek(length - 2, 1)
