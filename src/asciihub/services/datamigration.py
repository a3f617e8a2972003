"""Copying a whole deployment from one set of backends to another (``migrate-data``).

What moves: every metadata row (all tables, in foreign-key order, as upserts), every
object of the bucket, and the KV entries that are state rather than cache (sessions,
with their remaining lifetime). Caches, gallery pages and rate-limit counters are
not copied: they rebuild themselves. The search index is rebuilt on the target.

Resumable: after every batch the position of each phase is written to a state file
(atomically; objects go 16 at a time, recorded once the whole chunk is copied); a
new run continues from there, and because rows are upserted and
objects are skipped when the target already has the same bytes, starting over is
also safe. The run ends by verifying counts and SHA-256 checksums of every table and
every object on both sides.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from asciihub.storage.kv.keys import STATE_PREFIXES
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.artworks import SqlArtworkRepository
from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.migrate import (
    current_revision,
    downgrade,
    known_revisions,
    upgrade,
)
from asciihub.storage.metadata.transfer import (
    TableRef,
    copy_order,
    copy_table,
    count_rows,
    foreign_key_columns,
    present_tables,
    reset_sequences,
    row_from_json,
    row_to_json,
    snapshot_rows,
    table_checksum,
    update_checksum,
    upsert_rows,
)

__all__ = [
    "OBJECT_CONCURRENCY",
    "DataMigration",
    "Endpoint",
    "TableRef",
    "Verification",
    "all_objects",
    "foreign_key_columns",
    "object_chunks",
    "row_from_json",
    "row_to_json",
    "update_checksum",
]
from asciihub.storage.objects.protocol import ObjectInfo, ObjectStore

KV_PREFIXES = STATE_PREFIXES
OBJECT_CONCURRENCY = 16  # objects copied (or hashed) at once
Progress = Callable[[str, int, int | None], None]


@dataclass(frozen=True)
class Endpoint:
    """One deployment's bindings, and the table-level steps whole-deployment copies use.

    ``migrate-data``, ``backup`` and ``restore`` work below the repositories, on the
    tables themselves; these methods are the only door they go through.
    """

    db: Database
    objects: ObjectStore
    kv: KVStore
    schema: tuple[TableRef, ...] | None = None
    """The tables as an older schema revision has them (see :meth:`as_stored`)."""

    def tables(self) -> list[TableRef]:
        """Every table, parents before children."""
        return list(self.schema) if self.schema is not None else copy_order()

    @staticmethod
    def known_revisions() -> list[str]:
        """Every schema revision this code knows, oldest first (the last is the head)."""
        return known_revisions()

    async def as_stored(self) -> Endpoint:
        """This endpoint with the tables and columns its database holds at its revision."""
        return replace(self, schema=tuple(await present_tables(self.db)))

    async def downgrade(self, revision: str) -> Endpoint:
        """Take an empty database back to ``revision``; the endpoint at that schema."""
        await downgrade(self.db, revision)
        return await self.as_stored()

    async def upgrade(self) -> Endpoint:
        """Run the migrations up to the head; the endpoint at the head schema."""
        await upgrade(self.db)
        return replace(self, schema=None)

    def snapshot(self) -> AbstractAsyncContextManager[Any]:
        """A read-only connection that sees one committed state of every table."""
        return self.db.snapshot()

    @staticmethod
    def snapshot_rows(conn: Any, table: TableRef) -> AsyncIterator[list[dict[str, Any]]]:
        """The rows of ``table`` in key order, in batches, as ``conn`` sees them."""
        return snapshot_rows(conn, table)

    async def write_rows(self, table: TableRef, rows: list[dict[str, Any]]) -> None:
        """Insert (or update) ``rows`` of ``table`` in one transaction."""
        await upsert_rows(self.db, table, rows)

    async def count(self, table: TableRef) -> int:
        """How many rows ``table`` holds."""
        return await count_rows(self.db, table)

    async def checksum(self, table: TableRef) -> tuple[int, str]:
        """(rows, SHA-256 of every row in canonical form, key order)."""
        return await table_checksum(self.db, table)

    async def revision(self) -> str | None:
        """The schema revision the database is at."""
        return await current_revision(self.db)

    async def reindex(self) -> None:
        """Rebuild the full-text search index from the artwork rows."""
        await SqlArtworkRepository(self.db).reindex()

    async def current_artwork_key(self, artwork_id: str) -> str | None:
        """The object key the artwork's row names now (outside any snapshot), if any."""
        row = await SqlArtworkRepository(self.db).get(artwork_id)
        return row.r2_key if row is not None else None

    async def reset_sequences(self) -> None:
        """Move id sequences past the copied rows (PostgreSQL)."""
        await reset_sequences(self.db)


