"""Artwork documents to downloadable files, one registered format each.

Each format registers its name, file extension and media type (as Pillow's image
plugins do) and renders a document to bytes, or streams it to a binary file object
one frame at a time (``write_export``), with no other I/O, clock or global state: the
caller passes the title and the timestamp. Rendering is deterministic, so the same
document always gives the same bytes (a redelivered export job writes the same object).
The formats are described in ``docs/formats.md``.
"""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from asciihub.engine.document import ArtworkDocument
from asciihub.render.ansi import write_ansi
from asciihub.render.apng import write_apng
from asciihub.render.asciicast import cast_bytes
from asciihub.render.bundle import write_zip
from asciihub.render.gif import write_gif
from asciihub.render.html import write_html
from asciihub.render.raster import cell_size, frame_image
from asciihub.render.svg import write_svg
from asciihub.render.video import write_mp4, write_webm

FORM_FEED_LINE = "\f"
"""The line between two frames of a ``txt`` export (U+000C alone on its line)."""


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
    """Holds every frame drawn or marked up (so ``export_max_frames`` applies)."""
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


def stream_zip(document: ArtworkDocument, options: RenderOptions, out: BinaryIO) -> None:
    """The ``zip`` bundle (see :mod:`asciihub.render.bundle`) written to ``out``."""
    write_zip(
        document, out, title=options.title, timestamp=options.timestamp,
        font_size=options.font_size, document_json=json_bytes(document), text=txt_bytes(document),
    )  # fmt: skip


def zip_bytes(document: ArtworkDocument, options: RenderOptions) -> bytes:
    """The ``zip`` bundle in memory."""
    buffer = io.BytesIO()
    stream_zip(document, options, buffer)
    return buffer.getvalue()


Streamer = Callable[[ArtworkDocument, RenderOptions, BinaryIO], None]


def _collected(stream: Streamer) -> Callable[[ArtworkDocument, RenderOptions], bytes]:
    def render(document: ArtworkDocument, options: RenderOptions) -> bytes:
        buffer = io.BytesIO()
        stream(document, options, buffer)
        return buffer.getvalue()

    return render


def _streamed(
    name: str,
    extension: str,
    media_type: str,
    stream: Streamer,
    *,
    is_drawn: bool = False,
    is_animated: bool = False,
    module: str | None = None,
) -> ExportFormat:
    """A format whose renderer writes to a file object (``render`` collects it); a drawn
    format is raster and animated (every frame is drawn)."""
    return ExportFormat(
        name, extension, media_type, _collected(stream), stream=stream, module=module,
        is_raster=is_drawn, is_animated=is_drawn or is_animated,
    )  # fmt: skip


def _ansi(mode: str) -> Streamer:
    return lambda d, o, out: write_ansi(d, out, mode=mode)


ANSI_MEDIA_TYPE = "text/plain; charset=utf-8"
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
        _streamed(
            "apng",
            "apng",
            "image/apng",
            lambda d, o, out: write_apng(d, out, font_size=o.font_size),
            is_drawn=True,
        ),
        _streamed(
            "gif",
            "gif",
            "image/gif",
            lambda d, o, out: write_gif(d, out, font_size=o.font_size),
            is_drawn=True,
        ),
        _streamed(
            "mp4",
            "mp4",
            "video/mp4",
            lambda d, o, out: write_mp4(d, out, font_size=o.font_size),
            is_drawn=True,
            module="av",
        ),
        _streamed(
            "webm",
            "webm",
            "video/webm",
            lambda d, o, out: write_webm(d, out, font_size=o.font_size),
            is_drawn=True,
            module="av",
        ),
        _streamed(
            "svg",
            "svg",
            "image/svg+xml",
            lambda d, o, out: write_svg(d, out, font_size=o.font_size, title=o.title),
            is_animated=True,
        ),
        _streamed(
            "html",
            "html",
            "text/html; charset=utf-8",
            lambda d, o, out: write_html(d, out, font_size=o.font_size, title=o.title),
            is_animated=True,
        ),
        _streamed("ansi", "ans", ANSI_MEDIA_TYPE, _ansi("truecolor")),
        _streamed("ansi256", "ans", ANSI_MEDIA_TYPE, _ansi("ansi256")),
        _streamed("ansi16", "ans", ANSI_MEDIA_TYPE, _ansi("ansi16")),
        _streamed("zip", "zip", "application/zip", stream_zip, is_drawn=True),
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
