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

    def grid(
        self, rows: int, cols: int
    ) -> tuple[list[list[str]], list[list[str | None]], list[list[str | None]]]:
        """Characters, fg and bg of the top-left ``rows`` x ``cols`` cells."""
        chars: list[list[str]] = []
        fgs: list[list[str | None]] = []
        bgs: list[list[str | None]] = []
        for row in range(rows):
            if row < len(self.base_rows):
                line = self.base_rows[row][:cols]
                chars.append(list(line.ljust(cols)))
                start = row * self.base_cols
                width = min(cols, self.base_cols)
                fgs.append(_row_colors(self.base_fg, start, width, cols))
                bgs.append(_row_colors(self.base_bg, start, width, cols))
            else:
                chars.append([BLANK] * cols)
                fgs.append([None] * cols)
                bgs.append([None] * cols)
        for (row, col), register in self.cells.items():
            if row < rows and col < cols:
                chars[row][col] = register.ch
                fgs[row][col] = register.fg
                bgs[row][col] = register.bg
        return chars, fgs, bgs


def _row_colors(data: bytes | None, start: int, width: int, cols: int) -> list[str | None]:
    if data is None:
        return [None] * cols
    colors: list[str | None] = [hex_at(data, start + col) for col in range(width)]
    return colors + [None] * (cols - width)


def pack_colors(rows: list[list[str | None]], default: bytes) -> bytes | None:
    """Row-major RGB bytes of a colour grid (None as ``default``), or None if no colour."""
    if not any(color is not None for row in rows for color in row):
        return None
    return b"".join(rgb_bytes(color, default) for row in rows for color in row)


def pack_full(rows: list[list[str | None]]) -> bytes | None:
    """Row-major RGB bytes of a colour grid in which every cell has a colour, else None."""
    if not rows or any(color is None for row in rows for color in row):
        return None
    return b"".join(rgb_bytes(color, b"") for row in rows for color in row)
