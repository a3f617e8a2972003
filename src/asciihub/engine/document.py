"""The artwork document: a versioned JSON format for ASCII art and animations.

A document is a grid of ``height`` lines by ``width`` character cells, shown as one or
more frames. Every stored frame is normalised: exactly ``height`` lines of exactly
``width`` characters (short lines and missing lines are padded with spaces, never
rejected), so renderers and per-cell colours can index cells directly.
The format is documented in ``docs/formats.md``.
"""

from __future__ import annotations

import base64
import binascii
import math
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from asciihub.errors import InvalidInput, TooLarge

FORMAT_TAG = "asciihub.artwork"
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)
MIN_DURATION_MS = 1
MAX_DURATION_MS = 600_000

# Bidirectional overrides and isolates reorder what a reader sees ("Trojan Source").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


@dataclass(frozen=True)
class DocumentLimits:
    """The caps a document must fit in (settings fill them in)."""

    max_frames: int = 1000
    max_width: int = 500
    max_height: int = 300
    max_chars: int = 4_000_000


@dataclass(frozen=True)
class Frame:
    """One frame: its text (lines joined by ``\\n``), how long it shows, its colours.

    ``colors`` (the foreground, the ink) and ``backgrounds`` (each cell's ground) are
    None or ``rows * columns * 3`` bytes of RGB, row-major, one triple per character
    cell. No backgrounds means the viewer's own background shows.
    """

    text: str
    duration_ms: int = 100
    colors: bytes | None = None
    backgrounds: bytes | None = None

    @property
    def lines(self) -> list[str]:
        """The frame's lines."""
        return self.text.split("\n")


@dataclass(frozen=True)
class ArtworkDocument:
    """A normalised artwork: every frame is ``height`` lines of ``width`` cells."""

    width: int
    height: int
    fps: float
    frames: tuple[Frame, ...] = field(default_factory=tuple)

    @property
    def frame_count(self) -> int:
        """How many frames there are."""
        return len(self.frames)

    @property
    def duration_ms(self) -> int:
        """The total duration of one playthrough."""
        return sum(frame.duration_ms for frame in self.frames)

    def to_json(self) -> dict[str, Any]:
        """The document as JSON-ready data (see docs/formats.md)."""
        frames: list[dict[str, Any]] = []
        for frame in self.frames:
            item: dict[str, Any] = {"text": frame.text, "duration_ms": frame.duration_ms}
            if frame.colors is not None:
                item["colors"] = base64.b64encode(frame.colors).decode("ascii")
            if frame.backgrounds is not None:
                item["backgrounds"] = base64.b64encode(frame.backgrounds).decode("ascii")
            frames.append(item)
        return {
            "format": FORMAT_TAG,
            "version": FORMAT_VERSION,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "frames": frames,
        }


def _bad(message: str, code: str = "invalid_document") -> InvalidInput:
    return InvalidInput(message, code=code)


def check_text(text: str, *, where: str) -> str:
    """Return ``text`` with CRLF folded to LF, or raise if it holds control characters.

    Allowed: any printable Unicode plus ``\\n``. Rejected: other C0/C1 controls (ESC,
    tab, NUL, ...), lone surrogates and bidirectional overrides.
    """
    text = text.replace("\r\n", "\n")
    for index, char in enumerate(text):
        if char == "\n":
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _BIDI_CONTROLS:
            name = unicodedata.name(char, f"U+{ord(char):04X}")
            message = (
                f"{where}: character {index} is a control character ({name}, U+{ord(char):04X}); "
                "only printable characters and newlines are allowed"
            )
            raise _bad(message, "control_character")
    return text


def _split_lines(text: str) -> list[str]:
    if text.endswith("\n"):
        text = text[:-1]
    return text.split("\n")


def _duration(raw: Any, default_ms: int, where: str) -> int:
    if raw is None:
        return default_ms
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        message = f"{where}.duration_ms must be a number of milliseconds"
        raise _bad(message)
    value = round(raw)
    if not MIN_DURATION_MS <= value <= MAX_DURATION_MS:
        message = f"{where}.duration_ms must be between {MIN_DURATION_MS} and {MAX_DURATION_MS}"
        raise _bad(message)
    return value


def _colors(raw: Any, cells: int, where: str, name: str = "colors") -> bytes | None:
    if raw is None:
        return None
    if isinstance(raw, bytes | bytearray):
        data = bytes(raw)
    elif isinstance(raw, str):
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            message = f"{where}.{name} must be base64 of RGB bytes"
            raise _bad(message) from None
    else:
        message = f"{where}.{name} must be a base64 string"
        raise _bad(message)
    if len(data) != cells * 3:
        message = f"{where}.{name} holds {len(data)} bytes; {cells} cells need {cells * 3}"
        raise _bad(message)
    return data


def _fps(raw: Any, default_fps: float) -> float:
    if raw is None:
        return default_fps
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        message = "fps must be a number"
        raise _bad(message)
    if not 0.1 <= raw <= 120:
        message = "fps must be between 0.1 and 120"
        raise _bad(message)
    return float(raw)


