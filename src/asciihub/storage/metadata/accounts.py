"""Account rows in SQL: users with passwords, credential facts and preferences."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from asciihub.errors import Conflict
from asciihub.storage.metadata.account_types import AccountRow, PreferencesRow
from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.tables import user_preferences, user_security, users

_SELECT = sa.select(
    users.c.id,
    users.c.handle,
    users.c.email,
    users.c.password_hash,
    users.c.is_local,
    users.c.created_at,
    user_security.c.password_changed_at,
    user_security.c.avatar_updated_at,
).select_from(users.outerjoin(user_security, user_security.c.user_id == users.c.id))


def _account(row: RowMapping) -> AccountRow:
    return AccountRow(
        id=row["id"],
        handle=row["handle"],
        email=row["email"],
        password_hash=row["password_hash"],
        is_local=bool(row["is_local"]),
        created_at=row["created_at"],
        password_changed_at=row["password_changed_at"],
        avatar_updated_at=row["avatar_updated_at"],
    )


async def _upsert_security(conn: AsyncConnection, user_id: str, **values: Any) -> None:
    updated = await conn.execute(
        sa.update(user_security).where(user_security.c.user_id == user_id).values(**values)
    )
    if not updated.rowcount:
        await conn.execute(sa.insert(user_security).values(user_id=user_id, **values))


class SqlAccountRepository:
    """:class:`AccountRepository` on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, account: AccountRow) -> None:
        """Insert a user; Conflict (code ``handle_taken``) when the handle is taken."""
        try:
            async with self.db.write() as conn:
                await conn.execute(
                    sa.insert(users).values(
                        id=account.id,
                        handle=account.handle,
                        email=account.email,
                        password_hash=account.password_hash,
                        is_local=False,
                        created_at=account.created_at,
                    )
                )
                await conn.execute(
                    sa.insert(user_security).values(
                        user_id=account.id, password_changed_at=account.password_changed_at
                    )
                )
        except Conflict as exc:
            message = f"the handle {account.handle!r} is taken; choose another"
            raise Conflict(message, code="handle_taken") from exc

    async def get(self, user_id: str) -> AccountRow | None:
        """The account, or None."""
        async with self.db.read() as conn:
            row = (await conn.execute(_SELECT.where(users.c.id == user_id))).mappings().first()
        return _account(row) if row else None

    async def get_by_handle(self, handle: str) -> AccountRow | None:
        """The account with this handle (case-insensitive), or None."""
        stmt = _SELECT.where(sa.func.lower(users.c.handle) == handle.lower())
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _account(row) if row else None

    async def set_password(self, user_id: str, password_hash: str, now: datetime) -> None:
        """Store a new password hash and when it changed."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(users).where(users.c.id == user_id).values(password_hash=password_hash)
            )
            await _upsert_security(conn, user_id, password_changed_at=now)

    async def set_avatar_updated(self, user_id: str, now: datetime | None) -> None:
        """Record that the avatar changed (None: removed)."""
        async with self.db.write() as conn:
            await _upsert_security(conn, user_id, avatar_updated_at=now)

    async def delete(self, user_id: str) -> bool:
        """Delete the user; its tokens, shares, preferences and rows go by cascade."""
        async with self.db.write() as conn:
            result = await conn.execute(
                sa.delete(users).where(users.c.id == user_id, users.c.is_local.is_(False))
            )
        return bool(result.rowcount)

    async def get_preferences(self, user_id: str) -> PreferencesRow:
        """The user's preferences (all None when never set)."""
        stmt = sa.select(user_preferences).where(user_preferences.c.user_id == user_id)
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        if row is None:
            return PreferencesRow()
        return PreferencesRow(
            style=row["style"], width=row["width"], color_mode=row["color_mode"], theme=row["theme"]
        )

    async def put_preferences(self, user_id: str, prefs: PreferencesRow, now: datetime) -> None:
        """Replace the user's preferences."""
        values = {
            "style": prefs.style,
            "width": prefs.width,
            "color_mode": prefs.color_mode,
            "theme": prefs.theme,
            "updated_at": now,
        }
        async with self.db.write() as conn:
            updated = await conn.execute(
                sa.update(user_preferences)
                .where(user_preferences.c.user_id == user_id)
                .values(**values)
            )
            if not updated.rowcount:
                await conn.execute(sa.insert(user_preferences).values(user_id=user_id, **values))
