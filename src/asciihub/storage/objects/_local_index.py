"""The file backend's index: one SQLite file mapping each key to its body and metadata.

The index row is the commit point of a write. A body is renamed into ``blobs/`` inside
the index's write transaction (``BEGIN IMMEDIATE``, a lock that holds across threads and
processes), and the object exists from the moment that transaction commits. The same
lock serialises every change to the key-path view, so the view always converges on the
committed rows. Keys are compared with SQLite's BINARY collation, which is UTF-8 byte
order.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from asciihub.errors import InvalidInput
from asciihub.storage.objects.keys import key_upper_bound
from asciihub.storage.objects.protocol import HttpMetadata, ObjectInfo

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    key TEXT PRIMARY KEY,
    blob TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    version TEXT NOT NULL,
    uploaded REAL NOT NULL,
    http TEXT,
    custom TEXT
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS objects_blob ON objects (blob);
"""
_COLUMNS = "key, blob, size, etag, version, uploaded, http, custom"


@dataclass(frozen=True)
class IndexRow:
    """One object as the index holds it."""

    key: str
    blob: str
    size: int
    etag: str
    version: str
    uploaded: float
    http: str | None
    custom: str | None

    def info(self) -> ObjectInfo:
        """The public view of this row."""
        http = HttpMetadata(**json.loads(self.http)) if self.http else HttpMetadata()
        return ObjectInfo(
            key=self.key,
            size=self.size,
            etag=self.etag,
            version=self.version,
            uploaded=datetime.fromtimestamp(self.uploaded, UTC),
            http_metadata=http,
            custom_metadata=json.loads(self.custom) if self.custom else {},
        )


Position = tuple[str, bool]
"""Where a listing resumes: a key and whether that key itself is included."""


def encode_cursor(position: Position) -> str:
    """An opaque cursor for a resume position."""
    raw = json.dumps([position[0], position[1]], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """The position inside a cursor from :func:`encode_cursor`, or InvalidInput."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, inclusive = json.loads(raw)
        if isinstance(key, str) and isinstance(inclusive, bool):
            return key, inclusive
    except (ValueError, TypeError, UnicodeDecodeError):
        pass
    message = "list cursor is not one this store returned; start again without a cursor"
    raise InvalidInput(message, code="invalid_cursor")


def _connect(path: Path, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    return conn


def _lookup(conn: sqlite3.Connection, key: str) -> IndexRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM objects WHERE key = ?", (key,)).fetchone()
    return None if row is None else IndexRow(*row)


def _range(
    conn: sqlite3.Connection, lower: Position, upper: str | None, count: int
) -> list[IndexRow]:
    op = ">=" if lower[1] else ">"
    params: list[Any] = [lower[0]]
    sql = f"SELECT {_COLUMNS} FROM objects WHERE key {op} ?"
    if upper is not None:
        sql += " AND key < ?"
        params.append(upper)
    sql += " ORDER BY key LIMIT ?"
    params.append(count)
    return [IndexRow(*row) for row in conn.execute(sql, params)]


class ObjectIndex:
    """The SQLite index: inline reads on one connection, writes serialised on another."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._writer = _connect(path, busy_ms=60_000)
        self._writer.executescript(_SCHEMA)
        self._reader = _connect(path, busy_ms=5_000)
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close both connections."""
        with self._lock:
            self._writer.close()
        self._reader.close()

    def lookup(self, key: str) -> IndexRow | None:
        """The committed row of ``key`` (reader connection)."""
        return _lookup(self._reader, key)

    @contextmanager
    def own_reader(self) -> Iterator[IndexReader]:
        """Reads on a connection of their own, for a worker thread (view repair).

        The shared reader serves the event loop; a statement another thread left open on
        it would pin an old snapshot and hide fresh commits from the loop's reads.
        """
        conn = _connect(self._path, busy_ms=5_000)
        try:
            yield IndexReader(conn)
        finally:
            conn.close()

    @contextmanager
    def transaction(self) -> Iterator[IndexTransaction]:
        """A write transaction holding the store-wide write lock until it ends."""
        with self._lock:
            self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield IndexTransaction(self._writer)
            except BaseException:
                self._writer.execute("ROLLBACK")
                raise
            self._writer.execute("COMMIT")

    def _range(self, lower: Position, upper: str | None, count: int) -> list[IndexRow]:
        return _range(self._reader, lower, upper, count)

    def page(
        self, prefix: str, position: Position | None, limit: int, delimiter: str | None
    ) -> tuple[list[IndexRow], list[str], Position | None]:
        """Rows and rolled-up prefixes of one page, and where the next page starts."""
        lower: Position = (prefix, True)
        if position is not None and position[0] >= prefix:
            lower = position
        upper = key_upper_bound(prefix)
        rows: list[IndexRow] = []
        prefixes: list[str] = []
        while len(rows) + len(prefixes) < limit:
            batch = self._range(lower, upper, limit - len(rows) - len(prefixes))
            if not batch:
                return rows, prefixes, None
            for row in batch:
                cut = row.key.find(delimiter, len(prefix)) if delimiter else -1
                if cut < 0:
                    rows.append(row)
                    lower = (row.key, False)
                    continue
                common = row.key[: cut + len(delimiter or "")]
                prefixes.append(common)
                after = key_upper_bound(common)
                if after is None:
                    return rows, prefixes, None
                lower = (after, True)
                break
        has_more = bool(self._range(lower, upper, 1))
        return rows, prefixes, lower if has_more else None


class IndexReader:
    """Committed rows read on a connection owned by one thread."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def lookup(self, key: str) -> IndexRow | None:
        """The committed row of ``key``."""
        return _lookup(self._conn, key)

    def scan(self, after: str | None, count: int) -> list[IndexRow]:
        """Up to ``count`` rows in key order, starting after key ``after``."""
        lower: Position = ("", True) if after is None else (after, False)
        return _range(self._conn, lower, None, count)


class IndexTransaction:
    """Statements allowed inside :meth:`ObjectIndex.transaction`."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def lookup(self, key: str) -> IndexRow | None:
        """The row of ``key`` as this transaction sees it."""
        return _lookup(self._conn, key)

    def upsert(self, row: IndexRow) -> None:
        """Insert or replace the row of ``row.key``."""
        self._conn.execute(
            f"INSERT OR REPLACE INTO objects ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.key,
                row.blob,
                row.size,
                row.etag,
                row.version,
                row.uploaded,
                row.http,
                row.custom,
            ),
        )

    def remove(self, keys: list[str]) -> list[tuple[str, str]]:
        """Delete the rows of ``keys``; return ``(key, body)`` of the rows that existed."""
        removed: list[tuple[str, str]] = []
        for key in keys:
            found = self._conn.execute("DELETE FROM objects WHERE key = ? RETURNING blob", (key,))
            removed.extend((key, blob) for (blob,) in found.fetchall())
        return removed

    def is_referenced(self, blob: str) -> bool:
        """True when some row points at body ``blob``."""
        found = self._conn.execute("SELECT 1 FROM objects WHERE blob = ?", (blob,))
        return found.fetchone() is not None
