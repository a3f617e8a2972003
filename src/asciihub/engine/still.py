"""Still images to ASCII: the options, the array core and the ``convert`` entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from PIL import Image

from asciihub.engine.adjust import Adjustments, ToneWindow, apply_adjustments, perceptual_tone
from asciihub.engine.cells import (
    COLOR_LAYERS,
    LUMA,
    code_features,
    encoded_bytes,
    fit_fg,
    fit_fgbg,
    sample_rgb_linear,
    to_srgb_bytes,
)
from asciihub.engine.charsets import (
    BRAILLE_ALPHABET,
    DENSE_RAMP,
    DITHER_MODES,
    EDGE_GLYPHS,
    PRINTABLE_ASCII,
    QUADRANT_BLOCKS,
    SHAPE_ALPHABET,
    SIMPLE_RAMP,
    STYLES,
    TONE_MODES,
)
from asciihub.engine.color import check_color_mode, codes_to_text
from asciihub.engine.decode import EngineLimits, Source
from asciihub.engine.document import Frame
from asciihub.engine.resize import grid_size, linear_to_srgb_fast, sample_linear
from asciihub.engine.styles import (
    braille_codes,
    edge_codes,
    quadrant_codes,
    ramp_codes,
    shape_codes,
)
from asciihub.engine.styles.blocks import (
    BLOCK_GRID,
    block_cells_by_colour,
    block_ink,
    braille_colours,
    braille_from_lit,
    braille_ink,
    cell_stack,
    split_by_colour,
)
from asciihub.engine.styles.ramp import check_ramp
from asciihub.engine.styles.shape import shape_codes_fgbg
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
    color_layers: str = "fgbg"
    dither: str = "auto"
    tone: str = "perceptual"
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
        if self.tone not in TONE_MODES:
            message = f"unknown tone curve {self.tone!r}; choose {', '.join(TONE_MODES)}"
            raise InvalidInput(message, code="invalid_option")
        check_color_mode(self.color)
        if self.color_layers not in COLOR_LAYERS:
            message = (
                f"unknown colour layers {self.color_layers!r}; choose {', '.join(COLOR_LAYERS)}"
            )
            raise InvalidInput(message, code="invalid_option")
        self.adjust.check()

    @property
    def sub_cells(self) -> tuple[int, int]:
        """Samples per cell as (rows, columns) for this style."""
        info = STYLES.get(self.style)
        return (info.sub_rows, info.sub_cols) if info else (1, 1)

    @property
    def fit_cells(self) -> tuple[int, int]:
        """Colour samples per cell as (rows, columns): 8 x 4 for blocks, else 4 x 2."""
        return BLOCK_GRID if self.style == "blocks" else (4, 2)

    def dither_for(self, *, moving: bool) -> str:
        """The dithering to use for this style.

        ``auto`` is ordered dithering (one vectorised step, stable from frame to frame)
        for ``braille``, whose eight dots per cell are fine enough to dither, and for
        ``simple``, whose ten levels leave flat blotches of one glyph on a photo; none
        for the other styles: a character is too coarse a pixel, and dithering a
        seventeen-glyph ramp turns smooth areas into glyph static; four quadrants show
        edges more cleanly undithered.
        """
        del moving  # the same for stills and video
        if self.dither != "auto":
            return self.dither
        return "ordered" if self.style in ("braille", "simple") else "none"

    @property
    def perceptual(self) -> bool:
        """Whether the style's mono light goes through :func:`perceptual_tone` first."""
        return self.tone == "perceptual"


def _ramp_for(options: ConvertOptions) -> str:
    if options.ramp:
        return options.ramp
    return SIMPLE_RAMP if options.style == "simple" else DENSE_RAMP


def style_alphabet(options: ConvertOptions) -> str:
    """Every character ``options.style`` may draw."""
    if options.style in ("simple", "dense", "custom"):
        return _ramp_for(options)
    if options.style == "edges":
        return DENSE_RAMP + EDGE_GLYPHS
    if options.style == "blocks":
        return QUADRANT_BLOCKS
    if options.style == "braille":
        return BRAILLE_ALPHABET
    return PRINTABLE_ASCII


