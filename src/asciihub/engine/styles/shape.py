"""The shape style: per cell, the ASCII glyph whose bitmap best matches the pixels.

Each cell is sampled at ``sub_rows x sub_cols`` (4 x 2 by default: finer grids chase
detail a viewer never resolves) and compared with every glyph's bitmap at the same
resolution. The cost is the squared error plus ``tone_weight`` times the squared error
of the cell's mean, so structure decides between glyphs of the right tone. Expanded,
both terms are linear in the cell's samples, so all cells are matched at once with one
matrix product: ``|t - g|^2 = |t|^2 - 2 t.g + |g|^2``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import PRINTABLE_ASCII
from asciihub.engine.dither import diffuse_cells
from asciihub.engine.glyphs import glyph_features
from asciihub.engine.matmul import rows_matmul

Codes = npt.NDArray[np.uint32]
Plane = npt.NDArray[np.float32]

SHAPE_SCALE = 0.27
"""Light of a white cell in glyph ink units, the densest glyph's mean (``M``, 0.27):
the light a cell asks for (perceptual by default) is matched as ink coverage."""

TONE_WEIGHT = 2.5
"""Weight of the cell-mean error against the per-sample error."""


@lru_cache(maxsize=8)
def _prepared(
    alphabet: str, sub_rows: int, sub_cols: int, tone_weight: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.uint32]]:
    features = glyph_features(alphabet, sub_rows, sub_cols)
    count = sub_rows * sub_cols
    mean = features.mean(axis=1)
    weights = (2.0 * features.T + 2.0 * tone_weight * mean[None, :]).astype(np.float32)
    bias = ((features * features).sum(axis=1) + tone_weight * count * mean * mean).astype(
        np.float32
    )
    codes = np.array([ord(char) for char in alphabet], dtype=np.uint32)
    return weights, bias, codes


def shape_codes(
    samples: npt.NDArray[np.float32],
    *,
    sub_rows: int = 4,
    sub_cols: int = 2,
    alphabet: str = PRINTABLE_ASCII,
    scale: float = SHAPE_SCALE,
    tone_weight: float = TONE_WEIGHT,
    dither: str = "none",
) -> Codes:
    """Map ``float32`` (rows * sub_rows, columns * sub_cols) samples to glyph code points.

    With ``dither="floyd-steinberg"`` each cell's tone error (its light against the
    chosen glyph's, in linear light) is carried to the cells not yet matched.
    """
    total_rows, total_cols = samples.shape
    rows, cols = total_rows // sub_rows, total_cols // sub_cols
    grid = (
        samples[: rows * sub_rows, : cols * sub_cols]
        .reshape(rows, sub_rows, cols, sub_cols)
        .transpose(0, 2, 1, 3)
        .reshape(rows, cols, sub_rows * sub_cols)
    )
    weights, bias, codes = _prepared(alphabet, sub_rows, sub_cols, tone_weight)
    light = glyph_features(alphabet, sub_rows, sub_cols).mean(axis=1) / np.float32(scale)

    def choose(batch: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.intp], Plane]:
        score = rows_matmul(batch * np.float32(scale), weights)
        score -= bias
        best = np.asarray(np.argmax(score, axis=1), dtype=np.intp)
        return best, np.asarray(light[best], dtype=np.float32)

    if dither in ("floyd-steinberg", "fs"):
        best = diffuse_cells(np.ascontiguousarray(grid), choose)
    else:
        best = choose(grid.reshape(rows * cols, -1))[0].reshape(rows, cols)
    return np.asarray(codes[best], dtype=np.uint32)


@lru_cache(maxsize=8)
def _structure(alphabet: str, sub_rows: int, sub_cols: int) -> tuple[npt.NDArray[np.float32], int]:
    features = glyph_features(alphabet, sub_rows, sub_cols)
    centred = features - features.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred * centred).sum(axis=1, keepdims=True))
    unit = np.where(norm > 1e-3, centred / np.maximum(norm, 1e-6), 0.0).astype(np.float32)
    blank = int(np.argmin(features.sum(axis=1)))
    return np.ascontiguousarray(unit.T), blank


def shape_codes_fgbg(
    samples: npt.NDArray[np.float32],
    *,
    sub_rows: int = 4,
    sub_cols: int = 2,
    alphabet: str = PRINTABLE_ASCII,
) -> Codes:
    """Glyphs for two colours per cell: the best-correlated shape, ``uint32`` (rows, columns).

    With a free foreground and background, any glyph's tone can be met, so only its
    structure counts: the glyph whose centred bitmap best matches the cell's centred
    samples (either sign; the colours may swap) wins. Flat cells get the blank glyph.
    """
    total_rows, total_cols = samples.shape
    rows, cols = total_rows // sub_rows, total_cols // sub_cols
    cells = (
        samples[: rows * sub_rows, : cols * sub_cols]
        .reshape(rows, sub_rows, cols, sub_cols)
        .transpose(0, 2, 1, 3)
        .reshape(rows * cols, sub_rows * sub_cols)
    )
    unit, blank = _structure(alphabet, sub_rows, sub_cols)
    # The glyph vectors are centred, so the cell's mean drops out of the product.
    score = rows_matmul(np.ascontiguousarray(cells), unit)
    np.abs(score, out=score)
    best = np.argmax(score, axis=1)
    spread = (cells * cells).sum(axis=1) - cells.sum(axis=1) ** 2 / np.float32(cells.shape[1])
    best = np.where(spread < 1e-5, blank, best)
    codes = np.array([ord(char) for char in alphabet], dtype=np.uint32)
    return np.asarray(codes[best].reshape(rows, cols), dtype=np.uint32)
