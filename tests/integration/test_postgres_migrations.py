"""Migrations on PostgreSQL: concurrent starts and `serve` refusing an old schema."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest
from tests.stack import make_settings

from asciihub.bootstrap import build_services, migrate
from asciihub.errors import Unavailable

pytestmark = pytest.mark.integration


@pytest.fixture
async def empty_dsn(postgres_server_dsn: str) -> str:
    base, name = postgres_server_dsn.rsplit("/", 1)
    conn = await asyncpg.connect(f"{base}/test")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}_mig" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}_mig"')
    finally:
        await conn.close()
    return f"{base}/{name}_mig"


async def test_concurrent_migrations_take_turns(data_dir: Path, empty_dsn: str) -> None:
    settings = make_settings(data_dir, "mixed", postgres_dsn=empty_dsn)
    # Without the lock, the losers fail with "relation already exists".
    results = await asyncio.gather(*(migrate(settings) for _ in range(4)))
    assert len({after for _, after in results}) == 1
    conn = await asyncpg.connect(empty_dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users WHERE id = 'local'") == 1
        indexes = {r["indexname"] for r in await conn.fetch("SELECT indexname FROM pg_indexes")}
        assert {"idx_user", "idx_visibility", "idx_created", "idx_search"} <= indexes
    finally:
        await conn.close()


async def test_serve_refuses_an_unmigrated_database_without_auto_migrate(
    data_dir: Path, empty_dsn: str
) -> None:
    settings = make_settings(data_dir, "mixed", postgres_dsn=empty_dsn, auto_migrate=False)
    with pytest.raises(Unavailable) as info:
        await build_services(settings)
    assert info.value.code == "schema_out_of_date"
    await migrate(settings)
    built = await build_services(settings)
    await built.close()
