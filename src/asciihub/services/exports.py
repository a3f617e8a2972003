"""Exports: an artwork rendered to a file, shared by everyone who may view it.

Anyone who may view an artwork (its owner; anyone for a public or unlisted one,
anonymous visitors too; the holder of a view link of a private one) may export it.
The export of one *version* of an artwork (its revision and document digest, which
change with every update) in one format is one row, ``derived_id`` of its key, and
one object, ``exports/artworks/{artwork_id}/{version}.{ext}``: every requester of the
same version and format gets the same export id and the same file, rendered once.

``request`` checks the caller and the format. When the file is stored it answers at
once (``status: done``); when a job is making it, it answers that job; otherwise it
writes the row (a concurrent first request loses the insert and reads the winner's
row) and queues an ``export`` job, charged to the artwork's owner, on the ``exports``
queue through :class:`JobService`. A failed job is replaced by the next request. The
worker calls :meth:`ExportService.produce`, which renders off the event loop into a
spooled temporary file and streams it to the store with ``put_stream``; rendering is
deterministic, so a redelivery (or a race) writes the same bytes to the same key. A
job whose artwork changed since it was asked for fails (``artwork_changed``) instead
of storing another version's file under this version's key.

Reading and downloading check the artwork again on every call: once it is deleted,
made private, or the view link is revoked, the export answers the same 404 as an id
that never existed. Deleting the artwork deletes its shared exports.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

from asciihub.engine.document import ArtworkDocument
from asciihub.errors import (
    AsciihubError,
    Conflict,
    InvalidInput,
    NotFound,
    TooLarge,
)
from asciihub.render.exports import (
    EXPORT_FORMATS,
    ExportFormat,
    RenderOptions,
    pixel_shape,
    render_export,
    write_export,
)
from asciihub.services.artworks import ArtworkService, can_view
from asciihub.services.attachments import content_disposition, download_filename
from asciihub.services.ids import derived_id, is_valid_id, new_id
from asciihub.services.jobs import JobService, check_fields
from asciihub.services.principals import Principal, ShareGrant
from asciihub.services.spool import DEFAULT_SPOOL_BYTES, Spooled, file_chunks, spool
from asciihub.storage.metadata.job_types import ExportRepository, ExportRow
from asciihub.storage.metadata.protocol import ArtworkRow
from asciihub.storage.objects.keys import artwork_export_key, artwork_export_parts
from asciihub.storage.objects.protocol import HttpMetadata, ObjectInfo

__all__ = [
    "ExportDownload",
    "ExportLimits",
    "ExportService",
    "check_limits",
    "content_disposition",
    "export_format",
    "export_version",
    "render_document",
    "render_document_to",
    "render_options",
    "export_filename",
]

log = logging.getLogger(__name__)

_FIELDS = frozenset({"format"})
LINK_TTL = 900
"""Seconds a presigned download link lives."""
SUBMIT_GRACE = timedelta(seconds=60)
"""How long a new export row may be without its job (another request is queueing it)
before a request takes the job for lost (a crash between the two writes) and queues
a new one."""


@dataclass(frozen=True)
class ExportLimits:
    """Caps on what one export may draw (filled from Settings)."""

    max_frames: int = 600
    max_pixels: int = 3840 * 2160
    font_size: int = 16
    spool_bytes: int = DEFAULT_SPOOL_BYTES
    """Bytes of a file kept in memory while it is made (setting export_spool_bytes)."""


@dataclass(frozen=True)
class ExportDownload:
    """What the download route sends: a stored object to stream, or a URL to redirect to."""

    filename: str
    media_type: str
    etag: str
    key: str
    size: int
    redirect_url: str | None = None


def export_not_found() -> NotFound:
    """The one answer for a missing export or one of an artwork the caller may not view."""
    message = "no export with this id"
    return NotFound(message, code="export_not_found")


def export_format(name: Any) -> ExportFormat:
    """The registered format ``name``; 400 ``invalid_format`` naming the choices."""
    found = EXPORT_FORMATS.get(name) if isinstance(name, str) else None
    if found is None:
        message = f"format must be one of {', '.join(EXPORT_FORMATS)}"
        raise InvalidInput(message, code="invalid_format")
    if not found.is_available:
        message = f"{found.name} exports need the `{found.module}` package (asciihub[video])"
        raise InvalidInput(message, code="format_unavailable")
    return found


def export_version(artwork: ArtworkRow) -> str:
    """The version of an artwork an export renders: its revision and document digest."""
    return f"{artwork.revision}-{artwork.sha256[:16]}"


def check_limits(
    fmt: ExportFormat, columns: int, rows: int, frames: int, limits: ExportLimits
) -> None:
    """Raise 413 ``export_too_large`` when drawing the artwork in ``fmt`` exceeds a limit."""
    if fmt.is_animated and frames > limits.max_frames:
        message = (
            f"the artwork has {frames} frames; {fmt.name} exports take at most "
            f"{limits.max_frames} (setting export_max_frames): export it as cast, json, txt or ansi"
        )
        raise TooLarge(message, code="export_too_large")
    if fmt.is_raster:
        height, width = pixel_shape(columns, rows, limits.font_size)
        if height * width > limits.max_pixels:
            message = (
                f"a {columns}x{rows} artwork draws {width}x{height} pixel frames; "
                f"{fmt.name} exports take at most {limits.max_pixels} pixels a frame "
                "(setting export_max_pixels)"
            )
            raise TooLarge(message, code="export_too_large")


def render_document(
    document: ArtworkDocument, fmt: ExportFormat, options: RenderOptions, limits: ExportLimits
) -> bytes:
    """Check the limits against the document itself, then render it to bytes (blocking)."""
    check_limits(fmt, document.width, document.height, document.frame_count, limits)
    return render_export(document, fmt.name, options)


def render_document_to(
    document: ArtworkDocument, fmt: ExportFormat, options: RenderOptions, limits: ExportLimits
) -> Spooled:
    """Check the limits, then render into a spooled temporary file (blocking; close it)."""
    check_limits(fmt, document.width, document.height, document.frame_count, limits)

    def write(out: BinaryIO) -> None:
        write_export(document, fmt.name, options, out)

    return spool(write, limits.spool_bytes)


def render_options(artwork: ArtworkRow, limits: ExportLimits) -> RenderOptions:
    """What rendering ``artwork`` needs besides its document."""
    return RenderOptions(
        title=artwork.title or "",
        timestamp=int(artwork.created_at.timestamp()),
        font_size=limits.font_size,
    )


def export_filename(artwork: ArtworkRow, fmt: ExportFormat) -> str:
    """The download's file name: the artwork's title, or ``asciihub-{id}``."""
    return download_filename(artwork.title, f"asciihub-{artwork.id}", fmt.extension)


def _artwork_changed() -> Conflict:
    message = "the artwork changed since this export was asked for; ask for the export again"
    return Conflict(message, code="artwork_changed")


class ExportService:
    """Requesting, producing, reading and downloading exports."""

    def __init__(
        self,
        repo: ExportRepository,
        jobs: JobService,
        artworks: ArtworkService,
        *,
        limits: ExportLimits | None = None,
        public_url: str = "",
        presigned_downloads: bool = False,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.jobs = jobs
        self.artworks = artworks
        self.objects = artworks.objects
        self.limits = limits or ExportLimits()
        self.public_url = public_url.rstrip("/")
        self.presigned_downloads = presigned_downloads
        self.clock = clock

    def download_url(self, export_id: str) -> str:
        """The absolute URL of an export's download route."""
        return f"{self.public_url}/api/exports/{export_id}/download"

    # --- requesting ----------------------------------------------------------------
    async def request(
        self,
        principal: Principal,
        artwork_id: str,
        payload: Any,
        *,
        grant: ShareGrant | None = None,
    ) -> dict[str, Any]:
        """Export an artwork the caller may view: the shared export's id, job and status.

        ``status`` is ``done`` (with ``download_url``) when the file of this version and
        format is already stored; otherwise the job making it is queued or running.
        """
        fmt = export_format(check_fields(payload, _FIELDS, _FIELDS)["format"])
        artwork = await self.artworks.row_for(principal, artwork_id, grant=grant)
        check_limits(fmt, artwork.width, artwork.height, artwork.frame_count, self.limits)
        key = artwork_export_key(artwork.id, export_version(artwork), fmt.extension)
        row = await self._shared_row(artwork, fmt, key, principal)
        job = await self.jobs.repo.get(row.job_id)
        if row.is_finished and await self._stored(row) is not None:
            return self._answer(row, "done")
        if job is not None and job.status in ("queued", "running"):
            return self._answer(row, job.status)
        if job is None and self.clock() - row.created_at < SUBMIT_GRACE:
            return self._answer(row, "queued")  # a concurrent request is queueing it now
        # the job failed, or is gone, or finished a file that is gone since: again
        row = await self._resubmit(row, principal)
        return self._answer(row, "queued")

    def _answer(self, row: ExportRow, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"job_id": row.job_id, "export_id": row.id, "status": status}
        if status == "done":
            body["download_url"] = self.download_url(row.id)
        return body

    async def _shared_row(
        self, artwork: ArtworkRow, fmt: ExportFormat, key: str, principal: Principal
    ) -> ExportRow:
        """The row of this version and format, written (and its job queued) if new."""
        export_id = derived_id(f"export:{key}")
        row = await self.repo.get(export_id)
        if row is not None:
            return row
        row = ExportRow(
            id=export_id,
            user_id=artwork.user_id,
            artwork_id=artwork.id,
            job_id=new_id(),
            format=fmt.name,
            object_key=key,
            created_at=self.clock(),
        )
        try:
            await self.repo.insert(row)
        except Conflict:  # a concurrent first request inserted it: share its job
            existing = await self.repo.get(export_id)
            if existing is None:
                raise
            return existing
        await self._submit(row, principal, is_new=True)
        log.info("event=export_requested id=%s artwork=%s format=%s", row.id, artwork.id, fmt.name)
        return row

    async def _submit(self, row: ExportRow, principal: Principal, *, is_new: bool) -> None:
        """Queue the job (charged to the artwork's owner) that makes ``row``'s file.

        ``requested_by`` is who is told by mail when it is ready (nobody when anonymous).
        """
        params: dict[str, Any] = {
            "export_id": row.id,
            "artwork_id": row.artwork_id,
            "format": row.format,
            "requested_by": principal.user_id,
        }
        if principal.token_id:
            params["token_id"] = principal.token_id
        try:
            await self.jobs.submit(row.user_id, "export", params, job_id=row.job_id)
        except AsciihubError:
            if is_new:
                await self.repo.delete(row.id)
            raise

    async def _resubmit(self, row: ExportRow, principal: Principal) -> ExportRow:
        """Replace a failed (or lost) job with a new one; a concurrent request may win."""
        job_id = new_id()
        if not await self.repo.replace_job(row.id, old_job_id=row.job_id, new_job_id=job_id):
            current = await self.repo.get(row.id)
            return current or row
        replaced = replace(row, job_id=job_id, size=None, sha256=None, finished_at=None)
        await self._submit(replaced, principal, is_new=False)
        log.info("event=export_resubmitted id=%s job=%s", row.id, job_id)
        return replaced

    # --- producing (the worker) --------------------------------------------------------
    async def _source(self, row: ExportRow) -> ArtworkRow:
        artwork = await self.artworks.artworks.get(row.artwork_id)
        if artwork is None or not can_view(
            Principal(user_id=row.user_id), artwork.user_id, artwork.visibility
        ):
            message = "the artwork of this export was deleted or is no longer visible"
            raise NotFound(message, code="artwork_not_found")
        parts = artwork_export_parts(row.object_key)
        if parts is not None and parts[1] != export_version(artwork):
            raise _artwork_changed()
        return artwork

    async def _stored(self, row: ExportRow) -> ObjectInfo | None:
        stored = await self.objects.head(row.object_key)
        return stored if stored is not None and stored.size == row.size else None

    async def produce(self, export_id: str) -> ExportRow:
        """Render the export and store its object (again if need be); the finished row."""
        row = await self.repo.get(export_id)
        if row is None:
            message = f"export {export_id} does not exist"
            raise NotFound(message, code="export_not_found")
        if row.is_finished and await self._stored(row) is not None:
            return row  # an earlier delivery (or another requester's job) finished it
        fmt = EXPORT_FORMATS[row.format]
        artwork = await self._source(row)
        document = await self.artworks.document_for(artwork)
        options = render_options(artwork, self.limits)
        made = await asyncio.to_thread(render_document_to, document, fmt, options, self.limits)
        try:
            await self.objects.put_stream(
                row.object_key,
                file_chunks(made.file),
                http_metadata=HttpMetadata(
                    content_type=fmt.media_type,
                    content_disposition=content_disposition(export_filename(artwork, fmt)),
                ),
                custom_metadata={
                    "user_id": row.user_id,
                    "artwork_id": row.artwork_id,
                    "export_id": row.id,
                    "sha256": made.sha256,
                },
            )
        finally:
            made.file.close()
        now = self.clock()
        await self.repo.finish(row.id, size=made.size, sha256=made.sha256, now=now)
        log.info("event=export_stored id=%s format=%s bytes=%d", row.id, fmt.name, made.size)
        return replace(row, size=made.size, sha256=made.sha256, finished_at=now)

    # --- reading -------------------------------------------------------------------
    async def _visible(
        self, principal: Principal, export_id: str, grant: ShareGrant | None
    ) -> tuple[ExportRow, ArtworkRow]:
        if not is_valid_id(export_id):
            raise export_not_found()
        row = await self.repo.get(export_id)
        if row is None:
            raise export_not_found()
        artwork = await self.artworks.artworks.get(row.artwork_id)
        if artwork is None or not can_view(
            principal, artwork.user_id, artwork.visibility, grant=grant, artwork_id=artwork.id
        ):
            raise export_not_found()
        if artwork_export_parts(row.object_key) is None and row.user_id != principal.user_id:
            raise export_not_found()  # a private export of the old layout: its requester's
        return row, artwork

    async def get(
        self, principal: Principal, export_id: str, *, grant: ShareGrant | None = None
    ) -> dict[str, Any]:
        """The export's status for anyone who may view its artwork; 404 for anyone else."""
        row, _ = await self._visible(principal, export_id, grant)
        job = await self.jobs.repo.get(row.job_id)
        status = job.status if job is not None else "done" if row.is_finished else "failed"
        body: dict[str, Any] = {
            "id": row.id,
            "artwork_id": row.artwork_id,
            "format": row.format,
            "job_id": row.job_id,
            "status": status,
            "progress": round(job.progress, 4) if job else 1.0 if row.is_finished else 0.0,
            "created_at": row.created_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        }
        if row.is_finished:
            body.update(size=row.size, sha256=row.sha256, download_url=self.download_url(row.id))
        if status == "failed":
            code = (job.error_code if job else None) or "failed"
            body["error"] = {"code": code, "message": (job.error_message if job else None) or ""}
        return body

    async def download(
        self, principal: Principal, export_id: str, *, grant: ShareGrant | None = None
    ) -> ExportDownload:
        """The export's stored object (or a presigned URL to it) for anyone who may view it."""
        row, artwork = await self._visible(principal, export_id, grant)
        fmt = EXPORT_FORMATS[row.format]
        if not row.is_finished or row.sha256 is None:
            message = "the export is not ready yet; poll GET /api/exports/{id} until it is done"
            raise Conflict(message, code="export_not_ready")
        stored = await self._stored(row)
        if stored is None:
            log.warning("event=export_object_missing id=%s key=%s", row.id, row.object_key)
            raise export_not_found()
        found = ExportDownload(
            filename=export_filename(artwork, fmt),
            media_type=fmt.media_type,
            etag=f'"{row.sha256}"',
            key=row.object_key,
            size=stored.size,
        )
        if self.presigned_downloads:
            url = await self.objects.presign_get(row.object_key, expires_in=LINK_TTL)
            if url is not None and url.startswith(("https://", "http://", "/objects/")):
                return replace(found, redirect_url=url)
        return found