def style_codes(
    samples: npt.NDArray[np.float32],
    options: ConvertOptions,
    *,
    moving: bool = False,
    window: ToneWindow | None = None,
    tone: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.uint32]:
    """Apply ``options.style`` to ``float32`` samples (rows * sub_rows, columns * sub_cols).

    ``window`` smooths the perceptual tone's percentiles over a video's frames;
    ``tone``, when given, is that tone already computed (e.g. from 8-bit frames).
    """
    style = options.style
    dither = options.dither_for(moving=moving)
    if options.perceptual and tone is None:
        tone = perceptual_tone(samples, window=window)
    light = samples if tone is None else tone
    if style == "edges":
        return edge_codes(samples, dither=dither, fill=DENSE_RAMP, fill_light=tone)
    if style == "shape":
        return shape_codes(light, dither=dither, alphabet=SHAPE_ALPHABET)
    if style == "blocks":
        return quadrant_codes(light, dither=dither)
    if style == "braille":
        return braille_codes(light, dither=dither)
    return ramp_codes(light, _ramp_for(options), dither=dither)


def _fgbg_codes(
    luma: npt.NDArray[np.float32],
    options: ConvertOptions,
    window: ToneWindow | None,
) -> npt.NDArray[np.uint32]:
    if options.style == "shape":
        return shape_codes_fgbg(luma)
    return style_codes(_tone_samples(luma, options), options, window=window)


def _tone_samples(
    luma: npt.NDArray[np.float32], options: ConvertOptions
) -> npt.NDArray[np.float32]:
    """Fit-grid luma reduced to the style's own sample grid."""
    (fit_rows, fit_cols), (sub_rows, sub_cols) = options.fit_cells, options.sub_cells
    if (fit_rows, fit_cols) == (sub_rows, sub_cols):
        return luma
    step_rows, step_cols = fit_rows // sub_rows, fit_cols // sub_cols
    cells = cell_stack(luma, step_rows, step_cols)
    return np.asarray(cells.mean(axis=-1), dtype=np.float32)


def color_cells(
    rgb: npt.NDArray[np.float32],
    options: ConvertOptions,
    *,
    moving: bool = False,
    window: ToneWindow | None = None,
    encoded: npt.NDArray[np.uint8] | None = None,
) -> tuple[npt.NDArray[np.uint32], bytes, bytes | None]:
    """Codes, foreground and background bytes from ``float32`` linear RGB samples.

    ``rgb`` is (rows * fit_rows, columns * fit_cols, 3) with ``options.fit_cells``;
    ``encoded``, when given, is the same as sRGB-encoded ``uint8`` (a decoded video
    frame is). The
    backgrounds are None for ``color_layers="fg"``.
    """
    fit_rows, fit_cols = options.fit_cells
    if options.style == "blocks" and options.color_layers == "fgbg":
        # A block symbol shows each sub-cell wholly in one of the two colours, with no
        # mixing of light inside it, so the split and the colours are chosen on
        # sRGB-encoded values, closer to how an eye judges them.
        if encoded is None:
            codes, fg, bg = block_cells_by_colour(linear_to_srgb_fast(rgb))
        else:
            codes, fg, bg = block_cells_by_colour(encoded, scale=1 / 255)
        return codes, encoded_bytes(fg), encoded_bytes(bg)
    if options.style == "blocks":
        codes, fg, _ = block_cells_by_colour(rgb, black_ground=True)
        return codes, to_srgb_bytes(fg), None
    luma = np.asarray(rgb @ LUMA, dtype=np.float32)
    luma = apply_adjustments(luma, options.adjust)
    colours = cell_stack(rgb, fit_rows, fit_cols)
    if options.style == "braille":
        # Dots are all ink or none, so the fitted colours follow from the group sums.
        black = options.color_layers == "fg"
        lit, lit_sum, total, count = split_by_colour(
            luma, rgb, fit_rows, fit_cols, black_ground=black, colours=colours
        )
        fg, bg = braille_colours(lit_sum, total, count, fit_rows * fit_cols, black_ground=black)
        codes = braille_from_lit(lit)
        return codes, to_srgb_bytes(fg), None if black else to_srgb_bytes(bg)
    if options.color_layers == "fg":
        codes = style_codes(_tone_samples(luma, options), options, moving=moving, window=window)
        return codes, to_srgb_bytes(fit_fg(_ink(codes, options), colours)), None
    # Glyphs cover parts of their sub-cells, so ink and ground mix as light does: the
    # colours are fitted in linear light.
    codes = _fgbg_codes(luma, options, window)
    fg, bg = fit_fgbg(_ink(codes, options), colours)
    return codes, to_srgb_bytes(fg), to_srgb_bytes(bg)


