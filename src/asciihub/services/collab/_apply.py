"""Applying one validated op to a document: deterministic, total, undo-aware.

Every handler either changes the document and returns what it touched, or changes
nothing and returns a noop reason. Nothing here raises for an op that no longer fits.
"""

from __future__ import annotations

from typing import Any

from ._doc import CellUndo, Changes, Doc, FieldUndo, PropUndo, UndoEntry, UndoItem
from ._grid import BLANK, Field, FrameRecord, Register
from ._ops import split_lines

# The "deleted" register a frame had before a frame_add made it: gone.
ABSENT = Field(True, "", 0)


def apply_op(
    doc: Doc, op: dict[str, Any], user: str, seq: int, *, record: bool
) -> tuple[Changes, str | None]:
    """Apply ``op`` written by ``user`` at ``seq``; (what changed, noop reason or None).

    With ``record`` the op is pushed on its user's undo stack (and a new edit clears
    the redo stack); a client's optimistic copy applies without recording.
    """
    out = Changes()
    kind = op["kind"]
    if kind in ("undo", "redo"):
        return out, _undo(doc, user, seq, out, redo=kind == "redo")
    if kind == "stroke":
        result = _stroke(doc, op, user, seq, out)
    elif kind == "frame_add":
        result = _frame_add(doc, op, user, seq, out)
    elif kind == "frame_update":
        result = _frame_update(doc, op, user, seq, out)
    else:
        result = _resize(doc, op, user, seq, out)
    if isinstance(result, str):
        return Changes(), result
    if record:
        stacks = doc.user_stacks(user)
        doc.push(stacks.undo, result)
        stacks.redo.clear()
    return out, None


def _stroke(doc: Doc, op: dict[str, Any], user: str, seq: int, out: Changes) -> UndoEntry | str:
    frame = doc.frames.get(op["frame"])
    if frame is None:
        return "unknown_frame"
    if frame.deleted.value:
        return "frame_deleted"
    rows, cols = doc.height.value, doc.width.value
    undo: list[UndoItem] = []
    cells = frame.cells
    for row, col, ch, fg, bg in op["cells"]:
        if row >= rows or col >= cols:
            continue
        key = (frame.id, row, col)
        if key not in out.cells:
            undo.append(CellUndo(frame.id, row, col, frame.cell(row, col), seq))
            out.cells[key] = None
        cells[(row, col)] = Register(ch, fg, bg, user, seq)
    if not undo:
        return "out_of_bounds"
    return tuple(undo)


def _frame_add(doc: Doc, op: dict[str, Any], user: str, seq: int, out: Changes) -> UndoEntry | str:
    if op["id"] in doc.frames:
        return "frame_exists"
    source = doc.frames.get(op["copy_of"]) if "copy_of" in op else None
    if "copy_of" in op and source is None:
        return "unknown_frame"
    reason = doc.can_add_frame()
    if reason is not None:
        return reason
    frame = FrameRecord(
        id=op["id"],
        key=Field(op["key"], user, seq),
        duration_ms=Field(op["duration_ms"], user, seq),
        deleted=Field(False, user, seq),
        base_user=user,
        base_seq=seq,
    )
    if source is not None:
        _copy_base(frame, source)
    elif "text" in op:
        _text_base(frame, op["text"], doc.height.value, doc.width.value)
    doc.frames[frame.id] = frame
    out.frames[frame.id] = None
    rows, cols = frame.extent()
    raster = frame.raster(rows, cols)
    for row, chars in enumerate(raster.chars):
        fg_mask, bg_mask = raster.fg_mask[row], raster.bg_mask[row]
        for col, ch in enumerate(chars):
            if ch != BLANK or fg_mask[col] or bg_mask[col]:
                out.cells[(frame.id, row, col)] = None
    return (FieldUndo(frame.id, "deleted", ABSENT, seq),)


def _copy_base(frame: FrameRecord, source: FrameRecord) -> None:
    """Copy every cell; colours go in the base when all cells have one, else in registers."""
    rows, cols = source.extent()
    raster = source.raster(rows, cols)
    frame.base_rows = ["".join(line) for line in raster.chars]
    frame.base_cols = cols
    frame.base_fg = b"".join(raster.fg) if raster.has_all("fg") else None
    frame.base_bg = b"".join(raster.bg) if raster.has_all("bg") else None
    for row in range(rows):
        loose_fg = frame.base_fg is None and any(raster.fg_mask[row])
        loose_bg = frame.base_bg is None and any(raster.bg_mask[row])
        if not (loose_fg or loose_bg):
            continue
        for col in range(cols):
            fg, bg = raster.color("fg", row, col), raster.color("bg", row, col)
            if (fg is not None and loose_fg) or (bg is not None and loose_bg):
                register = Register(raster.chars[row][col], fg, bg, frame.base_user, frame.base_seq)
                frame.cells[(row, col)] = register


