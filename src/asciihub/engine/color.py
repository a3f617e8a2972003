"""Colour for terminals (ANSI 16, ANSI 256, truecolor) and code-point grids to text.

Colours are ``uint8`` (rows, columns, 3) RGB, one per cell (a foreground and, when
given, a background); code points are ``uint32`` (rows, columns). The 256 and 16
colour modes pick the palette entry nearest in OKLab, a perceptual colour space.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import COLOR_MODES
from asciihub.engine.matmul import rows_matmul
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


def _linear(colors: Colors) -> npt.NDArray[np.float32]:
    from asciihub.engine.resize import SRGB_TO_LINEAR

    return np.asarray(SRGB_TO_LINEAR[np.asarray(colors, dtype=np.uint8)], dtype=np.float32)


def oklab(colors: Colors) -> npt.NDArray[np.float32]:
    """sRGB ``uint8`` (..., 3) to OKLab ``float32`` (..., 3) (L in [0, 1])."""
    lms = _linear(colors) @ _OKLAB_M1.T
    return np.asarray(np.cbrt(lms) @ _OKLAB_M2.T, dtype=np.float32)


_OKLAB_M1 = np.array(
    [
        [0.4122214708, 0.5363325363, 0.0514459929],
        [0.2119034982, 0.6806995451, 0.1073969566],
        [0.0883024619, 0.2817188376, 0.6299787005],
    ],
    dtype=np.float32,
)
_OKLAB_M2 = np.array(
    [
        [0.2104542553, 0.7936177850, -0.0040720468],
        [1.9779984951, -2.4285922050, 0.4505937099],
        [0.0259040371, 0.7827717662, -0.8086757660],
    ],
    dtype=np.float32,
)


def _palette_256() -> npt.NDArray[np.int32]:
    cube = [(r, g, b) for r in _CUBE for g in _CUBE for b in _CUBE]
    greys = [(8 + 10 * i,) * 3 for i in range(24)]
    return np.array([*ANSI16_PALETTE.tolist(), *cube, *greys], dtype=np.int32)


ANSI256_PALETTE = _palette_256()
"""The xterm 256-colour palette, RGB (16 system colours, the 6x6x6 cube, 24 greys)."""

_PALETTE_LAB: dict[int, npt.NDArray[np.float32]] = {}


def _nearest(colors: Colors, palette: npt.NDArray[np.int32], first: int) -> npt.NDArray[np.intp]:
    key = len(palette)
    if key not in _PALETTE_LAB:
        _PALETTE_LAB[key] = oklab(palette.astype(np.uint8))
    table = _PALETTE_LAB[key][first:]
    flat = oklab(np.asarray(colors, dtype=np.uint8).reshape(-1, 3))
    # |a - b|^2 = |a|^2 - 2 a.b + |b|^2; |a|^2 is the same for every entry.
    score = rows_matmul(flat, np.ascontiguousarray(2.0 * table.T, dtype=np.float32))
    score -= (table * table).sum(axis=1)[None, :]
    best = np.argmax(score, axis=1) + first
    return np.asarray(best.reshape(np.shape(colors)[:-1]), dtype=np.intp)


def ansi16_index(colors: Colors) -> npt.NDArray[np.intp]:
    """Nearest xterm 16-colour index of each colour in OKLab: ``intp`` (...)."""
    return _nearest(colors, ANSI16_PALETTE, 0)


def ansi256_index(colors: Colors) -> npt.NDArray[np.intp]:
    """Nearest xterm 256-colour index (cube or grey ramp) of each colour in OKLab: ``intp`` (...).

    The 16 system colours are left out: terminals redefine them.
    """
    return _nearest(colors, ANSI256_PALETTE, 16)


def _sgr(colors: Colors, mode: str, *, background: bool = False) -> npt.NDArray[np.str_]:
    if mode == "ansi16":
        index = ansi16_index(colors)
        low, high = (40, 100) if background else (30, 90)
        base = np.where(index < 8, low + index, high + index - 8)
        return np.char.add(np.char.add("\x1b[", base.astype(str)), "m")
    lead = "\x1b[48;" if background else "\x1b[38;"
    if mode == "ansi256":
        return np.char.add(np.char.add(lead + "5;", ansi256_index(colors).astype(str)), "m")
    parts = [colors[..., k].astype(str) for k in range(3)]
    joined = np.char.add(
        np.char.add(np.char.add(parts[0], ";"), np.char.add(parts[1], ";")), parts[2]
    )
    return np.char.add(np.char.add(lead + "2;", joined), "m")


def colorize(codes: Codes, colors: Colors, mode: str, backgrounds: Colors | None = None) -> str:
    """Text with SGR colours for a terminal; plain text when ``mode`` is none.

    ``colors`` set each cell's foreground and ``backgrounds`` (when given) its
    background. An escape sequence is written only where a colour changes along a
    line; each line ends with a reset.
    """
    check_color_mode(mode)
    text = codes_to_text(codes)
    if mode == "none":
        return text
    sgr = _sgr(colors, mode)
    if backgrounds is not None:
        sgr = np.char.add(_sgr(backgrounds, mode, background=True), sgr)
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


def colorize_text(
    text: str, colors: bytes | None, mode: str, *, backgrounds: bytes | None = None
) -> str:
    """A frame's text with its per-cell RGB ``colors`` (and ``backgrounds``) for a terminal."""
    check_color_mode(mode)
    if mode == "none" or colors is None:
        return text
    lines = text.split("\n")
    columns = max(len(line) for line in lines)
    codes = frame_grid(text, columns)
    if len(colors) != codes.size * 3:
        return text
    grid = np.frombuffer(colors, dtype=np.uint8).reshape(*codes.shape, 3)
    ground = None
    if backgrounds is not None and len(backgrounds) == codes.size * 3:
        ground = np.frombuffer(backgrounds, dtype=np.uint8).reshape(*codes.shape, 3)
    return colorize(codes, grid, mode, ground)
