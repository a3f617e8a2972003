"""Remixes and starter templates.

A remix copies an artwork the caller may see into a new private artwork of the
caller's own; its prompt credits the original (``remix of /a/{id} by @owner``) and it
is tagged ``remix``. The make page's "hot templates" are the most viewed public
artworks, kept in KV under ``templates:hot`` for ``HOT_TEMPLATES_TTL`` seconds (a
cache: a miss reads the gallery again).
"""

from __future__ import annotations

from typing import Any

import orjson

from asciihub.errors import InvalidInput
from asciihub.services.artworks import ArtworkService
from asciihub.services.gallery import GalleryService, PageQuery
from asciihub.services.principals import Principal, ShareGrant, writer_id
from asciihub.storage.kv.protocol import KVStore

HOT_TEMPLATES_KEY = "templates:hot"
HOT_TEMPLATES_TTL = 120
HOT_TEMPLATES_COUNT = 6
REMIX_FIELDS = frozenset({"title", "visibility"})
MAX_PEOPLE = 50


def credit_line(original: dict[str, Any]) -> str:
    """The prompt text that credits the original artwork."""
    return f"remix of /a/{original['id']} by @{original['owner']}"


class RemixService:
    """Copies artworks into new ones; lists the starter templates."""

    def __init__(self, artworks: ArtworkService, gallery: GalleryService, kv: KVStore) -> None:
        self.artworks = artworks
        self.gallery = gallery
        self.kv = kv

    async def remix(
        self,
        principal: Principal,
        artwork_id: str,
        payload: Any = None,
        *,
        grant: ShareGrant | None = None,
    ) -> dict[str, Any]:
        """A new artwork of ``principal``'s own from ``artwork_id``'s frames; its JSON."""
        writer_id(principal, "remix artworks")
        body = payload if payload is not None else {}
        if not isinstance(body, dict) or set(body) - REMIX_FIELDS:
            message = 'send {} or {"title"?, "visibility"?}'
            raise InvalidInput(message, code="invalid_body")
        entry = await self.artworks.get(principal, artwork_id, grant=grant)
        original = orjson.loads(entry.body)
        tags = [tag for tag in original.get("tags", []) if tag != "remix"][:9] + ["remix"]
        create = {
            "title": body.get("title") or f"{original.get('title') or 'Untitled'} (remix)",
            "prompt": credit_line(original),
            "visibility": body.get("visibility", "private"),
            "tags": tags,
            "fps": original["fps"],
            "frames": original["frames"],
        }
        return await self.artworks.create(principal, create)

    async def people(
        self,
        principal: Principal,
        artwork_id: str,
        user_ids: list[str],
        *,
        grant: ShareGrant | None = None,
    ) -> dict[str, str]:
        """Handles of the given user ids, for those who may see the artwork (its room).

        The editor names the people whose cursors and chat messages carry only ids.
        """
        await self.artworks.get(principal, artwork_id, grant=grant)
        if len(user_ids) > MAX_PEOPLE:
            message = f"ask for at most {MAX_PEOPLE} user ids at once"
            raise InvalidInput(message, code="too_many_ids")
        users = self.gallery.users
        found: dict[str, str] = {}
        for user_id in dict.fromkeys(user_ids):
            row = await users.get(user_id) if user_id else None
            if row is not None:
                found[user_id] = row.handle
        return found

    async def hot_templates(self) -> list[dict[str, Any]]:
        """The most viewed public artworks (cached in KV), as gallery items."""
        cached = await self.kv.get(HOT_TEMPLATES_KEY)
        if cached is not None:
            items: list[dict[str, Any]] = orjson.loads(cached)
            return items
        page = orjson.loads(
            await self.gallery.public_page(PageQuery(sort="popular", limit=HOT_TEMPLATES_COUNT))
        )
        items = page["items"]
        if items:  # an empty gallery is asked again, so the first public artwork shows
            await self.kv.put(HOT_TEMPLATES_KEY, orjson.dumps(items), ttl=HOT_TEMPLATES_TTL)
        return items
