"""Frames for the animated encoders (GIF, APNG, MP4, WebM), drawn one at a time.

Every frame is drawn by :func:`asciihub.render.raster.frame_image` at one font size,
so all frames share one (rows, columns) pixel shape. The encoders pull frames from
these generators as they write, so at most the frame being encoded and the one before
it are in memory, whatever the frame count.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageChops

from asciihub.engine.document import MAX_DURATION_MS, ArtworkDocument, Frame
from asciihub.render.raster import frame_image


@dataclass(frozen=True)
class Shown:
    """One picture of an animation: an artwork frame, showing from ``start_ms`` for
    ``duration_ms`` (consecutive identical frames merged into one)."""

    frame: Frame
    start_ms: int
    duration_ms: int


def _same_picture(first: Frame, second: Frame) -> bool:
    return (first.text, first.colors, first.backgrounds) == (
        second.text,
        second.colors,
        second.backgrounds,
    )


def shown_frames(document: ArtworkDocument) -> list[Shown]:
    """The document's frames with consecutive identical ones merged (their durations
    summed, up to ``MAX_DURATION_MS`` a picture, which every delay field holds)."""
    shown: list[Shown] = []
    start = 0
    for frame in document.frames:
        last = shown[-1] if shown else None
        if (
            last is not None
            and _same_picture(last.frame, frame)
            and last.duration_ms + frame.duration_ms <= MAX_DURATION_MS
        ):
            shown[-1] = Shown(last.frame, last.start_ms, last.duration_ms + frame.duration_ms)
        else:
            shown.append(Shown(frame, start, frame.duration_ms))
        start += frame.duration_ms
    return shown


def frame_images(document: ArtworkDocument, *, font_size: int) -> Iterator[Image.Image]:
    """Every artwork frame drawn as an RGB image, in playing order; a frame identical
    to the one before is not drawn again (the same image is yielded)."""
    previous: tuple[Frame, Image.Image] | None = None
    for frame in document.frames:
        if previous is None or not _same_picture(previous[0], frame):
            previous = (
                frame,
                frame_image(frame, document.width, document.height, font_size=font_size),
            )
        yield previous[1]


def shown_images(
    document: ArtworkDocument, *, font_size: int
) -> Iterator[tuple[Shown, Image.Image]]:
    """Each merged picture (see :func:`shown_frames`) with its drawing, in order."""
    for shown in shown_frames(document):
        image = frame_image(shown.frame, document.width, document.height, font_size=font_size)
        yield shown, image


def changed_box(previous: Image.Image | None, image: Image.Image) -> tuple[int, int, int, int]:
    """The (left, upper, right, lower) box of the pixels that differ from ``previous``:
    the whole image for the first frame, one pixel when nothing changed."""
    if previous is None:
        return (0, 0, image.width, image.height)
    box = ImageChops.difference(previous, image).getbbox()
    return box if box is not None else (0, 0, 1, 1)
