"""Running background jobs: a prompt or an upload to one stored artwork, an export.

The worker hands a started job row to :class:`JobRunner` and maps what it raises to
queue outcomes; everything the job *does* happens here. Each job makes the same
artwork id on every delivery (:func:`~asciihub.services.jobs.artwork_id_for`), and an
artwork already made is never made twice.

Frames are produced in one place, :meth:`JobRunner._frame_made`: it records the job's
progress (throttled) and publishes the frame to the job's watchers
(:meth:`JobService.frame`, the ``/ws/jobs/{id}`` stream).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asciihub.engine.decode import EngineLimits
from asciihub.engine.document import Frame
from asciihub.engine.procedural import FrameGenerator
from asciihub.errors import Conflict, DependencyDown, InvalidInput, NotFound, PreconditionFailed
from asciihub.services.analytics import AnalyticsService
from asciihub.services.artworks import ArtworkService, object_key
from asciihub.services.exports import ExportService
from asciihub.services.imports import ImportLimits, ImportParser
from asciihub.services.jobs import JobService, artwork_id_for
from asciihub.services.notifications import NotificationService
from asciihub.services.principals import Principal
from asciihub.storage.metadata.job_types import JobRow
from asciihub.storage.metadata.protocol import ArtworkRow
from asciihub.storage.objects.protocol import ObjectStore

__all__ = ["JobRow", "JobRunner", "ProgressRecorder", "RunLimits"]

log = logging.getLogger(__name__)

MAX_FPS = 120.0
MIN_FPS = 0.1


@dataclass(frozen=True)
class RunLimits:
    """What a run needs from Settings."""

    max_frames: int = 240
    cell_aspect: float = 0.5
    progress_interval: float = 0.5
    imports: ImportLimits | None = None


class ProgressRecorder:
    """Writes a job's progress at most every ``interval`` seconds."""

    def __init__(self, jobs: JobService, job_id: str, total: int, interval: float) -> None:
        self.jobs = jobs
        self.job_id = job_id
        self.total = max(1, total)
        self.interval = interval
        self._last = time.monotonic()

    async def done(self, count: int) -> None:
        """``count`` of ``total`` steps are done."""
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        # The last step is recorded by finishing the job, so progress stays below 1 here.
        await self.jobs.progress(self.job_id, min(count / self.total, 0.99))


def frame_json(frame: Frame, duration_ms: int | None = None) -> dict[str, Any]:
    """A frame as the artwork document stores it (colours base64-encoded)."""
    item: dict[str, Any] = {
        "text": frame.text,
        "duration_ms": frame.duration_ms if duration_ms is None else duration_ms,
    }
    if frame.colors is not None:
        item["colors"] = base64.b64encode(frame.colors).decode("ascii")
    if frame.backgrounds is not None:
        item["backgrounds"] = base64.b64encode(frame.backgrounds).decode("ascii")
    return item


def playback_fps(frames: list[Frame]) -> float | None:
    """The fps of a converted animation (from its first frame), None for a still."""
    if len(frames) < 2:
        return None
    return min(MAX_FPS, max(MIN_FPS, 1000 / max(1, frames[0].duration_ms)))