@dataclass
class Verification:
    """Counts and checksums of both sides, and whether they agree."""

    tables: dict[str, tuple[tuple[int, str], tuple[int, str]]] = field(default_factory=dict)
    objects: tuple[tuple[int, str], tuple[int, str]] = ((0, ""), (0, ""))
    kv: tuple[int, int] = (0, 0)

    @property
    def ok(self) -> bool:
        """True when every count and checksum matches."""
        return (
            all(src == dst for src, dst in self.tables.values())
            and self.objects[0] == self.objects[1]
            and self.kv[0] == self.kv[1]
        )


async def all_objects(
    store: ObjectStore, after: str | None = None, *, prefix: str = ""
) -> AsyncIterator[ObjectInfo]:
    """Every object of ``store`` under ``prefix`` (after key ``after``), in key order."""
    cursor: str | None = None
    while True:
        page = await store.list(prefix, cursor=cursor)
        for info in page.objects:
            if after is None or info.key > after:
                yield info
        if not page.truncated:
            return
        cursor = page.cursor


async def object_chunks(
    store: ObjectStore, after: str | None = None
) -> AsyncIterator[list[ObjectInfo]]:
    """The store's objects in key order, ``OBJECT_CONCURRENCY`` at a time."""
    chunk: list[ObjectInfo] = []
    async for info in all_objects(store, after):
        chunk.append(info)
        if len(chunk) == OBJECT_CONCURRENCY:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def _object_digest(store: ObjectStore) -> tuple[int, str]:
    async def sha(key: str) -> bytes:
        body = await store.get(key)
        return hashlib.sha256(body.data if body is not None else b"").digest()

    digest = hashlib.sha256()
    count = 0
    async for chunk in object_chunks(store):
        hashes = await asyncio.gather(*(sha(info.key) for info in chunk))
        for info, data_hash in zip(chunk, hashes, strict=True):
            digest.update(info.key.encode() + b"\0" + data_hash)
        count += len(chunk)
    return count, digest.hexdigest()


def _same(existing: ObjectInfo | None, info: ObjectInfo) -> bool:
    return existing is not None and (existing.size, existing.etag) == (info.size, info.etag)


