"""The document half of an editing state: properties, frames, undo stacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._grid import Field, FrameRecord, Register
from ._limits import EditLimits, frame_chars


@dataclass(frozen=True)
class CellUndo:
    """Put ``before`` back into a cell if it still holds the write made at ``after_seq``."""

    frame_id: str
    row: int
    col: int
    before: Register
    after_seq: int


@dataclass(frozen=True)
class FieldUndo:
    """Put ``before`` back into a frame field (key, duration_ms, deleted) likewise."""

    frame_id: str
    name: str
    before: Field[Any]
    after_seq: int


@dataclass(frozen=True)
class PropUndo:
    """Put ``before`` back into a document property (width, height) likewise."""

    name: str
    before: Field[int]
    after_seq: int


UndoItem = CellUndo | FieldUndo | PropUndo
UndoEntry = tuple[UndoItem, ...]


@dataclass
class Stacks:
    """One user's undo and redo entries, newest last."""

    undo: list[UndoEntry] = field(default_factory=list)
    redo: list[UndoEntry] = field(default_factory=list)


@dataclass
class Changes:
    """What an op touched, in order, for building its effect."""

    cells: dict[tuple[str, int, int], None] = field(default_factory=dict)
    frames: dict[str, None] = field(default_factory=dict)
    props: dict[str, None] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when nothing changed."""
        return not (self.cells or self.frames or self.props)


@dataclass
class Doc:
    """Width and height registers, frames by id, per-user undo stacks."""

    limits: EditLimits
    width: Field[int]
    height: Field[int]
    frames: dict[str, FrameRecord] = field(default_factory=dict)
    stacks: dict[str, Stacks] = field(default_factory=dict)

    def live_count(self) -> int:
        """How many frames are not deleted."""
        return sum(1 for frame in self.frames.values() if not frame.deleted.value)

    def fits(self, live: int, width: int, height: int) -> bool:
        """Whether ``live`` frames of ``width`` x ``height`` fit the character budget."""
        return live * frame_chars(width, height) <= self.limits.max_text_chars

    def can_add_frame(self) -> str | None:
        """None if one more live frame fits, else the noop reason."""
        live = self.live_count()
        if live >= self.limits.max_frames or len(self.frames) >= 2 * self.limits.max_frames:
            return "too_many_frames"
        if not self.fits(live + 1, self.width.value, self.height.value):
            return "document_too_large"
        return None

    def ordered(self, *, include_deleted: bool = False) -> list[FrameRecord]:
        """Frames in order-key order (ties broken by id)."""
        frames = [f for f in self.frames.values() if include_deleted or not f.deleted.value]
        return sorted(frames, key=lambda f: (f.key.value, f.id))

    def user_stacks(self, user: str) -> Stacks:
        """The stacks of ``user`` (made on first use)."""
        stacks = self.stacks.get(user)
        if stacks is None:
            stacks = self.stacks[user] = Stacks()
        return stacks

    def push(self, stack: list[UndoEntry], entry: UndoEntry) -> None:
        """Push an entry, dropping the oldest beyond ``max_undo_depth``."""
        stack.append(entry)
        if len(stack) > self.limits.max_undo_depth:
            del stack[0 : len(stack) - self.limits.max_undo_depth]
