"""API tokens: created once with their secret shown, listed, revoked, checked per request.

A token is ``ah_`` followed by 256 random bits (43 base64url characters); only its
SHA-256 digest is stored. A user holds at most ``max_tokens_per_user`` live tokens.
``last_used_at`` is written at most once a minute per token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from asciihub.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from asciihub.services.ids import new_id, new_secret
from asciihub.services.principals import Principal
from asciihub.services.sessions import digest
from asciihub.storage.metadata.account_types import TokenRepository, TokenRow

TOKEN_PREFIX = "ah_"
SCOPES = ("read", "write")
MAX_NAME_CHARS = 100
TOUCH_EVERY = timedelta(minutes=1)
_TOKEN_RE = re.compile(r"^ah_[A-Za-z0-9_-]{43}$")


def token_json(row: TokenRow) -> dict[str, Any]:
    """A token as the API lists it (never its secret)."""
    return {
        "id": row.id,
        "name": row.name,
        "scopes": list(row.scopes),
        "created_at": row.created_at.isoformat(),
        "last_used_at": row.last_used_at.isoformat() if row.last_used_at else None,
    }


def session_user(principal: Principal, what: str) -> str:
    """The user id of a principal logged in with a session; 401/403 otherwise."""
    if principal.user_id is None:
        message = f"log in to {what}"
        raise Unauthenticated(message)
    if principal.session_id is None:
        message = f"{what} needs a logged-in session, not an API token"
        raise Forbidden(message, code="session_required")
    return principal.user_id


def _parse_create(payload: Any) -> tuple[str, tuple[str, ...]]:
    if not isinstance(payload, dict):
        message = 'send {"name", "scopes": ["read", "write"]}'
        raise InvalidInput(message)
    unknown = sorted(set(payload) - {"name", "scopes"})
    if unknown:
        message = f"unknown fields: {', '.join(unknown)}"
        raise InvalidInput(message, code="unknown_field")
    name = payload.get("name", "token")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
        message = f"name must be text of 1 to {MAX_NAME_CHARS} characters"
        raise InvalidInput(message, code="invalid_name")
    scopes = payload.get("scopes", ["read"])
    if not isinstance(scopes, list) or not scopes or any(scope not in SCOPES for scope in scopes):
        message = 'scopes must be a non-empty list of "read" and "write"'
        raise InvalidInput(message, code="invalid_scopes")
    ordered = tuple(scope for scope in SCOPES if scope in scopes)
    if "write" in ordered and "read" not in ordered:
        ordered = SCOPES
    return name.strip(), ordered


class TokenService:
    """Create, list, revoke and authenticate API tokens."""

    def __init__(
        self,
        tokens: TokenRepository,
        *,
        max_per_user: int = 50,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.tokens = tokens
        self.max_per_user = max_per_user
        self.clock = clock

    async def create(self, principal: Principal, payload: Any) -> dict[str, Any]:
        """A new token for the session's user: its JSON with ``token`` shown this once."""
        user_id = session_user(principal, "manage API tokens")
        name, scopes = _parse_create(payload)
        return await self.issue(user_id, name, scopes)

    async def issue(self, user_id: str, name: str, scopes: tuple[str, ...]) -> dict[str, Any]:
        """Create a token for ``user_id`` (also used by the CLI), at most ``max_per_user``.

        The count is checked after the insert, so a burst of concurrent creations can
        be refused more than needed but never leaves the user over the cap.
        """
        if len(await self.tokens.list_for(user_id)) >= self.max_per_user:
            raise self._too_many()
        secret = TOKEN_PREFIX + new_secret()
        row = TokenRow(
            id=new_id(),
            user_id=user_id,
            name=name,
            token_hash=digest(secret),
            scopes=scopes,
            created_at=self.clock(),
        )
        await self.tokens.insert(row)
        if len(await self.tokens.list_for(user_id)) > self.max_per_user:
            await self.tokens.revoke(user_id, row.id, self.clock())
            raise self._too_many()
        return {**token_json(row), "token": secret}

    def _too_many(self) -> Conflict:
        message = (
            f"a user may hold at most {self.max_per_user} live API tokens "
            "(max_tokens_per_user); revoke one you no longer use"
        )
        return Conflict(message, code="too_many_tokens")

    async def list(self, principal: Principal) -> list[dict[str, Any]]:
        """The session user's live tokens."""
        user_id = session_user(principal, "manage API tokens")
        return [token_json(row) for row in await self.tokens.list_for(user_id)]

    async def revoke(self, principal: Principal, token_id: str) -> None:
        """Revoke one of the session user's tokens; 404 when it has no such token."""
        user_id = session_user(principal, "manage API tokens")
        if not await self.tokens.revoke(user_id, token_id, self.clock()):
            message = "no API token with this id"
            raise NotFound(message, code="token_not_found")

    async def authenticate(self, secret: str) -> Principal | None:
        """The principal of a Bearer token, or None when it is unknown or revoked."""
        if not _TOKEN_RE.match(secret):
            return None
        row = await self.tokens.by_hash(digest(secret))
        if row is None:
            return None
        now = self.clock()
        if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
            await self.tokens.touch(row.id, now)
        return Principal(user_id=row.user_id, scopes=frozenset(row.scopes), token_id=row.id)
