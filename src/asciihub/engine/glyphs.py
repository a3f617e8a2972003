"""Glyph bitmaps rendered with the bundled monospace font, and their ink coverage.

Bitmaps are ``float32`` ink coverage in [0, 1] (light ink on a dark ground, so the
value is the light a cell emits), shaped (glyphs, rows, columns). Everything here is
cached: the font is rasterised once per process and size.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

FONT_PATH = Path(__file__).parent / "fonts" / "DejaVuSansMono.ttf"
"""The bundled monospace font (DejaVu Sans Mono, Bitstream Vera licence)."""

CACHE_PATH = Path(__file__).parent / "fonts" / "DejaVuSansMono-ascii-24x12.npy"
"""Printable ASCII rasterised at 24x12 as ``uint8`` (95, 24, 12), made by
``scripts/gen_glyph_cache.py``: read instead of rasterising at every process start."""

_ASCII = "".join(chr(code) for code in range(32, 127))

_SUPERSAMPLE = 4
_ADVANCE_EM = 0.6021  # DejaVu Sans Mono advance width, in em


@lru_cache(maxsize=1)
def _ascii_cache() -> npt.NDArray[np.float32] | None:
    try:
        raw = np.load(CACHE_PATH, allow_pickle=False)
    except (OSError, ValueError):
        return None
    if raw.shape != (len(_ASCII), 24, 12):
        return None
    return np.asarray(raw, dtype=np.float32) / np.float32(255.0)


@lru_cache(maxsize=16)
def glyph_bitmaps(chars: str, cell_rows: int = 24, cell_cols: int = 12) -> npt.NDArray[np.float32]:
    """Ink coverage of each char in a cell: ``float32`` (len(chars), cell_rows, cell_cols).

    Each glyph is drawn at four times the size and box-averaged, so the values are the
    fraction of each output pixel the glyph covers. Printable ASCII at 24x12 comes from
    the cache file next to the font.
    """
    if (cell_rows, cell_cols) == (24, 12) and all(" " <= c <= "~" for c in chars):
        cache = _ascii_cache()
        if cache is not None:
            return np.asarray(cache[[ord(c) - 32 for c in chars]], dtype=np.float32)
    return render_bitmaps(chars, cell_rows, cell_cols)


def render_bitmaps(chars: str, cell_rows: int, cell_cols: int) -> npt.NDArray[np.float32]:
    """Rasterise ``chars`` with the bundled font: ``float32`` (len(chars), cell_rows, cell_cols)."""
    from PIL import Image, ImageDraw, ImageFont

    big_w, big_h = cell_cols * _SUPERSAMPLE, cell_rows * _SUPERSAMPLE
    size = big_w / _ADVANCE_EM
    font = ImageFont.truetype(str(FONT_PATH), size=round(size))
    ascent, descent = font.getmetrics()
    top = (big_h - (ascent + descent)) / 2
    out = np.zeros((len(chars), cell_rows, cell_cols), dtype=np.float32)
    canvas = Image.new("L", (big_w, big_h))
    draw = ImageDraw.Draw(canvas)
    for index, char in enumerate(chars):
        draw.rectangle((0, 0, big_w, big_h), fill=0)
        if char.strip():
            draw.text((0, top), char, fill=255, font=font)
        small = canvas.reduce(_SUPERSAMPLE)
        out[index] = np.asarray(small, dtype=np.float32) / 255.0
    return out


@lru_cache(maxsize=64)
def ink_coverage(chars: str) -> npt.NDArray[np.float32]:
    """Mean ink coverage of each char in a 1:2 cell: ``float32`` (len(chars),)."""
    bitmaps = glyph_bitmaps(chars)
    return np.asarray(bitmaps.reshape(len(chars), -1).mean(axis=1), dtype=np.float32)


@lru_cache(maxsize=64)
def calibrated_ramp(chars: str) -> tuple[str, npt.NDArray[np.float32]]:
    """The distinct chars of ``chars`` sorted by measured ink, with their coverages.

    Characters whose coverage is within 0.05 % of a lighter one's add nothing and are
    dropped, so each level of the returned ramp is a distinct tone.
    """
    unique = "".join(dict.fromkeys(chars))
    coverage = ink_coverage(unique)
    order = np.argsort(coverage, kind="stable")
    kept: list[int] = []
    for index in order.tolist():
        if not kept or coverage[index] - coverage[kept[-1]] > 0.0005:
            kept.append(index)
    ramp = "".join(unique[i] for i in kept)
    return ramp, coverage[kept].astype(np.float32)


@lru_cache(maxsize=16)
def glyph_features(chars: str, sub_rows: int, sub_cols: int) -> npt.NDArray[np.float32]:
    """Glyph bitmaps box-averaged to a sub-cell grid: ``float32`` (glyphs, sub_rows * sub_cols)."""
    cell_rows, cell_cols = sub_rows * 6, sub_cols * 6
    bitmaps = glyph_bitmaps(chars, cell_rows, cell_cols)
    blocks = bitmaps.reshape(len(chars), sub_rows, 6, sub_cols, 6).mean(axis=(2, 4))
    return np.asarray(blocks.reshape(len(chars), -1), dtype=np.float32)
