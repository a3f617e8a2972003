"""Structural validation of editing ops (see the package docstring for their shapes)."""

from __future__ import annotations

import math
import re
from typing import Any

from asciihub.engine.document import MAX_DURATION_MS, MIN_DURATION_MS, check_text
from asciihub.errors import InvalidInput

from ._keys import check_key
from ._limits import EditLimits

OP_KINDS = ("stroke", "frame_add", "frame_update", "resize", "undo", "redo")
MAX_ID_CHARS = 64
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

# kind -> (required fields, optional fields); "kind" itself is always required.
_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "stroke": (frozenset({"frame", "cells"}), frozenset()),
    "frame_add": (frozenset({"id", "key", "duration_ms"}), frozenset({"text", "copy_of"})),
    "frame_update": (frozenset({"id"}), frozenset({"key", "duration_ms", "deleted"})),
    "resize": (frozenset({"width", "height"}), frozenset()),
    "undo": (frozenset(), frozenset()),
    "redo": (frozenset(), frozenset()),
}


def _bad(message: str, code: str = "invalid_op") -> InvalidInput:
    return InvalidInput(message, code=code)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_frame_id(value: Any, where: str) -> str:
    """A frame id: 1 to 64 of ``A-Z a-z 0-9 _ -``."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        message = f"{where} must be a frame id of 1 to {MAX_ID_CHARS} letters, digits, _ or -"
        raise _bad(message, "invalid_frame_id")
    return value


def check_color(value: Any, where: str) -> str | None:
    """A colour ``#rrggbb`` (returned lower-case) or None."""
    if value is None:
        return None
    if not isinstance(value, str) or not _COLOR.fullmatch(value):
        message = f"{where} must be a colour '#rrggbb' or null"
        raise _bad(message, "invalid_color")
    return value.lower()


def check_char(value: Any, where: str) -> str:
    """One printable character (the document's text rules, no newline)."""
    if not isinstance(value, str) or len(value) != 1 or value in "\r\n":
        message = f"{where} must be exactly one printable character"
        raise _bad(message, "invalid_character")
    check_text(value, where=where)
    return value


def _duration(value: Any, where: str) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not MIN_DURATION_MS <= round(value) <= MAX_DURATION_MS
    ):
        message = (
            f"{where} must be a number of milliseconds from {MIN_DURATION_MS} to {MAX_DURATION_MS}"
        )
        raise _bad(message)
    return round(value)


def _order_key(value: Any, where: str) -> str:
    if not isinstance(value, str):
        message = f"{where} must be an order key string"
        raise _bad(message, "invalid_order_key")
    return check_key(value)


def _dimension(value: Any, name: str, cap: int) -> int:
    if not _is_int(value) or not 1 <= value <= cap:
        message = f"resize {name} must be a whole number from 1 to {cap} (the limit)"
        raise _bad(message, "size_out_of_range")
    result: int = value
    return result


def _cells(raw: Any, limits: EditLimits) -> list[list[Any]]:
    if not isinstance(raw, list) or not raw:
        message = "stroke cells must be a non-empty list of [row, col, ch, fg, bg]"
        raise _bad(message)
    if len(raw) > limits.max_cells_per_op:
        message = (
            f"a stroke carries {len(raw)} cells; the limit is {limits.max_cells_per_op} "
            "(split it into several strokes)"
        )
        raise _bad(message, "too_many_cells")
    # Strokes repeat a few characters and colours many times: check each one once.
    chars: dict[str, str] = {}
    colors: dict[str, str | None] = {}
    cells: list[list[Any]] = []
    rows, cols = limits.max_height, limits.max_width
    for index, item in enumerate(raw):
        if type(item) is not list or len(item) != 5:
            message = f"cells[{index}] must be [row, col, ch, fg, bg]"
            raise _bad(message)
        row, col, ch, fg, bg = item
        if type(row) is not int or not 0 <= row < rows:
            message = f"cells[{index}] row must be a whole number from 0 to {rows - 1}"
            raise _bad(message, "size_out_of_range")
        if type(col) is not int or not 0 <= col < cols:
            message = f"cells[{index}] col must be a whole number from 0 to {cols - 1}"
            raise _bad(message, "size_out_of_range")
        char = chars.get(ch) if type(ch) is str else None
        if char is None:
            char = chars[ch] = check_char(ch, f"cells[{index}] ch")
        cells.append(
            [
                row,
                col,
                char,
                _cached_color(colors, fg, index, "fg"),
                _cached_color(colors, bg, index, "bg"),
            ]
        )
    return cells


