"""Artwork frames to pixels with the bundled monospace font: thumbnails and social cards.

Light ink on a dark background, one character cell per font advance; per-cell colours
are drawn as runs of equal colour along each line, over per-cell background colours
when the frame has them.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

import asciihub.engine
from asciihub.engine.document import ArtworkDocument, Frame

FONT_PATH = Path(asciihub.engine.__file__).parent / "fonts" / "DejaVuSansMono.ttf"
BACKGROUND = (17, 17, 20)
INK = (222, 222, 214)
ACCENT = (120, 200, 140)
THUMBNAIL_BOX = (640, 360)
CARD_SIZE = (1200, 630)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if FONT_PATH.exists():
        return ImageFont.truetype(str(FONT_PATH), size)
    return ImageFont.load_default(size)


def _cell(font: ImageFont.FreeTypeFont | ImageFont.ImageFont, size: int) -> tuple[int, int]:
    """(width, height) in pixels of one character cell."""
    left, _, right, _ = font.getbbox("M" * 10)
    return max(1, round((right - left) / 10)), round(size * 1.2)


def cell_size(font_size: int) -> tuple[int, int]:
    """(width, height) in pixels of one character cell drawn at ``font_size`` px."""
    return _cell(_font(font_size), font_size)


def _runs(line: str, colors: bytes, offset: int) -> list[tuple[int, str, tuple[int, int, int]]]:
    runs: list[tuple[int, str, tuple[int, int, int]]] = []
    start = 0
    for index in range(1, len(line) + 1):
        if (
            index == len(line)
            or colors[offset + 3 * index : offset + 3 * index + 3]
            != colors[offset + 3 * start : offset + 3 * start + 3]
        ):
            rgb = colors[offset + 3 * start : offset + 3 * start + 3]
            runs.append((start, line[start:index], (rgb[0], rgb[1], rgb[2])))
            start = index
    return runs


def _ground(frame: Frame, width: int, height: int, cell: tuple[int, int]) -> Image.Image:
    """The page background, or each cell's background colour when the frame has them."""
    size = (max(1, width * cell[0]), max(1, height * cell[1]))
    if frame.backgrounds is None or len(frame.backgrounds) != width * height * 3:
        return Image.new("RGB", size, BACKGROUND)
    cells = Image.frombytes("RGB", (width, height), frame.backgrounds)
    return cells.resize(size, Image.Resampling.NEAREST)


_NO_BRAILLE = {code: " " for code in range(0x2800, 0x2900)}
# Dot bits of a braille cell by (row, column) of its 4 x 2 grid.
_BRAILLE_BITS = np.array([[0, 3], [1, 4], [2, 5], [6, 7]])


