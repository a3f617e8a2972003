"""Copying whole tables between two metadata databases, and checksumming them.

Used by ``asciihub migrate-data``, ``backup`` and ``restore``. Rows are copied in
primary-key order, in batches, as upserts, so a copy can stop anywhere and start
again (from the last key it recorded, or from the beginning) without duplicating or
losing a row. Checksums are computed over the same canonical form on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from asciihub.errors import InvalidInput
from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.tables import UtcDateTime, metadata

Key = tuple[Any, ...]


def copy_order() -> list[sa.Table]:
    """Every table of the schema, parents before children (foreign-key order)."""
    return list(metadata.sorted_tables)


async def present_tables(db: Database) -> list[sa.Table]:
    """The tables of the schema as the database holds them now, in copy order.

    At the head revision these are the tables themselves. A database at an older
    revision lacks some tables (left out) or columns (each table is rebuilt from the
    columns it has, with their types and foreign keys), so a backup or a restore at that
    revision reads and writes exactly what is there.
    """

    def _inspect(sync_conn: Any) -> dict[str, set[str]]:
        inspector = sa.inspect(sync_conn)
        return {
            name: {column["name"] for column in inspector.get_columns(name)}
            for name in inspector.get_table_names()
        }

    async with db.read() as conn:
        present = await conn.run_sync(_inspect)
    full = copy_order()
    if all(present.get(str(t.name), set()) >= {c.name for c in t.columns} for t in full):
        return full
    rebuilt = sa.MetaData()  # parents first, so every foreign key finds its table
    tables: list[sa.Table] = []
    for table in full:
        columns = present.get(str(table.name))
        if columns is None:
            continue
        kept = [
            sa.Column(
                c.name,
                c.type,
                *(sa.ForeignKey(fk.target_fullname, ondelete=fk.ondelete) for fk in c.foreign_keys),
                primary_key=c.primary_key,
                nullable=c.nullable,
            )
            for c in table.columns
            if c.name in columns
        ]
        tables.append(sa.Table(table.name, rebuilt, *kept))
    return tables


def _pk(table: sa.Table) -> list[sa.Column[Any]]:
    return list(table.primary_key.columns)


def _after(table: sa.Table, after: Key | None) -> Any:
    if after is None:
        return sa.true()
    columns = _pk(table)
    if len(columns) == 1:
        return columns[0] > after[0]
    return sa.tuple_(*columns) > sa.tuple_(
        *(sa.literal(v, c.type) for v, c in zip(after, columns, strict=True))
    )


async def _batches(
    db: Database, table: sa.Table, after: Key | None, size: int
) -> AsyncIterator[list[dict[str, Any]]]:
    columns = _pk(table)
    while True:
        stmt = sa.select(table).where(_after(table, after)).order_by(*columns).limit(size)
        async with db.read() as conn:
            rows = [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][c.name] for c in columns)
        if len(rows) < size:
            return


async def snapshot_rows(
    conn: AsyncConnection, table: sa.Table, *, size: int = 500
) -> AsyncIterator[list[dict[str, Any]]]:
    """Every row of ``table`` in key order, in batches, read on one (snapshot) connection."""
    columns = _pk(table)
    after: Key | None = None
    while True:
        stmt = sa.select(table).where(_after(table, after)).order_by(*columns).limit(size)
        rows = [dict(r) for r in (await conn.execute(stmt)).mappings().all()]
        if not rows:
            return
        yield rows
        after = tuple(rows[-1][c.name] for c in columns)
        if len(rows) < size:
            return


def _upsert(db: Database, table: sa.Table, rows: Sequence[dict[str, Any]]) -> Any:
    """An INSERT of ``rows`` that updates (or skips) rows whose key exists."""
    insert = (postgresql.insert if db.dialect == "postgresql" else sqlite.insert)(table)
    names = {c.name for c in _pk(table)}
    updates = {c.name: insert.excluded[c.name] for c in table.columns if c.name not in names}
    index = [c.name for c in _pk(table)]
    if not updates:
        return insert.values(list(rows)).on_conflict_do_nothing(index_elements=index)
    return insert.values(list(rows)).on_conflict_do_update(index_elements=index, set_=updates)


async def copy_table(
    source: Database,
    target: Database,
    table: sa.Table,
    *,
    after: Key | None = None,
    batch: int = 200,
) -> AsyncIterator[tuple[int, Key]]:
    """Upsert every row of ``table`` after ``after``; yields (rows copied, last key)."""
    columns = _pk(table)
    async for rows in _batches(source, table, after, batch):
        async with target.write() as conn:
            await conn.execute(_upsert(target, table, rows))
        yield len(rows), tuple(rows[-1][c.name] for c in columns)


async def upsert_rows(db: Database, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` into ``table`` in one transaction (existing keys are updated)."""
    if rows:
        async with db.write() as conn:
            await conn.execute(_upsert(db, table, rows))


async def reset_sequences(db: Database) -> None:
    """After rows were copied with their ids, move PostgreSQL's id sequences past them.

    Without it the next row inserted without an id (an analytics point) would take
    id 1 again and collide. SQLite's rowid needs nothing.
    """
    if db.is_sqlite:
        return
    for table in copy_order():
        columns = _pk(table)
        if len(columns) != 1 or not isinstance(columns[0].type, sa.Integer):
            continue
        name, column = table.name, columns[0].name
        statement = sa.text(
            f"SELECT setval(pg_get_serial_sequence('{name}', '{column}'), "
            f"GREATEST(COALESCE(MAX({column}), 0), 1), MAX({column}) IS NOT NULL) FROM {name}"
        )
        async with db.write() as conn:
            sequence = await conn.execute(
                sa.text(f"SELECT pg_get_serial_sequence('{name}', '{column}')")
            )
            if sequence.scalar() is not None:
                await conn.execute(statement)


async def count_rows(db: Database, table: sa.Table) -> int:
    """How many rows ``table`` holds."""
    async with db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return value


def update_checksum(digest: Any, table: sa.Table, row: dict[str, Any]) -> None:
    """Feed one row, in its canonical form, to a SHA-256 ``digest`` (rows in key order)."""
    digest.update(orjson.dumps([_canonical(row.get(c.name)) for c in table.columns]))


async def table_checksum(db: Database, table: sa.Table) -> tuple[int, str]:
    """(row count, SHA-256 over every row in key order) — equal on both engines."""
    digest = hashlib.sha256()
    count = 0
    async for rows in _batches(db, table, None, 1000):
        for row in rows:
            update_checksum(digest, table, row)
            count += 1
    return count, digest.hexdigest()


def row_to_json(table: sa.Table, row: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON-ready values (timestamps as ISO 8601 text)."""
    return {str(c.name): _canonical_json(row.get(c.name)) for c in table.columns}


def row_from_json(table: sa.Table, data: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`row_to_json`; unknown columns raise InvalidInput."""
    unknown = set(data) - {c.name for c in table.columns}
    if unknown:
        message = f"table {table.name} has no column(s) {sorted(unknown)}"
        raise InvalidInput(message, code="unknown_column")
    row: dict[str, Any] = {}
    for name, value in data.items():
        column = table.columns[name]
        if isinstance(value, str) and isinstance(column.type, UtcDateTime):
            row[name] = datetime.fromisoformat(value)
        else:
            row[name] = value
    return row


def _canonical_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


TableRef = sa.Table
"""A table as the copy functions take it (services name it without importing drivers)."""


def foreign_key_columns(table: sa.Table, parent: str) -> list[str]:
    """Columns of ``table`` that reference the table named ``parent``."""
    return [fk.parent.name for fk in table.foreign_keys if fk.column.table.name == parent]
