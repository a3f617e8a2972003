"""Artwork use cases: create, read (through the KV cache), update, delete, list.

Order of writes (crash safety): a reader sees the old artwork or the new one, whole,
whatever step a crash stops at.

* create: the document object is written first (``if_none_match="*"``), then the row.
  A crash in between leaves an object no row points at: invisible, and removed by
  ``asciihub fsck``.
* update: a changed document is written as a *new version* under its own key
  (``artworks/{user}/{id}.{version}.json``, never overwriting anything); then one
  statement, guarded by the row's revision, moves title, facts and key together;
  then the old version is deleted. A crash before the row statement leaves the old
  artwork in place (and a new version no row points at); a crash after it leaves the
  new artwork (and an old version no row points at); ``fsck`` removes either leftover.
  Two writers racing from the same revision both write their own version; only one
  row statement succeeds and the other answers 409 ``concurrent_update`` (and drops
  its version).
* delete: the row goes first, then the cache entry, then the object.

Reads go through KV ``ascii:{id}`` (the response body, with owner and visibility as
metadata). A reader that fills the cache re-checks the row's etag afterwards and
drops its entry if the row moved on, so a racing update is never served stale. A
reader whose row moved to a new version between reading the row and its object
reads the row again.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from asciihub.engine.document import ArtworkDocument, parse_document
from asciihub.errors import (
    AsciihubError,
    Conflict,
    Forbidden,
    NotFound,
    PreconditionFailed,
)
from asciihub.services.artwork_input import InputLimits, parse_create, parse_patch
from asciihub.services.gallery import GalleryCache
from asciihub.services.ids import is_valid_id, new_id
from asciihub.services.principals import Principal, ShareGrant, writer_id
from asciihub.services.serialize import artwork_etag, artwork_json
from asciihub.storage.kv.keys import artwork_cache_key
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.protocol import (
    ArtworkChanges,
    ArtworkRepository,
    ArtworkRow,
    DocumentFacts,
)
from asciihub.storage.objects.keys import artwork_exports_prefix, artwork_key, image_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectBody, ObjectStore

log = logging.getLogger(__name__)

JSON_TYPE = HttpMetadata(content_type="application/json")


def cache_key(artwork_id: str) -> str:
    """The KV key of an artwork's cached response."""
    return artwork_cache_key(artwork_id)


def object_key(user_id: str, artwork_id: str) -> str:
    """Where an artwork's first document version lives in the artwork bucket."""
    return artwork_key(user_id, artwork_id)


def derived_keys(artwork_id: str) -> list[str]:
    """Objects rendered from an artwork (thumbnail, card), deleted with it."""
    return [image_key("thumbnail", artwork_id), image_key("card", artwork_id)]


def concurrent_update() -> Conflict:
    """The answer to a write that lost a race with another write of the same artwork."""
    message = "the artwork was changed by another request at the same time; read it and retry"
    return Conflict(message, code="concurrent_update")


def not_found() -> NotFound:
    """The one answer for a missing or hidden artwork (no difference may leak)."""
    message = "no artwork with this id"
    return NotFound(message, code="artwork_not_found")


SHARE_EDIT_FIELDS = frozenset({"title", "frames", "fps", "width", "height"})


def can_view(
    principal: Principal,
    owner_id: str,
    visibility: str,
    *,
    grant: ShareGrant | None = None,
    artwork_id: str | None = None,
) -> bool:
    """The viewing policy: public and unlisted for anyone, private for the owner.

    A valid share link (``grant``) of this very artwork opens it to its holder too.
    """
    if visibility != "private" or (principal.user_id is not None and principal.user_id == owner_id):
        return True
    return grant is not None and artwork_id is not None and grant.allows(artwork_id)


@dataclass(frozen=True)
class CachedArtwork:
    """An artwork's full response body with what access checks need."""

    body: bytes
    owner_id: str
    visibility: str
    etag: str


