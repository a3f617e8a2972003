"""Artwork documents to moving pictures: looping GIF (Pillow) and H.264 MP4 (PyAV).

Every frame is drawn by :func:`asciihub.render.raster.frame_image` at one font size,
so all frames share one (rows, columns) pixel shape. Frames are drawn one at a time
as the encoder asks for them.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np
from PIL import Image

from asciihub.engine.document import ArtworkDocument
from asciihub.render.raster import BACKGROUND, frame_image

MP4_TIME_BASE = Fraction(1, 1000)
"""MP4 frame timestamps count milliseconds: each frame's pts is its start."""


def frame_images(document: ArtworkDocument, *, font_size: int) -> Iterator[Image.Image]:
    """Every frame drawn as an RGB image, in playing order."""
    for frame in document.frames:
        yield frame_image(frame, document.width, document.height, font_size=font_size)


def gif_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """A GIF that loops forever; each frame shows for its ``duration_ms``.

    GIF counts time in hundredths of a second, so durations are rounded to 10 ms
    (at least 10 ms). Identical consecutive frames are merged by Pillow into one
    frame showing for their summed duration.
    """
    images = frame_images(document, font_size=font_size)
    first = next(images)
    durations = [max(10, round(frame.duration_ms / 10) * 10) for frame in document.frames]
    buffer = io.BytesIO()
    first.save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images,
        duration=durations,
        loop=0,
        optimize=False,
        disposal=1,
    )
    return buffer.getvalue()


def _even(image: Image.Image) -> Image.Image:
    """``image`` padded with the background to even width and height (yuv420p needs it)."""
    width, height = image.width + image.width % 2, image.height + image.height % 2
    if (width, height) == image.size:
        return image
    padded = Image.new("RGB", (width, height), BACKGROUND)
    padded.paste(image, (0, 0))
    return padded


def mp4_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """An H.264 (yuv420p) MP4 with one video frame per artwork frame.

    Timing comes from the durations: frame *i* has pts = the sum of the durations
    before it (time base 1/1000 s) and its packet lasts its own duration, so the
    stream lasts exactly :attr:`ArtworkDocument.duration_ms`. Width and height are
    padded to even numbers. B-frames are off, so packets leave the encoder in order.
    """
    import av

    buffer = io.BytesIO()
    starts: dict[int, int] = {}
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(1000, 1))
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = MP4_TIME_BASE
        stream.time_base = MP4_TIME_BASE
        stream.options = {"bf": "0", "crf": "20", "preset": "veryfast", "tune": "animation"}

        def mux(packets: list[Any]) -> None:
            for packet in packets:
                if packet.pts is not None and packet.pts in starts:
                    packet.duration = starts[packet.pts]
                container.mux(packet)

        start = 0
        for index, image in enumerate(frame_images(document, font_size=font_size)):
            picture = _even(image)
            if index == 0:
                stream.width, stream.height = picture.size
            pixels = np.asarray(picture, dtype=np.uint8)  # (rows, columns, 3)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")
            frame.pts = start
            frame.time_base = MP4_TIME_BASE
            duration = document.frames[index].duration_ms
            starts[start] = duration
            mux(stream.encode(frame))
            start += duration
        mux(stream.encode(None))
    return buffer.getvalue()
