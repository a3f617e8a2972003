"""Building whole deployments for tests: embedded, scale-out and mixed backends."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

from asciihub.settings import Settings, load_settings

KINDS = ("embedded", "scaleout", "mixed")


def make_settings(
    data_dir: Path,
    kind: str = "embedded",
    *,
    postgres_dsn: str | None = None,
    redis_url: str | None = None,
    s3_bucket: str | None = None,
    **overrides: Any,
) -> Settings:
    """Settings for one test deployment of ``kind``."""
    urls: dict[str, Any] = {}
    if kind in ("scaleout", "mixed"):
        assert postgres_dsn is not None
        urls["metadata_url"] = postgres_dsn
    if kind == "scaleout":
        assert redis_url is not None and s3_bucket is not None
        urls["kv_url"] = redis_url
        urls["objects_url"] = f"s3://{s3_bucket}"
    return load_settings(environ={}, overrides={"data_dir": str(data_dir), **urls, **overrides})


def new_bucket_name() -> str:
    """A fresh S3 bucket name for one test."""
    return f"asciihub-test-{secrets.token_hex(6)}"


async def create_bucket(endpoint: str, name: str) -> None:
    """Create an S3 bucket on the test server."""
    from aiobotocore.session import get_session

    session = get_session()
    async with session.create_client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    ) as client:
        await client.create_bucket(Bucket=name)


async def reset_postgres(dsn: str) -> None:
    """Empty every asciihub table (keeping the schema and the built-in local user)."""
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        tables = [
            row["tablename"]
            for row in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename NOT IN ('alembic_version', 'users')"
            )
        ]
        if tables:
            await conn.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        if await conn.fetchval("SELECT to_regclass('public.users') IS NOT NULL"):
            await conn.execute("DELETE FROM users WHERE NOT is_local")
    finally:
        await conn.close()


def reset_postgres_sync(dsn: str) -> None:
    """:func:`reset_postgres` for synchronous fixtures."""
    asyncio.run(reset_postgres(dsn))