def _text_base(frame: FrameRecord, text: str, rows: int, cols: int) -> None:
    lines = [line[:cols].ljust(cols) for line in split_lines(text)[:rows]]
    frame.base_rows = lines
    frame.base_cols = cols


def _frame_update(
    doc: Doc, op: dict[str, Any], user: str, seq: int, out: Changes
) -> UndoEntry | str:
    frame = doc.frames.get(op["id"])
    if frame is None:
        return "unknown_frame"
    deleted = op.get("deleted")
    if deleted is True and not frame.deleted.value and doc.live_count() <= 1:
        return "last_frame"
    if deleted is False and frame.deleted.value:
        reason = doc.can_add_frame()
        if reason is not None:
            return reason
    undo: list[UndoItem] = []
    for name in ("key", "duration_ms", "deleted"):
        if name in op:
            undo.append(FieldUndo(frame.id, name, getattr(frame, name), seq))
            setattr(frame, name, Field(op[name], user, seq))
    out.frames[frame.id] = None
    return tuple(undo)


def _resize(doc: Doc, op: dict[str, Any], user: str, seq: int, out: Changes) -> UndoEntry | str:
    """Write the width and height that differ from the current ones."""
    width, height = op["width"], op["height"]
    if not doc.fits(doc.live_count(), width, height):
        return "document_too_large"
    undo: list[UndoItem] = []
    for name, value in (("width", width), ("height", height)):
        current: Field[int] = getattr(doc, name)
        if current.value != value:
            undo.append(PropUndo(name, current, seq))
            setattr(doc, name, Field(value, user, seq))
            out.props[name] = None
    return tuple(undo) if undo else "unchanged"


def _undo(doc: Doc, user: str, seq: int, out: Changes, *, redo: bool) -> str | None:
    """Undo (or redo) the user's newest entry that still has something to restore.

    An item is restored only if its target still holds the write the entry made
    (same seq), so later work by anyone else is never touched. Entries with nothing
    left to restore are dropped and the next one is tried.
    """
    stacks = doc.stacks.get(user)
    if stacks is None:
        return "nothing_to_redo" if redo else "nothing_to_undo"
    source, target = (stacks.redo, stacks.undo) if redo else (stacks.undo, stacks.redo)
    while source:
        entry = source.pop()
        inverse = tuple(
            restored for item in entry if (restored := _restore(doc, item, out)) is not None
        )
        if inverse:
            doc.push(target, inverse)
            return None
    return "nothing_to_redo" if redo else "nothing_to_undo"


def _restore(doc: Doc, item: UndoItem, out: Changes) -> UndoItem | None:
    """Restore one item if it still applies; return the item that reverses it."""
    if isinstance(item, CellUndo):
        frame = doc.frames.get(item.frame_id)
        if frame is None or frame.deleted.value:
            return None
        current = frame.cell(item.row, item.col)
        if current.seq != item.after_seq:
            return None
        frame.restore(item.row, item.col, item.before)
        out.cells[(frame.id, item.row, item.col)] = None
        return CellUndo(frame.id, item.row, item.col, current, item.before.seq)
    if isinstance(item, FieldUndo):
        return _restore_field(doc, item, out)
    prop: Field[int] = getattr(doc, item.name)
    if prop.seq != item.after_seq:
        return None
    width = item.before.value if item.name == "width" else doc.width.value
    height = item.before.value if item.name == "height" else doc.height.value
    if not doc.fits(doc.live_count(), width, height):
        return None
    setattr(doc, item.name, item.before)
    out.props[item.name] = None
    return PropUndo(item.name, prop, item.before.seq)


def _restore_field(doc: Doc, item: FieldUndo, out: Changes) -> UndoItem | None:
    frame = doc.frames.get(item.frame_id)
    if frame is None:
        return None
    current: Field[Any] = getattr(frame, item.name)
    if current.seq != item.after_seq:
        return None
    if item.name == "deleted" and item.before.value != current.value:
        if item.before.value and doc.live_count() <= 1:
            return None
        if not item.before.value and doc.can_add_frame() is not None:
            return None
    setattr(frame, item.name, item.before)
    out.frames[frame.id] = None
    return FieldUndo(frame.id, item.name, current, item.before.seq)
