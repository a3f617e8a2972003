"""Names the realtime backends use: SQLite tables and Redis keys, in one place."""

from __future__ import annotations

SQLITE_LOG = "room_log"
SQLITE_ROOMS = "room_meta"
SQLITE_SNAPSHOTS = "room_snapshot"


def stream_key(namespace: str, room: str) -> str:
    """The Redis Stream holding a room's log (entry id ``{seq}-0``)."""
    return f"{namespace}:room:{{{room}}}:log"


def seq_key(namespace: str, room: str) -> str:
    """The counter that hands out a room's seqs (kept when the stream is trimmed)."""
    return f"{namespace}:room:{{{room}}}:seq"


def snapshot_key(namespace: str, room: str) -> str:
    """The hash holding a room's snapshot (``seq`` and ``data``)."""
    return f"{namespace}:room:{{{room}}}:snap"


def presence_key(namespace: str, room: str) -> str:
    """The sorted set of a room's members, scored by expiry (epoch seconds)."""
    return f"{namespace}:room:{{{room}}}:presence"


def member_data_key(namespace: str, room: str) -> str:
    """The hash of a room's members' user id and data."""
    return f"{namespace}:room:{{{room}}}:members"


def channel(namespace: str, room: str) -> str:
    """The Pub/Sub channel of a room's ephemeral messages."""
    return f"{namespace}:room:{{{room}}}:ephemeral"
