"""Still images to ASCII: the options, the array core and the ``convert`` entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image

from asciihub.engine.adjust import Adjustments, apply_adjustments
from asciihub.engine.charsets import DENSE_RAMP, DITHER_MODES, SIMPLE_RAMP, STYLES
from asciihub.engine.color import check_color_mode, codes_to_text
from asciihub.engine.decode import EngineLimits, Source
from asciihub.engine.document import Frame
from asciihub.engine.resize import cell_colors, grid_size, sample_linear
from asciihub.engine.styles import (
    braille_codes,
    edge_codes,
    quadrant_codes,
    ramp_codes,
    shape_codes,
)
from asciihub.engine.styles.ramp import check_ramp
from asciihub.errors import InvalidInput

STYLE_NAMES = (*STYLES, "custom")
"""Every style name ``convert`` accepts (``custom`` needs ``ramp``)."""


@dataclass(frozen=True)
class ConvertOptions:
    """How to turn pixels into characters."""

    width: int | None = None
    height: int | None = None
    style: str = "dense"
    ramp: str | None = None
    color: str = "none"
    dither: str = "none"
    adjust: Adjustments = field(default_factory=Adjustments)
    cell_aspect: float = 0.5
    background: tuple[int, int, int] = (0, 0, 0)

    def check(self) -> None:
        """Raise ``InvalidInput`` for an unknown style, colour mode, dithering or ramp."""
        if self.style not in STYLE_NAMES:
            message = f"unknown style {self.style!r}; choose {', '.join(STYLE_NAMES)}"
            raise InvalidInput(message, code="invalid_style")
        if self.style == "custom" and not self.ramp:
            message = "the custom style needs a ramp (characters from least ink to most)"
            raise InvalidInput(message, code="invalid_ramp")
        if self.ramp is not None:
            check_ramp(self.ramp)
        if self.dither not in DITHER_MODES:
            message = f"unknown dithering {self.dither!r}; choose {', '.join(DITHER_MODES)}"
            raise InvalidInput(message, code="invalid_option")
        check_color_mode(self.color)
        self.adjust.check()

    @property
    def sub_cells(self) -> tuple[int, int]:
        """Samples per cell as (rows, columns) for this style."""
        info = STYLES.get(self.style)
        return (info.sub_rows, info.sub_cols) if info else (1, 1)


def _ramp_for(options: ConvertOptions) -> str:
    if options.ramp:
        return options.ramp
    return SIMPLE_RAMP if options.style == "simple" else DENSE_RAMP


def style_codes(
    samples: npt.NDArray[np.float32], options: ConvertOptions
) -> npt.NDArray[np.uint32]:
    """Apply ``options.style`` to ``float32`` samples (rows * sub_rows, columns * sub_cols)."""
    style = options.style
    if style == "shape":
        return shape_codes(samples)
    if style == "edges":
        return edge_codes(samples, dither=options.dither)
    if style == "blocks":
        return quadrant_codes(samples, dither=options.dither)
    if style == "braille":
        return braille_codes(samples, dither=options.dither)
    return ramp_codes(samples, _ramp_for(options), dither=options.dither)


def plan_grid(
    size: tuple[int, int], options: ConvertOptions, limits: EngineLimits
) -> tuple[int, int]:
    """The output (rows, columns) for an image of ``size`` (width, height)."""
    return grid_size(
        size,
        columns=options.width,
        rows=options.height,
        cell_aspect=options.cell_aspect,
        max_columns=limits.max_columns,
        max_rows=limits.max_rows,
    )


def convert_image(
    image: Image.Image,
    options: ConvertOptions,
    *,
    limits: EngineLimits | None = None,
    duration_ms: int = 100,
) -> Frame:
    """Convert a decoded RGB or L Pillow image to one frame."""
    limits = limits or EngineLimits()
    rows, cols = plan_grid(image.size, options, limits)
    sub_rows, sub_cols = options.sub_cells
    samples = sample_linear(image, (rows * sub_rows, cols * sub_cols))
    samples = apply_adjustments(samples, options.adjust)
    codes = style_codes(samples, options)
    colors = None
    if options.color != "none":
        colors = cell_colors(image, (rows, cols)).tobytes()
    return Frame(text=codes_to_text(codes), duration_ms=duration_ms, colors=colors)


def draft_size(
    size: tuple[int, int], options: ConvertOptions, limits: EngineLimits
) -> tuple[int, int]:
    """The smallest decode size (width, height) that still gives every sample two pixels."""
    rows, cols = plan_grid(size, options, limits)
    sub_rows, sub_cols = options.sub_cells
    return cols * sub_cols * 2, rows * sub_rows * 2


def convert(
    source: Source,
    *,
    width: int | None = None,
    height: int | None = None,
    style: str = "dense",
    color: str = "none",
    ramp: str | None = None,
    dither: str = "none",
    adjust: Adjustments | None = None,
    cell_aspect: float = 0.5,
    background: tuple[int, int, int] = (0, 0, 0),
    limits: EngineLimits | None = None,
) -> Frame:
    """Convert an image (a path, encoded bytes or a Pillow image) to one frame.

    ``width`` and ``height`` are in cells; give either, both, or neither (80 columns).
    The frame's ``text`` is the art; its ``colors`` hold per-cell RGB unless ``color``
    is ``"none"``. Bad input raises ``InvalidInput``, ``TooLarge`` or
    ``UnsupportedMedia`` with a stable code.
    """
    options = ConvertOptions(
        width=width,
        height=height,
        style=style,
        ramp=ramp,
        color=color,
        dither=dither,
        adjust=adjust or Adjustments(),
        cell_aspect=cell_aspect,
        background=background,
    )
    options.check()
    limits = limits or EngineLimits()
    image = _decode_for(source, options, limits)
    return convert_image(image, options, limits=limits)


def _decode_for(source: Source, options: ConvertOptions, limits: EngineLimits) -> Image.Image:
    from asciihub.engine.decode import load_pixels, normalise, open_image

    image = open_image(source, max_pixels=limits.max_pixels)
    if image.format == "JPEG":
        mode = "L" if image.mode == "L" or options.color == "none" else "RGB"
        image.draft(mode, draft_size(image.size, options, limits))
    return normalise(load_pixels(image), background=options.background)
