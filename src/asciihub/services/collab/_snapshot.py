"""Snapshots of an editing state: versioned JSON, read back as untrusted input.

Shape (version 1)::

    {"version": 1, "seq": 12, "limits": {...EditLimits...},
     "width": [80, "u1", 7], "height": [24, "", 0],          # [value, user, seq]
     "frames": [{"id": "f0", "key": ["a0", "", 0], "duration_ms": [100, "", 0],
                 "deleted": [false, "", 0],
                 "base": {"user": "", "seq": 0, "cols": 80, "rows": ["...", ...],
                          "fg": base64 | null, "bg": base64 | null},
                 "cells": [[row, col, ch, fg, bg, user, seq], ...]}],
     "clients": [[client_id, last_op_id, last_seq], ...],
     "stacks": [[user, {"undo": [entry, ...], "redo": [entry, ...]}], ...]}

An undo entry is a list of items: ``["c", frame, row, col, [ch, fg, bg, user, seq],
after_seq]``, ``["f", frame, field, [value, user, seq], after_seq]`` or
``["p", prop, [value, user, seq], after_seq]``. Frames are sorted by id, cells by
(row, col), clients and stacks by name, so equal states give equal snapshots.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any, NoReturn

from asciihub.engine.document import MAX_DURATION_MS, MIN_DURATION_MS
from asciihub.errors import InvalidInput

from ._doc import CellUndo, Doc, FieldUndo, PropUndo, Stacks, UndoEntry, UndoItem
from ._grid import Field, FrameRecord, Register
from ._keys import check_key
from ._limits import EditLimits
from ._ops import check_char, check_color, check_frame_id

SNAPSHOT_VERSION = 1
MAX_TRACKED_CLIENTS = 10_000
_MAX_NAME = 200
# What check_text refuses (C0/C1 controls, surrogates, bidi controls), plus newlines.
_NOT_PRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069\u200e\u200f]"
)

Clients = dict[str, tuple[int, int]]


class SnapshotError(InvalidInput):
    """A snapshot is malformed (code ``invalid_snapshot``)."""


def _fail(where: str, what: str) -> NoReturn:
    message = f"snapshot {where} {what}".replace("  ", " ")
    raise SnapshotError(message, code="invalid_snapshot")


def _int(value: Any, where: str, low: int = 0, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        _fail(where, f"must be a whole number of at least {low}")
    if high is not None and value > high:
        _fail(where, f"must be at most {high}")
    return value


def _str(value: Any, where: str, *, empty: bool = False) -> str:
    if not isinstance(value, str) or len(value) > _MAX_NAME or (not value and not empty):
        _fail(where, f"must be a string of at most {_MAX_NAME} characters")
    return value


def _list(value: Any, where: str, length: int | None = None) -> list[Any]:
    if not isinstance(value, list) or (length is not None and len(value) != length):
        size = "" if length is None else f" of {length} items"
        _fail(where, f"must be a list{size}")
    return value


def _obj(value: Any, where: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) != keys:
        _fail(where, f"must be an object with exactly {', '.join(sorted(keys))}")
    return value


def _checked(where: str, check: Any, *args: Any) -> Any:
    try:
        return check(*args)
    except InvalidInput as error:
        _fail(where, f"is invalid: {error.message}")


# --- writing -------------------------------------------------------------------------


def _field(item: Field[Any]) -> list[Any]:
    return [item.value, item.user, item.seq]


def _colors(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _frame_json(frame: FrameRecord) -> dict[str, Any]:
    return {
        "id": frame.id,
        "key": _field(frame.key),
        "duration_ms": _field(frame.duration_ms),
        "deleted": _field(frame.deleted),
        "base": {
            "user": frame.base_user,
            "seq": frame.base_seq,
            "cols": frame.base_cols,
            "rows": list(frame.base_rows),
            "fg": _colors(frame.base_fg),
            "bg": _colors(frame.base_bg),
        },
        "cells": [[r, c, *reg] for (r, c), reg in sorted(frame.cells.items())],
    }


def _item_json(item: UndoItem) -> list[Any]:
    if isinstance(item, CellUndo):
        return ["c", item.frame_id, item.row, item.col, list(item.before), item.after_seq]
    if isinstance(item, FieldUndo):
        return ["f", item.frame_id, item.name, _field(item.before), item.after_seq]
    return ["p", item.name, _field(item.before), item.after_seq]


def dump(doc: Doc, seq: int, clients: Clients) -> dict[str, Any]:
    """The JSON-ready snapshot of a state."""
    return {
        "version": SNAPSHOT_VERSION,
        "seq": seq,
        "limits": doc.limits.to_json(),
        "width": _field(doc.width),
        "height": _field(doc.height),
        "frames": [_frame_json(doc.frames[key]) for key in sorted(doc.frames)],
        "clients": [[name, *clients[name]] for name in sorted(clients)],
        "stacks": [
            [
                user,
                {
                    "undo": [[_item_json(i) for i in entry] for entry in doc.stacks[user].undo],
                    "redo": [[_item_json(i) for i in entry] for entry in doc.stacks[user].redo],
                },
            ]
            for user in sorted(doc.stacks)
        ],
    }


# --- reading -------------------------------------------------------------------------


def _read_field(raw: Any, where: str, kind: type, seq: int) -> Field[Any]:
    value, user, at = _list(raw, where, 3)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        _fail(where, f"value must be a {kind.__name__}")
    return Field(value, _str(user, f"{where} user", empty=True), _int(at, f"{where} seq", 0, seq))


def _read_frame_field(name: str, raw: Any, where: str, seq: int) -> Field[Any]:
    if name == "key":
        item = _read_field(raw, where, str, seq)
        _checked(where, check_key, item.value)
    elif name == "duration_ms":
        item = _read_field(raw, where, int, seq)
        _int(item.value, where, MIN_DURATION_MS, MAX_DURATION_MS)
    else:
        item = _read_field(raw, where, bool, seq)
    return item


def _read_register(raw: Any, where: str, seq: int) -> Register:
    ch, fg, bg, user, at = _list(raw, where, 5)
    return Register(
        _checked(where, check_char, ch, "ch"),
        _checked(where, check_color, fg, "fg"),
        _checked(where, check_color, bg, "bg"),
        _str(user, f"{where} user", empty=True),
        _int(at, f"{where} seq", 0, seq),
    )


def _read_colors(raw: Any, cells: int, where: str) -> bytes | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        _fail(where, "must be base64 or null")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        _fail(where, "must be base64 or null")
    if len(data) != cells * 3:
        _fail(where, f"must hold {cells * 3} bytes")
    return data


def _read_base(frame: FrameRecord, raw: Any, where: str, limits: EditLimits, seq: int) -> None:
    base = _obj(raw, where, {"user", "seq", "cols", "rows", "fg", "bg"})
    frame.base_user = _str(base["user"], f"{where}.user", empty=True)
    frame.base_seq = _int(base["seq"], f"{where}.seq", 0, seq)
    frame.base_cols = _int(base["cols"], f"{where}.cols", 0, limits.max_width)
    rows = _list(base["rows"], f"{where}.rows")
    if len(rows) > limits.max_height:
        _fail(f"{where}.rows", f"has more than {limits.max_height} rows")
    for index, row in enumerate(rows):
        if not isinstance(row, str) or len(row) != frame.base_cols or _NOT_PRINTABLE.search(row):
            _fail(f"{where}.rows[{index}]", f"must be {frame.base_cols} printable characters")
    frame.base_rows = rows
    cells = len(rows) * frame.base_cols
    frame.base_fg = _read_colors(base["fg"], cells, f"{where}.fg")
    frame.base_bg = _read_colors(base["bg"], cells, f"{where}.bg")


def _read_frame(raw: Any, where: str, limits: EditLimits, seq: int) -> FrameRecord:
    data = _obj(raw, where, {"id", "key", "duration_ms", "deleted", "base", "cells"})
    frame = FrameRecord(
        id=_checked(f"{where}.id", check_frame_id, data["id"], "id"),
        key=_read_frame_field("key", data["key"], f"{where}.key", seq),
        duration_ms=_read_frame_field(
            "duration_ms", data["duration_ms"], f"{where}.duration_ms", seq
        ),
        deleted=_read_frame_field("deleted", data["deleted"], f"{where}.deleted", seq),
    )
    _read_base(frame, data["base"], f"{where}.base", limits, seq)
    cells = _list(data["cells"], f"{where}.cells")
    if len(cells) > limits.max_width * limits.max_height:
        _fail(f"{where}.cells", "holds more cells than the size limits allow")
    for index, item in enumerate(cells):
        cell_where = f"{where}.cells[{index}]"
        row, col, *register = _list(item, cell_where, 7)
        key = (
            _int(row, f"{cell_where} row", 0, limits.max_height - 1),
            _int(col, f"{cell_where} col", 0, limits.max_width - 1),
        )
        if key in frame.cells:
            _fail(cell_where, "repeats a cell")
        frame.cells[key] = _read_register(register, cell_where, seq)
    return frame


def _read_item(raw: Any, where: str, limits: EditLimits, seq: int) -> UndoItem:
    tag = raw[0] if isinstance(raw, list) and raw else None
    if tag == "c":
        _, frame, row, col, before, after = _list(raw, where, 6)
        return CellUndo(
            _checked(where, check_frame_id, frame, "frame"),
            _int(row, f"{where} row", 0, limits.max_height - 1),
            _int(col, f"{where} col", 0, limits.max_width - 1),
            _read_register(before, f"{where} before", seq),
            _int(after, f"{where} after_seq", 0, seq),
        )
    if tag == "f":
        _, frame, name, before, after = _list(raw, where, 5)
        if name not in ("key", "duration_ms", "deleted"):
            _fail(where, "names an unknown frame field")
        return FieldUndo(
            _checked(where, check_frame_id, frame, "frame"),
            name,
            _read_frame_field(name, before, f"{where} before", seq),
            _int(after, f"{where} after_seq", 0, seq),
        )
    if tag == "p":
        _, name, before, after = _list(raw, where, 4)
        if name not in ("width", "height"):
            _fail(where, "names an unknown property")
        item = _read_field(before, f"{where} before", int, seq)
        _int(item.value, f"{where} before", 1)
        return PropUndo(name, item, _int(after, f"{where} after_seq", 0, seq))
    _fail(where, "must be a 'c', 'f' or 'p' undo item")


def _read_entries(raw: Any, where: str, limits: EditLimits, seq: int) -> list[UndoEntry]:
    entries = _list(raw, where)
    if len(entries) > limits.max_undo_depth:
        _fail(where, f"holds more than {limits.max_undo_depth} entries")
    result: list[UndoEntry] = []
    for index, entry in enumerate(entries):
        items = _list(entry, f"{where}[{index}]")
        if not items or len(items) > max(limits.max_cells_per_op, 2):
            _fail(f"{where}[{index}]", "must hold 1 to max_cells_per_op items")
        result.append(
            tuple(
                _read_item(item, f"{where}[{index}][{n}]", limits, seq)
                for n, item in enumerate(items)
            )
        )
    return result


def _read_clients(raw: Any, seq: int) -> Clients:
    clients: Clients = {}
    items = _list(raw, "clients")
    if len(items) > MAX_TRACKED_CLIENTS:
        _fail("clients", f"holds more than {MAX_TRACKED_CLIENTS} clients")
    for index, item in enumerate(items):
        name, op_id, at = _list(item, f"clients[{index}]", 3)
        name = _str(name, f"clients[{index}] id")
        if name in clients:
            _fail(f"clients[{index}]", "repeats a client")
        clients[name] = (
            _int(op_id, f"clients[{index}] op_id"),
            _int(at, f"clients[{index}] seq", 0, seq),
        )
    return clients


def load(data: Any) -> tuple[Doc, int, Clients]:
    """(document, seq, clients) from a snapshot; raises ``InvalidInput`` if malformed."""
    keys = {"version", "seq", "limits", "width", "height", "frames", "clients", "stacks"}
    if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
        _fail("version", f"must be {SNAPSHOT_VERSION}")
    _obj(data, "", keys)
    seq = _int(data["seq"], "seq")
    limits = EditLimits.from_json(data["limits"])
    doc = Doc(
        limits=limits,
        width=_read_field(data["width"], "width", int, seq),
        height=_read_field(data["height"], "height", int, seq),
    )
    _int(doc.width.value, "width", 1, limits.max_width)
    _int(doc.height.value, "height", 1, limits.max_height)
    frames = _list(data["frames"], "frames")
    if not frames or len(frames) > 2 * limits.max_frames:
        _fail("frames", f"must hold 1 to {2 * limits.max_frames} frames")
    for index, raw in enumerate(frames):
        frame = _read_frame(raw, f"frames[{index}]", limits, seq)
        if frame.id in doc.frames:
            _fail(f"frames[{index}]", "repeats a frame id")
        doc.frames[frame.id] = frame
    live = doc.live_count()
    if not 1 <= live <= limits.max_frames:
        _fail("frames", f"must include 1 to {limits.max_frames} frames that are not deleted")
    if not doc.fits(live, doc.width.value, doc.height.value):
        _fail("frames", "are larger than the character budget (max_text_chars)")
    for index, item in enumerate(_list(data["stacks"], "stacks")):
        user, stacks = _list(item, f"stacks[{index}]", 2)
        user = _str(user, f"stacks[{index}] user", empty=True)
        stacks = _obj(stacks, f"stacks[{index}]", {"undo", "redo"})
        if user in doc.stacks:
            _fail(f"stacks[{index}]", "repeats a user")
        doc.stacks[user] = Stacks(
            undo=_read_entries(stacks["undo"], f"stacks[{index}].undo", limits, seq),
            redo=_read_entries(stacks["redo"], f"stacks[{index}].redo", limits, seq),
        )
    return doc, seq, _read_clients(data["clients"], seq)
