"""Blocks (2x2 quadrants per cell) and braille (2x4 dots per cell).

Per cell the sub-cells are ranked by light. In mono, the cell's tone decides how many
sub-cells are lit (dithered across cells when asked) and the ranking decides which, so
a mid-tone cell keeps its structure instead of falling below one fixed threshold. With
two colours per cell (``fgbg``), the split along the ranking that leaves the least
colour error is chosen and the two groups become the foreground and the background.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from asciihub.engine.charsets import BRAILLE_BASE, BRAILLE_BITS, QUADRANT_BLOCKS
from asciihub.engine.dither import quantise

Codes = npt.NDArray[np.uint32]
Plane = npt.NDArray[np.float32]
_QUADRANT_CODES = np.array([ord(char) for char in QUADRANT_BLOCKS], dtype=np.uint32)
_QUADRANT_BITS = np.array([1, 2, 4, 8], dtype=np.uint32)
_BRAILLE_BITS = np.array([1 << bit for row in BRAILLE_BITS for bit in row], dtype=np.uint32)
# Tie-breaks for flat cells: a Bayer order, so equal sub-cells light in a spread pattern.
_TIES = {
    4: np.array([0, 2, 3, 1], dtype=np.float32),
    8: np.array([0, 4, 6, 2, 3, 7, 5, 1], dtype=np.float32),
}


def cell_stack(samples: Plane, sub_rows: int, sub_cols: int) -> Plane:
    """``float32`` (rows * sub_rows, columns * sub_cols[, k]) to (rows, columns, n[, k])."""
    rows, cols = samples.shape[0] // sub_rows, samples.shape[1] // sub_cols
    cut = samples[: rows * sub_rows, : cols * sub_cols]
    tail = cut.shape[2:]
    out = cut.reshape(rows, sub_rows, cols, sub_cols, *tail).swapaxes(1, 2)
    return np.ascontiguousarray(out.reshape(rows, cols, sub_rows * sub_cols, *tail))


def _ranks(cells: Plane) -> npt.NDArray[np.intp]:
    """Rank of each sub-cell in its cell, brightest first: ``intp`` (rows, columns, n)."""
    n = cells.shape[-1]
    keyed = cells + _TIES[n] * np.float32(1e-6)
    order = np.argsort(-keyed, axis=-1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(n, dtype=np.intp)[None, None, :], axis=-1)
    return ranks


def _mask(lit: npt.NDArray[np.bool_], bits: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    return np.asarray((lit * bits).sum(axis=-1, dtype=np.uint32), dtype=np.uint32)


def lit_by_tone(samples: Plane, sub_rows: int, sub_cols: int, dither: str) -> npt.NDArray[np.bool_]:
    """Which sub-cells to light, from the cell's tone and ranking: ``bool`` (rows, columns, n)."""
    cells = cell_stack(samples, sub_rows, sub_cols)
    n = cells.shape[-1]
    levels = (np.arange(n + 1) / n).astype(np.float32)
    count = quantise(cells.mean(axis=-1).astype(np.float32), levels, dither)
    return np.asarray(_ranks(cells) < count[..., None])


def lit_by_colour(
    luma: Plane,
    rgb: Plane,
    sub_rows: int,
    sub_cols: int,
    *,
    black_ground: bool = False,
    colours: Plane | None = None,
) -> npt.NDArray[np.bool_]:
    """The split along the light ranking with the least colour error: ``bool`` (rows, cols, n).

    See :func:`split_by_colour`, which also gives the groups' colour sums.
    """
    return split_by_colour(
        luma, rgb, sub_rows, sub_cols, black_ground=black_ground, colours=colours
    )[0]