def _dimension(raw: Any, name: str, content: int, cap: int) -> int:
    if raw is None:
        value = content
    elif isinstance(raw, bool) or not isinstance(raw, int):
        message = f"{name} must be a whole number"
        raise _bad(message)
    else:
        value = raw
        if value < content:
            message = f"{name} is {value} but a frame needs {content}"
            raise _bad(message)
    if value > cap:
        message = f"{name} {value} is over the limit of {cap}"
        raise TooLarge(message, code="document_too_large")
    return max(value, 1)


def _frame_items(frames: Any, limits: DocumentLimits) -> Sequence[Mapping[str, Any]]:
    if not isinstance(frames, list) or not frames:
        message = "frames must be a non-empty list"
        raise _bad(message)
    if len(frames) > limits.max_frames:
        message = f"{len(frames)} frames is over the limit of {limits.max_frames}"
        raise TooLarge(message, code="document_too_large")
    for index, item in enumerate(frames):
        if not isinstance(item, Mapping) or not isinstance(item.get("text"), str):
            message = f"frames[{index}] must be an object with a text string"
            raise _bad(message)
        unknown = set(item) - {"text", "duration_ms", "colors", "backgrounds"}
        if unknown:
            message = f"frames[{index}] has unknown fields: {', '.join(sorted(unknown))}"
            raise _bad(message)
    return frames


def build_document(
    frames: Any,
    *,
    width: Any = None,
    height: Any = None,
    fps: Any = None,
    limits: DocumentLimits | None = None,
    default_fps: float = 10.0,
) -> ArtworkDocument:
    """Validate raw frames (``[{"text", "duration_ms"?, "colors"?, "backgrounds"?}]``).

    Lines are padded with spaces to the widest line (or ``width``); frames with fewer
    lines are padded to the tallest (or ``height``). Raises ``InvalidInput`` or
    ``TooLarge`` with a message naming the frame and the rule.
    """
    limits = limits or DocumentLimits()
    items = _frame_items(frames, limits)
    rate = _fps(fps, default_fps)
    default_ms = max(MIN_DURATION_MS, round(1000 / rate))
    split: list[list[str]] = []
    total_chars = 0
    for index, item in enumerate(items):
        text = check_text(item["text"], where=f"frames[{index}].text")
        total_chars += len(text)
        if total_chars > limits.max_chars:
            message = f"frames hold more than {limits.max_chars} characters"
            raise TooLarge(message, code="document_too_large")
        split.append(_split_lines(text))
    content_w = max((len(line) for lines in split for line in lines), default=0)
    content_h = max(len(lines) for lines in split)
    cols = _dimension(width, "width", content_w, limits.max_width)
    rows = _dimension(height, "height", content_h, limits.max_height)
    if rows * cols * len(split) > limits.max_chars:
        message = (
            f"{len(split)} frames of {cols}x{rows} cells is over the limit of "
            f"{limits.max_chars} cells"
        )
        raise TooLarge(message, code="document_too_large")
    blank = " " * cols
    built = []
    for index, (item, lines) in enumerate(zip(items, split, strict=True)):
        padded = [line.ljust(cols) for line in lines] + [blank] * (rows - len(lines))
        built.append(
            Frame(
                text="\n".join(padded),
                duration_ms=_duration(item.get("duration_ms"), default_ms, f"frames[{index}]"),
                colors=_colors(item.get("colors"), rows * cols, f"frames[{index}]"),
                backgrounds=_colors(
                    item.get("backgrounds"), rows * cols, f"frames[{index}]", "backgrounds"
                ),
            )
        )
    return ArtworkDocument(width=cols, height=rows, fps=rate, frames=tuple(built))


def parse_document(data: Any, *, limits: DocumentLimits | None = None) -> ArtworkDocument:
    """Validate a stored or uploaded document (the output of ``to_json``)."""
    if not isinstance(data, Mapping):
        message = "an artwork document must be a JSON object"
        raise _bad(message)
    if data.get("format") != FORMAT_TAG:
        message = f"format must be {FORMAT_TAG!r}"
        raise _bad(message)
    version = data.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        expected = " or ".join(str(v) for v in READABLE_VERSIONS)
        message = f"version {version!r} is not supported (expected {expected})"
        raise _bad(message, "unsupported_version")
    frames = data.get("frames")
    if version == 1 and isinstance(frames, list):
        for index, item in enumerate(frames):
            if isinstance(item, Mapping) and "backgrounds" in item:
                message = f"frames[{index}] has backgrounds, which need version 2"
                raise _bad(message)
    return build_document(
        frames,
        width=data.get("width"),
        height=data.get("height"),
        fps=data.get("fps"),
        limits=limits,
    )


def document_from_texts(
    texts: Iterable[str], *, duration_ms: int = 100, fps: float = 10.0
) -> ArtworkDocument:
    """A document from plain frame texts (convenience for the engine and tests)."""
    frames = [{"text": text, "duration_ms": duration_ms} for text in texts]
    return build_document(frames, fps=fps)
