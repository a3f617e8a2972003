"""User rows in SQL."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.protocol import UserRow
from asciihub.storage.metadata.tables import users


def _user(row: Mapping[Any, Any]) -> UserRow:
    return UserRow(
        id=row["id"],
        handle=row["handle"],
        email=row["email"],
        display_name=row["display_name"],
        is_local=bool(row["is_local"]),
        created_at=row["created_at"],
    )


class SqlUserRepository:
    """:class:`UserRepository` on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, user_id: str) -> UserRow | None:
        """The user, or None."""
        async with self.db.read() as conn:
            row = (
                (await conn.execute(sa.select(users).where(users.c.id == user_id)))
                .mappings()
                .first()
            )
        return _user(row) if row else None

    async def get_by_handle(self, handle: str) -> UserRow | None:
        """The user with this handle (case-insensitive), or None."""
        stmt = sa.select(users).where(sa.func.lower(users.c.handle) == handle.lower())
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _user(row) if row else None
