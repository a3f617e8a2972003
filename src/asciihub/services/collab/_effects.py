"""Log entries (what the room orders) and effects (what applying one changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asciihub.engine.document import MAX_DURATION_MS, MIN_DURATION_MS
from asciihub.errors import InvalidInput

from ._keys import check_key
from ._ops import check_char, check_color, check_frame_id

EFFECT_KINDS = frozenset(
    {"stroke", "frame_add", "frame_update", "resize", "undo", "redo", "noop", "duplicate"}
)
_MAX_NAME_CHARS = 200


def _bad(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _checked(check: Any, value: Any, where: str) -> Any:
    """Run a field check, reporting its failure as a malformed effect."""
    try:
        return check(value, where)
    except InvalidInput as error:
        raise _bad(error.message, "invalid_effect") from None


def _name(value: Any, where: str, code: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= _MAX_NAME_CHARS:
        message = f"{where} must be a string of 1 to {_MAX_NAME_CHARS} characters"
        raise _bad(message, code)
    return value


@dataclass(frozen=True)
class LogEntry:
    """One op in the room's order: ``seq`` 1, 2, 3 ... per room, no gaps."""

    seq: int
    user_id: str
    client_id: str
    op_id: int
    op: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The entry as JSON-ready data."""
        return {
            "seq": self.seq,
            "user_id": self.user_id,
            "client_id": self.client_id,
            "op_id": self.op_id,
            "op": self.op,
        }

    @classmethod
    def from_json(cls, data: Any) -> LogEntry:
        """An entry from ``to_json`` output; raises ``InvalidInput`` (``invalid_entry``)."""
        code = "invalid_entry"
        if not isinstance(data, dict) or set(data) != {
            "seq",
            "user_id",
            "client_id",
            "op_id",
            "op",
        }:
            message = "a log entry must be an object with seq, user_id, client_id, op_id, op"
            raise _bad(message, code)
        if not _is_int(data["seq"]) or data["seq"] < 1:
            message = "log entry seq must be a whole number of at least 1"
            raise _bad(message, code)
        if not _is_int(data["op_id"]) or data["op_id"] < 0:
            message = "log entry op_id must be a whole number of at least 0"
            raise _bad(message, code)
        if not isinstance(data["op"], dict):
            message = "log entry op must be an object"
            raise _bad(message, code)
        return cls(
            seq=data["seq"],
            user_id=_name(data["user_id"], "log entry user_id", code),
            client_id=_name(data["client_id"], "log entry client_id", code),
            op_id=data["op_id"],
            op=data["op"],
        )


@dataclass(frozen=True)
class CellChange:
    """A cell's new value: ``[frame_id, row, col, ch, fg, bg]`` in JSON."""

    frame_id: str
    row: int
    col: int
    ch: str
    fg: str | None
    bg: str | None

    def to_json(self) -> list[Any]:
        """The change as ``[frame_id, row, col, ch, fg, bg]``."""
        return [self.frame_id, self.row, self.col, self.ch, self.fg, self.bg]

    @classmethod
    def from_json(cls, data: Any) -> CellChange:
        """A change from ``to_json`` output; raises ``InvalidInput`` (``invalid_effect``)."""
        if not isinstance(data, list) or len(data) != 6:
            message = "an effect cell must be [frame_id, row, col, ch, fg, bg]"
            raise _bad(message, "invalid_effect")
        frame_id, row, col, ch, fg, bg = data
        if not _is_int(row) or not _is_int(col) or row < 0 or col < 0:
            message = "an effect cell's row and col must be whole numbers of at least 0"
            raise _bad(message, "invalid_effect")
        return cls(
            frame_id=_checked(check_frame_id, frame_id, "effect cell frame_id"),
            row=row,
            col=col,
            ch=_checked(check_char, ch, "effect cell ch"),
            fg=_checked(check_color, fg, "effect cell fg"),
            bg=_checked(check_color, bg, "effect cell bg"),
        )


