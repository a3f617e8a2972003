"""Artwork rows in SQL: inserts, keyset pages, search, views; SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.protocol import (
    ArtworkChanges,
    ArtworkRow,
    Keyset,
    ListFilter,
)
from asciihub.storage.metadata.tables import artwork_tags, users
from asciihub.storage.metadata.tables import ascii_metadata as am

_fts = sa.table(
    "artwork_fts",
    sa.column("artwork_id"),
    sa.column("title"),
    sa.column("prompt"),
    sa.column("tags"),
)
# PostgreSQL only: the tsvector column added by the migration behind a dialect switch.
_pg_search = sa.table("ascii_metadata", sa.column("id"), sa.column("search_vector"))
_WORD = re.compile(r"\w+", re.UNICODE)
MAX_PARAMETERS = 100
_MAX_TERMS = 8

_COLUMNS = [c for c in am.c]


def search_terms(query: str) -> list[str]:
    """The words of a search query (letters and digits only), lower-cased, at most 8."""
    return [word.lower() for word in _WORD.findall(query)][:_MAX_TERMS]


_REINDEX_BATCH = 200  # search entries rebuilt per transaction


def _row(mapping: Mapping[str, Any], tags: Sequence[str]) -> ArtworkRow:
    fields = {c.name: mapping[c.name] for c in _COLUMNS}
    return ArtworkRow(**fields, tags=tuple(tags), owner_handle=mapping["owner_handle"])


class SqlArtworkRepository:
    """:class:`ArtworkRepository` on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- search index, maintained in the same transaction as the row -------------
    async def _index(
        self,
        conn: AsyncConnection,
        artwork_id: str,
        title: str | None,
        prompt: str | None,
        tags: Sequence[str],
    ) -> None:
        text_tags = " ".join(tags)
        if self.db.is_sqlite:
            await conn.execute(sa.delete(_fts).where(_fts.c.artwork_id == artwork_id))
            await conn.execute(
                sa.insert(_fts).values(
                    artwork_id=artwork_id, title=title or "", prompt=prompt or "", tags=text_tags
                )
            )
        else:
            document = sa.func.to_tsvector("simple", f"{title or ''} {prompt or ''} {text_tags}")
            await conn.execute(
                sa.update(_pg_search)
                .where(_pg_search.c.id == artwork_id)
                .values(search_vector=document)
            )

    async def _set_tags(self, conn: AsyncConnection, artwork_id: str, tags: Sequence[str]) -> None:
        await conn.execute(sa.delete(artwork_tags).where(artwork_tags.c.artwork_id == artwork_id))
        if tags:
            await conn.execute(
                sa.insert(artwork_tags),
                [
                    {"artwork_id": artwork_id, "tag": tag, "position": index}
                    for index, tag in enumerate(tags)
                ],
            )

    async def _tags(self, conn: AsyncConnection, ids: Sequence[str]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {artwork_id: [] for artwork_id in ids}
        if not ids:
            return found
        ordered = list(ids)
        for start in range(0, len(ordered), MAX_PARAMETERS):  # D1: at most 100 bound values
            result = await conn.execute(
                sa.select(artwork_tags.c.artwork_id, artwork_tags.c.tag)
                .where(artwork_tags.c.artwork_id.in_(ordered[start : start + MAX_PARAMETERS]))
                .order_by(artwork_tags.c.artwork_id, artwork_tags.c.position)
            )
            for artwork_id, tag in result:
                found[artwork_id].append(tag)
        return found

    def _select(self) -> sa.Select[Any]:
        return sa.select(*_COLUMNS, users.c.handle.label("owner_handle")).join(
            users, users.c.id == am.c.user_id
        )

    async def _fetch(self, conn: AsyncConnection, stmt: sa.Select[Any]) -> list[ArtworkRow]:
        rows = (await conn.execute(stmt)).mappings().all()
        tags = await self._tags(conn, [r["id"] for r in rows])
        return [_row(r, tags[r["id"]]) for r in rows]

    # --- the repository ----------------------------------------------------------
    async def insert(self, row: ArtworkRow) -> None:
        """Insert a new row with its tags and search entry."""
        values = {c.name: getattr(row, c.name) for c in _COLUMNS}
        async with self.db.write() as conn:
            await conn.execute(sa.insert(am).values(values))
            await self._set_tags(conn, row.id, row.tags)
            await self._index(conn, row.id, row.title, row.prompt, row.tags)

    async def get(self, artwork_id: str) -> ArtworkRow | None:
        """The row, or None."""
        async with self.db.read() as conn:
            rows = await self._fetch(conn, self._select().where(am.c.id == artwork_id))
        return rows[0] if rows else None

    async def update(
        self, artwork_id: str, changes: ArtworkChanges, *, expected_revision: int, now: datetime
    ) -> ArtworkRow | None:
        """Apply ``changes`` if the row is still at ``expected_revision``; None if not."""
        values: dict[str, Any] = {"updated_at": now, "revision": am.c.revision + 1}
        if changes.title is not None or changes.clear_title:
            values["title"] = changes.title
        if changes.prompt is not None or changes.clear_prompt:
            values["prompt"] = changes.prompt
        if changes.visibility is not None:
            values["visibility"] = changes.visibility
        if changes.document is not None:
            facts = changes.document
            values.update(
                width=facts.width,
                height=facts.height,
                frame_count=facts.frame_count,
                fps=facts.fps,
                duration_ms=facts.duration_ms,
                etag=facts.etag,
                sha256=facts.sha256,
                size=facts.size,
            )
            if facts.key is not None:
                values["r2_key"] = facts.key
        async with self.db.write() as conn:
            result = await conn.execute(
                sa.update(am)
                .where(am.c.id == artwork_id, am.c.revision == expected_revision)
                .values(values)
            )
            if result.rowcount != 1:
                return None
            if changes.tags is not None:
                await self._set_tags(conn, artwork_id, changes.tags)
            rows = await self._fetch(conn, self._select().where(am.c.id == artwork_id))
            row = rows[0]
            await self._index(conn, row.id, row.title, row.prompt, row.tags)
        return row

    async def delete(self, artwork_id: str) -> ArtworkRow | None:
        """Delete the row and its tags and search entry; the row as it was, or None."""
        async with self.db.write() as conn:
            rows = await self._fetch(conn, self._select().where(am.c.id == artwork_id))
            if not rows:
                return None
            if self.db.is_sqlite:
                await conn.execute(sa.delete(_fts).where(_fts.c.artwork_id == artwork_id))
            await conn.execute(sa.delete(am).where(am.c.id == artwork_id))
        return rows[0]

    def _where(self, stmt: sa.Select[Any], where: ListFilter) -> sa.Select[Any]:
        stmt = stmt.where(am.c.visibility.in_(where.visibilities))
        if where.user_id is not None:
            stmt = stmt.where(am.c.user_id == where.user_id)
        if where.tag is not None:
            stmt = stmt.where(
                am.c.id.in_(
                    sa.select(artwork_tags.c.artwork_id).where(artwork_tags.c.tag == where.tag)
                )
            )
        terms = search_terms(where.query or "")
        if terms and self.db.is_sqlite:
            match = " ".join(f'"{term}"*' for term in terms)
            matches = sa.literal_column("artwork_fts").op("MATCH")(match)
            stmt = stmt.where(am.c.id.in_(sa.select(_fts.c.artwork_id).where(matches)))
        elif terms:
            query = " & ".join(f"{term}:*" for term in terms)
            vector: sa.ColumnElement[Any] = sa.literal_column("ascii_metadata.search_vector")
            stmt = stmt.where(vector.op("@@")(sa.func.to_tsquery("simple", query)))
        return stmt

    async def page(
        self, where: ListFilter, *, after: Keyset | None, limit: int
    ) -> Sequence[ArtworkRow]:
        """Up to ``limit`` rows after ``after``, newest or most viewed first."""
        stmt = self._where(self._select(), where)
        order: tuple[Any, ...]
        if where.sort == "popular":
            order = (am.c.views.desc(), am.c.created_at.desc(), am.c.id.desc())
            if after is not None:
                stmt = stmt.where(
                    sa.tuple_(am.c.views, am.c.created_at, am.c.id)
                    < sa.tuple_(
                        sa.literal(after.views, sa.BigInteger),
                        sa.literal(after.created_at, am.c.created_at.type),
                        sa.literal(after.id, sa.String),
                    )
                )
        else:
            order = (am.c.created_at.desc(), am.c.id.desc())
            if after is not None:
                stmt = stmt.where(
                    sa.tuple_(am.c.created_at, am.c.id)
                    < sa.tuple_(
                        sa.literal(after.created_at, am.c.created_at.type),
                        sa.literal(after.id, sa.String),
                    )
                )
        async with self.db.read() as conn:
            return await self._fetch(conn, stmt.order_by(*order).limit(limit))

    async def add_views(self, counts: Mapping[str, int]) -> None:
        """Add counted views in one batch."""
        if not counts:
            return
        stmt = (
            sa.update(am)
            .where(am.c.id == sa.bindparam("b_id"))
            .values(views=am.c.views + sa.bindparam("b_n"))
        )
        async with self.db.write() as conn:
            await conn.execute(stmt, [{"b_id": key, "b_n": value} for key, value in counts.items()])

    async def count(self) -> int:
        """How many artwork rows exist."""
        async with self.db.read() as conn:
            return int(
                (await conn.execute(sa.select(sa.func.count()).select_from(am))).scalar_one()
            )

    async def reindex(self) -> int:
        """Rebuild every row's search entry (after rows were copied in bulk)."""
        count = 0
        pending: list[ArtworkRow] = []
        async for row in self.iter_all():
            pending.append(row)
            if len(pending) == _REINDEX_BATCH:
                count += await self._reindex_rows(pending)
                pending = []
        return count + await self._reindex_rows(pending)

    async def _reindex_rows(self, rows: Sequence[ArtworkRow]) -> int:
        async with self.db.write() as conn:  # one transaction per batch
            for row in rows:
                await self._index(conn, row.id, row.title, row.prompt, row.tags)
        return len(rows)

    async def iter_all(self, *, batch: int = 500) -> AsyncIterator[ArtworkRow]:
        """Every row in id order, fetched ``batch`` at a time."""
        last = ""
        while True:
            async with self.db.read() as conn:
                rows = await self._fetch(
                    conn, self._select().where(am.c.id > last).order_by(am.c.id).limit(batch)
                )
            for row in rows:
                yield row
            if len(rows) < batch:
                return
            last = rows[-1].id