def _braille_dots(frame: Frame, width: int, height: int, cell: tuple[int, int]) -> Any:
    """Where braille dots are lit: ``bool`` (height * cell_h, width * cell_w), or None.

    The bundled font has no braille, so dots are drawn from each pattern's bits.
    """
    lines = [line.ljust(width)[:width] for line in frame.lines[:height]]
    lines += [" " * width] * (height - len(lines))
    codes = np.frombuffer("".join(lines).encode("utf-32-le"), dtype="<u4").reshape(height, width)
    is_braille = (codes >= 0x2800) & (codes < 0x2900)
    if not is_braille.any():
        return None
    cell_w, cell_h = cell
    size = max(1, cell_w // 4)
    bit = np.full((cell_h, cell_w), -1)
    for row in range(4):
        for col in range(2):
            top = row * cell_h // 4 + (cell_h // 4 - size) // 2
            left = col * cell_w // 2 + (cell_w // 2 - size) // 2
            bit[top : top + size, left : left + size] = _BRAILLE_BITS[row, col]
    masks = np.where(is_braille, codes - 0x2800, 0).astype(np.int64)
    lit = (masks[:, None, :, None] >> np.maximum(bit, 0)[None, :, None, :]) & 1
    lit = lit.astype(bool) & (bit >= 0)[None, :, None, :]
    return lit.reshape(height * cell_h, width * cell_w)


def _draw_braille(image: Image.Image, frame: Frame, dots: Any, cell: tuple[int, int]) -> None:
    cell_w, cell_h = cell
    pixels = np.array(image)
    if frame.colors is not None and len(frame.colors) * cell_w * cell_h == pixels.size:
        rows, cols = pixels.shape[0] // cell_h, pixels.shape[1] // cell_w
        ink = np.frombuffer(frame.colors, dtype=np.uint8).reshape(rows, cols, 3)
        ink = ink.repeat(cell_h, axis=0).repeat(cell_w, axis=1)
    else:
        ink = np.broadcast_to(np.array(INK, dtype=np.uint8), pixels.shape)
    pixels[dots] = ink[dots]
    image.paste(Image.fromarray(pixels, mode="RGB"))


def frame_image(frame: Frame, width: int, height: int, *, font_size: int = 16) -> Image.Image:
    """One frame drawn at ``font_size`` px: an RGB image of (height*cell_h, width*cell_w).

    Cells with a background colour are filled with it; the ink is drawn over them.
    Braille patterns are drawn as dots (the bundled font has none).
    """
    font = _font(font_size)
    cell_w, cell_h = _cell(font, font_size)
    image = _ground(frame, width, height, (cell_w, cell_h))
    dots = _braille_dots(frame, width, height, (cell_w, cell_h))
    if dots is not None:
        frame = Frame(
            text=frame.text.translate(_NO_BRAILLE),
            duration_ms=frame.duration_ms,
            colors=frame.colors,
            backgrounds=frame.backgrounds,
        )
        _draw_braille(image, frame, dots, (cell_w, cell_h))
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(frame.lines[:height]):
        y = row * cell_h
        if frame.colors is None:
            draw.text((0, y), line, font=font, fill=INK)
            continue
        for start, text, rgb in _runs(line, frame.colors, row * width * 3):
            if text.strip():
                draw.text((start * cell_w, y), text, font=font, fill=rgb)
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    scale = min(box[0] / image.width, box[1] / image.height, 1.0)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, Image.Resampling.LANCZOS) if scale < 1.0 else image


def fitting_font_size(columns: int, rows: int, box: tuple[int, int], largest: int = 48) -> int:
    """The font size (px) at which a ``columns`` x ``rows`` grid best fills ``box``."""
    by_width = box[0] / (max(columns, 1) * 0.6021)
    by_height = box[1] / (max(rows, 1) * 1.2)
    return max(6, min(largest, int(min(by_width, by_height))))


def thumbnail_png(document: ArtworkDocument) -> bytes:
    """The first frame, drawn to fill 640x360 at most (small art is drawn large), as PNG."""
    size = fitting_font_size(document.width, document.height, THUMBNAIL_BOX)
    image = frame_image(document.frames[0], document.width, document.height, font_size=size)
    return _png(_fit(image, THUMBNAIL_BOX))


def card_png(document: ArtworkDocument, *, title: str, owner: str) -> bytes:
    """A 1200x630 social card: the first frame centred, the title and owner below."""
    card = Image.new("RGB", CARD_SIZE, BACKGROUND)
    size = fitting_font_size(document.width, document.height, (1120, 470), largest=64)
    art = _fit(
        frame_image(document.frames[0], document.width, document.height, font_size=size),
        (1120, 470),
    )
    card.paste(art, ((CARD_SIZE[0] - art.width) // 2, 30 + (470 - art.height) // 2))
    draw = ImageDraw.Draw(card)
    title_font = _font(36)
    small = _font(24)
    draw.text((40, 530), title[:60] or "Untitled", font=title_font, fill=INK)
    draw.text((40, 580), f"@{owner}" if owner else "", font=small, fill=ACCENT)
    draw.text((CARD_SIZE[0] - 200, 580), "asciihub", font=small, fill=ACCENT)
    return _png(card)