@dataclass(frozen=True)
class FrameChange:
    """A frame's fields after an add or update (always all of them)."""

    id: str
    key: str
    duration_ms: int
    deleted: bool

    def to_json(self) -> dict[str, Any]:
        """The change as ``{"id", "key", "duration_ms", "deleted"}``."""
        return {
            "id": self.id,
            "key": self.key,
            "duration_ms": self.duration_ms,
            "deleted": self.deleted,
        }

    @classmethod
    def from_json(cls, data: Any) -> FrameChange:
        """A change from ``to_json`` output; raises ``InvalidInput`` (``invalid_effect``)."""
        if not isinstance(data, dict) or set(data) != {"id", "key", "duration_ms", "deleted"}:
            message = "an effect frame must be an object with id, key, duration_ms, deleted"
            raise _bad(message, "invalid_effect")
        duration = data["duration_ms"]
        if not _is_int(duration) or not MIN_DURATION_MS <= duration <= MAX_DURATION_MS:
            message = (
                f"an effect frame's duration_ms must be a whole number from {MIN_DURATION_MS} "
                f"to {MAX_DURATION_MS}"
            )
            raise _bad(message, "invalid_effect")
        if not isinstance(data["deleted"], bool) or not isinstance(data["key"], str):
            message = "an effect frame's deleted must be a boolean and key a string"
            raise _bad(message, "invalid_effect")
        return cls(
            id=_checked(check_frame_id, data["id"], "effect frame id"),
            key=_checked(lambda key, _where: check_key(key), data["key"], "effect frame key"),
            duration_ms=data["duration_ms"],
            deleted=data["deleted"],
        )


@dataclass(frozen=True)
class Effect:
    """What applying one log entry changed, broadcast with its seq and origin.

    ``kind`` is the op's kind, or ``noop`` (the entry no longer fits the state;
    ``reason`` says why) or ``duplicate`` (this client's op id was already applied).
    """

    seq: int
    user_id: str
    client_id: str
    op_id: int
    kind: str
    cells: list[CellChange] = field(default_factory=list)
    frames: list[FrameChange] = field(default_factory=list)
    props: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The effect as JSON-ready data (``reason`` only on a noop)."""
        data: dict[str, Any] = {
            "seq": self.seq,
            "user_id": self.user_id,
            "client_id": self.client_id,
            "op_id": self.op_id,
            "kind": self.kind,
            "cells": [cell.to_json() for cell in self.cells],
            "frames": [frame.to_json() for frame in self.frames],
            "props": dict(self.props),
        }
        if self.reason is not None:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: Any) -> Effect:
        """An effect from ``to_json`` output; raises ``InvalidInput`` (``invalid_effect``)."""
        code = "invalid_effect"
        keys = {"seq", "user_id", "client_id", "op_id", "kind", "cells", "frames", "props"}
        if not isinstance(data, dict) or not keys <= data.keys() <= keys | {"reason"}:
            message = f"an effect must be an object with {', '.join(sorted(keys))} (and reason)"
            raise _bad(message, code)
        if not _is_int(data["seq"]) or data["seq"] < 1 or not _is_int(data["op_id"]):
            message = "an effect's seq and op_id must be whole numbers"
            raise _bad(message, code)
        if data["kind"] not in EFFECT_KINDS:
            message = f"an effect's kind must be one of {', '.join(sorted(EFFECT_KINDS))}"
            raise _bad(message, code)
        reason = data.get("reason")
        if reason is not None and not isinstance(reason, str):
            message = "an effect's reason must be a string"
            raise _bad(message, code)
        if not isinstance(data["cells"], list) or not isinstance(data["frames"], list):
            message = "an effect's cells and frames must be lists"
            raise _bad(message, code)
        return cls(
            seq=data["seq"],
            user_id=_name(data["user_id"], "effect user_id", code),
            client_id=_name(data["client_id"], "effect client_id", code),
            op_id=data["op_id"],
            kind=data["kind"],
            cells=[CellChange.from_json(item) for item in data["cells"]],
            frames=[FrameChange.from_json(item) for item in data["frames"]],
            props=_props(data["props"]),
            reason=reason,
        )


def _props(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or not raw.keys() <= {"width", "height"}:
        message = "an effect's props may hold only width and height"
        raise _bad(message, "invalid_effect")
    for name, value in raw.items():
        if not _is_int(value) or value < 1:
            message = f"an effect's {name} must be a whole number of at least 1"
            raise _bad(message, "invalid_effect")
    return dict(raw)
