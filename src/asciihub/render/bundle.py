"""The ``zip`` export: the artwork in every portable format, with a manifest.

Members, in the order written (deflated, fixed timestamps, mode 0644):
``README.txt``, ``artwork.json``, ``artwork.txt``, ``artwork.cast``, ``artwork.svg``,
``artwork.gif``, ``frames/0001.png`` ... (every frame drawn as for ``png``), and last
``manifest.json``, which lists every other member with its format, media type, size
and SHA-256 (see ``docs/formats.md``). Members are streamed into the archive as they
are made, so the GIF and the frames are never all in memory.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from typing import Any, BinaryIO, cast

from PIL import Image

from asciihub.engine.document import FORMAT_VERSION, ArtworkDocument
from asciihub.render.asciicast import cast_bytes
from asciihub.render.gif import write_gif
from asciihub.render.raster import frame_image
from asciihub.render.svg import write_svg

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
MANIFEST_FORMAT = "asciihub.export"
MANIFEST_VERSION = 1
README = (
    "asciihub export\n\n"
    "artwork.json    the artwork document (format asciihub.artwork)\n"
    "artwork.txt     every frame as text, a form-feed line between two frames\n"
    "artwork.cast    an asciicast v2 recording (asciinema play artwork.cast)\n"
    "artwork.svg     the art as SVG text, animated when it has several frames\n"
    "artwork.gif     the animation as a looping GIF\n"
    "frames/         every frame drawn as PNG, numbered from 0001 in playing order\n"
    "manifest.json   every file above with its format, size and SHA-256\n"
)


class _HashingWriter(io.RawIOBase):
    """Forwards writes to ``target`` while counting bytes and hashing them."""

    def __init__(self, target: Any) -> None:
        self.target = target
        self.size = 0
        self.digest = hashlib.sha256()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.target.write(chunk)
        self.size += len(chunk)
        self.digest.update(chunk)
        return len(chunk)


def _info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _png_writer(image: Image.Image) -> Callable[[BinaryIO], None]:
    def write(sink: BinaryIO) -> None:
        image.save(sink, format="PNG")

    return write


def frame_names(count: int) -> list[str]:
    """``frames/0001.png`` ... for ``count`` frames (at least four digits)."""
    digits = max(4, len(str(count)))
    return [f"frames/{index:0{digits}d}.png" for index in range(1, count + 1)]


def write_zip(
    document: ArtworkDocument, out: BinaryIO, *, title: str = "", timestamp: int = 0,
    font_size: int = 16, document_json: bytes, text: bytes,
) -> None:  # fmt: skip
    """Write the bundle of ``document`` to ``out`` (see the module)."""
    files: list[dict[str, Any]] = []
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def member(name: str, fmt: str, media_type: str, write: Callable[[BinaryIO], None]) -> None:
            with archive.open(_info(name), "w") as handle:
                sink = _HashingWriter(handle)
                write(cast(BinaryIO, sink))
            files.append(
                {"name": name, "format": fmt, "media_type": media_type, "size": sink.size,
                 "sha256": sink.digest.hexdigest()}
            )  # fmt: skip

        def constant(data: bytes) -> Callable[[BinaryIO], None]:
            def write(sink: BinaryIO) -> None:
                sink.write(data)

            return write

        member("README.txt", "readme", "text/plain; charset=utf-8", constant(README.encode()))
        member("artwork.json", "json", "application/json", constant(document_json))
        member("artwork.txt", "txt", "text/plain; charset=utf-8", constant(text))
        recording = cast_bytes(document, title=title, timestamp=timestamp)
        member("artwork.cast", "cast", "application/x-asciicast", constant(recording))
        member(
            "artwork.svg", "svg", "image/svg+xml",
            lambda sink: write_svg(document, sink, font_size=font_size, title=title),
        )  # fmt: skip
        member(
            "artwork.gif", "gif", "image/gif", lambda s: write_gif(document, s, font_size=font_size)
        )
        for frame, name in zip(document.frames, frame_names(document.frame_count), strict=True):
            image = frame_image(frame, document.width, document.height, font_size=font_size)
            member(name, "png", "image/png", _png_writer(image))
        manifest = {
            "format": MANIFEST_FORMAT,
            "version": MANIFEST_VERSION,
            "document_version": FORMAT_VERSION,
            "title": title or "Untitled",
            "width": document.width,
            "height": document.height,
            "frame_count": document.frame_count,
            "duration_ms": document.duration_ms,
            "formats": sorted({item["format"] for item in files}),
            "files": files,
        }
        data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        archive.writestr(_info("manifest.json"), data)
