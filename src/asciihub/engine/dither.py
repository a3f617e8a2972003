"""Quantising a plane to a set of levels: nearest, Floyd–Steinberg, ordered (Bayer).

Input planes are ``float32`` (rows, columns); levels are ``float32`` (n,) ascending.
The result is ``intp`` (rows, columns) indices into the levels.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from asciihub.errors import InvalidInput

Plane = npt.NDArray[np.float32]
Indices = npt.NDArray[np.intp]

_BAYER_4 = (
    np.array([[0, 8, 2, 10], [12, 4, 14, 6], [3, 11, 1, 9], [15, 7, 13, 5]], dtype=np.float32) + 0.5
) / 16.0


def nearest_levels(plane: Plane, levels: Plane) -> Indices:
    """Index of the nearest level for every value."""
    mids = (levels[1:] + levels[:-1]) / 2.0
    return np.searchsorted(mids, plane).astype(np.intp)


def ordered(plane: Plane, levels: Plane) -> Indices:
    """Ordered dithering with a 4x4 Bayer matrix, in level-index space."""
    rows, cols = plane.shape
    position = np.interp(plane, levels, np.arange(len(levels), dtype=np.float32))
    tiles = np.tile(_BAYER_4, (rows // 4 + 1, cols // 4 + 1))[:rows, :cols]
    index = np.floor(position + tiles).astype(np.intp)
    return np.clip(index, 0, len(levels) - 1)


def floyd_steinberg(plane: Plane, levels: Plane) -> Indices:
    """Floyd–Steinberg error diffusion, exact, vectorised along anti-diagonals.

    Cell (r, c) depends on (r, c-1) and on row r-1 up to column c+1, so every cell with
    the same ``c + 2r`` can be quantised at once. Rows are skewed by ``2r`` so that each
    such anti-diagonal is one contiguous line of a work array: ``columns + 2 * rows``
    numpy steps on slices, every neighbour update a shifted slice.
    """
    rows, cols = plane.shape
    steps = cols + 2 * rows
    # skewed[s, r] holds cell (r, s - 2r); cells outside the image never carry error.
    skewed = np.zeros((steps + 3, rows), dtype=np.float32)
    valid = np.zeros((steps + 3, rows), dtype=bool)
    shift = 2 * np.arange(rows)
    index_s = shift[None, :] + np.arange(cols)[:, None]  # (cols, rows)
    skewed[index_s, np.arange(rows)[None, :]] = plane.T
    valid[index_s, np.arange(rows)[None, :]] = True
    chosen = np.zeros((steps + 3, rows), dtype=np.intp)
    mids = (levels[1:] + levels[:-1]) / 2.0
    weights = np.array([[3 / 16], [5 / 16], [1 / 16]], dtype=np.float32)
    mask = valid.astype(np.float32)
    for step in range(steps):
        value = skewed[step]
        index = np.searchsorted(mids, value)
        chosen[step] = index
        error = (value - levels[index]) * mask[step]
        skewed[step + 1] += error * np.float32(7 / 16)
        skewed[step + 1 : step + 4, 1:] += weights * error[:-1]
    return np.asarray(chosen[index_s, np.arange(rows)[None, :]].T, dtype=np.intp)


def quantise(plane: Plane, levels: Plane, mode: str = "none") -> Indices:
    """Quantise ``plane`` to ``levels`` with dithering ``mode`` (none, floyd-steinberg, ordered)."""
    if mode == "none":
        return nearest_levels(plane, levels)
    if mode in ("floyd-steinberg", "fs"):
        return floyd_steinberg(plane, levels)
    if mode == "ordered":
        return ordered(plane, levels)
    message = f"unknown dithering {mode!r}; choose none, floyd-steinberg or ordered"
    raise InvalidInput(message, code="invalid_option")


def diffuse_cells(
    cells: npt.NDArray[np.float32],
    choose: Callable[[npt.NDArray[np.float32]], tuple[Indices, Plane]],
) -> Indices:
    """Floyd–Steinberg on whole cells: ``cells`` ``float32`` (rows, columns, n) samples.

    ``choose`` maps a batch of cells (m, n) to each cell's choice (m,) and the mean
    light that choice shows (m,). The difference from the cell's own mean is carried
    to the neighbours as an even shift of their samples, along anti-diagonals as in
    :func:`floyd_steinberg`. Returns the choices, ``intp`` (rows, columns).
    """
    rows, cols, _ = cells.shape
    carry = np.zeros((rows + 1, cols + 2), dtype=np.float32)
    out = np.zeros((rows, cols), dtype=np.intp)
    all_rows = np.arange(rows)
    for step in range(cols + 2 * (rows - 1)):
        low = max(0, (step - cols + 2) // 2)
        high = min(rows - 1, step // 2)
        if low > high:
            continue
        r = all_rows[low : high + 1]
        c = step - 2 * r
        batch = cells[r, c] + carry[r, c + 1][:, None]
        choice, shown = choose(np.clip(batch, 0.0, 1.0).astype(np.float32))
        out[r, c] = choice
        error = batch.mean(axis=1) - shown
        carry[r, c + 2] += error * (7 / 16)
        carry[r + 1, c] += error * (3 / 16)
        carry[r + 1, c + 1] += error * (5 / 16)
        carry[r + 1, c + 2] += error * (1 / 16)
    return out