def _ink(codes: npt.NDArray[np.uint32], options: ConvertOptions) -> npt.NDArray[np.float32]:
    """Each cell glyph's ink at the fit grid: ``float32`` (rows, columns, n)."""
    if options.style == "blocks":
        return block_ink(codes)
    if options.style == "braille":
        return braille_ink(codes)
    fit_rows, fit_cols = options.fit_cells
    return code_features(codes, style_alphabet(options), fit_rows, fit_cols)


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
    window: ToneWindow | None = None,
) -> Frame:
    """Convert a decoded RGB or L Pillow image to one frame.

    ``window`` smooths the perceptual tone over the frames of an animation.
    """
    limits = limits or EngineLimits()
    rows, cols = plan_grid(image.size, options, limits)
    if options.color != "none":
        fit_rows, fit_cols = options.fit_cells
        rgb = sample_rgb_linear(image, (rows * fit_rows, cols * fit_cols))
        codes, colors, backgrounds = color_cells(rgb, options, window=window)
        return Frame(
            text=codes_to_text(codes),
            duration_ms=duration_ms,
            colors=colors,
            backgrounds=backgrounds,
        )
    sub_rows, sub_cols = options.sub_cells
    samples = sample_linear(image, (rows * sub_rows, cols * sub_cols))
    samples = apply_adjustments(samples, options.adjust)
    codes = style_codes(samples, options, window=window)
    return Frame(text=codes_to_text(codes), duration_ms=duration_ms)


def draft_size(
    size: tuple[int, int], options: ConvertOptions, limits: EngineLimits
) -> tuple[int, int]:
    """The smallest decode size (width, height) that still gives every sample two pixels."""
    rows, cols = plan_grid(size, options, limits)
    sub_rows, sub_cols = options.fit_cells if options.color != "none" else options.sub_cells
    return cols * sub_cols * 2, rows * sub_rows * 2


def convert(
    source: Source,
    *,
    width: int | None = None,
    height: int | None = None,
    style: str = "dense",
    color: str = "none",
    color_layers: str = "fgbg",
    ramp: str | None = None,
    dither: str = "auto",
    tone: str = "perceptual",
    adjust: Adjustments | None = None,
    cell_aspect: float = 0.5,
    background: tuple[int, int, int] = (0, 0, 0),
    limits: EngineLimits | None = None,
) -> Frame:
    """Convert an image (a path, encoded bytes or a Pillow image) to one frame.

    ``width`` and ``height`` are in cells; give either, both, or neither (80 columns).
    The frame's ``text`` is the art; unless ``color`` is ``"none"`` its ``colors`` hold
    per-cell foreground RGB and, with ``color_layers="fgbg"`` (the default), its
    ``backgrounds`` per-cell background RGB. ``tone="perceptual"`` maps the mono
    light through the sRGB encoding with a percentile stretch (``"linear"`` keeps
    linear light); ``dither="auto"`` dithers only ``braille`` and ``simple``.
    Bad input raises ``InvalidInput``, ``TooLarge`` or ``UnsupportedMedia`` with a
    stable code.
    """
    options = ConvertOptions(
        width=width,
        height=height,
        style=style,
        ramp=ramp,
        color=color,
        color_layers=color_layers,
        dither=dither,
        tone=tone,
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
