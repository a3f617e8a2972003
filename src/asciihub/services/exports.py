"""Exports: an artwork rendered to a file (JSON, text, asciicast, PNG, GIF, MP4, ZIP).

``request`` checks the caller and the format, writes the export row, then queues an
``export`` job on the ``exports`` queue through :class:`JobService` (so the sweeper
and the dead-letter reconciliation cover it like every job). The worker calls
:meth:`ExportService.produce`, which renders off the event loop and writes
``exports/{user_id}/{export_id}.{ext}``; rendering is deterministic, so a redelivery
writes the same bytes to the same key. An export is visible only to the user who
asked for it, and only while that user may still view the artwork; anyone else gets
the same 404 as for an id that never existed.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

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
)
from asciihub.services.artworks import ArtworkService, can_view
from asciihub.services.ids import is_valid_id, new_id
from asciihub.services.jobs import JobService, check_fields
from asciihub.services.principals import Principal, writer_id
from asciihub.storage.metadata.job_types import ExportRepository, ExportRow
from asciihub.storage.metadata.protocol import ArtworkRow
from asciihub.storage.objects.keys import export_key
from asciihub.storage.objects.protocol import HttpMetadata

log = logging.getLogger(__name__)

_FIELDS = frozenset({"format"})
LINK_TTL = 900
"""Seconds a presigned download link lives."""


@dataclass(frozen=True)
class ExportLimits:
    """Caps on what one export may draw (filled from Settings)."""

    max_frames: int = 600
    max_pixels: int = 3840 * 2160
    font_size: int = 16


@dataclass(frozen=True)
class ExportDownload:
    """What the download route sends: the bytes, or a URL to redirect to."""

    filename: str
    media_type: str
    data: bytes | None = None
    redirect_url: str | None = None


def export_not_found() -> NotFound:
    """The one answer for a missing export, another user's, or a hidden artwork's."""
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


def check_limits(
    fmt: ExportFormat, columns: int, rows: int, frames: int, limits: ExportLimits
) -> None:
    """Raise 413 ``export_too_large`` when drawing the artwork in ``fmt`` exceeds a limit."""
    if fmt.is_animated and frames > limits.max_frames:
        message = (
            f"the artwork has {frames} frames; {fmt.name} exports take at most "
            f"{limits.max_frames} (setting export_max_frames): export it as cast, json or zip"
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
    """Check the limits against the document itself, then render it (blocking)."""
    check_limits(fmt, document.width, document.height, document.frame_count, limits)
    return render_export(document, fmt.name, options)


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
    async def request(self, principal: Principal, artwork_id: str, payload: Any) -> dict[str, str]:
        """Queue an export of an artwork the caller may view; ``{"job_id", "export_id"}``."""
        user_id = writer_id(principal, "export artworks")
        fmt = export_format(check_fields(payload, _FIELDS, _FIELDS)["format"])
        artwork = await self.artworks.row_for(principal, artwork_id)
        check_limits(fmt, artwork.width, artwork.height, artwork.frame_count, self.limits)
        export_id, job_id = new_id(), new_id()
        row = ExportRow(
            id=export_id,
            user_id=user_id,
            artwork_id=artwork.id,
            job_id=job_id,
            format=fmt.name,
            object_key=export_key(user_id, export_id, fmt.extension),
            created_at=self.clock(),
        )
        await self.repo.insert(row)
        params: dict[str, Any] = {
            "export_id": export_id,
            "artwork_id": artwork.id,
            "format": fmt.name,
        }
        if principal.token_id:
            params["token_id"] = principal.token_id
        try:
            await self.jobs.submit(user_id, "export", params, job_id=job_id)
        except AsciihubError:
            await self.repo.delete(export_id)
            raise
        log.info(
            "event=export_requested id=%s artwork=%s format=%s", export_id, artwork.id, fmt.name
        )
        return {"job_id": job_id, "export_id": export_id}

    # --- producing (the worker) --------------------------------------------------------
    async def _source(self, row: ExportRow) -> ArtworkRow:
        artwork = await self.artworks.artworks.get(row.artwork_id)
        if artwork is None or not can_view(
            Principal(user_id=row.user_id), artwork.user_id, artwork.visibility
        ):
            message = "the artwork of this export was deleted or is no longer visible"
            raise NotFound(message, code="artwork_not_found")
        return artwork

    async def produce(self, export_id: str) -> ExportRow:
        """Render the export and store its object (again if need be); the finished row."""
        row = await self.repo.get(export_id)
        if row is None:
            message = f"export {export_id} does not exist"
            raise NotFound(message, code="export_not_found")
        if row.is_finished:
            stored = await self.objects.head(row.object_key)
            if stored is not None and stored.size == row.size:
                return row  # an earlier delivery finished it
        fmt = EXPORT_FORMATS[row.format]
        artwork = await self._source(row)
        document = await self.artworks.document_for(artwork)
        options = RenderOptions(
            title=artwork.title or "",
            timestamp=int(artwork.created_at.timestamp()),
            font_size=self.limits.font_size,
        )
        data = await asyncio.to_thread(render_document, document, fmt, options, self.limits)
        digest = hashlib.sha256(data).hexdigest()
        await self.objects.put(
            row.object_key,
            data,
            http_metadata=HttpMetadata(
                content_type=fmt.media_type,
                content_disposition=content_disposition(_filename(row, fmt)),
            ),
            custom_metadata={
                "user_id": row.user_id,
                "artwork_id": row.artwork_id,
                "export_id": row.id,
            },
            sha256=digest,
        )
        now = self.clock()
        await self.repo.finish(row.id, size=len(data), sha256=digest, now=now)
        log.info("event=export_stored id=%s format=%s bytes=%d", row.id, fmt.name, len(data))
        return replace(row, size=len(data), sha256=digest, finished_at=now)

    # --- reading -------------------------------------------------------------------
    async def _visible(self, principal: Principal, export_id: str) -> ExportRow:
        if principal.user_id is None or not is_valid_id(export_id):
            raise export_not_found()
        row = await self.repo.get(export_id)
        if row is None or row.user_id != principal.user_id:
            raise export_not_found()
        artwork = await self.artworks.artworks.get(row.artwork_id)
        if artwork is None or not can_view(principal, artwork.user_id, artwork.visibility):
            raise export_not_found()
        return row

    async def get(self, principal: Principal, export_id: str) -> dict[str, Any]:
        """The export's status as the user who asked for it sees it; 404 for anyone else."""
        row = await self._visible(principal, export_id)
        job = await self.jobs.repo.get(row.job_id)
        status = job.status if job is not None else "failed"
        body: dict[str, Any] = {
            "id": row.id,
            "artwork_id": row.artwork_id,
            "format": row.format,
            "job_id": row.job_id,
            "status": status,
            "progress": round(job.progress, 4) if job is not None else 0.0,
            "created_at": row.created_at.isoformat(),
            "finished_at": row.finished_at.isoformat() if row.finished_at else None,
        }
        if row.is_finished:
            body.update(size=row.size, sha256=row.sha256, download_url=self.download_url(row.id))
        if status == "failed":
            code = (job.error_code if job else None) or "failed"
            body["error"] = {"code": code, "message": (job.error_message if job else None) or ""}
        return body

    async def download(self, principal: Principal, export_id: str) -> ExportDownload:
        """The export's file (or a presigned URL to it) for the user who asked for it."""
        row = await self._visible(principal, export_id)
        fmt = EXPORT_FORMATS[row.format]
        filename = _filename(row, fmt)
        if not row.is_finished:
            message = "the export is not ready yet; poll GET /api/exports/{id} until it is done"
            raise Conflict(message, code="export_not_ready")
        if self.presigned_downloads:
            url = await self.objects.presign_get(row.object_key, expires_in=LINK_TTL)
            if url is not None and url.startswith(("https://", "http://", "/objects/")):
                return ExportDownload(filename, fmt.media_type, redirect_url=url)
        stored = await self.objects.get(row.object_key)
        if stored is None:
            log.warning("event=export_object_missing id=%s key=%s", row.id, row.object_key)
            raise export_not_found()
        return ExportDownload(filename, fmt.media_type, data=stored.data)


def _filename(row: ExportRow, fmt: ExportFormat) -> str:
    return f"asciihub-{row.artwork_id}.{fmt.extension}"


def content_disposition(filename: str) -> str:
    """The ``Content-Disposition`` header of a download named ``filename``."""
    return f'attachment; filename="{filename}"'
