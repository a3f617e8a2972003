"""Thumbnails and social cards: rendered on first request, kept in the object store.

``thumbnails/{id}.png`` and ``cards/{id}.png`` carry the artwork's etag as custom
metadata (``source``); a stored image whose source differs is rendered again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal

from asciihub.engine.document import ArtworkDocument
from asciihub.render import card_png, thumbnail_png
from asciihub.services.artworks import ArtworkService
from asciihub.services.principals import Principal, ShareGrant
from asciihub.services.serialize import artwork_etag
from asciihub.storage.metadata.protocol import ArtworkRow
from asciihub.storage.objects.keys import image_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectStore

ImageKind = Literal["thumbnail", "card"]
PNG = HttpMetadata(content_type="image/png")


class ImageService:
    """PNG renderings of artworks, cached in the object store."""

    def __init__(self, *, artworks: ArtworkService, objects: ObjectStore) -> None:
        self.artworks = artworks
        self.objects = objects

    async def png(
        self,
        principal: Principal,
        artwork_id: str,
        kind: ImageKind,
        *,
        grant: ShareGrant | None = None,
    ) -> tuple[bytes, str]:
        """(PNG bytes, etag) of the artwork's thumbnail or card, if ``principal`` may see it."""
        row = await self.artworks.row_for(principal, artwork_id, grant=grant)
        source = artwork_etag(row)
        key = image_key(kind, artwork_id)
        stored = await self.objects.get(key)
        if stored is not None and stored.info.custom_metadata.get("source") == source:
            return stored.data, stored.info.http_etag
        document = await self.artworks.document_for(row)
        data = await asyncio.to_thread(self._renderer(kind, row), document)
        info = await self.objects.put(
            key, data, http_metadata=PNG, custom_metadata={"source": source}
        )
        return data, info.http_etag

    @staticmethod
    def _renderer(kind: ImageKind, row: ArtworkRow) -> Callable[[ArtworkDocument], bytes]:
        if kind == "thumbnail":
            return thumbnail_png
        return lambda document: card_png(document, title=row.title or "", owner=row.owner_handle)
