"""Artwork documents to asciicast v2 recordings (``.cast``, ``application/x-asciicast``).

Newline-delimited JSON: a header object, then one ``[time, "o", data]`` event per
frame at the frame's start (the sum of the ``duration_ms`` before it, in seconds).
Each event homes the cursor and clears the screen, then prints the frame's lines
joined by ``\\r\\n``; per-cell colours become truecolor SGR sequences
(``ESC[38;2;R;G;Bm``), reset at the end of every line.
"""

from __future__ import annotations

import json
from typing import Any

from asciihub.engine.document import ArtworkDocument, Frame
from asciihub.render.raster import BACKGROUND, INK

HOME_AND_CLEAR = "\x1b[H\x1b[2J"
RESET = "\x1b[0m"
# The 16 colours of the xterm palette, for players that honour the header's theme.
PALETTE = (
    "#000000:#cd0000:#00cd00:#cdcd00:#0000ee:#cd00cd:#00cdcd:#e5e5e5:"
    "#7f7f7f:#ff0000:#00ff00:#ffff00:#5c5cff:#ff00ff:#00ffff:#ffffff"
)


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


THEME = {"fg": _hex(INK), "bg": _hex(BACKGROUND), "palette": PALETTE}


def _colored_line(line: str, colors: bytes, offset: int, grounds: bytes | None = None) -> str:
    """One line with an SGR sequence wherever the cell colour (or background) changes."""
    parts: list[str] = []
    current: bytes | None = None
    for index, char in enumerate(line):
        rgb = colors[offset + 3 * index : offset + 3 * index + 3]
        back = grounds[offset + 3 * index : offset + 3 * index + 3] if grounds else b""
        if rgb + back != current:
            if back:
                parts.append(f"\x1b[48;2;{back[0]};{back[1]};{back[2]}m")
            parts.append(f"\x1b[38;2;{rgb[0]};{rgb[1]};{rgb[2]}m")
            current = rgb + back
        parts.append(char)
    parts.append(RESET)
    return "".join(parts)


def frame_output(frame: Frame, width: int) -> str:
    """The terminal output that shows ``frame``: home, clear, lines joined by CRLF."""
    lines = frame.lines
    if frame.colors is not None:
        lines = [
            _colored_line(line, frame.colors, row * width * 3, frame.backgrounds)
            for row, line in enumerate(lines)
        ]
    return HOME_AND_CLEAR + "\r\n".join(lines)


def cast_header(document: ArtworkDocument, *, title: str, timestamp: int) -> dict[str, Any]:
    """The header line: version 2, size in cells, title, duration (s), timestamp, theme."""
    header: dict[str, Any] = {
        "version": 2,
        "width": document.width,
        "height": document.height,
        "timestamp": int(timestamp),
        "duration": round(document.duration_ms / 1000, 6),
        "title": title or "Untitled",
        "env": {"TERM": "xterm-256color"},
        "theme": THEME,
    }
    return header


def cast_bytes(document: ArtworkDocument, *, title: str = "", timestamp: int = 0) -> bytes:
    """The whole recording: the header, then one ``"o"`` event per frame, UTF-8."""
    lines = [json.dumps(cast_header(document, title=title, timestamp=timestamp))]
    start_ms = 0
    for frame in document.frames:
        event = [round(start_ms / 1000, 6), "o", frame_output(frame, document.width)]
        lines.append(json.dumps(event, ensure_ascii=True))
        start_ms += frame.duration_ms
    return ("\n".join(lines) + "\n").encode("utf-8")
