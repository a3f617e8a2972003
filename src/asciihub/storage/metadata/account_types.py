"""What services see of accounts in the metadata database: rows and repositories.

Token and share-link rows hold SHA-256 digests of their secrets, never the secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

Permission = Literal["view", "edit"]


@dataclass(frozen=True)
class AccountRow:
    """A user with what login needs (the password hash) and credential facts."""

    id: str
    handle: str
    email: str | None
    password_hash: str | None
    is_local: bool
    created_at: datetime
    password_changed_at: datetime | None = None
    avatar_updated_at: datetime | None = None


@dataclass(frozen=True)
class TokenRow:
    """One API token: its id, owner, name, scopes and the digest of its secret."""

    id: str
    user_id: str
    name: str
    token_hash: str
    scopes: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class ShareRow:
    """One share link of an artwork: permission, expiry and the digest of its token."""

    id: str
    artwork_id: str
    user_id: str
    token_hash: str
    permission: Permission
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


@dataclass(frozen=True)
class PreferencesRow:
    """A user's defaults for making art and for the site; None means the site default."""

    style: str | None = None
    width: int | None = None
    color_mode: str | None = None
    theme: str | None = None


class AccountRepository(Protocol):
    """Users with passwords, their credential facts and preferences."""

    async def create(self, account: AccountRow) -> None:
        """Insert a user; Conflict when the handle is taken."""
        ...

    async def get(self, user_id: str) -> AccountRow | None:
        """The account, or None."""
        ...

    async def get_by_handle(self, handle: str) -> AccountRow | None:
        """The account with this handle (case-insensitive), or None."""
        ...

    async def set_password(self, user_id: str, password_hash: str, now: datetime) -> None:
        """Store a new password hash and when it changed."""
        ...

    async def set_avatar_updated(self, user_id: str, now: datetime | None) -> None:
        """Record that the avatar changed (None: removed)."""
        ...

    async def delete(self, user_id: str) -> bool:
        """Delete the user and, by cascade, its tokens, shares and preferences."""
        ...

    async def get_preferences(self, user_id: str) -> PreferencesRow:
        """The user's preferences (all None when never set)."""
        ...

    async def put_preferences(self, user_id: str, prefs: PreferencesRow, now: datetime) -> None:
        """Replace the user's preferences."""
        ...


class TokenRepository(Protocol):
    """API token rows."""

    async def insert(self, token: TokenRow) -> None:
        """Insert a new token."""
        ...

    async def by_hash(self, token_hash: str) -> TokenRow | None:
        """The live (not revoked) token with this digest, or None."""
        ...

    async def list_for(self, user_id: str) -> Sequence[TokenRow]:
        """The user's live tokens, newest first."""
        ...

    async def revoke(self, user_id: str, token_id: str, now: datetime) -> bool:
        """Revoke one of the user's tokens; False when there is no such live token."""
        ...

    async def touch(self, token_id: str, now: datetime) -> None:
        """Record the token's last use."""
        ...


class ShareRepository(Protocol):
    """Share link rows."""

    async def insert(self, share: ShareRow) -> None:
        """Insert a new share link."""
        ...

    async def by_hash(self, token_hash: str) -> ShareRow | None:
        """The unrevoked link with this digest (expiry is the caller's check), or None."""
        ...

    async def list_for(self, artwork_id: str) -> Sequence[ShareRow]:
        """The artwork's unrevoked links, newest first."""
        ...

    async def revoke(self, artwork_id: str, share_id: str, now: datetime) -> bool:
        """Revoke one link of the artwork; False when there is no such live link."""
        ...
