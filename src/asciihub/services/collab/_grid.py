"""Registers and frame records: the storage behind an editing state.

A frame keeps a *base* (the grid it was created with: rows of text plus optional RGB
bytes for fg and bg, all written by one user at one seq) and a sparse dict of cell
registers written since. A cell's value is its register if it has one, else the base
cell, else a blank. So loading a big document costs its text, not a Python object per
cell, and a stroke touches only its own cells.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")
BLANK = " "
DEFAULT_FG = bytes.fromhex("deded6")  # the ink of drawn exports
DEFAULT_BG = bytes.fromhex("111114")  # their paper


class Register(NamedTuple):
    """One cell's last write: character, colours, who wrote it and at which seq."""

    ch: str
    fg: str | None
    bg: str | None
    user: str
    seq: int


@dataclass(frozen=True)
class Field(Generic[T]):
    """A last-writer-wins register for one frame field or document property."""

    value: T
    user: str
    seq: int


def hex_at(data: bytes | None, index: int) -> str | None:
    """The colour of cell ``index`` in row-major RGB bytes, as ``#rrggbb``."""
    if data is None:
        return None
    offset = index * 3
    return f"#{data[offset]:02x}{data[offset + 1]:02x}{data[offset + 2]:02x}"


def rgb_bytes(color: str | None, default: bytes) -> bytes:
    """``#rrggbb`` as 3 bytes, or ``default`` for None."""
    return default if color is None else bytes.fromhex(color[1:])


@dataclass
class FrameRecord:
    """A frame: its fields as registers, its base grid and its cell registers."""

    id: str
    key: Field[str]
    duration_ms: Field[int]
    deleted: Field[bool]
    base_rows: list[str] = field(default_factory=list)
    base_cols: int = 0
    base_fg: bytes | None = None
    base_bg: bytes | None = None
    base_user: str = ""
    base_seq: int = 0
    cells: dict[tuple[int, int], Register] = field(default_factory=dict)

    def base_cell(self, row: int, col: int) -> Register:
        """The base value of a cell (a blank outside the base grid)."""
        if row < len(self.base_rows) and col < self.base_cols:
            index = row * self.base_cols + col
            return Register(
                self.base_rows[row][col],
                hex_at(self.base_fg, index),
                hex_at(self.base_bg, index),
                self.base_user,
                self.base_seq,
            )
        return Register(BLANK, None, None, self.base_user, self.base_seq)

    def cell(self, row: int, col: int) -> Register:
        """The current register of a cell."""
        register = self.cells.get((row, col))
        return register if register is not None else self.base_cell(row, col)

    def restore(self, row: int, col: int, register: Register) -> None:
        """Put back an earlier register (the base value drops the cell's own register)."""
        if register == self.base_cell(row, col):
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = register

    def extent(self) -> tuple[int, int]:
        """(rows, cols) covering the base grid and every written cell."""
        rows, cols = len(self.base_rows), self.base_cols
        for row, col in self.cells:
            rows = max(rows, row + 1)
            cols = max(cols, col + 1)
        return rows, cols

    def raster(self, rows: int, cols: int) -> Raster:
        """The top-left ``rows`` x ``cols`` cells as rows of characters and colour bytes."""
        out = Raster([], [], [], [], [])
        for row in range(rows):
            if row < len(self.base_rows):
                out.chars.append(list(self.base_rows[row][:cols].ljust(cols)))
            else:
                out.chars.append([BLANK] * cols)
            for data, colors, masks, default in (
                (self.base_fg, out.fg, out.fg_mask, DEFAULT_FG),
                (self.base_bg, out.bg, out.bg_mask, DEFAULT_BG),
            ):
                width = (
                    min(cols, self.base_cols)
                    if data is not None and row < len(self.base_rows)
                    else 0
                )
                start = row * self.base_cols * 3
                head = data[start : start + 3 * width] if data is not None else b""
                colors.append(bytearray(head + default * (cols - width)))
                masks.append(bytearray(b"\x01" * width + b"\x00" * (cols - width)))
        for (row, col), register in self.cells.items():
            if row < rows and col < cols:
                out.chars[row][col] = register.ch
                _paint(out.fg[row], out.fg_mask[row], col, register.fg, DEFAULT_FG)
                _paint(out.bg[row], out.bg_mask[row], col, register.bg, DEFAULT_BG)
        return out


@dataclass
class Raster:
    """Rows of a frame: characters, and per colour RGB bytes (3 per cell, the default
    where a cell has none) with a mask (1 where a cell has a colour of its own)."""

    chars: list[list[str]]
    fg: list[bytearray]
    fg_mask: list[bytearray]
    bg: list[bytearray]
    bg_mask: list[bytearray]

    def packed(self, layer: str) -> bytes | None:
        """Row-major RGB bytes of ``fg`` or ``bg``, or None when no cell has a colour."""
        masks = self.fg_mask if layer == "fg" else self.bg_mask
        if not any(any(mask) for mask in masks):
            return None
        return b"".join(self.fg if layer == "fg" else self.bg)

    def has_all(self, layer: str) -> bool:
        """True when every cell has a colour of its own in ``layer``."""
        masks = self.fg_mask if layer == "fg" else self.bg_mask
        return bool(masks) and all(all(mask) for mask in masks)

    def color(self, layer: str, row: int, col: int) -> str | None:
        """One cell's colour as ``#rrggbb``, or None."""
        masks, colors = (self.fg_mask, self.fg) if layer == "fg" else (self.bg_mask, self.bg)
        return hex_at(bytes(colors[row][3 * col : 3 * col + 3]), 0) if masks[row][col] else None


def _paint(colors: bytearray, mask: bytearray, col: int, color: str | None, default: bytes) -> None:
    colors[3 * col : 3 * col + 3] = rgb_bytes(color, default)
    mask[col] = 0 if color is None else 1
