"""Plain text and ANSI art files (``.txt``, ``.ans``) into frames.

* A SAUCE record (the 128-byte trailer starting ``SAUCE00``, its optional ``COMNT``
  block and the DOS end-of-file byte before them) is stripped; its width (``TInfo1``)
  is the art's width when it gives one.
* Bytes are decoded as UTF-8 when they are valid UTF-8 and as CP437 (the code page of
  DOS ANSI art) otherwise, unless the caller names the encoding.
* Text holding escape sequences is played through a terminal (pyte) of the art's width
  (SAUCE, else 80 columns), with ``\\n`` also returning the carriage and lines
  wrapping at the right edge, as ANSI art expects; colours are kept. Plain text keeps
  its lines as they are (tabs expanded), and a line holding only a form feed
  separates two frames (the layout of asciihub's ``txt`` export).
"""

from __future__ import annotations

import struct
import unicodedata
from dataclasses import dataclass

from asciihub.engine.document import DocumentLimits
from asciihub.engine.terminal import new_screen, read_screen
from asciihub.errors import InvalidInput, TooLarge

SAUCE_SIZE = 128
ANSI_WIDTH = 80
ENCODINGS = ("auto", "utf-8", "cp437")


@dataclass(frozen=True)
class Sauce:
    """The fields of a SAUCE record an import uses."""

    title: str
    width: int
    height: int


@dataclass(frozen=True)
class TextArt:
    """What an import makes of a text or ANSI file."""

    frames: list[tuple[str, bytes | None]]
    title: str | None
    width: int | None


def strip_sauce(data: bytes) -> tuple[bytes, Sauce | None]:
    """``data`` without its SAUCE record (and comment block, and EOF byte), and the record."""
    if len(data) < SAUCE_SIZE or not data[-SAUCE_SIZE:].startswith(b"SAUCE00"):
        return data.split(b"\x1a", 1)[0], None
    record = data[-SAUCE_SIZE:]
    body = data[:-SAUCE_SIZE]
    comments = record[104]
    block = 5 + 64 * comments
    if comments and len(body) >= block and body[-block:].startswith(b"COMNT"):
        body = body[:-block]
    title = record[7:42].decode("cp437").rstrip(" \x00")
    data_type, tinfo1, tinfo2 = record[94], *struct.unpack("<HH", record[96:100])
    width = tinfo1 if data_type == 1 and 0 < tinfo1 <= 4096 else 0
    return body.split(b"\x1a", 1)[0], Sauce(title=title, width=width, height=tinfo2)


def decode(data: bytes, encoding: str = "auto") -> str:
    """Text of ``data``: UTF-8 if it is valid UTF-8 (or asked), else CP437."""
    if encoding not in ENCODINGS:
        message = f"encoding must be one of {', '.join(ENCODINGS)}, not {encoding!r}"
        raise InvalidInput(message, code="invalid_encoding")
    if encoding in ("auto", "utf-8"):
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            if encoding == "utf-8":
                message = "the file is not valid UTF-8; import it as cp437"
                raise InvalidInput(message, code="invalid_encoding") from None
    return data.decode("cp437")


def _printable(line: str) -> str:
    return "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Cf") else c for c in line.expandtabs(8)
    )


def _plain(text: str) -> list[tuple[str, bytes | None]]:
    frames: list[list[str]] = [[]]
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "\f":
            frames.append([])
        else:
            frames[-1].append(_printable(line))
    return [("\n".join(_trim(lines)), None) for lines in frames if any(x.strip() for x in lines)]


def _trim(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines or [""]


def _ansi(text: str, width: int, limits: DocumentLimits) -> tuple[str, bytes | None]:
    # Tall enough for every line and every wrap, one more than the limit at most.
    rows = min(text.count("\n") + len(text) // width + 2, limits.max_height + 1)
    screen, stream = new_screen(width, rows, newline_returns=True)
    stream.feed(text)
    frame = read_screen(screen)
    lines = frame.text.split("\n")
    used = len(_trim(list(lines)))
    if used > limits.max_height:
        message = f"the art is {used} lines tall; the limit is {limits.max_height}"
        raise TooLarge(message, code="document_too_large")
    colors = frame.colors[: used * width * 3] if frame.colors is not None else None
    return "\n".join(lines[:used]), colors


def read_text_art(
    data: bytes, *, encoding: str = "auto", limits: DocumentLimits | None = None
) -> TextArt:
    """Frames (text, RGB bytes or None) of a ``.txt`` or ``.ans`` file's bytes."""
    limits = limits or DocumentLimits()
    body, sauce = strip_sauce(data)
    text = decode(body, encoding if sauce is None or encoding != "auto" else "auto")
    title = sauce.title or None if sauce is not None else None
    if "\x1b" not in text:
        frames = _plain(text)
        width = None
    else:
        width = sauce.width if sauce is not None and sauce.width else ANSI_WIDTH
        if width > limits.max_width:
            message = f"the art is {width} columns wide; the limit is {limits.max_width}"
            raise TooLarge(message, code="document_too_large")
        frames = [_ansi(text, width, limits)]
    if not frames:
        message = "the file holds no text to import"
        raise InvalidInput(message, code="empty_file")
    return TextArt(frames=frames, title=title, width=width)
