"""Share links: an owner hands out a ``view`` or ``edit`` link with an expiry.

The token carries 256 random bits and only its SHA-256 digest is stored. A link that
is expired, revoked or unknown answers exactly like an artwork that never existed. An
``edit`` link may change frames and title, never visibility, shares or deletion (the
artwork service enforces the fields). A link created with an ``email`` is also sent
there (the ``artwork shared`` notification, through the e-mail queue); the address is
not stored.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from asciihub.errors import InvalidInput, NotFound
from asciihub.services.accounts import check_email
from asciihub.services.artworks import ArtworkService, not_found
from asciihub.services.ids import is_valid_id, new_id, new_secret
from asciihub.services.principals import Principal, ShareGrant
from asciihub.services.sessions import digest
from asciihub.storage.metadata.account_types import Permission, ShareRepository, ShareRow

PERMISSIONS: tuple[Permission, ...] = ("view", "edit")
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")

# (to, owner user id, artwork title, share id, token, seconds the link lives): queue the
# "shared with you" e-mail. The token is handed over in memory, never put on a queue.
ShareNotifier = Callable[[str, str, str | None, str, str, int], Awaitable[object]]


def share_json(row: ShareRow) -> dict[str, Any]:
    """A share link as its owner lists it (never its token)."""
    return {
        "id": row.id,
        "artwork_id": row.artwork_id,
        "permission": row.permission,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


class ShareService:
    """Create, list, revoke and resolve share links."""

    def __init__(
        self,
        shares: ShareRepository,
        artworks: ArtworkService,
        *,
        public_url: str,
        default_expiry: int,
        max_expiry: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.shares = shares
        self.artworks = artworks
        self.public_url = public_url
        self.default_expiry = default_expiry
        self.max_expiry = max_expiry
        self.clock = clock
        self.notify: ShareNotifier | None = None

    def _parse(self, payload: Any) -> tuple[Permission, int, str | None]:
        if not isinstance(payload, dict):
            message = 'send {"permission": "view" | "edit", "expires_in": SECONDS}'
            raise InvalidInput(message)
        unknown = sorted(set(payload) - {"permission", "expires_in", "email"})
        if unknown:
            message = f"unknown fields: {', '.join(unknown)}"
            raise InvalidInput(message, code="unknown_field")
        permission = payload.get("permission", "view")
        if permission not in PERMISSIONS:
            message = 'permission must be "view" or "edit"'
            raise InvalidInput(message, code="invalid_permission")
        expires_in = payload.get("expires_in", self.default_expiry)
        if (
            isinstance(expires_in, bool)
            or not isinstance(expires_in, int)
            or not 60 <= expires_in <= self.max_expiry
        ):
            message = f"expires_in must be a whole number of seconds from 60 to {self.max_expiry}"
            raise InvalidInput(message, code="invalid_expiry")
        email = check_email(payload.get("email"))
        if email is not None and self.notify is None:
            message = "this server does not send e-mail; leave out email"
            raise InvalidInput(message, code="email_unavailable")
        return permission, expires_in, email

    async def create(self, principal: Principal, artwork_id: str, payload: Any) -> dict[str, Any]:
        """A new link to the owner's artwork; its JSON with ``token`` and ``url`` shown once."""
        row = await self.artworks.owned_row(principal, artwork_id)
        permission, expires_in, email = self._parse(payload)
        secret = new_secret()
        now = self.clock()
        share = ShareRow(
            id=new_id(),
            artwork_id=row.id,
            user_id=row.user_id,
            token_hash=digest(secret),
            permission=permission,
            created_at=now,
            expires_at=now + timedelta(seconds=expires_in),
        )
        await self.shares.insert(share)
        url = f"{self.public_url}/s/{secret}"
        created = {**share_json(share), "token": secret, "url": url}
        if email is not None and self.notify is not None:
            await self.notify(email, row.user_id, row.title, share.id, secret, expires_in)
            created["emailed"] = True
        return created

    async def list(self, principal: Principal, artwork_id: str) -> list[dict[str, Any]]:
        """The artwork's live links (owner only)."""
        await self.artworks.owned_row(principal, artwork_id)
        now = self.clock()
        return [
            share_json(row)
            for row in await self.shares.list_for(artwork_id)
            if row.expires_at > now
        ]

    async def revoke(self, principal: Principal, artwork_id: str, share_id: str) -> None:
        """Revoke one link (owner only); it answers 404 from the next request on."""
        await self.artworks.owned_row(principal, artwork_id)
        if not is_valid_id(share_id) or not await self.shares.revoke(
            artwork_id, share_id, self.clock()
        ):
            message = "no share link with this id"
            raise NotFound(message, code="share_not_found")

    async def grant(self, token: str | None) -> ShareGrant | None:
        """What a share token allows, or None when it is unknown, expired or revoked."""
        if not token or not _TOKEN_RE.match(token):
            return None
        row = await self.shares.by_hash(digest(token))
        if row is None or row.expires_at <= self.clock():
            return None
        return ShareGrant(share_id=row.id, artwork_id=row.artwork_id, permission=row.permission)

    async def open(self, principal: Principal, token: str) -> bytes:
        """``GET /api/shares/{token}``: the artwork with ``permission``; 404 if not valid."""
        grant = await self.grant(token)
        if grant is None:
            raise not_found()
        entry = await self.artworks.get(principal, grant.artwork_id, grant=grant)
        body = orjson.loads(entry.body)
        body["permission"] = grant.permission
        return orjson.dumps(body)
