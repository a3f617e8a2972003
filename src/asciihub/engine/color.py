"""Colour for terminals (ANSI 16, ANSI 256, truecolor) and code-point grids to text.

Colours are ``uint8`` (rows, columns, 3) RGB, one per cell; code points are ``uint32``
(rows, columns).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import COLOR_MODES
from asciihub.errors import InvalidInput

Codes = npt.NDArray[np.uint32]
Colors = npt.NDArray[np.uint8]

ANSI16_PALETTE = np.array(
    [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
        (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0),
        (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ],
    dtype=np.int32,
)  # fmt: skip
"""The xterm default 16-colour palette, RGB."""

_CUBE = np.array([0, 95, 135, 175, 215, 255], dtype=np.int32)
RESET = "\x1b[0m"
"""SGR sequence that restores the terminal's colours."""


def codes_to_text(codes: Codes) -> str:
    """Join a (rows, columns) ``uint32`` code-point grid into lines separated by ``\\n``."""
    rows, _ = codes.shape
    with_newlines = np.concatenate(
        [codes, np.full((rows, 1), 10, dtype=np.uint32)], axis=1
    ).ravel()[:-1]
    if int(with_newlines.max(initial=0)) < 128:
        return with_newlines.astype(np.uint8).tobytes().decode("ascii")
    return with_newlines.astype("<u4").tobytes().decode("utf-32-le")


def check_color_mode(mode: str) -> str:
    """Return ``mode`` if it is a known colour mode, else raise ``InvalidInput``."""
    if mode not in COLOR_MODES:
        message = f"unknown colour mode {mode!r}; choose {', '.join(COLOR_MODES)}"
        raise InvalidInput(message, code="invalid_option")
    return mode


def ansi16_index(colors: Colors) -> npt.NDArray[np.intp]:
    """Nearest xterm 16-colour index of each colour: ``intp`` (...)."""
    diff = colors[..., None, :].astype(np.int32) - ANSI16_PALETTE
    return np.asarray(np.argmin((diff * diff).sum(axis=-1), axis=-1), dtype=np.intp)


def ansi256_index(colors: Colors) -> npt.NDArray[np.intp]:
    """Nearest xterm 256-colour index (cube or grey ramp) of each colour: ``intp`` (...)."""
    rgb = colors.astype(np.int32)
    level = np.argmin(np.abs(rgb[..., None] - _CUBE), axis=-1)
    cube_rgb = _CUBE[level]
    cube_index = 16 + 36 * level[..., 0] + 6 * level[..., 1] + level[..., 2]
    grey = np.clip(np.round((rgb.mean(axis=-1) - 8) / 10), 0, 23).astype(np.int32)
    grey_rgb = (8 + 10 * grey)[..., None]
    cube_err = ((rgb - cube_rgb) ** 2).sum(axis=-1)
    grey_err = ((rgb - grey_rgb) ** 2).sum(axis=-1)
    return np.asarray(np.where(grey_err < cube_err, 232 + grey, cube_index), dtype=np.intp)


def _sgr(colors: Colors, mode: str) -> npt.NDArray[np.str_]:
    if mode == "ansi16":
        index = ansi16_index(colors)
        base = np.where(index < 8, 30 + index, 90 + index - 8)
        return np.char.add(np.char.add("\x1b[", base.astype(str)), "m")
    if mode == "ansi256":
        return np.char.add(np.char.add("\x1b[38;5;", ansi256_index(colors).astype(str)), "m")
    parts = [colors[..., k].astype(str) for k in range(3)]
    joined = np.char.add(
        np.char.add(np.char.add(parts[0], ";"), np.char.add(parts[1], ";")), parts[2]
    )
    return np.char.add(np.char.add("\x1b[38;2;", joined), "m")


def colorize(codes: Codes, colors: Colors, mode: str) -> str:
    """Text with SGR foreground colours for a terminal; plain text when ``mode`` is none.

    An escape sequence is written only where the colour changes along a line; each
    line ends with a reset.
    """
    check_color_mode(mode)
    text = codes_to_text(codes)
    if mode == "none":
        return text
    sgr = _sgr(colors, mode)
    changed = np.ones(sgr.shape, dtype=bool)
    changed[:, 1:] = sgr[:, 1:] != sgr[:, :-1]
    prefix = np.where(changed, sgr, "")
    chars = np.array(text.split("\n"), dtype=str).view("U1").reshape(codes.shape)
    cells = np.char.add(prefix, chars)
    return "\n".join("".join(row.tolist()) + RESET for row in cells)


def frame_grid(text: str, columns: int) -> Codes:
    """A frame's text as ``uint32`` (rows, columns) code points (lines padded with spaces)."""
    lines = [line.ljust(columns)[:columns] for line in text.split("\n")]
    raw = "".join(lines).encode("utf-32-le")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32).reshape(len(lines), columns)


def colorize_text(text: str, colors: bytes | None, mode: str) -> str:
    """A frame's text with its per-cell RGB ``colors`` as terminal colours in ``mode``."""
    check_color_mode(mode)
    if mode == "none" or colors is None:
        return text
    lines = text.split("\n")
    columns = max(len(line) for line in lines)
    codes = frame_grid(text, columns)
    if len(colors) != codes.size * 3:
        return text
    grid = np.frombuffer(colors, dtype=np.uint8).reshape(*codes.shape, 3)
    return colorize(codes, grid, mode)
