"""Per-cell colours: a foreground and a background fitted to each cell's pixels.

A terminal shows a cell as ``bg + coverage * (fg - bg)`` in light, where ``coverage``
is the glyph's ink at each point. Given the chosen glyphs, each cell's two colours are
fitted by least squares to its sub-cell colours (``fgbg``), or the foreground alone
over a black ground (``fg``). Colours are linear light ``float32`` (..., 3) inside and
``uint8`` sRGB (rows, columns, 3) outside.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image

from asciihub.engine.glyphs import glyph_features
from asciihub.engine.resize import SRGB_TO_LINEAR, linear_to_srgb

Plane = npt.NDArray[np.float32]
Codes = npt.NDArray[np.uint32]
COLOR_LAYERS = ("fgbg", "fg")
"""Colour layers: foreground and background per cell, or foreground only."""

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
"""Rec. 709 weights of linear R, G, B in luminance."""


def sample_rgb_linear(image: Image.Image, shape: tuple[int, int]) -> Plane:
    """``image`` box-resampled to ``shape`` (rows, columns): ``float32`` linear RGB (.., 3)."""
    rows, cols = shape
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    factor = min(rgb.width // max(cols, 1), rgb.height // max(rows, 1))
    if factor >= 4:
        rgb = rgb.reduce(min(factor // 2, 8))
    linear = SRGB_TO_LINEAR[np.asarray(rgb, dtype=np.uint8)]
    planes = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(linear[..., k]), mode="F").resize(
                (cols, rows), Image.Resampling.BOX
            ),
            dtype=np.float32,
        )
        for k in range(3)
    ]
    return np.stack(planes, axis=-1)


@lru_cache(maxsize=16)
def _alphabet_table(alphabet: str, sub_rows: int, sub_cols: int) -> tuple[Codes, Plane]:
    chars = "".join(sorted(set(alphabet)))
    codes = np.array([ord(c) for c in chars], dtype=np.uint32)
    return codes, glyph_features(chars, sub_rows, sub_cols)


def code_features(codes: Codes, alphabet: str, sub_rows: int, sub_cols: int) -> Plane:
    """Ink of each cell's glyph at each sub-cell: ``float32`` (rows, columns, n)."""
    table, features = _alphabet_table(alphabet, sub_rows, sub_cols)
    index = np.clip(np.searchsorted(table, codes), 0, len(table) - 1)
    return np.asarray(features[index], dtype=np.float32)


def fit_fgbg(ink: Plane, colours: Plane) -> tuple[Plane, Plane]:
    """Least-squares (fg, bg), ``float32`` (rows, columns, 3): ``colours ~ bg + ink (fg - bg)``.

    ``ink`` is (rows, columns, n) and ``colours`` (rows, columns, n, 3). A glyph with
    no variation in ink (a space, a full block) leaves both colours at the cell mean
    shifted by its ink; the result is clipped to [0, 1].
    """
    mean_ink = ink.mean(axis=-1, keepdims=True)
    mean_rgb = colours.mean(axis=-2)
    centred = ink - mean_ink
    var = (centred * centred).sum(axis=-1)
    # The centred ink sums to zero, so the colours need no centring.
    cov = np.einsum("rcn,rcnk->rck", centred, colours)
    slope = cov / (var[..., None] + np.float32(1e-4))
    bg = mean_rgb - slope * mean_ink
    fg = bg + slope
    return np.clip(fg, 0.0, 1.0).astype(np.float32), np.clip(bg, 0.0, 1.0).astype(np.float32)


def fit_fg(ink: Plane, colours: Plane) -> Plane:
    """Least-squares fg ``float32`` (rows, columns, 3) for ``colours ~ ink * fg`` on black.

    A colour brighter than the display can show is scaled down as a whole, so its hue
    is kept; a cell without ink gets its mean colour.
    """
    power = (ink * ink).sum(axis=-1)
    fg = np.einsum("rcn,rcnk->rck", ink, colours) / np.maximum(power, 1e-6)[..., None]
    fg = np.where(power[..., None] > 1e-6, fg, colours.mean(axis=-2))
    peak = np.maximum(fg.max(axis=-1, keepdims=True), 1.0)
    return np.asarray(np.clip(fg / peak, 0.0, 1.0), dtype=np.float32)


def to_srgb_bytes(colours: Plane) -> bytes:
    """Linear ``float32`` (rows, columns, 3) to sRGB ``uint8`` bytes, row-major."""
    encoded = linear_to_srgb(colours) * np.float32(255.0) + np.float32(0.5)
    return bytes(np.clip(encoded, 0, 255).astype(np.uint8).tobytes())


def encoded_bytes(colours: Plane) -> bytes:
    """sRGB-encoded ``float32`` (rows, columns, 3) in [0, 1] to ``uint8`` bytes, row-major."""
    scaled = colours * np.float32(255.0) + np.float32(0.5)
    return bytes(np.clip(scaled, 0, 255).astype(np.uint8).tobytes())
