"""The edges style: direction-aware line glyphs along edges, over a tone fill.

Gradients come from central differences on the samples; each cell sums its structure
tensor, whose dominant direction picks ``-``, ``/``, ``|`` or ``\\`` (``_`` when a
horizontal edge sits in the cell's lower part). Weak or incoherent cells keep the
tone fill of the simple ramp.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import SIMPLE_RAMP
from asciihub.engine.styles.ramp import ramp_codes

Codes = npt.NDArray[np.uint32]
# Edge direction in 4 bins of 45 degrees, starting at horizontal, counter-clockwise
# on screen (rows grow downwards, so a rising line is "/").
_LINES = np.array([ord("-"), ord("/"), ord("|"), ord("\\")], dtype=np.uint32)


def _cell_sum(plane: Any, sub_rows: int, sub_cols: int) -> npt.NDArray[np.float32]:
    rows, cols = plane.shape[0] // sub_rows, plane.shape[1] // sub_cols
    cut = plane[: rows * sub_rows, : cols * sub_cols]
    across = cut[:, 0::sub_cols].astype(np.float32)  # strided adds beat a small-axis sum
    for offset in range(1, sub_cols):
        across += cut[:, offset::sub_cols]
    return np.asarray(across.reshape(rows, sub_rows, cols).sum(axis=1), dtype=np.float32)


def edge_codes(
    samples: npt.NDArray[np.float32],
    *,
    sub_rows: int = 4,
    sub_cols: int = 2,
    threshold: float = 0.12,
    dither: str = "none",
    fill: str = SIMPLE_RAMP,
    fill_light: npt.NDArray[np.float32] | None = None,
) -> Codes:
    """``float32`` (rows * sub_rows, columns * sub_cols) light to edge and fill code points.

    Edges are found on ``samples`` (linear light); the fill's tone comes from
    ``fill_light`` (the same grid, e.g. the perceptual tone) when given.
    """
    gy, gx = np.gradient(samples.astype(np.float32))
    gx = gx * 2.0  # a sample is half as wide as tall in a 1:2 cell with 2x4 samples
    jxx = _cell_sum(gx * gx, sub_rows, sub_cols)
    jyy = _cell_sum(gy * gy, sub_rows, sub_cols)
    jxy = _cell_sum(gx * gy, sub_rows, sub_cols)
    count = float(sub_rows * sub_cols)
    strength = np.sqrt((jxx + jyy) / count)
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / np.maximum(jxx + jyy, 1e-9)
    # Gradient angle (screen y down); the edge runs perpendicular to it.
    angle = 0.5 * np.arctan2(2 * jxy, jxx - jyy)
    edge = (np.degrees(-angle) + 90.0) % 180.0
    bins = np.round(edge / 45.0).astype(np.intp) % 4
    lines = _LINES[bins]
    weights = jyy
    position = np.arange(samples.shape[0], dtype=np.float32) % sub_rows
    low = _cell_sum((gy * gy) * position[:, None], sub_rows, sub_cols) / np.maximum(weights, 1e-9)
    lines = np.where((bins == 0) & (low >= (sub_rows - 1) * 0.7), np.uint32(ord("_")), lines)
    light = samples if fill_light is None else fill_light
    tone = _cell_sum(light, sub_rows, sub_cols) / count
    codes = ramp_codes(tone.astype(np.float32), fill, dither=dither)
    is_edge = (strength > threshold) & (coherence > 0.5)
    return np.where(is_edge, lines, codes).astype(np.uint32)
