"""The embedded room hub: fan-out in this process, log and snapshots in a SQLite file.

Every :meth:`append` is committed (WAL, ``synchronous=NORMAL``) before its seq is
returned, so an acknowledged entry survives a kill -9 of the process: a WAL commit is
in the operating system's page cache when it returns, which a killed process cannot
take back. Only an OS crash or power loss may lose the last commits before the next
checkpoint (``FULL`` would fsync every commit for that, at a few ms per op). One worker
thread owns the connection, which orders writes. ``memory://`` keeps everything in
RAM instead (tests; nothing survives a restart). Presence and ephemeral messages
are never stored. Delivery reaches listeners of this process only: the embedded
backend serves one process (``asciihub serve`` with its in-process workers).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import orjson

from asciihub.errors import Unavailable
from asciihub.realtime.keys import SQLITE_LOG, SQLITE_ROOMS, SQLITE_SNAPSHOTS
from asciihub.realtime.protocol import (
    Listener,
    LogCompacted,
    Member,
    RoomEvent,
    Snapshot,
    Subscription,
)

T = TypeVar("T")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {SQLITE_ROOMS} (
  room TEXT PRIMARY KEY, last_seq INTEGER NOT NULL, first_kept INTEGER NOT NULL,
  expires_at REAL
);
CREATE TABLE IF NOT EXISTS {SQLITE_LOG} (
  room TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (room, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {SQLITE_SNAPSHOTS} (
  room TEXT PRIMARY KEY, seq INTEGER NOT NULL, data BLOB NOT NULL
);
"""


@dataclass
class _Pending:
    room: str
    body: bytes
    data: dict[str, Any]
    ttl: int | None
    future: asyncio.Future[int]


class _LocalSubscription:
    def __init__(self, hub: MemoryRoomHub, room: str, listener: Listener) -> None:
        self.hub = hub
        self.room = room
        self.listener = listener

    async def close(self) -> None:
        listeners = self.hub.listeners.get(self.room)
        if listeners is not None:
            listeners.discard(self.listener)
            if not listeners:
                del self.hub.listeners[self.room]


