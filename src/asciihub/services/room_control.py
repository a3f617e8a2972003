"""The control log of an artwork room: its epoch, what was saved, the shared playback.

Every artwork room has two logs in the realtime binding (and a chat log, see
:mod:`asciihub.services.room_chat`):

* ``artwork:{id}`` (control): ``epoch`` entries (the document was (re)loaded: a new
  edit log starts), ``saved`` entries (a version of the document was written) and
  ``play`` entries (watch-together state). Its ephemeral messages carry cursors and
  presence changes.
* ``artwork:{id}:{epoch}`` (edits): one entry per editing op, in the order that
  defines the document; its seq is the edit seq clients see.

Every process folds the control log with :meth:`ControlState.apply`, so all agree.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from asciihub.errors import InvalidInput

MAX_RATE = 8.0
MIN_RATE = 0.1


def control_room(artwork_id: str) -> str:
    """The control log of an artwork room."""
    return f"artwork:{artwork_id}"


def edit_room(artwork_id: str, epoch: str) -> str:
    """The edit log of one epoch of an artwork room."""
    return f"artwork:{artwork_id}:{epoch}"


@dataclass
class ControlState:
    """What the control log says so far."""

    seq: int = 0
    epoch: str | None = None
    base_sha256: str | None = None
    saved_seq: int = 0
    saved_sha256: str | None = None
    playback: dict[str, Any] = field(
        default_factory=lambda: {"playing": False, "position_ms": 0, "rate": 1.0, "at": 0}
    )

    def apply(self, seq: int, data: dict[str, Any]) -> str:
        """Fold one entry in; its kind (``epoch``, ``saved``, ``play`` or ``unknown``)."""
        self.seq = seq
        kind = str(data.get("t", "unknown"))
        if kind == "epoch":
            self.epoch = str(data["epoch"])
            self.base_sha256 = data.get("sha256")
            self.saved_seq = 0
            self.saved_sha256 = None
        elif kind == "saved" and data.get("epoch") == self.epoch:
            if int(data["seq"]) >= self.saved_seq:
                self.saved_seq = int(data["seq"])
                self.saved_sha256 = data.get("sha256")
        elif kind == "play":
            self.playback = {k: data[k] for k in ("playing", "position_ms", "rate", "at")}
        return kind

    def knows(self, sha256: str) -> bool:
        """True when the stored document with this digest came from this epoch."""
        return sha256 in (self.base_sha256, self.saved_sha256)

    def to_json(self) -> dict[str, Any]:
        """For the control log's snapshot."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ControlState:
        """From :meth:`to_json` output."""
        return cls(**data)


def parse_playback(message: dict[str, Any], now_ms: int) -> dict[str, Any]:
    """A host's ``playback`` message as a ``play`` entry stamped with the server's clock."""
    playing = message.get("playing")
    position = message.get("position_ms")
    rate = message.get("rate", 1.0)
    if not isinstance(playing, bool):
        message_text = "playback needs playing: true or false"
        raise InvalidInput(message_text, code="invalid_playback")
    if (
        isinstance(position, bool)
        or not isinstance(position, int | float)
        or not math.isfinite(position)
        or position < 0
    ):
        message_text = "playback needs position_ms: a number of milliseconds from 0"
        raise InvalidInput(message_text, code="invalid_playback")
    if (
        isinstance(rate, bool)
        or not isinstance(rate, int | float)
        or not MIN_RATE <= rate <= MAX_RATE
    ):
        message_text = f"playback rate must be from {MIN_RATE} to {MAX_RATE}"
        raise InvalidInput(message_text, code="invalid_playback")
    return {
        "t": "play",
        "playing": playing,
        "position_ms": round(float(position), 3),
        "rate": float(rate),
        "at": now_ms,
    }
