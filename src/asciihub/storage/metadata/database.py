"""Connections to the metadata database: SQLite (embedded) or PostgreSQL (scale-out).

On SQLite every write goes through one writer connection that opens its transactions
with ``BEGIN IMMEDIATE`` (so two processes never deadlock upgrading a read lock), and
reads use a small pool; the database runs in WAL mode with foreign keys on. On
PostgreSQL one pooled engine serves both. Driver errors never rise past this package:
:func:`translate_errors` maps them to ``Unavailable`` or ``Conflict``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from asciihub.errors import ConfigError, Conflict, DependencyDown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatabaseOptions:
    """Tuning knobs taken from Settings by the caller."""

    sqlite_synchronous: str = "full"
    pool_size: int = 10
    max_overflow: int = 10
    pool_timeout: float = 10.0
    sqlite_busy_timeout_ms: int = 10_000


def sqlalchemy_url(url: str) -> tuple[str, str]:
    """Map our ``sqlite://PATH`` / ``postgresql://...`` URL to (dialect, SQLAlchemy URL)."""
    if url.startswith("sqlite://"):
        path = url.removeprefix("sqlite://")
        if not path:
            message = f"metadata_url {url!r}: give a file path, as sqlite:///abs/path"
            raise ConfigError(message)
        return "sqlite", f"sqlite+aiosqlite:///{Path(path).expanduser().resolve()}"
    for prefix in ("postgresql://", "postgres://", "postgresql+asyncpg://"):
        if url.startswith(prefix):
            return "postgresql", "postgresql+asyncpg://" + url.removeprefix(prefix)
    message = f"metadata_url {url!r}: the scheme must be sqlite:// or postgresql://"
    raise ConfigError(message)


def _sqlite_pragmas(engine: AsyncEngine, synchronous: str, busy_ms: int, writer: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE can be issued.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class Database:
    """The metadata database: a writer and a reader engine (the same on PostgreSQL)."""

    def __init__(self, url: str, options: DatabaseOptions | None = None) -> None:
        options = options or DatabaseOptions()
        self.dialect, sa_url = sqlalchemy_url(url)
        self.url = url
        if self.dialect == "sqlite":
            Path(sa_url.removeprefix("sqlite+aiosqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
            self.writer = create_async_engine(sa_url, pool_size=1, max_overflow=0)
            self.reader = create_async_engine(sa_url, pool_size=4, max_overflow=4)
            for engine, is_writer in ((self.writer, True), (self.reader, False)):
                _sqlite_pragmas(
                    engine, options.sqlite_synchronous, options.sqlite_busy_timeout_ms, is_writer
                )
        else:
            self.writer = create_async_engine(
                sa_url,
                pool_size=options.pool_size,
                max_overflow=options.max_overflow,
                pool_timeout=options.pool_timeout,
                pool_pre_ping=True,
            )
            self.reader = self.writer

    @property
    def is_sqlite(self) -> bool:
        """True on the embedded backend."""
        return self.dialect == "sqlite"

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one write transaction, committed on success."""
        with translate_errors():
            async with self.writer.begin() as conn:
                yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reads (a snapshot transaction on SQLite)."""
        with translate_errors():
            async with self.reader.connect() as conn:
                yield conn

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[AsyncConnection]:
        """A read-only connection whose every query sees the same committed state.

        SQLite: one deferred transaction (WAL keeps its snapshot while writers go on).
        PostgreSQL: a ``REPEATABLE READ READ ONLY`` transaction.
        """
        with translate_errors():
            async with self.reader.connect() as conn:
                if not self.is_sqlite:
                    conn = await conn.execution_options(
                        isolation_level="REPEATABLE READ", postgresql_readonly=True
                    )
                async with conn.begin():
                    yield conn

    async def ping(self) -> None:
        """One trivial query through the read pool: the database answers or raises."""
        async with self.read() as conn:
            await conn.execute(sa.text("SELECT 1"))

    async def close(self) -> None:
        """Dispose of every pooled connection."""
        await self.writer.dispose()
        if self.reader is not self.writer:
            await self.reader.dispose()


_UNAVAILABLE = (
    sa.exc.OperationalError,
    sa.exc.InterfaceError,
    sa.exc.TimeoutError,
    sa.exc.DisconnectionError,
    ConnectionError,
    OSError,
)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Map driver exceptions to asciihub errors, chaining the cause."""
    try:
        yield
    except sa.exc.IntegrityError as exc:
        message = "the change conflicts with existing data"
        raise Conflict(message) from exc
    except Exception as exc:
        if isinstance(exc, _UNAVAILABLE) or _is_driver_outage(exc):
            log.warning("event=metadata_unavailable error=%s", type(exc).__name__)
            message = "the metadata database is unavailable; try again shortly"
            raise DependencyDown(message, retry_after=5) from exc
        raise


# SQLSTATEs of a server that is away, going away or not up yet: class 08 (connection
# exception) and 57P01-57P03 (admin shutdown, crash shutdown, "the database system is
# starting up" during crash recovery). SQLAlchemy wraps some of them in a bare
# DBAPIError, so they are recognised by code, not by class.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _is_driver_outage(exc: BaseException) -> bool:
    for error in (exc, getattr(exc, "orig", None), exc.__cause__):
        if error is None:
            continue
        # asyncpg raises its own connection errors outside SQLAlchemy's wrapping at times.
        name = type(error).__module__
        if name.startswith("asyncpg") and "Connection" in type(error).__name__:
            return True
        state = getattr(error, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_OUTAGE_SQLSTATES):
            return True
    return False