class MemoryRoomHub:
    """In-process fan-out over a durable SQLite log (or RAM for ``memory://``)."""

    def __init__(self, path: Path | None, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self.listeners: dict[str, set[Listener]] = {}
        self.presence: dict[str, dict[str, Member]] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rooms-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._closed = False
        self._pending: list[_Pending] = []
        self._flusher: asyncio.Task[None] | None = None

    # --- the SQLite side, run on the one worker thread ------------------------------------
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                str(self.path) if self.path else ":memory:", check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # kill -9 safe; see the module doc
            conn.execute("PRAGMA busy_timeout=5000")
            conn.executescript(_SCHEMA)
            self._conn = conn
        return self._conn

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._closed:
            message = "the room hub is closed"
            raise Unavailable(message, code="rooms_closed")

        def call() -> T:
            try:
                return work(self._db())
            except sqlite3.Error as exc:
                message = f"the rooms database failed: {exc}"
                raise Unavailable(message, code="rooms_unavailable") from exc

        return await asyncio.get_running_loop().run_in_executor(self._thread, call)

    def _append_many(self, conn: sqlite3.Connection, batch: list[_Pending]) -> list[int]:
        """One transaction for every append waiting: a group commit."""
        now = self.clock()
        seqs: list[int] = []
        with conn:
            for item in batch:
                row = conn.execute(
                    f"SELECT last_seq FROM {SQLITE_ROOMS} WHERE room = ?", (item.room,)
                ).fetchone()
                seq = (row[0] if row else 0) + 1
                expires = now + item.ttl if item.ttl else None
                conn.execute(
                    f"INSERT INTO {SQLITE_ROOMS} (room, last_seq, first_kept, expires_at) "
                    "VALUES (?, ?, 1, ?) ON CONFLICT(room) DO UPDATE SET "
                    "last_seq = excluded.last_seq, expires_at = excluded.expires_at",
                    (item.room, seq, expires),
                )
                conn.execute(
                    f"INSERT INTO {SQLITE_LOG} (room, seq, data) VALUES (?, ?, ?)",
                    (item.room, seq, item.body),
                )
                seqs.append(seq)
        return seqs

    # --- the protocol -----------------------------------------------------------------
    async def append(self, room: str, data: dict[str, Any], *, ttl: int | None = None) -> int:
        """Commit ``data`` as the next entry, then deliver it to this process's listeners.

        Appends that arrive while a commit runs share the next one (group commit), so
        one fsync acknowledges many entries; delivery follows seq order.
        """
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._pending.append(_Pending(room, orjson.dumps(data), data, ttl, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []

            def commit(conn: sqlite3.Connection, batch: list[_Pending] = batch) -> list[int]:
                return self._append_many(conn, batch)

            try:
                seqs = await self._run(commit)
            except Exception as exc:  # every waiter gets the failure (Unavailable)
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            for item, seq in zip(batch, seqs, strict=True):
                self._deliver(RoomEvent(item.room, seq, item.data))
                if not item.future.done():
                    item.future.set_result(seq)

    def _deliver(self, event: RoomEvent) -> None:
        for listener in list(self.listeners.get(event.room, ())):
            listener(event)

    async def last_seq(self, room: str) -> int:
        """The newest seq of ``room``."""

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                f"SELECT last_seq FROM {SQLITE_ROOMS} WHERE room = ?", (room,)
            ).fetchone()
            return int(row[0]) if row else 0

        return await self._run(work)

    async def read(self, room: str, after: int = 0, *, limit: int = 1000) -> Sequence[RoomEvent]:
        """Entries after ``after``; LogCompacted when some of them were dropped."""

        def work(conn: sqlite3.Connection) -> tuple[int, list[tuple[int, bytes]]]:
            meta = conn.execute(
                f"SELECT first_kept FROM {SQLITE_ROOMS} WHERE room = ?", (room,)
            ).fetchone()
            rows = conn.execute(
                f"SELECT seq, data FROM {SQLITE_LOG} WHERE room = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (room, after, limit),
            ).fetchall()
            return (int(meta[0]) if meta else 1), rows

        first_kept, rows = await self._run(work)
        if after + 1 < first_kept:
            raise LogCompacted(room, after, first_kept)
        return [RoomEvent(room, int(seq), orjson.loads(body)) for seq, body in rows]

    async def subscribe(self, room: str, listener: Listener) -> Subscription:
        """Deliver later entries and ephemeral messages of ``room`` to ``listener``."""
        self.listeners.setdefault(room, set()).add(listener)
        return _LocalSubscription(self, room, listener)

    async def publish(self, room: str, data: dict[str, Any]) -> None:
        """Hand ``data`` to the current listeners only."""
        self._deliver(RoomEvent(room, None, data))

    async def save_snapshot(self, room: str, snapshot: Snapshot) -> None:
        """Store a newer snapshot and drop the entries it covers, in one transaction."""
        body = orjson.dumps(snapshot.data)

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                current = conn.execute(
                    f"SELECT seq FROM {SQLITE_SNAPSHOTS} WHERE room = ?", (room,)
                ).fetchone()
                if current is not None and current[0] >= snapshot.seq:
                    return
                conn.execute(
                    f"INSERT INTO {SQLITE_SNAPSHOTS} (room, seq, data) VALUES (?, ?, ?) "
                    "ON CONFLICT(room) DO UPDATE SET seq = excluded.seq, data = excluded.data",
                    (room, snapshot.seq, body),
                )
                conn.execute(
                    f"DELETE FROM {SQLITE_LOG} WHERE room = ? AND seq <= ?", (room, snapshot.seq)
                )
                conn.execute(
                    f"INSERT INTO {SQLITE_ROOMS} (room, last_seq, first_kept) VALUES (?, ?, ?) "
                    "ON CONFLICT(room) DO UPDATE SET first_kept = "
                    "max(first_kept, excluded.first_kept)",
                    (room, snapshot.seq, snapshot.seq + 1),
                )

        await self._run(work)

    async def load_snapshot(self, room: str) -> Snapshot | None:
        """The stored snapshot of ``room``."""

        def work(conn: sqlite3.Connection) -> tuple[int, bytes] | None:
            row = conn.execute(
                f"SELECT seq, data FROM {SQLITE_SNAPSHOTS} WHERE room = ?", (room,)
            ).fetchone()
            return (int(row[0]), bytes(row[1])) if row else None

        found = await self._run(work)
        return Snapshot(found[0], orjson.loads(found[1])) if found else None

    async def join(
        self, room: str, member_id: str, user_id: str, *, ttl: float, data: dict[str, Any]
    ) -> None:
        """Add or renew a member."""
        members = self.presence.setdefault(room, {})
        members[member_id] = Member(member_id, user_id, self.clock() + ttl, dict(data))

    async def leave(self, room: str, member_id: str) -> None:
        """Remove a member."""
        members = self.presence.get(room)
        if members is not None:
            members.pop(member_id, None)
            if not members:
                del self.presence[room]

    async def members(self, room: str) -> Sequence[Member]:
        """Live members, dropping the expired ones."""
        members = self.presence.get(room, {})
        now = self.clock()
        for member_id in [m for m, member in members.items() if member.expires_at <= now]:
            del members[member_id]
        return sorted(members.values(), key=lambda member: member.member_id)

    async def delete_room(self, room: str) -> None:
        """Forget ``room`` entirely."""

        def work(conn: sqlite3.Connection) -> None:
            with conn:
                for table in (SQLITE_LOG, SQLITE_ROOMS, SQLITE_SNAPSHOTS):
                    conn.execute(f"DELETE FROM {table} WHERE room = ?", (room,))

        await self._run(work)
        self.presence.pop(room, None)

    async def purge_expired(self) -> int:
        """Delete rooms whose ``ttl`` ran out (housekeeping); how many."""
        now = self.clock()

        def work(conn: sqlite3.Connection) -> int:
            rooms = [
                row[0]
                for row in conn.execute(
                    f"SELECT room FROM {SQLITE_ROOMS} WHERE expires_at IS NOT NULL "
                    "AND expires_at <= ?",
                    (now,),
                )
            ]
            with conn:
                for room in rooms:
                    for table in (SQLITE_LOG, SQLITE_ROOMS, SQLITE_SNAPSHOTS):
                        conn.execute(f"DELETE FROM {table} WHERE room = ?", (room,))
            return len(rooms)

        return await self._run(work)

    async def ping(self) -> None:
        """Check the database answers."""
        await self._run(lambda conn: conn.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        """Close the database and the worker thread."""
        if self._closed:
            return

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._closed = True
        self._thread.shutdown(wait=True)
        self.listeners.clear()
