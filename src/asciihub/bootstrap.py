"""The only place that turns Settings into backends and services.

Adapters (API, web pages, worker, CLI) call :func:`build_services` once at start and
:meth:`Services.close` at shutdown; they never construct a backend themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from asciihub.engine.document import DocumentLimits
from asciihub.services.artwork_input import InputLimits
from asciihub.services.artworks import ArtworkService
from asciihub.services.gallery import GalleryCache, GalleryService
from asciihub.services.images import ImageService
from asciihub.services.views import ViewCounter
from asciihub.settings import Settings
from asciihub.storage.kv import open_kv_store
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata import (
    Database,
    DatabaseOptions,
    SqlArtworkRepository,
    SqlUserRepository,
    current_revision,
    head_revision,
    upgrade,
)
from asciihub.storage.objects import open_object_store
from asciihub.storage.objects.protocol import ObjectStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything an adapter needs, built from one Settings."""

    settings: Settings
    db: Database
    objects: ObjectStore
    kv: KVStore
    artworks_repo: SqlArtworkRepository
    users_repo: SqlUserRepository
    artworks: ArtworkService
    gallery: GalleryService
    images: ImageService
    views: ViewCounter

    async def close(self) -> None:
        """Flush counted views and release every connection."""
        try:
            await self.views.flush()
        except Exception:  # shutting down: report, then release the rest
            log.exception("event=views_flush_failed")
        await self.kv.close()
        await self.objects.close()
        await self.db.close()


def input_limits(settings: Settings) -> InputLimits:
    """The request caps from Settings."""
    return InputLimits(
        document=DocumentLimits(
            max_frames=settings.max_frames,
            max_width=settings.max_width,
            max_height=settings.max_height,
            max_chars=settings.max_document_chars,
        ),
        max_title_chars=settings.max_title_chars,
        max_prompt_chars=settings.max_prompt_chars,
        max_tags=settings.max_tags,
        max_tag_chars=settings.max_tag_chars,
        default_fps=settings.default_fps,
    )


def open_database(settings: Settings) -> Database:
    """The metadata database named by Settings (not yet connected)."""
    options = DatabaseOptions(
        sqlite_synchronous=settings.sqlite_synchronous,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout,
    )
    return Database(settings.resolved_metadata_url(), options)


async def migrate(settings: Settings) -> tuple[str | None, str]:
    """Apply migrations; (revision before, revision after)."""
    db = open_database(settings)
    try:
        before = await current_revision(db)
        await upgrade(db)
        return before, head_revision()
    finally:
        await db.close()


async def build_services(settings: Settings, *, apply_migrations: bool | None = None) -> Services:
    """Open every binding named by Settings and wire the services on top."""
    settings.data_path.mkdir(parents=True, exist_ok=True)
    db = open_database(settings)
    should_migrate = settings.auto_migrate if apply_migrations is None else apply_migrations
    if should_migrate:
        await upgrade(db)
    elif await current_revision(db) != head_revision():
        await db.close()
        message = "the metadata database is not at the current schema; run `asciihub migrate`"
        from asciihub.errors import Unavailable

        raise Unavailable(message, code="schema_out_of_date")
    objects = await open_object_store(settings.resolved_objects_url())
    kv = await open_kv_store(settings.resolved_kv_url())
    artworks_repo = SqlArtworkRepository(db)
    users_repo = SqlUserRepository(db)
    gallery_cache = GalleryCache(kv, settings.gallery_cache_ttl)
    artworks = ArtworkService(
        artworks=artworks_repo,
        objects=objects,
        cache=kv,
        gallery=gallery_cache,
        limits=input_limits(settings),
        cache_ttl=settings.artwork_cache_ttl,
    )
    gallery = GalleryService(artworks=artworks_repo, users=users_repo, cache=gallery_cache)
    return Services(
        settings=settings,
        db=db,
        objects=objects,
        kv=kv,
        artworks_repo=artworks_repo,
        users_repo=users_repo,
        artworks=artworks,
        gallery=gallery,
        images=ImageService(artworks=artworks, objects=objects),
        views=ViewCounter(artworks_repo),
    )
