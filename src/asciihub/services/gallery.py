"""The public gallery and profile listings: keyset pages, search, cached pages.

Gallery pages are cached in KV for a few seconds under a *generation* number. Every
change that touches a public artwork bumps the generation, so no reader is served a
page cached before the change: a deleted or hidden artwork vanishes from the next
request on, not after the TTL. When a page is missing, one build per page runs in a
process and every request for it meanwhile waits for that build (no stampede of
identical queries after each change).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from asciihub.errors import InvalidInput, NotFound
from asciihub.services.cursor import decode_cursor, encode_cursor
from asciihub.services.numbers import whole_number
from asciihub.services.principals import Principal
from asciihub.services.serialize import artwork_summary
from asciihub.storage.kv.keys import GALLERY_GENERATION_KEY, gallery_page_key
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.protocol import (
    ArtworkRepository,
    ListFilter,
    Sort,
    UserRepository,
    Visibility,
)

GENERATION_KEY = GALLERY_GENERATION_KEY
SORTS: tuple[Sort, ...] = ("new", "popular")
MAX_QUERY_CHARS = 200


class GalleryCache:
    """The generation counter that invalidates every cached gallery page at once."""

    def __init__(self, kv: KVStore, ttl: int) -> None:
        self.kv = kv
        self.ttl = ttl

    async def generation(self) -> int:
        """The current generation (0 before the first change)."""
        raw = await self.kv.get(GENERATION_KEY)
        return int(raw) if raw else 0

    async def invalidate(self) -> None:
        """Make every cached page stale."""
        await self.kv.incr(GENERATION_KEY)

    async def get(self, key: str) -> bytes | None:
        """A cached page body."""
        return await self.kv.get(key)

    async def put(self, key: str, body: bytes) -> None:
        """Cache a page body for ``ttl`` seconds."""
        await self.kv.put(key, body, ttl=self.ttl)


@dataclass(frozen=True)
class PageQuery:
    """A checked listing request."""

    sort: Sort = "new"
    query: str | None = None
    tag: str | None = None
    limit: int = 24
    cursor: str | None = None


def parse_page_query(params: dict[str, str], *, default_limit: int, max_limit: int) -> PageQuery:
    """Check ``sort``, ``q``, ``tag``, ``limit`` and ``cursor`` query parameters."""
    unknown = sorted(set(params) - {"sort", "q", "tag", "limit", "cursor"})
    if unknown:
        message = f"unknown query parameters: {', '.join(unknown)}"
        raise InvalidInput(message, code="unknown_parameter")
    sort = params.get("sort", "new")
    if sort not in SORTS:
        message = f"sort must be one of {', '.join(SORTS)}"
        raise InvalidInput(message, code="invalid_sort")
    limit = whole_number(params.get("limit", str(default_limit)))
    if limit is None or not 1 <= limit <= max_limit:
        message = f"limit must be a whole number from 1 to {max_limit}"
        raise InvalidInput(message, code="invalid_limit")
    query = (params.get("q") or "").strip() or None
    if query is not None and len(query) > MAX_QUERY_CHARS:
        message = f"q is longer than {MAX_QUERY_CHARS} characters"
        raise InvalidInput(message, code="query_too_long")
    tag = (params.get("tag") or "").strip().lower().lstrip("#") or None
    return PageQuery(
        sort=sort,
        query=query,
        tag=tag,
        limit=limit,
        cursor=params.get("cursor") or None,
    )


class GalleryService:
    """Pages of artworks: the public gallery and one user's artworks."""

    def __init__(
        self, *, artworks: ArtworkRepository, users: UserRepository, cache: GalleryCache
    ) -> None:
        self.artworks = artworks
        self.users = users
        self.cache = cache
        self._building: dict[str, asyncio.Task[bytes]] = {}

    async def _page(self, where: ListFilter, page: PageQuery) -> dict[str, Any]:
        after = decode_cursor(page.cursor, page.sort) if page.cursor else None
        rows = list(await self.artworks.page(where, after=after, limit=page.limit + 1))
        more = len(rows) > page.limit
        rows = rows[: page.limit]
        return {
            "items": [artwork_summary(row) for row in rows],
            "next_cursor": encode_cursor(rows[-1], page.sort) if more and rows else None,
        }

    async def public_page(self, page: PageQuery) -> bytes:
        """A gallery page as JSON bytes, from the KV cache when fresh."""
        generation = await self.cache.generation()
        digest = hashlib.sha256(
            orjson.dumps([page.sort, page.query, page.tag, page.limit, page.cursor])
        ).hexdigest()[:32]
        key = gallery_page_key(generation, digest)
        cached = await self.cache.get(key)
        if cached is not None:
            return cached
        build = self._building.get(key)
        if build is None:
            # A task of its own: a requester that goes away does not cancel the others.
            build = asyncio.create_task(self._build(key, page))
            self._building[key] = build
            build.add_done_callback(lambda done: self._built(key, done))
        return await asyncio.shield(build)

    async def _build(self, key: str, page: PageQuery) -> bytes:
        where = ListFilter(visibilities=("public",), query=page.query, tag=page.tag, sort=page.sort)
        body = orjson.dumps(await self._page(where, page))
        await self.cache.put(key, body)
        return body

    def _built(self, key: str, done: asyncio.Task[bytes]) -> None:
        if self._building.get(key) is done:
            del self._building[key]
        if not done.cancelled():
            done.exception()  # retrieved here too, in case every requester went away

    async def user_page(self, principal: Principal, handle: str, page: PageQuery) -> dict[str, Any]:
        """One user's artworks: all of them for the user, public ones for others."""
        user = await self.users.get_by_handle(handle)
        if user is None:
            message = f"no user with handle {handle!r}"
            raise NotFound(message, code="user_not_found")
        visible: tuple[Visibility, ...] = (
            ("private", "unlisted", "public") if principal.user_id == user.id else ("public",)
        )
        where = ListFilter(
            visibilities=visible, user_id=user.id, query=page.query, tag=page.tag, sort=page.sort
        )
        result = await self._page(where, page)
        result["user"] = {"id": user.id, "handle": user.handle, "display_name": user.display_name}
        return result
