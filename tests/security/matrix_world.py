"""The world the access-control matrix runs in: users, tokens, artworks and links."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from asciihub.services.principals import Principal
from tests.users import bearer, signup, token

MISSING_ID = "AAAAAAAAAAAAAAAAAAAAAA"
NEVER_ISSUED_SHARE = "N" * 43
VISIBILITIES = ("private", "unlisted", "public")
PRINCIPALS = (
    "owner",
    "other",
    "anonymous",
    "read_token",
    "write_token",
    "revoked_token",
    "view_link",
    "edit_link",
    "expired_link",
    "revoked_link",
    "other_link",
)
LINKS = ("view_link", "edit_link", "expired_link", "revoked_link", "other_link")


@dataclass
class Artwork:
    """One artwork of the owner with its links."""

    id: str
    visibility: str
    title: str
    links: dict[str, str] = field(default_factory=dict)
    spare_share_id: str = ""
    export_id: str = ""


@dataclass
class World:
    """Clients, credentials and the artworks the matrix reads and writes."""

    owner: httpx.AsyncClient
    other: httpx.AsyncClient
    anonymous: httpx.AsyncClient
    services: Any
    owner_id: str = ""
    owner_handle: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    other_artwork: Artwork | None = None

    def client_and_headers(
        self, principal: str, share: str | None
    ) -> tuple[httpx.AsyncClient, dict[str, str]]:
        """Which client a principal uses and the headers it sends."""
        if principal == "owner":
            return self.owner, {}
        if principal == "other":
            return self.other, {}
        if principal.endswith("_token"):
            return self.anonymous, bearer(self.tokens[principal])
        if share is not None:
            return self.anonymous, {"X-Share-Token": share}
        return self.anonymous, {}

    async def artwork(self, visibility: str) -> Artwork:
        """A fresh artwork of the owner with a view, edit, expired and revoked link."""
        owner = Principal(user_id=self.owner_id)
        marker = "zq" + secrets.token_hex(5)
        created = await self.services.artworks.create(
            owner, {"title": marker, "visibility": visibility, "frames": [{"text": "art"}]}
        )
        art = Artwork(id=created["id"], visibility=visibility, title=marker)
        shares = self.services.auth.shares
        for name, permission in (("view_link", "view"), ("edit_link", "edit")):
            art.links[name] = (await shares.create(owner, art.id, {"permission": permission}))[
                "token"
            ]
        real = shares.clock
        shares.clock = lambda: real() - timedelta(days=1)
        try:
            art.links["expired_link"] = (await shares.create(owner, art.id, {"expires_in": 60}))[
                "token"
            ]
        finally:
            shares.clock = real
        revoked = await shares.create(owner, art.id, {"permission": "edit"})
        await shares.revoke(owner, art.id, revoked["id"])
        art.links["revoked_link"] = revoked["token"]
        art.spare_share_id = (await shares.create(owner, art.id, {}))["id"]
        if self.other_artwork is not None:
            art.links["other_link"] = self.other_artwork.links["view_link"]
        exports = self.services.background.exports  # the owner's export, already stored
        art.export_id = (await exports.request(owner, art.id, {"format": "txt"}))["export_id"]
        await exports.produce(art.export_id)
        return art

    async def snapshot(self, art: Artwork) -> tuple[Any, ...]:
        """What a refused write must leave unchanged."""
        row = await self.services.artworks_repo.get(art.id)
        shares = await self.services.auth.shares.shares.list_for(art.id)
        return (row and (row.revision, row.title, row.visibility), len(shares))


@asynccontextmanager
async def matrix_world(client: Any) -> AsyncIterator[World]:
    """Sign up the owner and another user, issue tokens, make the other artwork."""
    transport = httpx.ASGITransport(app=client.app)
    services = client.app.starlette.state.services
    services.auth.limiter.enabled = False
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as other,
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as anonymous,
    ):
        world = World(owner=client, other=other, anonymous=anonymous, services=services)
        user = await signup(client)
        await signup(other)
        world.owner_id, world.owner_handle = user["id"], user["handle"]
        world.tokens["read_token"] = await token(client, ("read",))
        world.tokens["write_token"] = await token(client, ("read", "write"))
        revoked = await client.post(
            "/api/tokens", json={"name": "gone", "scopes": ["read", "write"]}
        )
        world.tokens["revoked_token"] = revoked.json()["token"]
        assert (await client.delete(f"/api/tokens/{revoked.json()['id']}")).status_code == 204
        world.other_artwork = await world.artwork("private")
        yield world
