"""The metadata binding's contract, once, on SQLite and on PostgreSQL (D1 rows 1–6)."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.stack import reset_postgres

from asciihub.errors import Conflict
from asciihub.services.ids import new_id
from asciihub.storage.metadata import (
    ArtworkChanges,
    ArtworkRow,
    Database,
    Keyset,
    ListFilter,
    SqlArtworkRepository,
    SqlUserRepository,
    upgrade,
)
from asciihub.storage.metadata.tables import users

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite://{tmp_path / 'meta.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres_server_dsn")
        await reset_postgres(url)
    database = Database(url)
    await upgrade(database)
    try:
        yield database
    finally:
        await database.close()


def row(**fields: Any) -> ArtworkRow:
    artwork_id = fields.pop("id", None) or new_id()
    values: dict[str, Any] = dict(
        id=artwork_id, user_id="local", title=None, prompt=None,
        r2_key=f"artworks/local/{artwork_id}.json", visibility="public", views=0,
        created_at=T0, updated_at=T0, width=1, height=1, frame_count=1, fps=10.0,
        duration_ms=100, etag="e" * 32, sha256=hashlib.sha256(artwork_id.encode()).hexdigest(),
        size=10,
    )  # fmt: skip
    values.update(fields)
    return ArtworkRow(**values)


async def test_foreign_keys_are_enforced(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    with pytest.raises(Conflict):
        await repo.insert(row(user_id="nobody"))
    assert await repo.count() == 0


async def test_deleting_a_user_cascades(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    async with db.write() as conn:
        await conn.execute(
            sa.insert(users).values(id="u2", handle="Someone", is_local=False, created_at=T0)
        )
    await repo.insert(row(user_id="u2", tags=("a",)))
    async with db.write() as conn:
        await conn.execute(sa.delete(users).where(users.c.id == "u2"))
    assert await repo.count() == 0


async def test_a_failed_transaction_rolls_back_wholly(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    first = row()

    async def half_a_transaction() -> None:
        async with db.write() as conn:
            await conn.execute(
                sa.insert(users).values(id="u3", handle="three", is_local=False, created_at=T0)
            )
            raise RuntimeError("half way")

    with pytest.raises(RuntimeError):
        await half_a_transaction()
    assert await SqlUserRepository(db).get("u3") is None
    await repo.insert(first)
    assert (await repo.get(first.id)) is not None


async def test_round_trip_and_optimistic_update(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    original = row(
        title="t", prompt="p", tags=("x", "y"), created_at=T0 + timedelta(microseconds=7)
    )
    await repo.insert(original)
    stored = await repo.get(original.id)
    assert stored is not None
    assert stored.created_at == original.created_at
    assert stored.tags == ("x", "y")
    assert stored.owner_handle == "local"
    changed = await repo.update(
        original.id, ArtworkChanges(title="new", tags=("z",)), expected_revision=1, now=T0
    )
    assert changed is not None and changed.revision == 2 and changed.tags == ("z",)
    stale = await repo.update(
        original.id, ArtworkChanges(title="lost"), expected_revision=1, now=T0
    )
    assert stale is None
    assert (await repo.get(original.id)).title == "new"  # type: ignore[union-attr]


async def test_keyset_pages_are_exact_with_ties(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    made = [row(created_at=T0 + timedelta(seconds=i // 3), views=i % 4) for i in range(12)]
    made.append(row(visibility="private"))
    for item in made:
        await repo.insert(item)
    for sort, key in (
        ("new", lambda r: (r.created_at, r.id)),
        ("popular", lambda r: (r.views, r.created_at, r.id)),
    ):
        seen: list[str] = []
        after = None
        while True:
            page = await repo.page(ListFilter(sort=sort), after=after, limit=5)  # type: ignore[arg-type]
            seen.extend(r.id for r in page)
            if len(page) < 5:
                break
            last = page[-1]
            after = Keyset(created_at=last.created_at, id=last.id, views=last.views)
        public = [r for r in made if r.visibility == "public"]
        assert seen == [r.id for r in sorted(public, key=key, reverse=True)], sort


async def test_search_gives_the_same_results_on_both_engines(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    corpus = {
        "cat": row(title="Sleeping cat", prompt="a cozy kitten on a sofa", tags=("animals",)),
        "rocket": row(title="Rocket launch", prompt="fire and smoke", tags=("space", "fire")),
        "cafe": row(title="Café at night", prompt="neon signs", tags=("city",)),
        "hidden": row(title="Secret cat", visibility="private"),
    }
    for item in corpus.values():
        await repo.insert(item)
    expected = {
        "cat": {"cat"},
        "kitten sofa": {"cat"},
        "fire": {"rocket"},
        "spa": {"rocket"},
        "laun": {"rocket"},
        "NIGHT": {"cafe"},
        "cat rocket": set(),
        "animals": {"cat"},
        "zebra": set(),
        "'; DROP TABLE users; --": set(),
        "a:* & b": set(),
    }
    names = {item.id: name for name, item in corpus.items()}
    for query, want in expected.items():
        found = await repo.page(ListFilter(query=query), after=None, limit=50)
        assert {names[r.id] for r in found} == want, query


async def test_views_are_added_in_one_batch(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    first, second = row(), row()
    await repo.insert(first)
    await repo.insert(second)
    await repo.add_views({first.id: 3, second.id: 1, "missing-id": 5})
    await repo.add_views({first.id: 2})
    assert (await repo.get(first.id)).views == 5  # type: ignore[union-attr]
    assert (await repo.get(second.id)).views == 1  # type: ignore[union-attr]


async def test_no_statement_binds_more_than_100_values(db: Database) -> None:
    repo = SqlArtworkRepository(db)
    for index in range(105):
        await repo.insert(row(tags=(f"t{index}",), created_at=T0 + timedelta(seconds=index)))
    widest = 0

    def count(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        nonlocal widest
        if not many and isinstance(parameters, tuple | list | dict):
            widest = max(widest, len(parameters))

    sa.event.listen(db.reader.sync_engine, "before_cursor_execute", count)
    try:
        page = await repo.page(ListFilter(), after=None, limit=101)
    finally:
        sa.event.remove(db.reader.sync_engine, "before_cursor_execute", count)
    assert len(page) == 101
    assert all(len(r.tags) == 1 for r in page)
    assert widest <= 100


async def test_handles_are_found_case_insensitively(db: Database) -> None:
    found = await SqlUserRepository(db).get_by_handle("LOCAL")
    assert found is not None and found.id == "local" and found.is_local


async def test_ping_answers(db: Database) -> None:
    await db.ping()
