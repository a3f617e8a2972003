"""Consistency between metadata rows and objects: find, and optionally repair, drift.

What can drift (see the order of writes in ``services.artworks``):

* an artwork object with no row pointing at it (a crash between the object write and
  the row insert, between an update's new version and its row statement, between the
  row statement and the old version's delete, or between the row delete and the
  object delete): removed;
* a row whose object is missing (lost outside asciihub): the row is removed, so no
  listing shows an artwork that cannot be read;
* a row whose etag differs from its object (an object changed outside asciihub, or
  an update made before updates wrote versions): the row is re-derived from the object;
* thumbnails and cards of artworks that no longer exist: removed;
* an upload (``media/``) no job holds (a crash between storing it and inserting the
  job row) or whose job is done (a crash before the worker deleted it): removed;
* a queued or running job whose upload is missing or has another size than the job
  recorded: the job is failed with ``upload_missing``;
* leftover temporary files (file backend) and unfinished multipart uploads (S3) of
  writes a crash interrupted: swept by the store (``sweep``) with ``--repair``.

Objects younger than ``grace_seconds`` are left alone: they may belong to a create
that is still in flight.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from asciihub.engine.document import DocumentLimits, parse_document
from asciihub.services.artworks import cache_key
from asciihub.storage.kv.protocol import KVStore
from asciihub.storage.metadata.job_types import ACTIVE, JobRepository, JobUpload
from asciihub.storage.metadata.protocol import ArtworkChanges, ArtworkRepository, DocumentFacts
from asciihub.storage.objects.keys import (
    ARTWORK_EXPORTS_PREFIX,
    ARTWORKS_PREFIX,
    IMAGE_PREFIXES,
    MEDIA_PREFIX,
    artwork_export_parts,
    artwork_id_of,
    image_artwork_id,
    is_chat_image_key,
)
from asciihub.storage.objects.protocol import ObjectInfo, ObjectStore


@dataclass
class FsckReport:
    """What a check found (and, with repair, fixed)."""

    rows_checked: int = 0
    objects_checked: int = 0
    orphan_objects: list[str] = field(default_factory=list)
    missing_objects: list[str] = field(default_factory=list)
    stale_rows: list[str] = field(default_factory=list)
    orphan_images: list[str] = field(default_factory=list)
    orphan_media: list[str] = field(default_factory=list)
    orphan_exports: list[str] = field(default_factory=list)
    """Shared exports (``exports/artworks/{id}/``) of artworks that no longer exist."""
    missing_media: list[str] = field(default_factory=list)
    """Ids of queued or running jobs whose upload is gone or has another size."""
    swept: int = 0
    """Temp files, unreferenced bodies or unfinished uploads the store removed."""
    repaired: bool = False

    @property
    def problems(self) -> int:
        """How many inconsistencies were found."""
        return (
            len(self.orphan_objects)
            + len(self.missing_objects)
            + len(self.stale_rows)
            + len(self.orphan_images)
            + len(self.orphan_media)
            + len(self.orphan_exports)
            + len(self.missing_media)
        )


async def _objects(store: ObjectStore, prefix: str) -> AsyncIterator[ObjectInfo]:
    cursor: str | None = None
    while True:
        page = await store.list(prefix, cursor=cursor)
        for info in page.objects:
            yield info
        if not page.truncated:
            return
        cursor = page.cursor


class Fsck:
    """Compares the artwork rows with the artwork bucket."""

    def __init__(
        self,
        *,
        artworks: ArtworkRepository,
        objects: ObjectStore,
        cache: KVStore,
        limits: DocumentLimits,
        jobs: JobRepository | None = None,
        grace_seconds: float = 600.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.artworks = artworks
        self.objects = objects
        self.cache = cache
        self.limits = limits
        self.jobs = jobs
        self.grace = timedelta(seconds=grace_seconds)
        self.clock = clock

    async def run(self, *, repair: bool) -> FsckReport:
        """Check everything; with ``repair`` fix what was found."""
        report = FsckReport(repaired=repair)
        rows = await self._check_rows(report, repair)
        await self._check_objects(report, rows)
        if self.jobs is not None:
            await self._check_media(report, self.jobs, repair)
        if repair:
            doomed = (
                report.orphan_objects
                + report.orphan_images
                + report.orphan_media
                + report.orphan_exports
            )
            for start in range(0, len(doomed), 500):
                await self.objects.delete(doomed[start : start + 500])
            report.swept = await self.objects.sweep(older_than=self.grace.total_seconds())
        return report

    async def _check_media(self, report: FsckReport, jobs: JobRepository, repair: bool) -> None:
        held: dict[str, JobUpload] = {}
        async for upload in jobs.iter_uploads():
            report.rows_checked += 1
            held[upload.media_key] = upload
            if upload.status not in ACTIVE:
                continue
            info = await self.objects.head(upload.media_key)
            if info is not None and upload.media_size in (None, info.size):
                continue
            report.missing_media.append(upload.job_id)
            if repair:
                message = "the uploaded file is gone; upload it again"
                await jobs.fail(
                    upload.job_id, code="upload_missing", message=message, now=self.clock()
                )
        cutoff = self.clock() - self.grace
        async for info in _objects(self.objects, MEDIA_PREFIX):
            report.objects_checked += 1
            if is_chat_image_key(info.key):
                continue  # a chat attachment, kept with its room's chat
            holder = held.get(info.key)
            if (holder is None or holder.status == "done") and info.uploaded <= cutoff:
                report.orphan_media.append(info.key)

    async def _check_rows(self, report: FsckReport, repair: bool) -> dict[str, str]:
        rows: dict[str, str] = {}
        async for row in self.artworks.iter_all():
            report.rows_checked += 1
            rows[row.id] = row.r2_key
            info = await self.objects.head(row.r2_key)
            if info is None:
                report.missing_objects.append(row.id)
                if repair:
                    await self.artworks.delete(row.id)
                    await self.cache.delete(cache_key(row.id))
            elif info.etag != row.etag:
                report.stale_rows.append(row.id)
                if repair:
                    await self._rederive(row.id, row.r2_key, row.revision)
        return rows

    async def _check_objects(self, report: FsckReport, rows: dict[str, str]) -> None:
        cutoff = self.clock() - self.grace
        async for info in _objects(self.objects, ARTWORKS_PREFIX):
            report.objects_checked += 1
            artwork_id = artwork_id_of(info.key)
            if rows.get(artwork_id or "") != info.key and info.uploaded <= cutoff:
                report.orphan_objects.append(info.key)
        for prefix in IMAGE_PREFIXES:
            async for info in _objects(self.objects, prefix):
                report.objects_checked += 1
                artwork_id = image_artwork_id(info.key)
                if artwork_id not in rows and info.uploaded <= cutoff:
                    report.orphan_images.append(info.key)
        async for info in _objects(self.objects, ARTWORK_EXPORTS_PREFIX):
            report.objects_checked += 1
            parts = artwork_export_parts(info.key)
            if (parts is None or parts[0] not in rows) and info.uploaded <= cutoff:
                report.orphan_exports.append(info.key)

    async def _rederive(self, artwork_id: str, key: str, revision: int) -> None:
        stored = await self.objects.get(key)
        if stored is None:
            return
        document = parse_document(orjson.loads(stored.data), limits=self.limits)
        facts = DocumentFacts(
            width=document.width,
            height=document.height,
            frame_count=document.frame_count,
            fps=document.fps,
            duration_ms=document.duration_ms,
            etag=stored.info.etag,
            sha256=hashlib.sha256(stored.data).hexdigest(),
            size=len(stored.data),
        )
        await self.artworks.update(
            artwork_id, ArtworkChanges(document=facts), expected_revision=revision, now=self.clock()
        )
        await self.cache.delete(cache_key(artwork_id))
