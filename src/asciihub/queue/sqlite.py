"""The embedded queue backend: one SQLite table in WAL mode, leases in a column.

Every statement runs on one writer connection in one dedicated thread, so the event
loop never waits on a disk flush. Several processes may share one file: a lease is
taken by a single ``UPDATE ... RETURNING`` (a write transaction), so two consumers
never both hold one message within its lease. ``visible_at`` is when a message is
due: its send delay, its retry delay, or, while leased, the end of its lease.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from asciihub.errors import ConfigError, DependencyDown
from asciihub.queue._bodies import decode_body, encode_batch
from asciihub.queue.keys import SQLITE_DEAD_TABLE as DEAD
from asciihub.queue.keys import SQLITE_MESSAGES_TABLE as LIVE
from asciihub.queue.limits import (
    check_delay,
    check_max_messages,
    check_queue_name,
    check_visibility_timeout,
)
from asciihub.queue.protocol import ContentType, DeadMessage, Message, OutgoingMessage, QueueStats

log = logging.getLogger(__name__)
T = TypeVar("T")
_CHUNK = 100

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {LIVE} (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    created_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    deliveries INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT
);
CREATE INDEX IF NOT EXISTS {LIVE}_due ON {LIVE} (queue, visible_at);
CREATE INDEX IF NOT EXISTS {LIVE}_leased ON {LIVE} (queue, visible_at)
    WHERE lease_owner IS NOT NULL;
CREATE TABLE IF NOT EXISTS {DEAD} (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    content_type TEXT NOT NULL,
    created_at REAL NOT NULL,
    attempts INTEGER NOT NULL,
    failed_at REAL NOT NULL,
    error_code TEXT NOT NULL,
    error_message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS {DEAD}_queue ON {DEAD} (queue, seq);
"""

# Expired leases first (a consumer died holding them: they have waited longest), then
# due messages in due order. A lease holder is set only while leased, so "lease_owner
# IS NOT NULL AND visible_at <= now" is exactly the expired leases.
_CLAIM = f"""
UPDATE {LIVE} SET visible_at = :until, lease_owner = :owner, deliveries = deliveries + 1
WHERE seq IN (
    SELECT seq FROM (
        SELECT seq FROM {LIVE} INDEXED BY {LIVE}_leased
        WHERE queue = :queue AND lease_owner IS NOT NULL AND visible_at <= :now
        ORDER BY visible_at LIMIT :count
    )
    UNION ALL
    SELECT seq FROM (
        SELECT seq FROM {LIVE}
        WHERE queue = :queue AND lease_owner IS NULL AND visible_at <= :now
        ORDER BY visible_at LIMIT :count
    )
    LIMIT :count
)
RETURNING id, body, content_type, created_at, deliveries
"""


