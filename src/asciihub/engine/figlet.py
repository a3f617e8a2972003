"""Text to banner: pyfiglet fonts, wrapping to a width, alignment and borders."""

from __future__ import annotations

from functools import lru_cache

from asciihub.engine.document import Frame
from asciihub.errors import InvalidInput, TooLarge

ALIGNMENTS = ("left", "center", "right")
"""How banner lines are placed within the width."""

BORDERS: dict[str, str] = {
    "none": "",
    "ascii": "+-+|+-+|",
    "single": "┌─┐│┘─└│",
    "double": "╔═╗║╝═╚║",
    "rounded": "╭─╮│╯─╰│",
}
"""Border styles: corners and sides clockwise from the top-left."""

MAX_BANNER_TEXT = 500
"""Longest text a banner renders, in characters."""


@lru_cache(maxsize=1)
def list_fonts() -> tuple[str, ...]:
    """Every pyfiglet font name, sorted."""
    from pyfiglet import FigletFont

    names: list[str] = FigletFont.getFonts()  # type: ignore[no-untyped-call]
    return tuple(sorted(names))


def _render(figlet: object, text: str) -> list[str]:
    rendered = figlet.renderText(text)  # type: ignore[attr-defined]
    lines = [line.rstrip() for line in str(rendered).split("\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines or [""]


def _blocks(text: str, font: str, width: int) -> list[list[str]]:
    """Greedy word wrap: each block is the figlet lines of the words that fit."""
    from pyfiglet import Figlet, FontNotFound

    try:
        wide = Figlet(font=font, width=10_000)
        narrow = Figlet(font=font, width=width)
    except FontNotFound:
        message = f"unknown font {font!r}; `asciihub fonts` lists them"
        raise InvalidInput(message, code="unknown_font") from None
    blocks: list[list[str]] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split():
            attempt = f"{current} {word}" if current else word
            if max(len(line) for line in _render(wide, attempt)) <= width:
                current = attempt
                continue
            if current:
                blocks.append(_render(wide, current))
            current = word
            if max(len(line) for line in _render(wide, word)) > width:
                blocks.append(_render(narrow, word))
                current = ""
        if current:
            blocks.append(_render(wide, current))
    return blocks or [[""]]


def _align(blocks: list[list[str]], width: int, align: str) -> list[str]:
    """Shift each block as a whole, so the figlet letters stay joined."""
    out: list[str] = []
    for block in blocks:
        span = max(len(line) for line in block)
        room = max(0, width - span)
        shift = {"left": 0, "center": room // 2, "right": room}[align]
        out.extend(" " * shift + line for line in block)
    return out


def _frame_with_border(lines: list[str], border: str, padding: int) -> list[str]:
    if border == "none":
        return lines
    tl, top, tr, right, br, bottom, bl, left = tuple(BORDERS[border])
    inner = max(len(line) for line in lines) + 2 * padding
    pad = " " * padding
    body = [f"{left}{pad}{line.ljust(inner - 2 * padding)}{pad}{right}" for line in lines]
    return [tl + top * inner + tr, *body, bl + bottom * inner + br]


def banner_lines(
    text: str,
    *,
    font: str = "standard",
    width: int = 80,
    align: str = "left",
    border: str = "none",
    padding: int = 1,
) -> list[str]:
    """The banner's lines: ``text`` in a figlet ``font``, wrapped to ``width`` columns."""
    if not text.strip():
        message = "a banner needs some text"
        raise InvalidInput(message, code="empty_text")
    if len(text) > MAX_BANNER_TEXT:
        message = f"banner text is {len(text)} characters, over the limit of {MAX_BANNER_TEXT}"
        raise TooLarge(message, code="text_too_long")
    if align not in ALIGNMENTS:
        message = f"unknown alignment {align!r}; choose {', '.join(ALIGNMENTS)}"
        raise InvalidInput(message, code="invalid_option")
    if border not in BORDERS:
        message = f"unknown border {border!r}; choose {', '.join(BORDERS)}"
        raise InvalidInput(message, code="invalid_option")
    if not 10 <= width <= 1000:
        message = f"banner width {width} must be between 10 and 1000 columns"
        raise InvalidInput(message, code="invalid_size")
    clean = "".join(char for char in text if char.isprintable() or char == "\n")
    frame_cost = 2 + 2 * padding if border != "none" else 0
    inner = max(1, width - frame_cost)
    lines = _align(_blocks(clean, font, inner), inner, align)
    if align != "left":
        lines = [line.ljust(inner) for line in lines]
    return _frame_with_border(lines, border, padding)


def banner(
    text: str,
    *,
    font: str = "standard",
    width: int = 80,
    align: str = "left",
    border: str = "none",
    padding: int = 1,
) -> Frame:
    """Render ``text`` as a figlet banner frame (see :func:`banner_lines`)."""
    lines = banner_lines(text, font=font, width=width, align=align, border=border, padding=padding)
    span = max(len(line) for line in lines)
    return Frame(text="\n".join(line.ljust(span) for line in lines))
