"""Animations and video to frames: GIF, APNG, WebP and anything PyAV reads.

``convert_animation`` is an iterator: each frame is decoded, converted and yielded
before the next is read, so memory stays bounded whatever the length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

from PIL import Image

from asciihub.engine.adjust import (
    Adjustments,
    ToneWindow,
    apply_adjustments,
    perceptual_tone_bytes,
)
from asciihub.engine.color import codes_to_text
from asciihub.engine.decode import EngineLimits, Source, iter_image_frames, open_image
from asciihub.engine.document import Frame
from asciihub.engine.resize import SRGB_TO_LINEAR
from asciihub.engine.still import (
    ConvertOptions,
    color_cells,
    convert_image,
    plan_grid,
    style_codes,
)
from asciihub.errors import InvalidInput, UnsupportedMedia

T = TypeVar("T")


def pace(
    frames: Iterator[tuple[T, int]],
    *,
    frame_step: int = 1,
    max_fps: float | None = None,
    frame_limit: int | None = None,
) -> Iterator[tuple[T, int]]:
    """Keep every ``frame_step``-th frame, at most ``max_fps``, at most ``frame_limit``.

    A dropped frame's time is added to the kept frame before it, so the total duration
    is kept. Holds one frame of look-ahead.
    """
    min_ms = 1000.0 / max_fps if max_fps else 0.0
    pending: tuple[T, int] | None = None
    kept = 0
    for index, (item, duration) in enumerate(frames):
        take = index % frame_step == 0 and (pending is None or pending[1] >= min_ms)
        if take:
            if pending is not None:
                yield pending
                kept += 1
                if frame_limit is not None and kept >= frame_limit:
                    return
            pending = (item, duration)
        elif pending is not None:
            pending = (pending[0], pending[1] + duration)
    if pending is not None:
        yield pending


def _video_frame(
    frame: Any, options: ConvertOptions, limits: EngineLimits, ms: int, window: ToneWindow
) -> Frame:
    rows, cols = plan_grid((frame.width, frame.height), options, limits)
    if options.color != "none":
        fit_rows, fit_cols = options.fit_cells
        rgb = frame.reformat(width=cols * fit_cols, height=rows * fit_rows, format="rgb24")
        pixels = rgb.to_ndarray()[:, : cols * fit_cols, :3]
        # Blocks in fgbg work on the encoded values alone; skip the linear plane.
        encoded_only = options.style == "blocks" and options.color_layers == "fgbg"
        linear = pixels if encoded_only else SRGB_TO_LINEAR[pixels]
        codes, colors, backgrounds = color_cells(
            linear, options, moving=True, window=window, encoded=pixels
        )
        return Frame(
            text=codes_to_text(codes), duration_ms=ms, colors=colors, backgrounds=backgrounds
        )
    sub_rows, sub_cols = options.sub_cells
    gray = frame.reformat(width=cols * sub_cols, height=rows * sub_rows, format="gray")
    pixels = gray.to_ndarray()[:, : cols * sub_cols]
    tone = None
    if options.perceptual and options.adjust == Adjustments():
        # The frame is 8-bit and sRGB-encoded already: its tone is a 256-entry table.
        tone = perceptual_tone_bytes(pixels, window=window)
    samples = apply_adjustments(SRGB_TO_LINEAR[pixels], options.adjust)
    codes = style_codes(samples, options, moving=True, window=window, tone=tone)
    return Frame(text=codes_to_text(codes), duration_ms=ms)


def _is_image(source: Source, limits: EngineLimits) -> bool:
    if isinstance(source, Image.Image):
        return True
    try:
        open_image(source, max_pixels=limits.max_pixels)
    except UnsupportedMedia:
        return False
    return True


def convert_animation(
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
    frame_step: int = 1,
    max_fps: float | None = None,
    frame_limit: int | None = None,
    limits: EngineLimits | None = None,
    threads: int = 0,
) -> Iterator[Frame]:
    """Yield the frames of an animated image or a video, with their durations.

    A still image gives one frame. ``frame_step`` keeps every n-th frame, ``max_fps``
    caps the rate (dropped time goes to the kept frame), ``frame_limit`` stops early;
    ``limits.max_frames`` is a hard cap that raises ``TooLarge``.
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
    if frame_step < 1 or (max_fps is not None and max_fps <= 0):
        message = "frame step must be at least 1 and the fps cap above 0"
        raise InvalidInput(message, code="invalid_option")
    limits = limits or EngineLimits()
    if _is_image(source, limits):
        images = iter_image_frames(
            source, max_pixels=limits.max_pixels, max_frames=limits.max_frames,
            background=background,
        )  # fmt: skip
        window = ToneWindow()
        for image, ms in pace(
            images, frame_step=frame_step, max_fps=max_fps, frame_limit=frame_limit
        ):
            yield convert_image(image, options, limits=limits, duration_ms=ms, window=window)
        return
    from asciihub.engine.video import iter_video_frames

    frames = iter_video_frames(source, limits=limits, threads=threads)
    window = ToneWindow()
    for frame, ms in pace(frames, frame_step=frame_step, max_fps=max_fps, frame_limit=frame_limit):
        yield _video_frame(frame, options, limits, ms, window)