def _marks(count: int) -> str:
    return ",".join("?" * count)


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _CHUNK):
        yield unique[start : start + _CHUNK]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class SqliteJobQueue:
    """``JobQueue`` on one SQLite file; open with :meth:`open`."""

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str = "full",
        delivery_delay: float = 0.0,
        consumer_name: str | None = None,
        clock: Callable[[], float] = time.time,
        busy_timeout: float = 10.0,
    ) -> None:
        if synchronous not in ("full", "normal", "extra"):
            message = f"synchronous {synchronous!r} is not one of full, normal, extra"
            raise ConfigError(message)
        self.path = Path(path)
        self.synchronous = synchronous
        self.delivery_delay = check_delay(delivery_delay, what="delivery_delay")
        self.consumer_name = consumer_name or f"sqlite-{uuid.uuid4().hex}"
        self._clock = clock
        self._busy_ms = int(busy_timeout * 1000)
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="asciihub-queue-sqlite")
        self._conn: sqlite3.Connection | None = None
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, **options: Any) -> SqliteJobQueue:
        """Open (creating if needed) the queue file and its tables."""
        queue = cls(path, **options)
        await queue._call(queue._setup)
        return queue

    # --- plumbing ------------------------------------------------------------------
    def _setup(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous.upper()}")
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._conn = conn

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            message = f"the queue file {self.path} is closed"
            raise DependencyDown(message, code="queue_closed")
        return self._conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        if self._closed:
            message = f"the queue file {self.path} is closed"
            raise DependencyDown(message, code="queue_closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            log.warning("event=queue_sqlite_error path=%s error=%r", self.path, str(exc))
            message = f"the queue database {self.path} failed: {exc}"
            raise DependencyDown(message, code="queue_unavailable") from exc

    def _transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._db()
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return result

    def _owned_update(self, sql: str, head: Sequence[Any], ids: Sequence[str]) -> int:
        conn, count = self._db(), 0
        for chunk in _chunks(ids):
            query = f"{sql} WHERE lease_owner = ? AND id IN ({_marks(len(chunk))})"
            count += conn.execute(query, (*head, self.consumer_name, *chunk)).rowcount
        return count

    # --- producers -----------------------------------------------------------------
    async def send(
        self,
        queue: str,
        body: Any,
        *,
        content_type: ContentType = "json",
        delay_seconds: float | None = None,
    ) -> str:
        """Store one message; return its id once committed."""
        ids = await self.send_batch(
            queue, [OutgoingMessage(body, content_type)], delay_seconds=delay_seconds
        )
        return ids[0]

    async def send_batch(
        self,
        queue: str,
        messages: Sequence[OutgoingMessage],
        *,
        delay_seconds: float | None = None,
    ) -> list[str]:
        """Store up to 100 messages in one transaction; return their ids."""
        batch = encode_batch(
            queue, messages, default_delay=self.delivery_delay, delay_seconds=delay_seconds
        )
        ids = [uuid.uuid4().hex for _ in batch]
        now = self._clock()
        rows = [
            (ident, queue, raw, item.content_type, now, now + delay)
            for ident, (item, raw, delay) in zip(ids, batch, strict=True)
        ]
        sql = (
            f"INSERT INTO {LIVE} (id, queue, body, content_type, created_at, visible_at) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        )
        if len(rows) == 1:
            await self._call(lambda: self._db().execute(sql, rows[0]))
        else:
            await self._call(self._transaction, lambda conn: conn.executemany(sql, rows))
        return ids

    # --- consumers -----------------------------------------------------------------
    async def receive(
        self, queue: str, *, max_messages: int = 10, visibility_timeout: float = 30.0
    ) -> list[Message]:
        """Lease up to ``max_messages`` due messages (one atomic UPDATE ... RETURNING)."""
        check_queue_name(queue)
        count = check_max_messages(max_messages)
        lease = check_visibility_timeout(visibility_timeout)
        now = self._clock()
        params = {
            "until": now + lease,
            "owner": self.consumer_name,
            "queue": queue,
            "now": now,
            "count": count,
        }
        rows = await self._call(lambda: self._db().execute(_CLAIM, params).fetchall())
        return [
            Message(ident, queue, _utc(created), decode_body(raw, kind), kind, deliveries)
            for ident, raw, kind, created, deliveries in rows
        ]

    async def ack(self, ids: Sequence[str]) -> int:
        """Delete held messages."""
        return await self._call(self._owned_update, f"DELETE FROM {LIVE}", (), ids)

    async def retry(self, ids: Sequence[str], *, delay_seconds: float = 0.0) -> int:
        """Make held messages due after ``delay_seconds``."""
        due = self._clock() + check_delay(delay_seconds)
        sql = f"UPDATE {LIVE} SET visible_at = ?, lease_owner = NULL"
        return await self._call(self._owned_update, sql, (due,), ids)

    async def release(self, ids: Sequence[str]) -> int:
        """Make held messages due now, not counting this delivery."""
        sql = (
            f"UPDATE {LIVE} SET visible_at = ?, lease_owner = NULL, "
            "deliveries = MAX(deliveries - 1, 0)"
        )
        return await self._call(self._owned_update, sql, (self._clock(),), ids)

    async def dead_letter(self, ids: Sequence[str], *, code: str, message: str) -> int:
        """Move held messages to the dead table in one transaction."""
        failed_at = self._clock()
        copy = (
            f"INSERT INTO {DEAD} (id, queue, body, content_type, created_at, attempts, "
            "failed_at, error_code, error_message) SELECT id, queue, body, content_type, "
            f"created_at, deliveries, ?, ?, ? FROM {LIVE}"
        )

        def move(conn: sqlite3.Connection) -> int:
            self._owned_update(copy, (failed_at, code, message), ids)
            return self._owned_update(f"DELETE FROM {LIVE}", (), ids)

        return await self._call(self._transaction, move)

    async def extend_lease(self, ids: Sequence[str], *, visibility_timeout: float) -> list[str]:
        """Push the leases of held messages to now + ``visibility_timeout``."""
        until = self._clock() + check_visibility_timeout(visibility_timeout)

        def extend() -> list[str]:
            kept: list[str] = []
            for chunk in _chunks(ids):
                sql = (
                    f"UPDATE {LIVE} SET visible_at = ? WHERE lease_owner = ? "
                    f"AND id IN ({_marks(len(chunk))}) RETURNING id"
                )
                rows = self._db().execute(sql, (until, self.consumer_name, *chunk))
                kept.extend(row[0] for row in rows.fetchall())
            return kept

        return await self._call(extend)

    # --- the dead-letter queue and stats ----------------------------------------------
    async def dead_list(self, queue: str, *, limit: int = 100) -> list[DeadMessage]:
        """The oldest ``limit`` dead messages of ``queue``."""
        check_queue_name(queue)
        sql = (
            "SELECT id, body, content_type, created_at, attempts, failed_at, error_code, "
            f"error_message FROM {DEAD} WHERE queue = ? ORDER BY seq LIMIT ?"
        )
        rows = await self._call(lambda: self._db().execute(sql, (queue, limit)).fetchall())
        return [
            DeadMessage(
                ident, queue, _utc(created), decode_body(raw, kind), kind, attempts,
                _utc(failed), code, text,
            )
            for ident, raw, kind, created, attempts, failed, code, text in rows
        ]  # fmt: skip

    def _dead_filter(self, queue: str, ids: Sequence[str] | None) -> tuple[str, list[Any]]:
        if ids is None:
            return "queue = ?", [queue]
        unique = list(dict.fromkeys(ids))
        return f"queue = ? AND id IN ({_marks(len(unique))})", [queue, *unique]

    async def dead_retry(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Move dead messages back to ``queue``, due now, with attempts reset."""
        check_queue_name(queue)
        where, params = self._dead_filter(queue, ids)
        copy = (
            f"INSERT INTO {LIVE} (id, queue, body, content_type, created_at, visible_at) "
            f"SELECT id, queue, body, content_type, created_at, ? FROM {DEAD} WHERE {where}"
        )
        now = self._clock()

        def move(conn: sqlite3.Connection) -> int:
            conn.execute(copy, (now, *params))
            return conn.execute(f"DELETE FROM {DEAD} WHERE {where}", params).rowcount

        return await self._call(self._transaction, move)

    async def dead_purge(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Delete dead messages of ``queue``."""
        check_queue_name(queue)
        where, params = self._dead_filter(queue, ids)
        sql = f"DELETE FROM {DEAD} WHERE {where}"
        return await self._call(lambda: self._db().execute(sql, params).rowcount)

    async def ping(self) -> None:
        """One trivial query on the queue file."""
        await self._call(lambda: self._db().execute("SELECT 1").fetchone())

    async def stats(self, queue: str) -> QueueStats:
        """Counts of ``queue`` at this instant."""
        check_queue_name(queue)
        now = self._clock()
        live = (
            "SELECT COALESCE(SUM(visible_at <= ?), 0), "
            "COALESCE(SUM(visible_at > ? AND lease_owner IS NULL), 0), "
            "COALESCE(SUM(visible_at > ? AND lease_owner IS NOT NULL), 0) "
            f"FROM {LIVE} WHERE queue = ?"
        )

        def count() -> QueueStats:
            conn = self._db()
            ready, delayed, leased = conn.execute(live, (now, now, now, queue)).fetchone()
            dead = conn.execute(f"SELECT COUNT(*) FROM {DEAD} WHERE queue = ?", (queue,))
            return QueueStats(queue, ready, delayed, leased, dead.fetchone()[0])

        return await self._call(count)

    async def close(self) -> None:
        """Close the connection and stop the thread."""

        def shut() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        if self._closed:
            return
        try:
            await self._call(shut)
        finally:
            self._closed = True
            self._executor.shutdown(wait=True)
