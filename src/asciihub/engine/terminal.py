"""A terminal screen (pyte) read back as artwork frames: text and per-cell colours.

Shared by the asciicast and ANSI art importers. Colours are what the terminal shows:
the 16 xterm colours by name, the 256-colour cube and truecolor as hex; a cell left
at the default foreground takes ``DEFAULT_FG`` (the ink of the drawn exports). A
frame whose cells all have the default foreground carries no colours.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

import pyte

DEFAULT_FG = (0xDE, 0xDE, 0xD6)
DEFAULT_BG = (0x11, 0x11, 0x14)

# xterm's 16 colours under pyte's names ("brown" is SGR 33, yellow).
NAMED = {
    "black": (0x00, 0x00, 0x00),
    "red": (0xCD, 0x00, 0x00),
    "green": (0x00, 0xCD, 0x00),
    "brown": (0xCD, 0xCD, 0x00),
    "yellow": (0xCD, 0xCD, 0x00),
    "blue": (0x00, 0x00, 0xEE),
    "magenta": (0xCD, 0x00, 0xCD),
    "cyan": (0x00, 0xCD, 0xCD),
    "white": (0xE5, 0xE5, 0xE5),
    "brightblack": (0x7F, 0x7F, 0x7F),
    "brightred": (0xFF, 0x00, 0x00),
    "brightgreen": (0x00, 0xFF, 0x00),
    "brightbrown": (0xFF, 0xFF, 0x00),
    "brightyellow": (0xFF, 0xFF, 0x00),
    "brightblue": (0x5C, 0x5C, 0xFF),
    "brightmagenta": (0xFF, 0x00, 0xFF),
    "brightcyan": (0x00, 0xFF, 0xFF),
    "brightwhite": (0xFF, 0xFF, 0xFF),
}


@dataclass(frozen=True)
class ScreenFrame:
    """One screenful: ``rows`` lines of ``columns`` characters and optional RGB bytes."""

    text: str
    colors: bytes | None


def _rgb(name: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if name == "default":
        return default
    named = NAMED.get(name)
    if named is not None:
        return named
    if len(name) == 6:
        try:
            value = int(name, 16)
        except ValueError:
            return default
        return (value >> 16) & 0xFF, (value >> 8) & 0xFF, value & 0xFF
    return default


def foreground(cell: Any) -> tuple[int, int, int] | None:
    """The RGB ink of a pyte cell, or None for the default foreground."""
    fg = cell.bg if cell.reverse else cell.fg
    if fg == "default":
        return DEFAULT_BG if cell.reverse else None
    return _rgb(fg, DEFAULT_FG)


def background(cell: Any) -> tuple[int, int, int] | None:
    """The RGB background of a pyte cell, or None for the default background.

    Not stored yet: the document holds foreground colours only.
    """
    bg = cell.fg if cell.reverse else cell.bg
    if bg == "default":
        return DEFAULT_FG if cell.reverse else None
    return _rgb(bg, DEFAULT_BG)


def _glyph(data: str) -> str:
    if not data:
        return " "
    char = unicodedata.normalize("NFC", data)[0]
    return " " if unicodedata.category(char) in ("Cc", "Cs", "Cf") else char


def read_screen(screen: Any, *, rows: int | None = None, columns: int | None = None) -> ScreenFrame:
    """The first ``rows`` x ``columns`` cells of a pyte screen as text and colours."""
    rows = screen.lines if rows is None else rows
    columns = screen.columns if columns is None else columns
    lines: list[str] = []
    colours = bytearray()
    coloured = False
    for y in range(rows):
        line = screen.buffer[y]
        chars: list[str] = []
        for x in range(columns):
            cell = line[x]
            chars.append(_glyph(cell.data))
            ink = foreground(cell)
            if ink is not None:
                coloured = True
            colours.extend(ink or DEFAULT_FG)
        lines.append("".join(chars))
    return ScreenFrame("\n".join(lines), bytes(colours) if coloured else None)


def new_screen(columns: int, rows: int, *, newline_returns: bool = False) -> tuple[Any, Any]:
    """A pyte screen and the stream that feeds it (``\\n`` also returns when asked)."""
    screen = pyte.Screen(columns, rows)
    if newline_returns:
        screen.set_mode(pyte.modes.LNM)
    stream = pyte.Stream(screen)
    return screen, stream
