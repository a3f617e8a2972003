"""Grid sizing with the terminal cell aspect, and resampling to sub-cell samples.

Samples are ``float32`` linear light in [0, 1], shaped (rows * sub_rows,
columns * sub_cols). Averaging happens in linear light, as a viewer's eye does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

from asciihub.errors import InvalidInput, TooLarge

_SRGB = np.arange(256, dtype=np.float64) / 255.0
SRGB_TO_LINEAR: npt.NDArray[np.float32] = np.where(
    _SRGB <= 0.04045, _SRGB / 12.92, ((_SRGB + 0.055) / 1.055) ** 2.4
).astype(np.float32)
"""Lookup table: ``uint8`` sRGB value to ``float32`` linear light."""


def linear_to_srgb(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Linear light to sRGB-encoded values, both ``float32`` in [0, 1], any shape."""
    v = np.clip(values, 0.0, 1.0)
    out = np.where(v <= 0.0031308, v * 12.92, 1.055 * np.power(v, 1 / 2.4) - 0.055)
    return out.astype(np.float32)


SRGB_INDEX_STEPS = 16383
"""Steps of linear light in :func:`srgb_index`."""

_ENCODE_TABLE: list[npt.NDArray[np.float32]] = []


def srgb_encode_table() -> npt.NDArray[np.float32]:
    """The sRGB encoding of ``SRGB_INDEX_STEPS + 1`` evenly spaced linear values."""
    if not _ENCODE_TABLE:
        steps = np.arange(SRGB_INDEX_STEPS + 1, dtype=np.float32) / np.float32(SRGB_INDEX_STEPS)
        _ENCODE_TABLE.append(linear_to_srgb(steps))
    return _ENCODE_TABLE[0]


def srgb_index(values: npt.NDArray[np.float32]) -> npt.NDArray[np.intp]:
    """Linear light quantised to ``SRGB_INDEX_STEPS`` steps: an index into the encoding table.

    One multiply, clip and cast instead of a power per value; the encoded value is off
    by under 0.1 of an 8-bit step.
    """
    scaled = np.multiply(values, np.float32(SRGB_INDEX_STEPS), dtype=np.float32)
    np.clip(scaled, 0.0, np.float32(SRGB_INDEX_STEPS), out=scaled)
    scaled += np.float32(0.5)
    return scaled.astype(np.intp)


def linear_to_srgb_fast(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """:func:`linear_to_srgb` by table lookup, for whole sample planes."""
    return np.asarray(srgb_encode_table()[srgb_index(values)], dtype=np.float32)


def grid_size(
    image_size: tuple[int, int],
    *,
    columns: int | None,
    rows: int | None,
    cell_aspect: float = 0.5,
    max_columns: int = 500,
    max_rows: int = 300,
) -> tuple[int, int]:
    """The (rows, columns) of the output for an image of ``image_size`` (width, height).

    Give columns, rows or both; a missing one follows from the image's aspect and the
    cell aspect (cell width / cell height). Neither means 80 columns.
    """
    width, height = image_size
    for name, value, cap in (("width", columns, max_columns), ("height", rows, max_rows)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            message = f"{name} must be a whole number of cells, at least 1 (got {value!r})"
            raise InvalidInput(message, code="invalid_size")
        if value > cap:
            message = f"{name} {value} is over the limit of {cap} cells"
            raise TooLarge(message, code="size_too_large")
    if not 0.1 <= cell_aspect <= 2.0:
        message = f"cell aspect {cell_aspect} must be between 0.1 and 2"
        raise InvalidInput(message, code="invalid_size")
    if columns is None and rows is None:
        columns = min(80, max_columns)
    if columns is None:
        assert rows is not None
        columns = round(rows * width / height / cell_aspect)
        columns = min(max(1, columns), max_columns)
    if rows is None:
        rows = round(columns * height / width * cell_aspect)
        rows = min(max(1, rows), max_rows)
    return rows, columns


def luminance_u8(image: Image.Image) -> npt.NDArray[np.uint8]:
    """Luma of an RGB or L image: ``uint8`` (rows, columns)."""
    gray = image if image.mode == "L" else image.convert("L")
    return np.asarray(gray, dtype=np.uint8)


def sample_linear(image: Image.Image, shape: tuple[int, int]) -> npt.NDArray[np.float32]:
    """Resample ``image``'s luma to ``shape`` (rows, columns): ``float32`` linear light.

    Downscaling box-averages in linear light; upscaling interpolates bilinearly.
    """
    out_rows, out_cols = shape
    gray = image if image.mode == "L" else image.convert("L")
    if gray.width >= out_cols * 2 and gray.height >= out_rows * 2:
        factor = min(gray.width // out_cols, gray.height // out_rows)
        if factor >= 2:
            gray = gray.reduce(min(factor // 2, 8)) if factor >= 4 else gray
    linear = SRGB_TO_LINEAR[np.asarray(gray, dtype=np.uint8)]
    plane = Image.fromarray(linear, mode="F")
    downscale = plane.width >= out_cols and plane.height >= out_rows
    method = Image.Resampling.BOX if downscale else Image.Resampling.BILINEAR
    resized = plane.resize((out_cols, out_rows), method)
    return np.asarray(resized, dtype=np.float32)


def cell_colors(image: Image.Image, shape: tuple[int, int]) -> npt.NDArray[np.uint8]:
    """The mean colour of each cell: ``uint8`` (rows, columns, 3) RGB."""
    rows, cols = shape
    rgb = image if image.mode == "RGB" else image.convert("RGB")
    resized = rgb.resize((cols, rows), Image.Resampling.BOX, reducing_gap=2.0)
    return np.asarray(resized, dtype=np.uint8)