def _cached_color(seen: dict[str, str | None], value: Any, index: int, name: str) -> str | None:
    if value is None:
        return None
    if type(value) is str and value in seen:
        return seen[value]
    color = check_color(value, f"cells[{index}] {name}")
    seen[value] = color
    return color


def _text(value: Any, limits: EditLimits) -> str:
    if not isinstance(value, str):
        message = "frame_add text must be a string"
        raise _bad(message)
    if len(value) > limits.max_text_chars:
        message = (
            f"frame_add text holds {len(value)} characters; the limit is {limits.max_text_chars}"
        )
        raise _bad(message, "text_too_long")
    text = check_text(value, where="frame_add text")
    lines = split_lines(text)
    if len(lines) > limits.max_height:
        message = f"frame_add text has {len(lines)} lines; the limit is {limits.max_height}"
        raise _bad(message, "text_too_long")
    widest = max(len(line) for line in lines)
    if widest > limits.max_width:
        message = (
            f"frame_add text has a line of {widest} characters; the limit is {limits.max_width}"
        )
        raise _bad(message, "text_too_long")
    return text


def split_lines(text: str) -> list[str]:
    """Lines of a frame text (one trailing newline ignored, as documents do)."""
    return (text[:-1] if text.endswith("\n") else text).split("\n")


def _check_fields(raw: dict[str, Any], kind: str) -> None:
    required, optional = _FIELDS[kind]
    missing = required - raw.keys()
    if missing:
        message = f"{kind} op is missing {', '.join(sorted(missing))}"
        raise _bad(message)
    unknown = raw.keys() - required - optional - {"kind"}
    if unknown:
        message = f"{kind} op has unknown fields: {', '.join(sorted(map(str, unknown)))}"
        raise _bad(message)


def validate_op(raw: Any, *, limits: EditLimits) -> dict[str, Any]:
    """Check an op's structure and return it normalised (colours lower-case).

    Only types, sizes and known kinds are checked here; whether the op still fits the
    state (the frame exists, the cell is in bounds) is decided when it is applied.
    Raises ``InvalidInput`` with a stable code: ``invalid_op``, ``unknown_op_kind``,
    ``too_many_cells``, ``text_too_long``, ``size_out_of_range``, ``invalid_frame_id``,
    ``invalid_order_key``, ``invalid_color``, ``invalid_character`` or
    ``control_character``.
    """
    if not isinstance(raw, dict):
        message = "an op must be a JSON object with a kind"
        raise _bad(message)
    kind = raw.get("kind")
    if not isinstance(kind, str) or kind not in _FIELDS:
        message = f"op kind must be one of {', '.join(OP_KINDS)}"
        raise _bad(message, "unknown_op_kind")
    _check_fields(raw, kind)
    op: dict[str, Any] = {"kind": kind}
    if kind == "stroke":
        op["frame"] = check_frame_id(raw["frame"], "stroke frame")
        op["cells"] = _cells(raw["cells"], limits)
    elif kind == "frame_add":
        op["id"] = check_frame_id(raw["id"], "frame_add id")
        op["key"] = _order_key(raw["key"], "frame_add key")
        op["duration_ms"] = _duration(raw["duration_ms"], "frame_add duration_ms")
        if "text" in raw and "copy_of" in raw:
            message = "frame_add takes text or copy_of, not both"
            raise _bad(message)
        if "text" in raw:
            op["text"] = _text(raw["text"], limits)
        if "copy_of" in raw:
            op["copy_of"] = check_frame_id(raw["copy_of"], "frame_add copy_of")
    elif kind == "frame_update":
        op.update(_frame_update(raw))
    elif kind == "resize":
        op["width"] = _dimension(raw["width"], "width", limits.max_width)
        op["height"] = _dimension(raw["height"], "height", limits.max_height)
    return op


def _frame_update(raw: dict[str, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"id": check_frame_id(raw["id"], "frame_update id")}
    if len(raw) == 2:
        message = "frame_update needs at least one of key, duration_ms, deleted"
        raise _bad(message)
    if "key" in raw:
        op["key"] = _order_key(raw["key"], "frame_update key")
    if "duration_ms" in raw:
        op["duration_ms"] = _duration(raw["duration_ms"], "frame_update duration_ms")
    if "deleted" in raw:
        if not isinstance(raw["deleted"], bool):
            message = "frame_update deleted must be true or false"
            raise _bad(message)
        op["deleted"] = raw["deleted"]
    return op
