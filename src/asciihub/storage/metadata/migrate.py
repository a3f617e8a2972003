"""Apply the Alembic migrations shipped with the package."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from asciihub.storage.metadata.database import Database, translate_errors

MIGRATIONS = Path(__file__).with_name("migrations")
MIGRATION_LOCK = 0x61736369  # "asci": the PostgreSQL advisory lock held while migrating


def _config(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config(None)).get_current_head()
    return head or ""


def known_revisions() -> list[str]:
    """Every revision this code knows, oldest first (the last one is the head)."""
    script = ScriptDirectory.from_config(_config(None))
    return [item.revision for item in reversed(list(script.walk_revisions()))]


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None when it has never been migrated."""

    def _read(sync_conn: Any) -> str | None:
        return MigrationContext.configure(sync_conn).get_current_revision()

    async with db.read() as conn:
        return await conn.run_sync(_read)


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision`` (idempotent)."""

    def _upgrade(sync_conn: Any) -> None:
        postgres = sync_conn.dialect.name == "postgresql"
        if postgres:  # processes starting together migrate one after the other
            sync_conn.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATION_LOCK})")
            sync_conn.commit()
        try:
            command.upgrade(_config(sync_conn), revision)
        finally:
            if postgres:
                sync_conn.rollback()
                sync_conn.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATION_LOCK})")
                sync_conn.commit()

    with translate_errors():
        async with db.writer.connect() as conn:
            await conn.run_sync(_upgrade)
            await conn.commit()


async def downgrade(db: Database, revision: str) -> None:
    """Take the schema back to ``revision`` (only for an empty database: a restore of an
    older backup, which then upgrades again with the rows in place)."""

    def _downgrade(sync_conn: Any) -> None:
        command.downgrade(_config(sync_conn), revision)

    with translate_errors():
        async with db.writer.connect() as conn:
            await conn.run_sync(_downgrade)
            await conn.commit()
