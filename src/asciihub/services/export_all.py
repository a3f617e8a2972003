"""Export all my data: one ZIP of every artwork of a user, their links and settings.

``POST /api/me/export-all`` queues an ``export_all`` job on the ``exports`` queue; the
job builds the archive (progress per artwork), stores it at
``exports/{user_id}/all-{job_id}.zip``, mails the download link and ends ``done``. The
archive can be downloaded by its owner for ``export_all_ttl`` seconds; after that the
download answers 404 ``export_expired`` and the object is deleted. Asking again
makes a new archive and deletes the older ones of the same user.

The archive (documented in ``docs/formats.md``) holds, per artwork, the document, its
text, its asciicast, its thumbnail, its details and its share links, plus the
account, the preferences and the API tokens as JSON. Secrets are never in it:
asciihub keeps only SHA-256 hashes of share-link and API tokens, so the archive lists
the links and tokens (ids, permissions, expiry, names, scopes) without any token or
hash, and no password hash.

The ZIP is written into a spooled temporary file (in memory up to
``export_spool_bytes``, on disk past that), one member at a time in a worker thread,
then streamed to the store with ``put_stream``; the download streams it back in
ranged reads. No step holds the whole archive in memory.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import orjson

from asciihub.errors import NotFound
from asciihub.render.asciicast import cast_bytes
from asciihub.render.exports import json_bytes, png_bytes, txt_bytes
from asciihub.services.ids import is_valid_id
from asciihub.services.jobs import JobService
from asciihub.services.principals import Principal, writer_id
from asciihub.services.spool import DEFAULT_SPOOL_BYTES, Spooled, file_chunks, measure
from asciihub.storage.metadata.job_types import JobRow
from asciihub.storage.metadata.protocol import ArtworkRow
from asciihub.storage.objects.protocol import HttpMetadata, ObjectInfo, ObjectStore

log = logging.getLogger(__name__)

KIND = "export_all"
ZIP_DATE = (2000, 1, 1, 0, 0, 0)
README = (
    "All your asciihub data. artworks/{id}/ holds each artwork: artwork.json (the "
    "document), artwork.txt, artwork.cast, thumbnail.png, artwork-info.json and "
    "shares.json. account.json, preferences.json and tokens.json are your account. "
    "No token or password is in this archive. `asciihub import` or POST /api/import "
    "reads it back.\n"
)
Progress = Callable[[int, int], Any]


def archive_key(user_id: str, job_id: str) -> str:
    """Where the archive of an export-all job is kept."""
    return f"exports/{user_id}/all-{job_id}.zip"


def _not_found() -> NotFound:
    message = "no export-all archive with this id"
    return NotFound(message, code="export_not_found")


def _json(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


@dataclass(frozen=True)
class AccountData:
    """The readers of the account parts (filled in by bootstrap)."""

    account: Callable[[str], Any]
    preferences: Callable[[str], Any]
    tokens: Callable[[str], Any]
    shares: Callable[[str], Any]


class ExportAllService:
    """Builds, stores and serves a user's whole-data archive."""

    def __init__(
        self,
        *,
        artworks: Any,
        artworks_repo: Any,
        objects: ObjectStore,
        jobs: JobService,
        account_data: AccountData,
        ttl_seconds: int,
        public_url: str,
        spool_bytes: int = DEFAULT_SPOOL_BYTES,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.artworks = artworks
        self.repo = artworks_repo
        self.objects = objects
        self.jobs = jobs
        self.data = account_data
        self.ttl = timedelta(seconds=ttl_seconds)
        self.public_url = public_url.rstrip("/")
        self.spool_bytes = spool_bytes
        self.clock = clock

    def download_url(self, job_id: str) -> str:
        """Where the owner downloads the archive."""
        return f"{self.public_url}/api/me/export-all/{job_id}/download"

    async def request(self, principal: Principal) -> dict[str, Any]:
        """Queue an export-all job for ``principal``; ``{"job_id", "download_url"}``."""
        user_id = writer_id(principal, "export your data")
        body = await self.jobs.submit(user_id, KIND, {})
        return {**body, "download_url": self.download_url(body["job_id"])}

    async def _rows(self, user_id: str) -> list[ArtworkRow]:
        rows = [row async for row in self.repo.iter_all() if row.user_id == user_id]
        return sorted(rows, key=lambda row: (row.created_at, row.id))

    async def build(self, user_id: str, *, progress: Progress | None = None) -> Spooled:
        """The archive of every artwork and account part of ``user_id``, in a spooled
        temporary file (the caller closes ``Spooled.file``)."""
        file = tempfile.SpooledTemporaryFile(max_size=self.spool_bytes, mode="w+b")
        try:
            await self._write(user_id, file, progress)
            size, sha256 = await asyncio.to_thread(measure, file)
        except BaseException:
            file.close()
            raise
        return Spooled(file, size, sha256)

    async def write(
        self, user_id: str, out: IO[bytes], *, progress: Progress | None = None
    ) -> None:
        """Write the archive of ``user_id`` to the binary file ``out``."""
        await self._write(user_id, out, progress)

    async def _write(self, user_id: str, out: IO[bytes], progress: Progress | None) -> None:
        rows = await self._rows(user_id)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:

            def add(name: str, data: bytes) -> None:
                info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, data)

            async def put(name: str, data: bytes) -> None:
                await asyncio.to_thread(add, name, data)

            await put("README.txt", README.encode())
            await put("account.json", _json(await self.data.account(user_id)))
            await put("preferences.json", _json(await self.data.preferences(user_id)))
            await put("tokens.json", _json(await self.data.tokens(user_id)))
            for index, row in enumerate(rows):
                for name, data in await self._artwork(row):
                    await put(f"artworks/{row.id}/{name}", data)
                if progress is not None:
                    await progress(index + 1, len(rows))
            await asyncio.to_thread(archive.close)

    async def _artwork(self, row: ArtworkRow) -> list[tuple[str, bytes]]:
        document = await self.artworks.document_for(row)
        title = row.title or "Untitled"
        stamp = int(row.created_at.timestamp())
        thumbnail = await self.objects.get(f"thumbnails/{row.id}.png")
        info = {
            "id": row.id,
            "title": row.title,
            "prompt": row.prompt,
            "visibility": row.visibility,
            "tags": list(row.tags),
            "views": row.views,
            "created_at": row.created_at.isoformat(),
            "updated_at": row.updated_at.isoformat(),
            "frame_count": row.frame_count,
            "width": row.width,
            "height": row.height,
        }
        return [
            ("artwork.json", json_bytes(document)),
            ("artwork.txt", txt_bytes(document)),
            ("artwork.cast", cast_bytes(document, title=title, timestamp=stamp)),
            ("thumbnail.png", thumbnail.data if thumbnail is not None else png_bytes(document)),
            ("artwork-info.json", _json(info)),
            ("shares.json", _json(await self.data.shares(row.id))),
        ]

    async def produce(self, job: JobRow, *, progress: Progress | None = None) -> dict[str, Any]:
        """Build and store the job's archive (streamed to the store); the job's result."""
        made = await self.build(job.user_id, progress=progress)
        key = archive_key(job.user_id, job.id)
        try:
            await self.objects.put_stream(
                key,
                file_chunks(made.file),
                http_metadata=HttpMetadata(content_type="application/zip"),
                custom_metadata={
                    "user_id": job.user_id,
                    "job_id": job.id,
                    "kind": KIND,
                    "sha256": made.sha256,
                },
            )
        finally:
            made.file.close()
        await self._drop_older(job.user_id, keep=key)
        expires = self.clock() + self.ttl
        return {
            "object_key": key,
            "size": made.size,
            "sha256": made.sha256,
            "expires_at": expires.isoformat(),
        }

    async def _drop_older(self, user_id: str, *, keep: str) -> None:
        page = await self.objects.list(f"exports/{user_id}/all-")
        stale = [info.key for info in page.objects if info.key != keep]
        if stale:
            await self.objects.delete(stale)

    async def download(self, principal: Principal, job_id: str) -> tuple[ObjectInfo, str, str]:
        """(stored object, strong etag, file name) of the owner's finished archive; 404
        otherwise or once expired. The route streams the object."""
        if principal.user_id is None or not is_valid_id(job_id):
            raise _not_found()
        job = await self.jobs.repo.get(job_id)
        if job is None or job.user_id != principal.user_id or job.kind != KIND:
            raise _not_found()
        result = job.result or {}
        if job.status != "done" or "object_key" not in result:
            message = "the archive is not ready yet; GET /api/jobs/{id} shows its progress"
            raise NotFound(message, code="export_not_ready")
        key = str(result["object_key"])
        if datetime.fromisoformat(str(result["expires_at"])) <= self.clock():
            await self.objects.delete(key)
            message = "this archive has expired; ask for a new one with POST /api/me/export-all"
            raise NotFound(message, code="export_expired")
        stored = await self.objects.head(key)
        if stored is None:
            message = "this archive is gone (a newer one replaced it); ask for a new one"
            raise NotFound(message, code="export_expired")
        etag = f'"{result["sha256"]}"' if result.get("sha256") else stored.http_etag
        return stored, etag, f"asciihub-{job.user_id}-all.zip"
