"""Artwork documents to looping animated PNG (APNG) files, one frame at a time.

Pillow's APNG writer keeps every frame until the end, so the chunks are laid out
here: the signature, ``IHDR``, ``acTL`` (the picture count, known from the document,
and "loop forever"), then for each picture an ``fcTL`` (its box and delay; dispose
"none", blend "source") and its pixels, as ``IDAT`` for the first picture (the full
image, which is also the still a plain PNG reader shows) and ``fdAT`` for the next
ones (only the box of the pixels that changed). Each picture is compressed by Pillow
as a one-frame PNG whose ``IDAT`` data is reused.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO

from PIL import Image

from asciihub.engine.document import ArtworkDocument
from asciihub.render.animated import changed_box, shown_frames, shown_images

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def compressed_pixels(image: Image.Image) -> tuple[bytes, bytes]:
    """(``IHDR`` data, the concatenated ``IDAT`` data) of ``image`` encoded as PNG."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    data = buffer.getvalue()
    pos = len(SIGNATURE)
    header = b""
    parts: list[bytes] = []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            parts.append(body)
        pos += 12 + length
    return header, b"".join(parts)


def _delay(duration_ms: int) -> tuple[int, int]:
    """(numerator, denominator) of a delay: milliseconds, or hundredths past 65.535 s."""
    if duration_ms <= 0xFFFF:
        return duration_ms, 1000
    return round(duration_ms / 10), 100


def write_apng(document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16) -> None:
    """Write an APNG that loops forever to ``out``; each picture shows for its duration
    (consecutive identical frames are one picture with their summed duration)."""
    count = len(shown_frames(document))
    sequence = 0
    previous: Image.Image | None = None
    for shown, image in shown_images(document, font_size=font_size):
        left, top, right, bottom = changed_box(previous, image)
        header, pixels = compressed_pixels(image.crop((left, top, right, bottom)))
        if previous is None:
            out.write(SIGNATURE + _chunk(b"IHDR", header))
            out.write(_chunk(b"acTL", struct.pack(">II", count, 0)))
        numerator, denominator = _delay(shown.duration_ms)
        control = struct.pack(
            ">IIIIIHHBB",
            sequence,
            right - left,
            bottom - top,
            left,
            top,
            numerator,
            denominator,
            0,
            0,
        )
        out.write(_chunk(b"fcTL", control))
        sequence += 1
        if previous is None:
            out.write(_chunk(b"IDAT", pixels))
        else:
            out.write(_chunk(b"fdAT", struct.pack(">I", sequence) + pixels))
            sequence += 1
        previous = image
    out.write(_chunk(b"IEND", b""))


def apng_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """The APNG of :func:`write_apng`, in memory."""
    buffer = io.BytesIO()
    write_apng(document, buffer, font_size=font_size)
    return buffer.getvalue()