class JobRunner:
    """Generation, conversion and export jobs, from a started job row to a finished job."""

    def __init__(
        self,
        *,
        jobs: JobService,
        artworks: ArtworkService,
        objects: ObjectStore,
        analytics: AnalyticsService,
        exports: ExportService,
        notifications: NotificationService,
        generator: FrameGenerator,
        engine_limits: EngineLimits,
        limits: RunLimits | None = None,
    ) -> None:
        self.jobs = jobs
        self.artworks = artworks
        self.objects = objects
        self.analytics = analytics
        self.exports = exports
        self.notifications = notifications
        self.generator = generator
        self.engine_limits = engine_limits
        self.limits = limits or RunLimits()

    async def _frame_made(
        self, job: JobRow, progress: ProgressRecorder, count: int, item: dict[str, Any]
    ) -> None:
        """The one place a job's frame is made known: to its watchers, then progress."""
        await self.jobs.frame(job.id, count, item)
        await progress.done(count)

    def _progress(self, job: JobRow, total: int) -> ProgressRecorder:
        return ProgressRecorder(self.jobs, job.id, total, self.limits.progress_interval)

    # --- generation -----------------------------------------------------------------
    async def generate(self, job: JobRow) -> ArtworkRow:
        """Run a generation job: its prompt to frames (one at a time), then its artwork."""
        started = time.monotonic()
        artwork_id = artwork_id_for(job.id)
        row = await self.artworks.artworks.get(artwork_id)
        if row is None:
            params = job.params
            frames = await self._generate_frames(job)
            payload = {
                "title": params.get("title"),
                "prompt": params["prompt"],
                "visibility": params.get("visibility", "private"),
                "fps": float(params.get("fps") or 10.0),
                "frames": frames,
            }
            row = await self._create_once(job, artwork_id, payload)
        await self._finish(job, row, started, {"seed": job.params.get("seed")})
        return row

    async def _generate_frames(self, job: JobRow) -> list[dict[str, Any]]:
        """Run the generator one frame at a time off the event loop; raw frame dicts."""
        params = job.params
        progress = self._progress(job, int(params["frames"]))
        frames: list[dict[str, Any]] = []
        iterator = self.generator.generate(
            params["prompt"],
            frames=int(params["frames"]),
            width=int(params["width"]),
            height=int(params["height"]),
            style=str(params["style"]),
            seed=params.get("seed"),
        )
        duration = max(1, round(1000 / float(params.get("fps") or 10.0)))
        while True:
            frame = await asyncio.to_thread(next, iterator, None)
            if frame is None:
                break
            item = {"text": frame.text, "duration_ms": duration}
            frames.append(item)
            await self._frame_made(job, progress, len(frames), item)
        return frames

    # --- conversion -----------------------------------------------------------------
    async def convert(self, job: JobRow) -> ArtworkRow:
        """Run a conversion job: the upload to frames, then its artwork; drop the upload."""
        started = time.monotonic()
        artwork_id = artwork_id_for(job.id)
        params = job.params
        media = str(params["media_key"])
        row = await self.artworks.artworks.get(artwork_id)
        if row is None:
            stored = await self.objects.get(media)
            if stored is None:
                text = "the uploaded file is gone; upload it again"
                raise NotFound(text, code="upload_missing")
            frames = await self._convert_frames(job, stored.data)
            payload: dict[str, Any] = {
                "title": params.get("title") or params.get("filename") or None,
                "visibility": params.get("visibility", "private"),
                "frames": [frame_json(frame) for frame in frames],
            }
            fps = playback_fps(frames)
            if fps is not None:
                payload["fps"] = fps
            row = await self._create_once(job, artwork_id, payload)
        await self._finish(job, row, started, {"media_key": params.get("media_key")})
        await self.objects.delete(media)
        return row

    async def _convert_frames(self, job: JobRow, data: bytes) -> list[Frame]:
        loop = asyncio.get_running_loop()
        progress = self._progress(job, self.limits.max_frames)

        def on_frame(count: int, frame: Frame) -> None:
            made = self._frame_made(job, progress, count, frame_json(frame))
            asyncio.run_coroutine_threadsafe(made, loop)

        return await asyncio.to_thread(self._convert_sync, data, job.params, on_frame)

    def _convert_sync(
        self, data: bytes, params: dict[str, Any], on_frame: Callable[[int, Frame], None]
    ) -> list[Frame]:
        """Convert the upload (in a worker thread); animations and video frame by frame."""
        from asciihub.engine import convert, convert_animation

        options: dict[str, Any] = {
            "width": int(params["width"]),
            "style": str(params["style"]),
            "color": str(params["color"]),
            # jobs queued before dither and tone were options carry neither
            "dither": str(params.get("dither", "auto")),
            "tone": str(params.get("tone", "perceptual")),
            "cell_aspect": self.limits.cell_aspect,
            "limits": self.engine_limits,
        }
        if params.get("media_kind") == "image":
            return [convert(data, **options)]
        frames: list[Frame] = []
        suffix = "." + str(params.get("media_format") or "bin")
        with tempfile.TemporaryDirectory(prefix="asciihub-convert-") as folder:
            path = os.path.join(folder, "upload" + suffix)
            with open(path, "wb") as handle:
                handle.write(data)
            for frame in convert_animation(path, frame_limit=self.limits.max_frames, **options):
                frames.append(frame)
                on_frame(len(frames), frame)
        return frames

    # --- export ---------------------------------------------------------------------
    async def export(self, job: JobRow) -> None:
        """Render the export, queue its "export ready" mail, then mark the job done.

        The mail is queued before the job is done, so a delivery that dies in between
        sends it again, and its id makes the mailer send it once.
        """
        started = time.monotonic()
        export_id = job.params.get("export_id")
        if not isinstance(export_id, str):
            text = "an export job carries params.export_id"
            raise InvalidInput(text, code="invalid_job_message")
        progress = self._progress(job, 2)
        row = await self.exports.produce(export_id)
        await progress.done(1)
        # a shared export tells the one who asked for it (nobody when anonymous)
        recipient = job.params.get("requested_by", row.user_id)
        if isinstance(recipient, str):
            await self.notifications.export_ready(
                recipient, row.id, self.exports.download_url(row.id)
            )
        result = {"export_id": row.id, "format": row.format, "size": row.size, "sha256": row.sha256}
        await self.jobs.finish(job.id, None, result)
        log.info(
            "event=job_done id=%s kind=export export=%s ms=%.0f",
            job.id,
            row.id,
            (time.monotonic() - started) * 1000,
        )

    # --- imports --------------------------------------------------------------------
    async def import_file(self, job: JobRow) -> list[ArtworkRow]:
        """Run an import job: the uploaded file to one artwork per document; drop it."""
        started = time.monotonic()
        params = job.params
        media = str(params["media_key"])
        stored = await self.objects.get(media)
        if stored is None:
            text = "the uploaded file is gone; upload it again"
            raise NotFound(text, code="upload_missing")
        parser = ImportParser(self.limits.imports or ImportLimits())
        title = params.get("title") if isinstance(params.get("title"), str) else None
        payloads = await asyncio.to_thread(
            parser.parse, str(params.get("filename") or ""), stored.data, title=title
        )
        rows = []
        for index, payload in enumerate(payloads):
            # Ids derived from the job id: a second delivery makes no second copy.
            artwork_id = artwork_id_for(job.id if index == 0 else f"{job.id}/{index}")
            rows.append(await self._create_once(job, artwork_id, payload))
            await self.jobs.progress(job.id, (index + 1) / len(payloads))
        extra = {"artwork_ids": [row.id for row in rows], "media_key": media}
        await self._finish(job, rows[0], started, extra)
        await self.objects.delete(media)
        return rows

    # --- shared ---------------------------------------------------------------------
    async def _create_once(
        self, job: JobRow, artwork_id: str, payload: dict[str, Any]
    ) -> ArtworkRow:
        """The job's artwork: made now, or found from an earlier delivery (never two)."""
        principal = Principal(user_id=job.user_id)
        repo = self.artworks.artworks
        for _ in range(3):
            row = await repo.get(artwork_id)
            if row is not None:
                return row
            try:
                await self.artworks.create(principal, payload, artwork_id=artwork_id)
            except PreconditionFailed:
                # An earlier delivery died between writing the object and its row.
                if await repo.get(artwork_id) is None:
                    await self.objects.delete(object_key(job.user_id, artwork_id))
            except Conflict:
                continue  # a concurrent delivery inserted the row first
        row = await repo.get(artwork_id)
        if row is None:
            message = "the artwork could not be stored; retrying"
            raise DependencyDown(message, code="artwork_store_failed")
        return row

    async def _finish(
        self, job: JobRow, row: ArtworkRow, started: float, extra: dict[str, Any]
    ) -> None:
        """Mark the job done with its artwork and record a ``generations`` data point."""
        result = {"sha256": row.sha256, "frames": row.frame_count, **extra}
        if job.attempts > 1:
            # An earlier delivery may have died after the artwork was made and before
            # its thumbnail was asked for; asking twice is harmless.
            await self.jobs.enqueue_thumbnail(row.id)
        await self.jobs.finish(job.id, row.id, result)
        duration_ms = (time.monotonic() - started) * 1000
        params = job.params
        self.analytics.write_data_point(
            "generations",
            blobs=[str(params.get("style", "")), job.kind, row.id, str(params.get("token_id", ""))],
            doubles=[float(row.frame_count), duration_ms, float(row.width), float(row.height)],
            index=job.user_id,
        )
        log.info(
            "event=job_done id=%s kind=%s artwork=%s ms=%.0f",
            job.id,
            job.kind,
            row.id,
            duration_ms,
        )
