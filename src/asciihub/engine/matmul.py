"""Matrix products of many cells against a small table, on the calling thread.

OpenBLAS splits a product over its threads once it has more than about 2^18
multiply-adds. The engine's products are tall and thin (every cell's samples against
a few dozen glyphs or symbols), a fraction of a millisecond of work, and on a busy
machine waiting for the other threads costs ten times that. Splitting the rows into
chunks below the threshold keeps each product on one thread.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_SINGLE_THREAD_MACS = 1 << 18
"""Multiply-adds per product below which OpenBLAS stays on one thread."""


def rows_matmul(
    left: npt.NDArray[np.float32], right: npt.NDArray[np.float32]
) -> npt.NDArray[np.float32]:
    """``left @ right`` for ``float32`` (m, k) @ (k, n), in chunks of rows on one thread."""
    m, k = left.shape
    n = right.shape[1]
    step = max(1, _SINGLE_THREAD_MACS // max(k * n, 1))
    if m <= step:
        return np.asarray(left @ right, dtype=np.float32)
    out = np.empty((m, n), dtype=np.result_type(left, right))
    for start in range(0, m, step):
        np.matmul(left[start : start + step], right, out=out[start : start + step])
    return np.asarray(out, dtype=np.float32)
