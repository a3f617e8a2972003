"""Telling an upload's format from its first bytes, never from its name.

Only formats the engine converts are accepted: PNG, JPEG, GIF, WebP, MP4/MOV and
WebM/Matroska. Anything else (SVG, TIFF, PSD, AVI, HTML, an empty file) is refused
before a byte is stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from asciihub.errors import InvalidInput, UnsupportedMedia

UNREADABLE_IMAGE: tuple[type[BaseException], ...] = (
    UnidentifiedImageError,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
    OSError,
    ValueError,
    SyntaxError,
)
"""What Pillow raises for an uploaded image it cannot read, or one that is a bomb."""


@dataclass(frozen=True)
class MediaType:
    """What an upload is: ``kind`` image | animation | video, format, MIME type."""

    kind: str
    format: str
    mime: str


def sniff_media(head: bytes) -> MediaType:
    """The media type of an upload from its first bytes; 415 when not allowed."""
    if not head:
        message = "the uploaded file is empty"
        raise InvalidInput(message, code="empty_upload")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaType("image", "png", "image/png")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaType("image", "jpeg", "image/jpeg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaType("animation", "gif", "image/gif")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return MediaType("animation", "webp", "image/webp")
    if head[4:8] == b"ftyp":
        return MediaType("video", "mp4", "video/mp4")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return MediaType("video", "webm", "video/webm")
    message = "the upload is not a PNG, JPEG, GIF, WebP, MP4 or WebM file (checked by its content)"
    raise UnsupportedMedia(message, code="unsupported_upload")