class DataMigration:
    """Copies ``source`` into ``target``; ``state_path`` makes it resumable."""

    def __init__(
        self,
        source: Endpoint,
        target: Endpoint,
        *,
        state_path: Path,
        progress: Progress | None = None,
    ) -> None:
        self.source = source
        self.target = target
        self.state_path = state_path
        self.progress = progress or (lambda phase, done, total: None)
        self.state: dict[str, Any] = {}

    def _load(self) -> None:
        if self.state_path.exists():
            self.state = json.loads(self.state_path.read_text())
        self.state.setdefault("done", [])
        self.state.setdefault("position", {})

    def _save(self) -> None:
        temp = self.state_path.with_suffix(".tmp")
        temp.write_text(json.dumps(self.state, default=str))
        os.replace(temp, self.state_path)

    async def run(self) -> Verification:
        """Copy everything not copied yet, rebuild the search index, then verify."""
        self._load()
        for table in copy_order():
            await self._phase(f"rows:{table.name}", functools.partial(self._rows, table))
        await self._phase("objects", self._objects)
        for prefix in KV_PREFIXES:
            await self._phase(f"kv:{prefix}", functools.partial(self._kv, prefix))
        if "search" not in self.state["done"]:
            await self.target.reset_sequences()
            await SqlArtworkRepository(self.target.db).reindex()
            self.state["done"].append("search")
            self._save()
        result = await self.verify()
        if result.ok:
            self.state_path.unlink(missing_ok=True)
        return result

    async def _phase(
        self, name: str, step: Callable[[Any], AsyncIterator[tuple[int, Any]]]
    ) -> None:
        if name in self.state["done"]:
            return
        after = self.state["position"].get(name)
        async for copied, position in step(after):
            self.state["position"][name] = position
            self._save()
            self.progress(name, copied, None)
        self.state["done"].append(name)
        self._save()

    async def _rows(self, table: Any, after: Any) -> AsyncIterator[tuple[int, Any]]:
        key = tuple(after) if after is not None else None
        async for copied, last in copy_table(self.source.db, self.target.db, table, after=key):
            yield copied, list(last)

    async def _objects(self, after: str | None) -> AsyncIterator[tuple[int, str]]:
        # A chunk is copied concurrently and recorded as done only once all of it is.
        # What the target holds comes from its own listing, walked in step with the
        # source's (both are in key order), not from one HEAD request per object.
        target = all_objects(self.target.objects, after)
        held: dict[str, ObjectInfo] = {}
        ahead: ObjectInfo | None = None
        async for chunk in object_chunks(self.source.objects, after):
            last = chunk[-1].key
            while ahead is None or ahead.key <= last:
                if ahead is not None:
                    held[ahead.key] = ahead
                ahead = await anext(target, None)
                if ahead is None:
                    break
            copies = [info for info in chunk if not _same(held.pop(info.key, None), info)]
            await asyncio.gather(*(self._copy_object(info) for info in copies))
            held = {key: info for key, info in held.items() if key > last}
            yield len(chunk), last

    async def _copy_object(self, info: ObjectInfo) -> None:
        body = await self.source.objects.get(info.key)
        if body is None:
            return  # deleted since it was listed
        # Metadata from the read, not the listing: an S3 listing carries none.
        await self.target.objects.put(
            info.key,
            body.data,
            http_metadata=body.info.http_metadata,
            custom_metadata=dict(body.info.custom_metadata),
        )

    async def _kv(self, prefix: str, after: str | None) -> AsyncIterator[tuple[int, str]]:
        cursor: str | None = None
        while True:
            page = await self.source.kv.list(prefix, cursor=cursor)
            for key in page.keys:
                if after is not None and key.name <= after:
                    continue
                if key.expiration is not None and key.expiration <= time.time() + 1:
                    continue  # about to expire: not worth carrying over
                value, meta = await self.source.kv.get_with_metadata(key.name)
                if value is not None:
                    await self.target.kv.put(
                        key.name, value, expiration=key.expiration, metadata=meta
                    )
                yield 1, key.name
            if page.list_complete:
                return
            cursor = page.cursor

    async def totals(self) -> dict[str, int]:
        """How many items each phase has on the source (for progress bars)."""
        totals = {f"rows:{t.name}": await count_rows(self.source.db, t) for t in copy_order()}
        totals["objects"] = sum([1 async for _ in all_objects(self.source.objects)])
        return totals

    async def _kv_count(self, kv: KVStore) -> int:
        count = 0
        for prefix in KV_PREFIXES:
            cursor: str | None = None
            while True:
                page = await kv.list(prefix, cursor=cursor)
                count += len(page.keys)
                if page.list_complete:
                    break
                cursor = page.cursor
        return count

    async def verify(self) -> Verification:
        """Counts and checksums of every table, every object and the copied KV keys."""
        result = Verification()
        for table in copy_order():
            result.tables[table.name] = (
                await table_checksum(self.source.db, table),
                await table_checksum(self.target.db, table),
            )
        result.objects = (
            await _object_digest(self.source.objects),
            await _object_digest(self.target.objects),
        )
        result.kv = (await self._kv_count(self.source.kv), await self._kv_count(self.target.kv))
        return result
