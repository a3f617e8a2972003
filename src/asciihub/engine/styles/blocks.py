"""Blocks (2x2 quadrants per cell) and braille (2x4 dots per cell)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import BRAILLE_BASE, BRAILLE_BITS, QUADRANT_BLOCKS
from asciihub.engine.dither import quantise

Codes = npt.NDArray[np.uint32]
_BINARY = np.array([0.0, 1.0], dtype=np.float32)
_QUADRANT_CODES = np.array([ord(char) for char in QUADRANT_BLOCKS], dtype=np.uint32)
_QUADRANT_BITS = np.array([[1, 2], [4, 8]], dtype=np.uint32)
_BRAILLE_WEIGHTS = np.array([[1 << bit for bit in row] for row in BRAILLE_BITS], dtype=np.uint32)


def _masks(bits: npt.NDArray[np.intp], weights: npt.NDArray[np.uint32]) -> Codes:
    sub_rows, sub_cols = weights.shape
    rows, cols = bits.shape[0] // sub_rows, bits.shape[1] // sub_cols
    cells = bits[: rows * sub_rows, : cols * sub_cols].reshape(rows, sub_rows, cols, sub_cols)
    weighted = cells.astype(np.uint32) * weights[None, :, None, :]
    return np.asarray(weighted.sum(axis=(1, 3), dtype=np.uint32), dtype=np.uint32)


def quadrant_codes(samples: npt.NDArray[np.float32], *, dither: str = "none") -> Codes:
    """``float32`` (rows * 2, columns * 2) light to quadrant block code points."""
    bits = quantise(samples, _BINARY, dither)
    return _QUADRANT_CODES[_masks(bits, _QUADRANT_BITS)]


def braille_codes(samples: npt.NDArray[np.float32], *, dither: str = "none") -> Codes:
    """``float32`` (rows * 4, columns * 2) light to braille code points."""
    bits = quantise(samples, _BINARY, dither)
    return (_masks(bits, _BRAILLE_WEIGHTS) + BRAILLE_BASE).astype(np.uint32)
