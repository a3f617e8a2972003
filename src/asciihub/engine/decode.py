"""Safe image decoding: a format allowlist, a pixel limit, EXIF orientation, alpha.

Only the entry functions read paths or bytes; everything after works on Pillow images
or arrays. Every failure becomes an :mod:`asciihub.errors` error with a stable code.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from PIL import Image, ImageOps, UnidentifiedImageError

from asciihub.errors import InvalidInput, TooLarge, UnsupportedMedia

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP", "TIFF")
"""Pillow formats we open; anything else is ``unsupported_media_type``."""

Source = str | Path | bytes | bytearray | memoryview | Image.Image
"""What the entry functions accept: a path, encoded bytes or a Pillow image."""


@dataclass(frozen=True)
class EngineLimits:
    """Caps on untrusted input and on output size (callers fill them from settings)."""

    max_pixels: int = 64_000_000
    max_frames: int = 1000
    max_video_seconds: float = 600.0
    max_video_pixels: int = 3840 * 2160
    max_columns: int = 500
    max_rows: int = 300


def _bytes_stream(source: bytes | bytearray | memoryview) -> IO[bytes]:
    if len(source) == 0:
        message = "the image is empty (0 bytes)"
        raise InvalidInput(message, code="empty_image")
    return io.BytesIO(bytes(source))


def _open_file(source: str | Path) -> IO[bytes]:
    try:
        return io.BytesIO(Path(source).read_bytes())
    except FileNotFoundError:
        message = f"{source}: no such file"
        raise InvalidInput(message, code="file_not_found") from None
    except IsADirectoryError:
        message = f"{source} is a directory, not an image"
        raise InvalidInput(message, code="unreadable_file") from None
    except OSError as exc:
        message = f"{source}: cannot be read ({exc.strerror})"
        raise InvalidInput(message, code="unreadable_file") from None


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    """Raise ``TooLarge`` (``image_too_large``) when ``size`` (width, height) is over the limit."""
    width, height = size
    if width <= 0 or height <= 0:
        message = f"the image has no pixels ({width}x{height})"
        raise InvalidInput(message, code="empty_image")
    if width * height > max_pixels:
        message = (
            f"the image is {width}x{height} = {width * height} pixels, over the limit of "
            f"{max_pixels}; scale it down first"
        )
        raise TooLarge(message, code="image_too_large")


def open_image(source: Source, *, max_pixels: int) -> Image.Image:
    """Open ``source`` lazily (header only) and check its format and pixel count.

    The pixel limit is checked on the header, before any pixel is decoded; Pillow's
    own decompression-bomb warning is turned into the same ``image_too_large`` error.
    """
    if isinstance(source, Image.Image):
        check_pixels(source.size, max_pixels)
        return source
    stream = _open_file(source) if isinstance(source, str | Path) else _bytes_stream(source)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(stream, formats=ALLOWED_FORMATS)
    except UnidentifiedImageError:
        message = f"not an image in a supported format ({', '.join(ALLOWED_FORMATS)})"
        raise UnsupportedMedia(message, code="unsupported_image") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        message = f"the image has more pixels than the limit of {max_pixels}"
        raise TooLarge(message, code="image_too_large") from None
    except (OSError, ValueError, SyntaxError) as exc:
        message = f"the image cannot be read: {exc}"
        raise InvalidInput(message, code="corrupt_image") from None
    check_pixels(image.size, max_pixels)
    return image


def load_pixels(image: Image.Image) -> Image.Image:
    """Decode ``image``'s pixels, mapping decoder failures to ``corrupt_image``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        message = "the image has more pixels than the limit"
        raise TooLarge(message, code="image_too_large") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        message = f"the image is truncated or corrupt: {exc}"
        raise InvalidInput(message, code="corrupt_image") from None
    return image


def normalise(image: Image.Image, *, background: tuple[int, int, int] = (0, 0, 0)) -> Image.Image:
    """Apply EXIF orientation and composite transparency on ``background``; RGB or L out."""
    try:
        image = ImageOps.exif_transpose(image) or image
    except (OSError, ValueError, SyntaxError) as exc:
        message = f"the image's EXIF data is corrupt: {exc}"
        raise InvalidInput(message, code="corrupt_image") from None
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image.convert("RGBA")
        ground = Image.new("RGBA", rgba.size, (*background, 255))
        ground.alpha_composite(rgba)
        return ground.convert("RGB")
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1", "I", "I;16", "F"):
        return image.convert("L") if image.mode == "1" else _to_l(image)
    return image.convert("RGB")


def _to_l(image: Image.Image) -> Image.Image:
    # 16-bit and float greyscale: scale the used range to 0..255.
    extrema = image.getextrema()
    low, high = (float(extrema[0]), float(extrema[1])) if len(extrema) == 2 else (0.0, 255.0)  # type: ignore[arg-type]
    span = high - low or 1.0
    return image.point(lambda v: (v - low) * 255.0 / span).convert("L")


def decode_still(
    source: Source,
    *,
    max_pixels: int,
    draft_size: tuple[int, int] | None = None,
    background: tuple[int, int, int] = (0, 0, 0),
) -> Image.Image:
    """Open, check and decode the first frame of ``source`` as an RGB or L image.

    ``draft_size`` (width, height) lets JPEG decode at 1/2, 1/4 or 1/8 scale when the
    output needs no more pixels than that.
    """
    image = open_image(source, max_pixels=max_pixels)
    if draft_size is not None and image.format == "JPEG":
        mode = "L" if image.mode == "L" else "RGB"
        image.draft(mode, draft_size)
    return normalise(load_pixels(image), background=background)


def iter_image_frames(
    source: Source,
    *,
    max_pixels: int,
    max_frames: int,
    background: tuple[int, int, int] = (0, 0, 0),
) -> Iterator[tuple[Image.Image, int]]:
    """Yield (frame, duration_ms) of an animated GIF, APNG or WebP, one at a time.

    The frame cap is checked while iterating (the count in the header is never
    trusted); going past it raises ``TooLarge`` (``too_many_frames``).
    """
    image = open_image(source, max_pixels=max_pixels)
    index = 0
    while True:
        if index >= max_frames:
            message = f"the animation has more than {max_frames} frames, the limit"
            raise TooLarge(message, code="too_many_frames")
        load_pixels(image)
        duration = int(image.info.get("duration", 100) or 100)
        frame = normalise(image.copy(), background=background)
        yield frame, max(10, duration)
        index += 1
        try:
            image.seek(index)
        except EOFError:
            return
        except (OSError, ValueError, SyntaxError) as exc:
            message = f"frame {index} of the animation is corrupt: {exc}"
            raise InvalidInput(message, code="corrupt_image") from None


def is_animated(source: Source, *, max_pixels: int) -> bool:
    """Whether ``source`` is an image with more than one frame (header only)."""
    image = open_image(source, max_pixels=max_pixels)
    return bool(getattr(image, "is_animated", False))