class ArtworkService:
    """The artwork use cases over the metadata, object and KV bindings."""

    def __init__(
        self,
        *,
        artworks: ArtworkRepository,
        objects: ObjectStore,
        cache: KVStore,
        gallery: GalleryCache,
        limits: InputLimits,
        cache_ttl: int = 3600,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.artworks = artworks
        self.objects = objects
        self.cache = cache
        self.gallery = gallery
        self.limits = limits
        self.cache_ttl = cache_ttl
        self.clock = clock
        self.stats: Counter[str] = Counter()
        self.on_change: Callable[[str], Awaitable[None]] | None = None

    # --- writes ------------------------------------------------------------------
    async def create(
        self, principal: Principal, payload: Any, *, artwork_id: str | None = None
    ) -> dict[str, Any]:
        """Create an artwork owned by ``principal``; the new artwork's JSON.

        ``artwork_id`` (background jobs) fixes the id so that a job run twice makes
        one artwork: a second insert raises Conflict and leaves the first one intact.
        """
        user_id = writer_id(principal, "make changes")
        data = parse_create(payload, self.limits)
        assert data.document is not None
        assert data.visibility is not None
        fixed_id = artwork_id is not None
        artwork_id = artwork_id or new_id()
        now = self.clock()
        key = object_key(user_id, artwork_id)
        facts = await self._put_document(
            key, data.document, user_id=user_id, visibility=data.visibility, now=now
        )
        row = ArtworkRow(
            id=artwork_id,
            user_id=user_id,
            title=data.title,
            prompt=data.prompt,
            r2_key=key,
            visibility=data.visibility,
            views=0,
            created_at=now,
            updated_at=now,
            width=facts.width,
            height=facts.height,
            frame_count=facts.frame_count,
            fps=facts.fps,
            duration_ms=facts.duration_ms,
            etag=facts.etag,
            sha256=facts.sha256,
            size=facts.size,
            tags=data.tags or (),
        )
        try:
            await self.artworks.insert(row)
        except Exception:
            if not fixed_id or await self.artworks.get(artwork_id) is None:
                await self.objects.delete(key)
            raise
        if row.visibility == "public":
            await self.gallery.invalidate()
        log.info(
            "event=artwork_created id=%s user=%s frames=%d", artwork_id, user_id, facts.frame_count
        )
        await self._changed(artwork_id)
        stored = await self.artworks.get(artwork_id)
        return artwork_json(stored or row, data.document)

    async def update(
        self,
        principal: Principal,
        artwork_id: str,
        payload: Any,
        *,
        if_match: str | None = None,
        grant: ShareGrant | None = None,
    ) -> dict[str, Any]:
        """Apply a patch as the owner or an edit link's holder (frames and title only).

        ``if_match`` (an etag) guards against lost updates.
        """
        row = await self._editable_row(principal, artwork_id, payload, grant)
        if if_match is not None and if_match.removeprefix("W/") != artwork_etag(row):
            message = "the artwork changed since you read it (etag mismatch); read it again"
            raise PreconditionFailed(message, code="etag_mismatch")
        data = parse_patch(payload, self.limits)
        visibility = data.visibility or row.visibility
        facts = None
        if data.document is not None or data.visibility not in (None, row.visibility):
            document = data.document or await self._load_document(row)
            facts = await self._put_version(row, document, visibility)
        changes = ArtworkChanges(
            title=data.title,
            prompt=data.prompt,
            visibility=data.visibility,
            tags=data.tags,
            document=facts,
            clear_title=data.clear_title,
            clear_prompt=data.clear_prompt,
        )
        updated = await self.artworks.update(
            artwork_id, changes, expected_revision=row.revision, now=self.clock()
        )
        if updated is None:
            if facts is not None and facts.key is not None:
                await self.objects.delete(facts.key)  # this version never became visible
            raise concurrent_update()
        await self.cache.delete(cache_key(artwork_id))
        if facts is not None and updated.r2_key != row.r2_key:
            await self.objects.delete(row.r2_key)  # a crash before this leaves it to fsck
        if "public" in (row.visibility, updated.visibility):
            await self.gallery.invalidate()
        await self._changed(artwork_id)
        return artwork_json(updated, data.document or await self._load_document(updated))

    async def delete(self, principal: Principal, artwork_id: str) -> None:
        """Delete as the owner: the row, then the cache entry, then the object."""
        row = await self._owned_row(principal, artwork_id)
        deleted = await self.artworks.delete(artwork_id)
        if deleted is None:
            raise not_found()
        await self.cache.delete(cache_key(artwork_id))
        if deleted.visibility == "public":
            await self.gallery.invalidate()
        await self.objects.delete([row.r2_key, *derived_keys(artwork_id)])
        await self._delete_exports(artwork_id)
        log.info("event=artwork_deleted id=%s", artwork_id)

    async def _delete_exports(self, artwork_id: str) -> None:
        """Delete the exports shared by the artwork's viewers (``exports/artworks/{id}/``)."""
        prefix = artwork_exports_prefix(artwork_id)
        while True:
            page = await self.objects.list(prefix, limit=1000)
            if page.objects:
                await self.objects.delete([item.key for item in page.objects])
            if not page.truncated or not page.objects:
                return

    async def refresh_views(self, artwork_ids: Sequence[str]) -> None:
        """Put the written view counts into the cached bodies of ``artwork_ids``.

        A cached body whose artwork changed meanwhile is dropped instead, as a reader
        filling the cache does (see :meth:`_fill_cache`).
        """
        for artwork_id in artwork_ids:
            value, meta = await self.cache.get_with_metadata(cache_key(artwork_id))
            if value is None or not isinstance(meta, dict):
                continue
            row = await self.artworks.get(artwork_id)
            if row is None or artwork_etag(row) != meta.get("e"):
                await self.cache.delete(cache_key(artwork_id))
                continue
            body = orjson.loads(value)
            if body.get("views") == row.views:
                continue
            body["views"] = row.views
            entry = CachedArtwork(orjson.dumps(body), row.user_id, row.visibility, meta["e"])
            await self._fill_cache(artwork_id, entry)

    # --- reads -------------------------------------------------------------------
    async def cached(self, artwork_id: str) -> CachedArtwork | None:
        """The cached response for ``artwork_id`` (one KV read), or None on a miss."""
        value, meta = await self.cache.get_with_metadata(cache_key(artwork_id))
        if value is None or not isinstance(meta, dict):
            return None
        self.stats["hit"] += 1
        return CachedArtwork(value, str(meta.get("u")), str(meta.get("v")), str(meta.get("e")))

    async def load(self, artwork_id: str) -> CachedArtwork:
        """Read through the cache: the artwork's response body; NotFound if absent."""
        hit = await self.cached(artwork_id)
        if hit is not None:
            return hit
        if not is_valid_id(artwork_id):
            raise not_found()
        self.stats["miss"] += 1
        row, stored = await self._current(artwork_id)
        document = parse_document(orjson.loads(stored.data), limits=self.limits.document)
        body = orjson.dumps(artwork_json(row, document))
        entry = CachedArtwork(body, row.user_id, row.visibility, artwork_etag(row))
        if stored.info.etag == row.etag:
            await self._fill_cache(artwork_id, entry)
        return entry

    async def get(
        self, principal: Principal, artwork_id: str, *, grant: ShareGrant | None = None
    ) -> CachedArtwork:
        """The artwork as ``principal`` may see it; NotFound when hidden or missing."""
        if not is_valid_id(artwork_id):
            raise not_found()
        entry = await self.load(artwork_id)
        if not can_view(
            principal, entry.owner_id, entry.visibility, grant=grant, artwork_id=artwork_id
        ):
            raise not_found()
        return entry

    async def row_for(
        self, principal: Principal, artwork_id: str, *, grant: ShareGrant | None = None
    ) -> ArtworkRow:
        """The metadata row if ``principal`` may view it; NotFound otherwise."""
        row = await self.artworks.get(artwork_id) if is_valid_id(artwork_id) else None
        if row is None or not can_view(
            principal, row.user_id, row.visibility, grant=grant, artwork_id=artwork_id
        ):
            raise not_found()
        return row

    async def owned_row(self, principal: Principal, artwork_id: str) -> ArtworkRow:
        """The row of an artwork ``principal`` owns and may change; 401/403/404 otherwise."""
        return await self._owned_row(principal, artwork_id)

    async def document_for(self, row: ArtworkRow) -> ArtworkDocument:
        """The stored document of a row the caller may see."""
        return await self._load_document(row)

    # --- internals ---------------------------------------------------------------
    async def _changed(self, artwork_id: str) -> None:
        """Tell ``on_change`` (the thumbnail job) about a created or updated artwork."""
        if self.on_change is None:
            return
        try:
            await self.on_change(artwork_id)
        except AsciihubError as exc:  # thumbnails also render on first request
            log.warning("event=artwork_change_hook_failed id=%s code=%s", artwork_id, exc.code)

    async def _fill_cache(self, artwork_id: str, entry: CachedArtwork) -> None:
        meta = {"u": entry.owner_id, "v": entry.visibility, "e": entry.etag}
        await self.cache.put(cache_key(artwork_id), entry.body, ttl=self.cache_ttl, metadata=meta)
        # A writer may have committed and invalidated between our reads and our put.
        current = await self.artworks.get(artwork_id)
        if current is None or artwork_etag(current) != entry.etag:
            await self.cache.delete(cache_key(artwork_id))

    async def _editable_row(
        self, principal: Principal, artwork_id: str, payload: Any, grant: ShareGrant | None
    ) -> ArtworkRow:
        if grant is None or not grant.allows(artwork_id):
            return await self._owned_row(principal, artwork_id)
        row = await self.artworks.get(artwork_id)
        if row is None:
            raise not_found()
        if principal.user_id is not None and principal.user_id == row.user_id:
            return await self._owned_row(principal, artwork_id)
        if grant.permission != "edit":
            message = "this share link only lets you view the artwork"
            raise Forbidden(message, code="share_read_only")
        fields = set(payload) if isinstance(payload, dict) else set()
        refused = sorted(fields - SHARE_EDIT_FIELDS)
        if refused:
            message = (
                f"an edit link may change only {', '.join(sorted(SHARE_EDIT_FIELDS))}; "
                f"not {', '.join(refused)}"
            )
            raise Forbidden(message, code="share_field_forbidden")
        return row

    async def _owned_row(self, principal: Principal, artwork_id: str) -> ArtworkRow:
        user_id = writer_id(principal, "make changes")
        row = await self.artworks.get(artwork_id) if is_valid_id(artwork_id) else None
        if row is None or not can_view(principal, row.user_id, row.visibility):
            raise not_found()
        if row.user_id != user_id:
            message = "only the owner may change or delete this artwork"
            raise Forbidden(message, code="not_owner")
        return row

    async def _load_document(self, row: ArtworkRow) -> ArtworkDocument:
        stored = await self.objects.get(row.r2_key)
        if stored is None:
            _, stored = await self._current(row.id)  # the row moved to a newer version
        return parse_document(orjson.loads(stored.data), limits=self.limits.document)

    async def _current(self, artwork_id: str) -> tuple[ArtworkRow, ObjectBody]:
        """The row and the object it names, read again if an update moved the row."""
        key = None
        for _ in range(3):
            row = await self.artworks.get(artwork_id)
            if row is None:
                raise not_found()
            if row.r2_key == key:
                break  # the same key twice: the object is really gone
            key = row.r2_key
            stored = await self.objects.get(key)
            if stored is not None:
                return row, stored
        log.error("event=artwork_object_missing id=%s key=%s", artwork_id, key)
        raise not_found()

    async def _put_version(
        self, row: ArtworkRow, document: ArtworkDocument, visibility: str
    ) -> DocumentFacts:
        """Write ``document`` as a new version of ``row``'s artwork, next to the old one."""
        key = artwork_key(row.user_id, row.id, version=new_id())
        try:
            facts = await self._put_document(
                key, document, user_id=row.user_id, visibility=visibility, now=row.created_at
            )
        except PreconditionFailed as exc:  # a version key is random: only a race gets here
            raise concurrent_update() from exc
        return replace(facts, key=key)

    async def _put_document(
        self,
        key: str,
        document: ArtworkDocument,
        *,
        user_id: str,
        visibility: str,
        now: datetime,
        if_match: str | None = None,
    ) -> DocumentFacts:
        body = orjson.dumps(document.to_json())
        digest = hashlib.sha256(body).hexdigest()
        info = await self.objects.put(
            key,
            body,
            http_metadata=JSON_TYPE,
            custom_metadata={
                "user_id": user_id,
                "visibility": visibility,
                "created_at": now.isoformat(),
            },
            if_match=if_match,
            if_none_match=None if if_match else "*",
            sha256=digest,
        )
        return DocumentFacts(
            width=document.width,
            height=document.height,
            frame_count=document.frame_count,
            fps=document.fps,
            duration_ms=document.duration_ms,
            etag=info.etag,
            sha256=digest,
            size=len(body),
        )
