"""Video decoding with PyAV under explicit limits: duration, resolution, frames.

Frames are decoded one at a time and scaled by FFmpeg's scaler straight to the size
the output needs; nothing holds more than one frame.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asciihub.engine.decode import EngineLimits, Source
from asciihub.errors import InvalidInput, TooLarge, UnsupportedMedia


@contextmanager
def open_video(source: Source) -> Iterator[Any]:
    """Open ``source`` (a path or bytes) as a container; map PyAV errors to ours."""
    import av

    if isinstance(source, str | Path):
        target: Any = str(source)
    elif isinstance(source, bytes | bytearray | memoryview):
        target = io.BytesIO(bytes(source))
    else:
        message = "a video must be given as a path or bytes"
        raise UnsupportedMedia(message, code="unsupported_media_type")
    try:
        container = av.open(target, mode="r")
    except FileNotFoundError:
        message = f"{source!s}: no such file"
        raise InvalidInput(message, code="file_not_found") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        message = "not an image or video in a supported format"
        raise UnsupportedMedia(message, code="unsupported_media_type") from exc
    try:
        yield container
    finally:
        container.close()


def _check_stream(container: Any, stream: Any, limits: EngineLimits) -> float:
    width, height = stream.codec_context.width, stream.codec_context.height
    if width * height > limits.max_video_pixels:
        message = (
            f"the video is {width}x{height}, over the limit of {limits.max_video_pixels} "
            "pixels per frame"
        )
        raise TooLarge(message, code="video_too_large")
    seconds = None
    if container.duration is not None:
        seconds = container.duration / 1_000_000
    elif stream.duration is not None and stream.time_base is not None:
        seconds = float(stream.duration * stream.time_base)
    if seconds is not None and seconds > limits.max_video_seconds:
        message = (
            f"the video lasts {seconds:.1f} s, over the limit of {limits.max_video_seconds:g} s"
        )
        raise TooLarge(message, code="video_too_long")
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else 25.0


def iter_video_frames(
    source: Source,
    *,
    limits: EngineLimits,
    threads: int = 0,
) -> Iterator[tuple[Any, int]]:
    """Yield (``av.VideoFrame``, duration_ms) from the first video stream, lazily.

    ``threads`` 0 lets FFmpeg choose; 1 decodes on one core. More frames than
    ``limits.max_frames`` raise ``TooLarge`` (``too_many_frames``); a file with no
    video frame raises ``InvalidInput`` (``empty_video``).
    """
    import av

    with open_video(source) as container:
        if not container.streams.video:
            message = "the file has no video stream"
            raise InvalidInput(message, code="empty_video")
        stream = container.streams.video[0]
        fps = _check_stream(container, stream, limits)
        if threads != 1:
            stream.thread_type = "AUTO"
        if threads:
            stream.codec_context.thread_count = threads
        duration = max(1, round(1000 / fps))
        count = 0
        try:
            for frame in container.decode(stream):
                if count >= limits.max_frames:
                    message = f"the video has more than {limits.max_frames} frames, the limit"
                    raise TooLarge(message, code="too_many_frames")
                count += 1
                yield frame, duration
        except av.FFmpegError as exc:
            if count == 0:
                message = f"the video cannot be decoded: {exc}"
                raise InvalidInput(message, code="corrupt_video") from None
            return
        if count == 0:
            message = "the video has no frames"
            raise InvalidInput(message, code="empty_video")
