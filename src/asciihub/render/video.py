"""Artwork documents to video: H.264 MP4 and VP9 WebM (PyAV), one frame at a time.

Each frame is drawn and converted to ``yuv420p`` (the next one on a worker thread while
the encoder takes this one) and handed to the encoder, whose packets are muxed into
``out`` as they come, so memory stays flat however many frames there are (the
encoder's own look-ahead aside). Timing comes from the durations: frame *i*
has pts = the sum of the durations before it (time base 1/1000 s) and its packet
lasts its own duration, so the stream lasts exactly the artwork's duration. Width and
height are padded with the background to even numbers (``yuv420p`` needs them).
``out`` must be seekable for MP4 (the muxer writes the index at the end).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from typing import Any, BinaryIO

import numpy as np
from PIL import Image

from asciihub.engine.document import ArtworkDocument
from asciihub.render.animated import frame_images
from asciihub.render.raster import BACKGROUND

TIME_BASE = Fraction(1, 1000)
"""Video frame timestamps count milliseconds: each frame's pts is its start."""
MP4_TIME_BASE = TIME_BASE
MP4_OPTIONS = {"bf": "0", "crf": "20", "preset": "veryfast", "tune": "animation"}
"""libx264 settings of the MP4 export (no B-frames: packets leave in order)."""
WEBM_OPTIONS = {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"}
"""libvpx-vp9 settings of the WebM export (constant quality, the fastest speed)."""


def _even(image: Image.Image) -> Image.Image:
    """``image`` padded with the background to even width and height (yuv420p needs it)."""
    width, height = image.width + image.width % 2, image.height + image.height % 2
    if (width, height) == image.size:
        return image
    padded = Image.new("RGB", (width, height), BACKGROUND)
    padded.paste(image, (0, 0))
    return padded


def _pictures(document: ArtworkDocument, font_size: int) -> Iterator[Any]:
    """Every frame drawn, padded and converted to a ``yuv420p`` VideoFrame."""
    import av

    for image in frame_images(document, font_size=font_size):
        pixels = np.asarray(_even(image), dtype=np.uint8)  # (rows, columns, 3)
        yield av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format="yuv420p")


def prefetched(items: Iterator[Any]) -> Iterator[Any]:
    """``items`` with the next one made on a worker thread while the caller uses this
    one (drawing overlaps encoding; numpy, Pillow and swscale release the GIL)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, items, None)
        while True:
            item = pending.result()
            if item is None:
                return
            pending = pool.submit(next, items, None)
            yield item


def write_video(
    document: ArtworkDocument,
    out: BinaryIO,
    *,
    container_format: str,
    codec: str,
    options: dict[str, str],
    font_size: int = 16,
) -> None:
    """Encode every frame of ``document`` with ``codec`` into a ``container_format`` file."""
    import av

    durations: dict[int, int] = {}
    # bitexact: no muxing date or random segment ids, so the same frames give the same bytes
    with av.open(
        out, mode="w", format=container_format, container_options={"fflags": "+bitexact"}
    ) as container:
        stream: Any = container.add_stream(codec, rate=Fraction(1000, 1))
        stream.pix_fmt = "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        stream.time_base = TIME_BASE
        stream.options = dict(options)

        def mux(packets: list[Any]) -> None:
            for packet in packets:
                if packet.pts is not None and packet.pts in durations:
                    packet.duration = durations.pop(packet.pts)
                container.mux(packet)

        start = 0
        for index, frame in enumerate(prefetched(_pictures(document, font_size))):
            if index == 0:
                stream.width, stream.height = frame.width, frame.height
            frame.pts = start
            frame.time_base = TIME_BASE
            duration = document.frames[index].duration_ms
            durations[start] = duration
            mux(stream.encode(frame))
            start += duration
        mux(stream.encode(None))


def write_mp4(document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16) -> None:
    """An H.264 (yuv420p) MP4 with one video frame per artwork frame, written to ``out``."""
    write_video(
        document, out, container_format="mp4", codec="libx264", options=MP4_OPTIONS,
        font_size=font_size,
    )  # fmt: skip


def write_webm(document: ArtworkDocument, out: BinaryIO, *, font_size: int = 16) -> None:
    """A VP9 (yuv420p) WebM with one video frame per artwork frame, written to ``out``."""
    write_video(
        document, out, container_format="webm", codec="libvpx-vp9", options=WEBM_OPTIONS,
        font_size=font_size,
    )  # fmt: skip


def mp4_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """The MP4 of :func:`write_mp4`, in memory."""
    buffer = io.BytesIO()
    write_mp4(document, buffer, font_size=font_size)
    return buffer.getvalue()


def webm_bytes(document: ArtworkDocument, *, font_size: int = 16) -> bytes:
    """The WebM of :func:`write_webm`, in memory."""
    buffer = io.BytesIO()
    write_webm(document, buffer, font_size=font_size)
    return buffer.getvalue()
