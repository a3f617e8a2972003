"""Artwork documents to downloadable files, one registered format each.

Each format registers its name, file extension and media type (as Pillow's image
plugins do) and renders a document to bytes with no I/O, clock or global state: the
caller passes the title and the timestamp. Rendering is deterministic, so the same
document always gives the same bytes (a redelivered export job writes the same object).
The formats are described in ``docs/formats.md``.
"""

from __future__ import annotations

import importlib.util
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from asciihub.engine.document import ArtworkDocument
from asciihub.render.animated import gif_bytes, mp4_bytes
from asciihub.render.asciicast import cast_bytes
from asciihub.render.raster import cell_size, frame_image

FORM_FEED_LINE = "\f"
"""The line between two frames of a ``txt`` export (U+000C alone on its line)."""
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
README_LINE = (
    "asciihub export: artwork.json is the artwork document, artwork.txt its frames as "
    "text (a form-feed line between frames), artwork.cast an asciicast v2 recording.\n"
)


@dataclass(frozen=True)
class RenderOptions:
    """What a rendering needs besides the document."""

    title: str = ""
    timestamp: int = 0
    """Unix time written into the asciicast header (the artwork's creation time)."""
    font_size: int = 16


@dataclass(frozen=True)
class ExportFormat:
    """One export format: its name, file extension, media type and renderer."""

    name: str
    extension: str
    media_type: str
    render: Callable[[ArtworkDocument, RenderOptions], bytes]
    is_raster: bool = False
    """Drawn to pixels (so ``export_max_pixels`` applies)."""
    is_animated: bool = False
    """Draws every frame (so ``export_max_frames`` applies)."""
    module: str | None = None
    """An optional dependency the renderer needs (``av`` for MP4)."""
    stream: Callable[[ArtworkDocument, RenderOptions, BinaryIO], None] | None = None
    """Writes the file to a binary file object as it is made, one frame at a time,
    instead of building it in memory (the animated encoders); ``render`` then only
    collects what it writes."""

    @property
    def is_available(self) -> bool:
        """True when the optional dependency, if any, is installed."""
        return self.module is None or importlib.util.find_spec(self.module) is not None


def json_bytes(document: ArtworkDocument) -> bytes:
    """The artwork document as stored: compact UTF-8 JSON (see docs/formats.md)."""
    return json.dumps(document.to_json(), ensure_ascii=False, separators=(",", ":")).encode()


def txt_bytes(document: ArtworkDocument) -> bytes:
    """Every frame's lines, a form-feed line between two frames, a final newline."""
    return ("\n\f\n".join(frame.text for frame in document.frames) + "\n").encode()


def png_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """The first frame drawn at ``font_size`` px, as PNG."""
    image = frame_image(document.frames[0], document.width, document.height, font_size=font_size)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def zip_bytes(document: ArtworkDocument, options: RenderOptions) -> bytes:
    """``artwork.json``, ``artwork.txt``, ``artwork.cast`` and ``README.txt``, deflated."""
    members = (
        ("README.txt", README_LINE.encode()),
        ("artwork.json", json_bytes(document)),
        ("artwork.txt", txt_bytes(document)),
        ("artwork.cast", cast_bytes(document, title=options.title, timestamp=options.timestamp)),
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


EXPORT_FORMATS: dict[str, ExportFormat] = {
    item.name: item
    for item in (
        ExportFormat("json", "json", "application/json", lambda d, o: json_bytes(d)),
        ExportFormat("txt", "txt", "text/plain; charset=utf-8", lambda d, o: txt_bytes(d)),
        ExportFormat(
            "cast",
            "cast",
            "application/x-asciicast",
            lambda d, o: cast_bytes(d, title=o.title, timestamp=o.timestamp),
        ),
        ExportFormat(
            "png",
            "png",
            "image/png",
            lambda d, o: png_bytes(d, font_size=o.font_size),
            is_raster=True,
        ),
        ExportFormat(
            "gif",
            "gif",
            "image/gif",
            lambda d, o: gif_bytes(d, font_size=o.font_size),
            is_raster=True,
            is_animated=True,
        ),
        ExportFormat(
            "mp4",
            "mp4",
            "video/mp4",
            lambda d, o: mp4_bytes(d, font_size=o.font_size),
            is_raster=True,
            is_animated=True,
            module="av",
        ),
        ExportFormat("zip", "zip", "application/zip", zip_bytes),
    )
}


def pixel_shape(columns: int, rows: int, font_size: int) -> tuple[int, int]:
    """(rows, columns) in pixels of one frame of a ``columns`` x ``rows`` grid drawn
    at ``font_size`` px (before the even padding of MP4)."""
    cell_w, cell_h = cell_size(font_size)
    return max(1, rows * cell_h), max(1, columns * cell_w)


def render_export(document: ArtworkDocument, name: str, options: RenderOptions) -> bytes:
    """The bytes of ``document`` in the export format ``name`` (a key of EXPORT_FORMATS)."""
    fmt = EXPORT_FORMATS[name]
    if fmt.stream is None:
        return fmt.render(document, options)
    buffer = io.BytesIO()
    fmt.stream(document, options, buffer)
    return buffer.getvalue()


def write_export(
    document: ArtworkDocument, name: str, options: RenderOptions, out: BinaryIO
) -> None:
    """Write ``document`` in the export format ``name`` to ``out`` (a binary file
    object, e.g. a spooled temporary file); streaming formats never hold the whole
    output or all frames in memory."""
    fmt = EXPORT_FORMATS[name]
    if fmt.stream is None:
        out.write(fmt.render(document, options))
    else:
        fmt.stream(document, options, out)