def split_by_colour(
    luma: Plane,
    rgb: Plane,
    sub_rows: int,
    sub_cols: int,
    *,
    black_ground: bool = False,
    colours: Plane | None = None,
) -> tuple[npt.NDArray[np.bool_], Plane, Plane, npt.NDArray[np.intp]]:
    """The split along the light ranking with the least colour error, and its sums.

    Returns which sub-cells are lit, ``bool`` (rows, columns, n), the summed colour of
    the lit ones and of the whole cell, ``float32`` (rows, columns, 3), and how many are
    lit, ``intp`` (rows, columns).

    ``luma`` is ``float32`` (rows * sub_rows, columns * sub_cols) and ``rgb`` the same
    with 3 channels, both linear light. Each cell's sub-cells are sorted by light; for
    every split into the k brightest and the rest, the summed squared distance to the
    two group means follows from cumulative sums, and the smallest wins. With
    ``black_ground`` (a foreground only) the unlit group shows black instead of its mean.
    ``colours`` is ``cell_stack(rgb, sub_rows, sub_cols)`` when the caller has it.
    """
    cells = cell_stack(luma, sub_rows, sub_cols)
    if colours is None:
        colours = cell_stack(rgb, sub_rows, sub_cols)
    by_channel = np.moveaxis(colours, -1, 0)
    n = cells.shape[-1]
    order = np.argsort(-(cells + _TIES[n] * np.float32(1e-6)), axis=-1, kind="stable")
    k = np.arange(1, n, dtype=np.float32)
    between = np.zeros((*cells.shape[:2], n - 1), dtype=np.float32)
    whole = np.zeros(cells.shape[:2], dtype=np.float32)
    sums = []
    for channel in range(3):  # one channel at a time, sorted by light
        ranked = np.take_along_axis(by_channel[channel], order, -1)
        cum = np.cumsum(ranked, axis=-1)
        sums.append(cum)
        top, total = cum[..., :-1], cum[..., -1:]
        between += top * top / k
        if not black_ground:
            rest = total - top
            between += rest * rest / (n - k)
        whole += total[..., 0] * total[..., 0] / n
    if black_ground:
        between = np.concatenate([between, whole[..., None]], axis=-1)
        whole = np.zeros_like(whole)
    gain = between - whole[..., None]
    best = np.argmax(gain, axis=-1) + 1
    worth = np.take_along_axis(gain, (best - 1)[..., None], axis=-1)[..., 0] > 1e-7
    count = np.where(worth, best, 0)
    lit = np.zeros(order.shape, dtype=bool)
    np.put_along_axis(lit, order, np.arange(n)[None, None, :] < count[..., None], axis=-1)
    where = np.maximum(count - 1, 0)[..., None]
    lit_sum = np.stack([np.take_along_axis(cum, where, axis=-1)[..., 0] for cum in sums], axis=-1)
    lit_sum = np.where(count[..., None] > 0, lit_sum, np.float32(0.0))
    total_sum = np.stack([cum[..., -1] for cum in sums], axis=-1)
    return lit, np.asarray(lit_sum, dtype=np.float32), total_sum, count


def braille_colours(
    lit_sum: Plane, total: Plane, count: npt.NDArray[np.intp], n: int, *, black_ground: bool
) -> tuple[Plane, Plane]:
    """Least-squares ink and ground colours of braille cells from their group sums.

    A lit dot shows ``bg + BRAILLE_DOT_INK * (fg - bg)``, an unlit one ``bg``, so the
    ground is the unlit group's mean and the ink follows from the lit group's; with
    ``black_ground`` the ink alone over black (scaled down as a whole when brighter
    than the display can show). A cell with one group gets its mean. Both ``float32``
    (rows, columns, 3), clipped to [0, 1].
    """
    lit = count[..., None].astype(np.float32)
    mean = total / np.float32(n)
    lit_mean = lit_sum / np.maximum(lit, 1.0)
    dot = np.float32(BRAILLE_DOT_INK)
    if black_ground:
        fg = np.where(lit > 0, lit_mean / dot, mean)
        fg = fg / np.maximum(fg.max(axis=-1, keepdims=True), 1.0)
        bg = np.zeros_like(fg)
    else:
        ground = (total - lit_sum) / np.maximum(np.float32(n) - lit, 1.0)
        split = (lit > 0) & (lit < n)
        fg = np.where(split, ground + (lit_mean - ground) / dot, mean)
        bg = np.where(split, ground, mean)
    return (
        np.clip(fg, 0.0, 1.0).astype(np.float32),
        np.clip(bg, 0.0, 1.0).astype(np.float32),
    )


def quadrant_codes(samples: Plane, *, dither: str = "none") -> Codes:
    """``float32`` (rows * 2, columns * 2) light to quadrant block code points."""
    return quadrant_from_lit(lit_by_tone(samples, 2, 2, dither))


def braille_codes(samples: Plane, *, dither: str = "none") -> Codes:
    """``float32`` (rows * 4, columns * 2) light to braille code points."""
    return braille_from_lit(lit_by_tone(samples, 4, 2, dither))


