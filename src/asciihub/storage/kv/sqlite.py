"""The embedded KV store: one SQLite file in WAL mode, used inline on the event loop.

``get`` is the platform's hot read path (every cached artwork GET), so it runs on the
loop thread (no thread hop, no driver wrapper) and answers from a small in-process
copy of recently read entries while ``PRAGMA data_version`` says no other connection
(another process, another store) has committed since they were read; this store's
own writes drop the keys they touch. Nothing stale is ever served: a commit anywhere
else empties the copy before the next read, and expiry is checked on every hit. Writes
also run inline; the connection never waits on a lock (``busy_timeout = 0``): a write
that finds the database locked by another process yields to the loop and retries
with back-off until a deadline, then raises ``Unavailable``. Expired rows are filtered
on every read and purged in small batches every ``purge_every`` writes.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from asciihub.errors import DependencyDown, InvalidInput
from asciihub.storage.kv.keys import (
    HEALTH_PROBE_KEY,
    decode_cursor,
    decode_metadata,
    encode_cursor,
    encode_metadata,
    encode_value,
    expiry_of,
    key_upper_bound,
    validate_amount,
    validate_key,
    validate_limit,
    validate_many,
    validate_prefix,
)
from asciihub.storage.kv.protocol import JsonValue, KVKey, KVPage

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    expiration INTEGER,
    metadata TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiration ON kv (expiration) WHERE expiration IS NOT NULL;
"""
_LIVE = "(expiration IS NULL OR expiration > ?)"
_GET_META = f"SELECT value, metadata, expiration FROM kv WHERE key = ? AND {_LIVE}"
_MEMO_BYTES = 16 * 1024 * 1024  # values kept in the in-process read copy, in all
_MEMO_VALUE_BYTES = 256 * 1024  # larger values are always read from the file
_PUT = "INSERT OR REPLACE INTO kv (key, value, expiration, metadata) VALUES (?, ?, ?, ?)"
_DELETE = "DELETE FROM kv WHERE key = ?"
_INCR = """
INSERT INTO kv (key, value, expiration, metadata) VALUES (:key, :fresh, :expiry, NULL)
ON CONFLICT (key) DO UPDATE SET
    value = CASE WHEN kv.expiration IS NOT NULL AND kv.expiration <= :now THEN :fresh
        ELSE CAST(CAST(CAST(CAST(kv.value AS TEXT) AS INTEGER) + :amount AS TEXT) AS BLOB) END,
    expiration = CASE WHEN kv.expiration IS NOT NULL AND kv.expiration <= :now
        THEN :expiry ELSE kv.expiration END,
    metadata = CASE WHEN kv.expiration IS NOT NULL AND kv.expiration <= :now
        THEN NULL ELSE kv.metadata END
WHERE (kv.expiration IS NOT NULL AND kv.expiration <= :now)
    OR printf('%d', CAST(CAST(kv.value AS TEXT) AS INTEGER)) = CAST(kv.value AS TEXT)
RETURNING CAST(value AS TEXT)
"""
_PURGE = (
    "DELETE FROM kv WHERE key IN "
    "(SELECT key FROM kv WHERE expiration IS NOT NULL AND expiration <= ? LIMIT ?)"
)
_WRITE_DEADLINE = 10.0
_Rows = list[Any]


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteKVStore:
    """KV on one SQLite file; several processes on one machine may share it."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        purge_every: int = 1000,
        purge_batch: int = 1000,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._purge_every = purge_every
        self._purge_batch = purge_batch
        self._writes = 0
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, cached_statements=64
        )
        conn.execute("PRAGMA busy_timeout = 10000")  # opening may race other processes
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.executescript(_SCHEMA)
        conn.execute("PRAGMA busy_timeout = 0")
        self._conn = conn
        # key -> (value, metadata JSON, expiration): valid while data_version holds.
        self._memo: dict[str, tuple[bytes, str | None, int | None]] = {}
        self._memo_version: int | None = None
        self._memo_bytes = 0

    # --- reads (inline) ------------------------------------------------------------

    async def ping(self) -> None:
        """Read the health probe key (absent): the store answers or raises."""
        await self.get(HEALTH_PROBE_KEY)

    async def get(self, key: str) -> bytes | None:
        """The value, or None when missing or expired."""
        value, _ = await self._read(key)
        return value

    async def get_with_metadata(self, key: str) -> tuple[bytes | None, JsonValue | None]:
        """The value and its metadata, read together (both None when missing)."""
        value, metadata = await self._read(key)
        if value is None:
            return None, None
        return value, decode_metadata(metadata)

    async def _read(self, key: str) -> tuple[bytes | None, str | None]:
        validate_key(key)
        now = self._clock()
        if self._memo_valid():
            held = self._memo.get(key)
            if held is not None and (held[2] is None or held[2] > now):
                return held[0], held[1]
        rows = await self._run(_GET_META, (key, now))
        if not rows:
            return None, None
        value, metadata, expiration = bytes(rows[0][0]), rows[0][1], rows[0][2]
        if len(value) <= _MEMO_VALUE_BYTES:
            self._remember(key, (value, metadata, expiration))
        return value, metadata

    def _remember(self, key: str, entry: tuple[bytes, str | None, int | None]) -> None:
        old = self._memo.pop(key, None)
        if old is not None:
            self._memo_bytes -= len(old[0])
        while self._memo and self._memo_bytes + len(entry[0]) > _MEMO_BYTES:
            oldest = next(iter(self._memo))
            self._memo_bytes -= len(self._memo.pop(oldest)[0])
        self._memo[key] = entry
        self._memo_bytes += len(entry[0])

    def _forget(self, key: str) -> None:
        old = self._memo.pop(key, None)
        if old is not None:
            self._memo_bytes -= len(old[0])

    def _memo_valid(self) -> bool:
        """Empty the read copy if another connection committed since it was filled."""
        try:
            version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:
            version = None
        if version is None or version != self._memo_version:
            self._memo.clear()
            self._memo_bytes = 0
            self._memo_version = version
            return False
        return True

    async def get_many(self, keys: Sequence[str]) -> dict[str, bytes | None]:
        """Up to 100 keys in one query; missing or expired ones map to None."""
        names = validate_many(keys)
        found: dict[str, bytes | None] = dict.fromkeys(names)
        if names:
            marks = ", ".join("?" * len(set(names)))
            sql = f"SELECT key, value FROM kv WHERE key IN ({marks}) AND {_LIVE}"
            for name, value in await self._run(sql, (*set(names), self._clock())):
                found[name] = bytes(value)
        return found

    async def list(
        self, prefix: str = "", *, cursor: str | None = None, limit: int = 1000
    ) -> KVPage:
        """Live keys under ``prefix`` in UTF-8 byte order (BINARY collation)."""
        validate_prefix(prefix)
        validate_limit(limit)
        sql = f"SELECT key, expiration, metadata FROM kv WHERE {_LIVE} AND key >= ?"
        params: list[Any] = [self._clock(), prefix]
        upper = key_upper_bound(prefix)
        if upper is not None:
            sql += " AND key < ?"
            params.append(upper)
        if cursor:
            sql += " AND key > ?"
            params.append(decode_cursor(cursor))
        sql += " ORDER BY key LIMIT ?"
        params.append(limit + 1)
        rows = await self._run(sql, tuple(params))
        keys = [
            KVKey(name=name, expiration=expiration, metadata=decode_metadata(metadata))
            for name, expiration, metadata in rows[:limit]
        ]
        complete = len(rows) <= limit
        return KVPage(
            keys=keys,
            list_complete=complete,
            cursor=None if complete else encode_cursor(keys[-1].name),
        )

    # --- writes (inline, retried on lock) -------------------------------------------

    async def put(
        self,
        key: str,
        value: bytes | str,
        *,
        ttl: int | None = None,
        expiration: int | None = None,
        metadata: JsonValue | None = None,
    ) -> None:
        """Store ``value``; ``ttl`` wins over ``expiration`` when both are given."""
        validate_key(key)
        data = encode_value(value)
        expiry = expiry_of(ttl, expiration, self._clock())
        await self._write_key(key, _PUT, (key, data, expiry, encode_metadata(metadata)))

    async def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""
        validate_key(key)
        await self._write_key(key, _DELETE, (key,))

    async def incr(self, key: str, amount: int = 1, *, ttl: int | None = None) -> int:
        """Add ``amount`` in one UPSERT; ``ttl`` applies when the counter is (re)created."""
        validate_key(key)
        validate_amount(amount)
        now = self._clock()
        params = {
            "key": key,
            "fresh": str(amount).encode(),
            "expiry": expiry_of(ttl, None, now),
            "now": now,
            "amount": amount,
        }
        rows = await self._write_key(key, _INCR, params)
        if not rows:
            message = f"KV key {key!r} holds a value that is not an integer; incr needs one"
            raise InvalidInput(message, code="not_a_counter")
        return int(rows[0][0])

    async def purge_expired(self) -> int:
        """Delete up to ``purge_batch`` expired rows now; return how many went."""
        before = self._conn.total_changes
        await self._run(_PURGE, (self._clock(), self._purge_batch))
        return self._conn.total_changes - before

    async def _write_key(self, key: str, sql: str, params: Any) -> _Rows:
        # Dropped before and after: a read while the write waits for a lock must not
        # keep the old value (this connection's own commits leave data_version alone).
        self._forget(key)
        try:
            return await self._write(sql, params)
        finally:
            self._forget(key)

    async def _write(self, sql: str, params: Any) -> _Rows:
        rows = await self._run(sql, params)
        self._writes += 1
        if self._writes % self._purge_every == 0:
            await self._run(_PURGE, (self._clock(), self._purge_batch))
        return rows

    async def _run(self, sql: str, params: Any) -> _Rows:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError as exc:
            return await self._retry(exc, sql, params)

    async def _retry(self, first: sqlite3.OperationalError, sql: str, params: Any) -> _Rows:
        """Retry a statement that met a lock, yielding to the loop between attempts."""
        if not _is_busy(first):
            message = f"KV database {self.path} failed: {first}"
            raise DependencyDown(message, retry_after=5, code="kv_error") from first
        deadline = time.monotonic() + _WRITE_DEADLINE
        delay = 0.0005
        while time.monotonic() < deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    message = f"KV database {self.path} failed: {exc}"
                    raise DependencyDown(message, retry_after=5, code="kv_error") from exc
        message = f"KV database {self.path} stayed locked for {_WRITE_DEADLINE:.0f} s"
        raise DependencyDown(message, retry_after=1, code="kv_busy") from first

    async def close(self) -> None:
        """Close the connection."""
        self._conn.close()
