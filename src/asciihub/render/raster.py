"""Artwork frames to pixels with the bundled monospace font: thumbnails and social cards.

Light ink on a dark background, one character a cell on a fixed grid of cells of about
0.6 x 1.2 times the font size; each cell's ink (per-cell colour, else INK) is blended
over its ground (per-cell background, else BACKGROUND) by the glyph's coverage, from
glyph tiles drawn once per character and font size (:mod:`asciihub.render.glyph_tiles`).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

import asciihub.engine
from asciihub.engine.document import ArtworkDocument, Frame
from asciihub.render.glyph_tiles import glyph_tiles, grid_codes

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


def font_ascent(font_size: int) -> int:
    """Pixels from the top of a cell to the baseline of its character."""
    font = _font(font_size)
    if isinstance(font, ImageFont.FreeTypeFont):
        return int(font.getmetrics()[0])
    return round(font_size * 0.8)


def cell_size(font_size: int) -> tuple[int, int]:
    """(width, height) in pixels of one character cell drawn at ``font_size`` px."""
    return _cell(_font(font_size), font_size)


def _ground(frame: Frame, width: int, height: int, cell: tuple[int, int]) -> Image.Image:
    """The page background, or each cell's background colour when the frame has them."""
    size = (max(1, width * cell[0]), max(1, height * cell[1]))
    if frame.backgrounds is None or len(frame.backgrounds) != width * height * 3:
        return Image.new("RGB", size, BACKGROUND)
    cells = Image.frombytes("RGB", (width, height), frame.backgrounds)
    return cells.resize(size, Image.Resampling.NEAREST)


def _ink(frame: Frame, width: int, height: int, size: tuple[int, int]) -> Image.Image:
    """The ink colour of every pixel: INK, or each cell's colour when the frame has them."""
    if frame.colors is None or len(frame.colors) != width * height * 3:
        return Image.new("RGB", size, INK)
    cells = Image.frombytes("RGB", (width, height), frame.colors)
    return cells.resize(size, Image.Resampling.NEAREST)


def frame_image(frame: Frame, width: int, height: int, *, font_size: int = 16) -> Image.Image:
    """One frame drawn at ``font_size`` px: an RGB image of (height*cell_h, width*cell_w).

    Every character sits in its own cell (a fixed grid); cells with a background colour
    are filled with it and the ink is blended over them by the glyph's coverage.
    Braille patterns are drawn as dots (the bundled font has none).
    """
    cell = cell_size(font_size)
    tiles = glyph_tiles((str(FONT_PATH) if FONT_PATH.exists() else "", font_size), cell)
    coverage = tiles.coverage(grid_codes(frame.lines, width, height))
    mask = Image.fromarray(coverage)
    ground = _ground(frame, width, height, cell)
    return Image.composite(_ink(frame, width, height, ground.size), ground, mask)


def _png(image: Image.Image) -> bytes:
    """``image`` as PNG at zlib level 1: thumbnails and cards are drawn on request, and
    compressing is most of their cost (``optimize``, level 9 with every filter, takes
    about 8x as long for files 10 to 30% smaller)."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=1)
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
