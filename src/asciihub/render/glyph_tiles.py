"""Glyph tiles: each character drawn once per font size, then frames composed from them.

A tile is the ``uint8`` ink coverage (cell_h, cell_w) of one character drawn with the
bundled font at the top left of its cell (Pillow's ``la`` anchor, as text runs are
drawn). A frame's coverage is its tiles gathered by fancy indexing and laid out as
(rows * cell_h, columns * cell_w); colouring it is one ``Image.composite`` of the ink
over the ground. Braille patterns are drawn as dots from their bits, because the
bundled font has none. Tiles are cached per (font size, character); the cache is
guarded by a lock so frames may be drawn from several threads.
"""

from __future__ import annotations

import threading
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

Coverage = npt.NDArray[np.uint8]
Codes = npt.NDArray[np.uint32]

# Dot bits of a braille cell by (row, column) of its 4 x 2 grid.
_BRAILLE_BITS = ((0, 3), (1, 4), (2, 5), (6, 7))
_BRAILLE_FIRST, _BRAILLE_END = 0x2800, 0x2900


def _braille_tile(code: int, cell: tuple[int, int]) -> Coverage:
    """The dots of braille pattern ``code`` as coverage (cell_h, cell_w)."""
    cell_w, cell_h = cell
    tile = np.zeros((cell_h, cell_w), dtype=np.uint8)
    size = max(1, cell_w // 4)
    bits = code - _BRAILLE_FIRST
    for row in range(4):
        for col in range(2):
            if bits >> _BRAILLE_BITS[row][col] & 1:
                top = row * cell_h // 4 + (cell_h // 4 - size) // 2
                left = col * cell_w // 2 + (cell_w // 2 - size) // 2
                tile[top : top + size, left : left + size] = 255
    return tile


class GlyphTiles:
    """The tiles of one font at one size; ``coverage`` composes a frame from them."""

    def __init__(self, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, cell: tuple[int, int]):
        self.font = font
        self.cell = cell
        self._index: dict[int, int] = {32: 0}
        self._tiles: Coverage = np.zeros((1, cell[1], cell[0]), dtype=np.uint8)
        self._lock = threading.Lock()

    def _draw(self, code: int) -> Coverage:
        if _BRAILLE_FIRST <= code < _BRAILLE_END:
            return _braille_tile(code, self.cell)
        tile = Image.new("L", self.cell, 0)
        ImageDraw.Draw(tile).text((0, 0), chr(code), font=self.font, fill=255)
        return np.asarray(tile, dtype=np.uint8)

    def indices(self, codes: Codes) -> npt.NDArray[np.intp]:
        """The tile index of every code point of ``codes`` (any shape), drawing new ones."""
        unique, inverse = np.unique(codes, return_inverse=True)
        with self._lock:
            missing = [int(code) for code in unique.tolist() if int(code) not in self._index]
            if missing:
                fresh = np.stack([self._draw(code) for code in missing])
                for offset, code in enumerate(missing):
                    self._index[code] = len(self._tiles) + offset
                self._tiles = np.concatenate([self._tiles, fresh])
            lookup = np.array([self._index[int(code)] for code in unique.tolist()], dtype=np.intp)
        return np.asarray(lookup[inverse].reshape(codes.shape), dtype=np.intp)

    def coverage(self, codes: Codes) -> Coverage:
        """Ink coverage ``uint8`` (rows * cell_h, columns * cell_w) of a (rows, columns) grid."""
        rows, columns = codes.shape
        index = self.indices(codes)
        with self._lock:
            tiles = self._tiles
        cell_w, cell_h = self.cell
        gathered = tiles[index]  # (rows, columns, cell_h, cell_w)
        return np.ascontiguousarray(gathered.transpose(0, 2, 1, 3)).reshape(
            rows * cell_h, columns * cell_w
        )


@lru_cache(maxsize=16)
def glyph_tiles(font_key: tuple[str, int], cell: tuple[int, int]) -> GlyphTiles:
    """The shared tiles of the font ``font_key`` = (path, size) with cells of ``cell``."""
    path, size = font_key
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont
    font = ImageFont.truetype(path, size) if path else ImageFont.load_default(size)
    return GlyphTiles(font, cell)


def grid_codes(lines: list[str], columns: int, rows: int) -> Codes:
    """``lines`` as ``uint32`` (rows, columns) code points, padded with spaces or cut."""
    fitted = [line.ljust(columns)[:columns] for line in lines[:rows]]
    fitted += [" " * columns] * (rows - len(fitted))
    raw = "".join(fitted).encode("utf-32-le")
    return np.frombuffer(raw, dtype="<u4").astype(np.uint32).reshape(rows, columns)
