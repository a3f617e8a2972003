"""Artwork documents to looping GIF89a files, written one frame at a time.

Pillow's multi-frame GIF writer keeps every frame until the end, so the file is laid
out here: the header and the NETSCAPE2.0 loop block, then for each picture a graphic
control extension (its delay, disposal "leave in place") and an image of the pixels
that changed since the picture before, with its own (local) colour table. Each image
is quantised (fast octree, 256 colours) and LZW-coded by Pillow as a one-frame GIF
whose blocks are spliced in, so only the picture being written and the one before it
are in memory.
"""

from __future__ import annotations

import io
import struct
from typing import BinaryIO

from PIL import Image

from asciihub.engine.document import ArtworkDocument
from asciihub.render.animated import changed_box, shown_images

_LOOP_FOREVER = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
_TRAILER = b"\x3b"


def _skip_extensions(data: bytes, pos: int) -> int:
    while data[pos] == 0x21:
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return pos


def image_blocks(image: Image.Image) -> tuple[bytes, bytes]:
    """(colour table, LZW code size byte and data sub-blocks) of ``image`` as GIF.

    An RGB image is quantised to 256 colours by fast octree: about as close as median
    cut (Pillow's default for GIF) for drawn text, at a tenth to a thirtieth of the time.
    """
    if image.mode != "P":
        image = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    image.save(buffer, format="GIF", interlace=False)
    data = buffer.getvalue()
    packed = data[10]
    pos = 13
    table = b""
    if packed & 0x80:
        size = 3 * (2 << (packed & 7))
        table, pos = data[pos : pos + size], pos + size
    pos = _skip_extensions(data, pos)
    descriptor, pos = data[pos : pos + 10], pos + 10
    if descriptor[9] & 0x80:
        size = 3 * (2 << (descriptor[9] & 7))
        table, pos = data[pos : pos + size], pos + size
    return table, data[pos : -len(_TRAILER)]


def _delay_cs(start_ms: int, duration_ms: int) -> int:
    """Hundredths of a second, rounded on the running clock so the total stays exact."""
    return max(1, round((start_ms + duration_ms) / 10) - round(start_ms / 10))


def write_gif(document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16) -> None:
    """Write a GIF that loops forever to ``out``; each picture shows for its duration.

    Consecutive identical frames are one picture showing for their summed duration.
    Delays are in hundredths of a second (at least one).
    """
    previous: Image.Image | None = None
    for shown, image in shown_images(document, font_size=font_size):
        if previous is None:
            out.write(b"GIF89a" + struct.pack("<HHBBB", image.width, image.height, 0x70, 0, 0))
            out.write(_LOOP_FOREVER)
        left, top, right, bottom = changed_box(previous, image)
        table, pixels = image_blocks(image.crop((left, top, right, bottom)))
        entries = max(2, len(table) // 3)
        bits = (entries - 1).bit_length() - 1  # a table of 2 ** (bits + 1) entries
        table = table.ljust(3 * (2 << bits), b"\x00")
        delay = _delay_cs(shown.start_ms, shown.duration_ms)
        out.write(struct.pack("<BBBBHBB", 0x21, 0xF9, 4, 1 << 2, delay, 0, 0))
        out.write(struct.pack("<BHHHHB", 0x2C, left, top, right - left, bottom - top, 0x80 | bits))
        out.write(table)
        out.write(pixels)
        previous = image
    out.write(_TRAILER)


def gif_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """The GIF of :func:`write_gif`, in memory."""
    buffer = io.BytesIO()
    write_gif(document, buffer, font_size=font_size)
    return buffer.getvalue()
