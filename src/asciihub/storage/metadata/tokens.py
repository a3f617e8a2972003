"""API token and share link rows in SQL (digests only, never the secrets)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

from asciihub.storage.metadata.account_types import ShareRow, TokenRow
from asciihub.storage.metadata.database import Database
from asciihub.storage.metadata.tables import api_tokens, share_links


def _token(row: RowMapping) -> TokenRow:
    return TokenRow(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        token_hash=row["token_hash"],
        scopes=tuple(scope for scope in row["scopes"].split(",") if scope),
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


def _share(row: RowMapping) -> ShareRow:
    return ShareRow(
        id=row["id"],
        artwork_id=row["artwork_id"],
        user_id=row["user_id"],
        token_hash=row["token_hash"],
        permission=row["permission"],
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
    )


class SqlTokenRepository:
    """:class:`TokenRepository` on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, token: TokenRow) -> None:
        """Insert a new token."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.insert(api_tokens).values(
                    id=token.id,
                    user_id=token.user_id,
                    name=token.name,
                    token_hash=token.token_hash,
                    scopes=",".join(token.scopes),
                    created_at=token.created_at,
                )
            )

    async def by_hash(self, token_hash: str) -> TokenRow | None:
        """The live (not revoked) token with this digest, or None."""
        stmt = sa.select(api_tokens).where(
            api_tokens.c.token_hash == token_hash, api_tokens.c.revoked_at.is_(None)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _token(row) if row else None

    async def list_for(self, user_id: str) -> Sequence[TokenRow]:
        """The user's live tokens, newest first."""
        stmt = (
            sa.select(api_tokens)
            .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
            .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_token(row) for row in rows]

    async def revoke(self, user_id: str, token_id: str, now: datetime) -> bool:
        """Revoke one of the user's tokens; False when there is no such live token."""
        stmt = (
            sa.update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                api_tokens.c.user_id == user_id,
                api_tokens.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        async with self.db.write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)

    async def touch(self, token_id: str, now: datetime) -> None:
        """Record the token's last use."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
            )


class SqlShareRepository:
    """:class:`ShareRepository` on SQLAlchemy Core."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert(self, share: ShareRow) -> None:
        """Insert a new share link."""
        async with self.db.write() as conn:
            await conn.execute(
                sa.insert(share_links).values(
                    id=share.id,
                    artwork_id=share.artwork_id,
                    user_id=share.user_id,
                    token_hash=share.token_hash,
                    permission=share.permission,
                    created_at=share.created_at,
                    expires_at=share.expires_at,
                )
            )

    async def by_hash(self, token_hash: str) -> ShareRow | None:
        """The unrevoked link with this digest (expiry is the caller's check), or None."""
        stmt = sa.select(share_links).where(
            share_links.c.token_hash == token_hash, share_links.c.revoked_at.is_(None)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _share(row) if row else None

    async def list_for(self, artwork_id: str) -> Sequence[ShareRow]:
        """The artwork's unrevoked links, newest first."""
        stmt = (
            sa.select(share_links)
            .where(share_links.c.artwork_id == artwork_id, share_links.c.revoked_at.is_(None))
            .order_by(share_links.c.created_at.desc(), share_links.c.id.desc())
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_share(row) for row in rows]

    async def revoke(self, artwork_id: str, share_id: str, now: datetime) -> bool:
        """Revoke one link of the artwork; False when there is no such live link."""
        stmt = (
            sa.update(share_links)
            .where(
                share_links.c.id == share_id,
                share_links.c.artwork_id == artwork_id,
                share_links.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        async with self.db.write() as conn:
            result = await conn.execute(stmt)
        return bool(result.rowcount)