def quadrant_from_lit(lit: npt.NDArray[np.bool_]) -> Codes:
    """``bool`` (rows, columns, 4) lit sub-cells to quadrant block code points."""
    return _QUADRANT_CODES[_mask(lit, _QUADRANT_BITS)]


def braille_from_lit(lit: npt.NDArray[np.bool_]) -> Codes:
    """``bool`` (rows, columns, 8) lit dots to braille code points."""
    return (_mask(lit, _BRAILLE_BITS) + np.uint32(BRAILLE_BASE)).astype(np.uint32)


# Block symbols over an 8 x 4 grid of sub-cells (row-major): the 16 quadrant patterns,
# the lower eighths, the left quarter and three-quarter blocks, the upper eighth.
BLOCK_GRID = (8, 4)
"""Sub-cells per cell (rows, columns) on which block symbols are matched in colour."""

EXTRA_BLOCKS = "▁▂▃▅▆▇▎▊▔"
"""Block symbols used in colour besides the quadrants."""


def _block_masks() -> tuple[npt.NDArray[np.float32], Codes]:
    rows, cols = BLOCK_GRID
    grid_r, grid_c = np.mgrid[0:rows, 0:cols]
    masks: list[npt.NDArray[np.bool_]] = []
    codes: list[int] = []
    for pattern in range(16):
        quadrant = (grid_r >= rows // 2) * 2 + (grid_c >= cols // 2)  # TL, TR, BL, BR
        masks.append(((pattern >> quadrant) & 1).astype(bool))
        codes.append(ord(QUADRANT_BLOCKS[pattern]))
    for eighths, char in zip((1, 2, 3, 5, 6, 7), "▁▂▃▅▆▇", strict=True):
        masks.append(grid_r >= rows - eighths)
        codes.append(ord(char))
    for quarters, char in ((1, "▎"), (3, "▊")):
        masks.append(grid_c < quarters)
        codes.append(ord(char))
    masks.append(grid_r < 1)
    codes.append(ord("▔"))
    flat = np.array([mask.ravel() for mask in masks], dtype=np.float32)
    return flat, np.array(codes, dtype=np.uint32)


BLOCK_MASKS, BLOCK_CODES = _block_masks()
"""Ink of each block symbol on the ``BLOCK_GRID``, ``float32`` (25, 32), and its code point."""


def block_ink(codes: Codes) -> Plane:
    """Ink of each cell's block symbol on the ``BLOCK_GRID``: ``float32`` (rows, columns, 32)."""
    order = np.argsort(BLOCK_CODES)
    where = np.clip(np.searchsorted(BLOCK_CODES[order], codes), 0, len(order) - 1)
    return np.asarray(BLOCK_MASKS[order[where]], dtype=np.float32)


def _block_ink(plane: npt.NDArray[np.float32] | npt.NDArray[np.uint8]) -> tuple[Plane, Plane]:
    """Per cell, the summed colour under every block symbol's ink, and the cell's total.

    ``plane`` is (rows * 8, columns * 4, 3), ``float32`` or ``uint8``. Every symbol's
    ink is a union of quadrants, of whole bottom (or top) sub-cell rows or of whole
    left sub-cell columns, so the sums are built from partial sums down each sub-cell
    column (contiguous additions over the plane) and then across each cell (on arrays
    an eighth the size), with no per-cell copy of the samples. Returns ``float32``
    (symbols, rows, columns, 3), in ``BLOCK_CODES`` order, and (rows, columns, 3).
    """
    sub_rows, sub_cols = BLOCK_GRID
    rows, cols = plane.shape[0] // sub_rows, plane.shape[1] // sub_cols
    width = cols * sub_cols
    grid = plane[: rows * sub_rows, :width].reshape(rows, sub_rows, width, 3)
    # Down each sub-column: top half, bottom half, the bottom 1, 2, 3, 5, 6, 7 sub-rows
    # and the top sub-row, (9, rows, width, 3).
    down = np.empty((9, rows, width, 3), dtype=np.float32)
    np.sum(grid[:, :4], axis=1, dtype=np.float32, out=down[0])
    np.sum(grid[:, 4:], axis=1, dtype=np.float32, out=down[1])
    down[2] = grid[:, 7]
    np.add(down[2], grid[:, 6], out=down[3])
    np.add(down[3], grid[:, 5], out=down[4])
    np.add(down[1], grid[:, 3], out=down[5])
    np.add(down[5], grid[:, 2], out=down[6])
    np.add(down[6], grid[:, 1], out=down[7])
    down[8] = grid[:, 0]
    # Across each cell: the left and right halves of the four sub-columns.
    across = down.reshape(9, rows, cols, 4, 3)
    first = across[:, :, :, 0]
    left = first + across[:, :, :, 1]
    right = across[:, :, :, 2] + across[:, :, :, 3]
    full = left + right
    ink = np.empty((len(BLOCK_CODES), rows, cols, 3), dtype=np.float32)
    quadrants = (left[0], right[0], left[1], right[1])  # TL, TR, BL, BR
    ink[0] = 0.0
    for pattern in range(1, 16):
        low = pattern & -pattern  # the lowest set bit: the pattern less one quadrant
        np.add(ink[pattern - low], quadrants[low.bit_length() - 1], out=ink[pattern])
    ink[16:22] = full[2:8]
    np.add(first[0], first[1], out=ink[22])
    np.add(left[0] + left[1], across[0, :, :, 2] + across[1, :, :, 2], out=ink[23])
    ink[24] = full[8]
    return ink, ink[15]


def block_cells_by_colour(
    rgb: npt.NDArray[np.float32] | npt.NDArray[np.uint8],
    *,
    black_ground: bool = False,
    scale: float = 1.0,
) -> tuple[Codes, Plane, Plane]:
    """Per cell, the block symbol whose two colour groups best reproduce the cell.

    ``rgb`` is (rows * 8, columns * 4, 3), ``float32`` (or ``uint8`` with ``scale``
    1/255). For every symbol the cell's sub-cells split into ink and ground; the split
    with the largest between-group energy (the least squared error to the two group
    means) wins. With ``black_ground`` the ground shows black, so only the ink group's
    mean counts. Returns the code points ``uint32`` (rows, columns) and the two group
    means, ``float32`` (rows, columns, 3) times ``scale``: the least-squares colours of
    the symbol's ink and ground (a cell with one group gets its mean in both).
    """
    ink, total = _block_ink(rgb)
    n = np.float32(BLOCK_MASKS.shape[1])
    count = BLOCK_MASKS.sum(axis=1).astype(np.float32)[:, None, None]
    squared = ink * ink
    gain = (squared[..., 0] + squared[..., 1] + squared[..., 2]) / np.maximum(count, 1.0)
    if not black_ground:
        ground = total - ink
        ground *= ground
        gain += (ground[..., 0] + ground[..., 1] + ground[..., 2]) / np.maximum(n - count, 1.0)
        gain[0] += np.float32(1e-6 / (scale * scale))  # blank unless a split is worth it
    best = np.argmax(gain, axis=0)
    chosen = np.take_along_axis(ink, best[None, :, :, None], axis=0)[0]
    lit = count[best, 0]
    mean = total / n
    unit = np.float32(scale)
    fg = np.where(lit > 0, chosen / np.maximum(lit, 1.0), mean) * unit
    bg = np.where(lit < n, (total - chosen) / np.maximum(n - lit, 1.0), mean) * unit
    codes = np.asarray(BLOCK_CODES[best], dtype=np.uint32)
    return codes, np.asarray(fg, dtype=np.float32), np.asarray(bg, dtype=np.float32)


def block_codes_by_colour(rgb: Plane, *, black_ground: bool = False) -> Codes:
    """The code points of :func:`block_cells_by_colour`: ``uint32`` (rows, columns)."""
    return block_cells_by_colour(rgb, black_ground=black_ground)[0]


BRAILLE_DOT_INK = 0.25
"""Ink of one braille dot over its sub-cell (a dot a quarter of a 2x4 sub-cell in area)."""


def braille_ink(codes: Codes) -> Plane:
    """Ink of each cell's braille pattern at 4 x 2 sub-cells: ``float32`` (rows, columns, 8).

    Computed from the dot bits rather than a font, as fonts differ in braille coverage
    (the bundled font has none).
    """
    masks = (codes.astype(np.uint32) - np.uint32(BRAILLE_BASE))[..., None] & _BRAILLE_BITS
    return np.asarray((masks > 0) * np.float32(BRAILLE_DOT_INK), dtype=np.float32)
