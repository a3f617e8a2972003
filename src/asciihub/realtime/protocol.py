"""The realtime binding (Durable Objects role): ordered, persisted room logs and fan-out.

A *room* is a string id. Each room has:

* an ordered log: :meth:`RoomHub.append` persists an event and only then gives it the
  next sequence number (1, 2, 3 ... per room, no gaps) — persist before broadcast;
* live delivery: a listener passed to :meth:`RoomHub.subscribe` is called with every
  event appended after it subscribed (from any process on the scale-out backend), in
  seq order per room. Listeners must not block; delivery is at-least-once, so a
  consumer tracks the last seq it applied and reads a gap with :meth:`RoomHub.read`;
* a snapshot (:meth:`RoomHub.save_snapshot`) that also compacts the log: entries at or
  before the snapshot's seq may be dropped, and :meth:`RoomHub.read` from before the
  oldest kept entry raises :class:`LogCompacted`;
* presence: members with a TTL renewed by heartbeats;
* ephemeral messages (:meth:`RoomHub.publish`): delivered at most once to the
  listeners subscribed at that moment, never stored (cursors, selections).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from asciihub.errors import Conflict


@dataclass(frozen=True)
class RoomEvent:
    """One log entry (``seq`` set) or one ephemeral message (``seq`` None)."""

    room: str
    seq: int | None
    data: dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """A room's state as of ``seq`` (every entry up to and including it applied)."""

    seq: int
    data: dict[str, Any]


@dataclass(frozen=True)
class Member:
    """A present member: one connection (``member_id``) of a user (``user_id``)."""

    member_id: str
    user_id: str
    expires_at: float
    data: dict[str, Any]


class LogCompacted(Conflict):
    """The entries asked for were dropped by a compaction; load the snapshot instead."""

    def __init__(self, room: str, after: int, first_kept: int) -> None:
        message = (
            f"room {room}: entries after seq {after} were compacted (the log starts at "
            f"{first_kept}); load the snapshot and read on from its seq"
        )
        super().__init__(message, code="room_log_compacted")
        self.first_kept = first_kept


Listener = Callable[[RoomEvent], None]


class Subscription(Protocol):
    """A live subscription; close it when the last local socket leaves the room."""

    async def close(self) -> None:
        """Stop delivering to this listener."""
        ...


@runtime_checkable
class RoomHub(Protocol):
    """Ordered, persisted room logs with fan-out, snapshots, presence and ephemera."""

    async def append(self, room: str, data: dict[str, Any], *, ttl: int | None = None) -> int:
        """Persist ``data`` as the room's next entry; its seq. ``ttl`` (s) expires the room."""
        ...

    async def last_seq(self, room: str) -> int:
        """The seq of the room's newest entry (0 when it has none)."""
        ...

    async def read(self, room: str, after: int = 0, *, limit: int = 1000) -> Sequence[RoomEvent]:
        """Entries with seq > ``after`` in order, ``limit`` at most; LogCompacted if dropped."""
        ...

    async def subscribe(self, room: str, listener: Listener) -> Subscription:
        """Call ``listener`` with every later entry and ephemeral message of ``room``."""
        ...

    async def publish(self, room: str, data: dict[str, Any]) -> None:
        """Deliver ``data`` to the room's current listeners only, never stored."""
        ...

    async def save_snapshot(self, room: str, snapshot: Snapshot) -> None:
        """Store ``snapshot`` (if newer than the stored one) and drop entries up to its seq."""
        ...

    async def load_snapshot(self, room: str) -> Snapshot | None:
        """The newest stored snapshot, or None."""
        ...

    async def join(
        self, room: str, member_id: str, user_id: str, *, ttl: float, data: dict[str, Any]
    ) -> None:
        """Add or renew (heartbeat) a member for ``ttl`` seconds."""
        ...

    async def leave(self, room: str, member_id: str) -> None:
        """Remove a member at once (a clean close)."""
        ...

    async def members(self, room: str) -> Sequence[Member]:
        """The members whose TTL has not run out."""
        ...

    async def delete_room(self, room: str) -> None:
        """Forget a room: log, snapshot and presence."""
        ...

    async def ping(self) -> None:
        """Raise Unavailable when the backend cannot be reached."""
        ...

    async def close(self) -> None:
        """Stop delivery tasks and release connections and files."""
        ...
