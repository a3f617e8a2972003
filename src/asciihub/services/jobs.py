"""Background jobs: submit, read, and the state a worker moves them through.

The SQL job row is the truth. A job is written ``queued`` first and its message is
published after the row commits; if publishing fails the row is removed and the
caller gets 503, so an acknowledged (202) job always has a row. The sweeper
(:meth:`JobService.sweep`) publishes again every job that sat ``queued`` or
``running`` without progress for ``requeue_after`` seconds, so a message lost by the
queue never loses a job, and marks failed the jobs whose message reached the
dead-letter queue. Handlers are idempotent on the job id: the artwork id is derived
from it (:func:`artwork_id_for`), and a job already ``done`` is never run again.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from asciihub.engine.charsets import DITHER_MODES, TONE_MODES
from asciihub.errors import (
    AsciihubError,
    DependencyDown,
    InvalidInput,
    NotFound,
    TooLarge,
)
from asciihub.queue.protocol import JobQueue
from asciihub.services.ids import derived_id, is_valid_id, new_id
from asciihub.services.job_stream import JobEvents
from asciihub.services.numbers import whole_number_or
from asciihub.services.principals import Principal, writer_id
from asciihub.services.upload_sniff import sniff_media
from asciihub.storage.metadata.job_types import JobRepository, JobRow
from asciihub.storage.metadata.protocol import ArtworkRepository
from asciihub.storage.objects.keys import media_key
from asciihub.storage.objects.protocol import HttpMetadata, ObjectStore

log = logging.getLogger(__name__)

GENERATION_QUEUE = "generation"
CONVERSION_QUEUE = "conversion"
THUMBNAIL_QUEUE = "thumbnails"
EXPORT_QUEUE = "exports"
IMPORT_QUEUE = "imports"
JOB_QUEUES = {
    "generation": GENERATION_QUEUE,
    "conversion": CONVERSION_QUEUE,
    "export": EXPORT_QUEUE,
    "import": IMPORT_QUEUE,
    "export_all": EXPORT_QUEUE,
}
OUTAGE_DEAD_CODE = "dependency_unavailable"
"""The dead-letter code of a job message whose every delivery met a dependency down."""
ARTWORK_KINDS = ("generation", "conversion")
"""The job kinds that make an artwork (whose id :func:`artwork_id_for` derives)."""
VISIBILITIES = ("private", "unlisted", "public")
COLOR_MODES = ("none", "ansi16", "ansi256", "truecolor")


@dataclass(frozen=True)
class JobLimits:
    """Caps on job requests (filled from Settings)."""

    max_prompt_chars: int = 2000
    max_title_chars: int = 200
    max_frames: int = 240
    max_width: int = 500
    max_height: int = 300
    upload_max_bytes: int = 50 * 1024 * 1024
    styles: tuple[str, ...] = ("simple", "dense", "shape", "edges", "blocks", "braille")


def artwork_id_for(job_id: str) -> str:
    """The id of the artwork job ``job_id`` makes: the same on every delivery."""
    return derived_id(f"asciihub-artwork:{job_id}")


def job_not_found() -> NotFound:
    """The one answer for a missing job or another user's job."""
    message = "no job with this id"
    return NotFound(message, code="job_not_found")


def job_json(job: JobRow) -> dict[str, Any]:
    """A job as ``GET /api/jobs/{id}`` shows it to its owner."""
    body: dict[str, Any] = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": round(job.progress, 4),
        "attempts": job.attempts,
        "created_at": job.created_at.isoformat(),
        "updated_at": job.updated_at.isoformat(),
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
    }
    if job.artwork_id is not None:
        body["artwork_id"] = job.artwork_id
    if job.result and isinstance(job.result.get("artwork_ids"), list):
        body["artwork_ids"] = job.result["artwork_ids"]  # an import that made several
    if job.status == "failed":
        body["error"] = {"code": job.error_code or "failed", "message": job.error_message or ""}
    return body


def check_fields(payload: Any, allowed: frozenset[str], required: frozenset[str]) -> dict[str, Any]:
    """``payload`` as a JSON object with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(payload, dict):
        message = f"send a JSON object with {', '.join(sorted(required))}"
        raise InvalidInput(message)
    unknown = sorted(set(payload) - allowed)
    if unknown:
        message = f"unknown fields: {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}"
        raise InvalidInput(message, code="unknown_field")
    missing = sorted(required - set(payload))
    if missing:
        message = f"missing fields: {', '.join(missing)}"
        raise InvalidInput(message, code="missing_field")
    return payload


def _int(value: Any, name: str, low: int, high: int) -> int:
    value = whole_number_or(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        message = f"{name} must be a whole number from {low} to {high}"
        raise InvalidInput(message, code=f"invalid_{name}")
    return value


def _choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        message = f"{name} must be one of {', '.join(choices)}"
        raise InvalidInput(message, code=f"invalid_{name}")
    return str(value)


GENERATE_FIELDS = frozenset(
    {"prompt", "frames", "style", "width", "height", "title", "visibility", "seed", "fps"}
)

CONVERT_FIELDS = frozenset({"width", "style", "color", "dither", "tone", "title", "visibility"})
"""The form fields of a conversion request besides ``file``."""


class JobService:
    """Submitting jobs, reading them, and the transitions workers make."""

    def __init__(
        self,
        repo: JobRepository,
        queue: JobQueue,
        objects: ObjectStore,
        *,
        artworks: ArtworkRepository | None = None,
        limits: JobLimits | None = None,
        requeue_after: float = 600.0,
        outage_patience: float = 900.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.repo = repo
        self.queue = queue
        self.objects = objects
        self.artworks = artworks
        self.limits = limits or JobLimits()
        self.requeue_after = requeue_after
        self.outage_patience = outage_patience
        self.clock = clock
        self.events: JobEvents | None = None  # live events for /ws/jobs (job_stream.py)

    # --- submitting ----------------------------------------------------------------
    def parse_generation(self, payload: Any) -> dict[str, Any]:
        """Checked parameters of a generation request (InvalidInput / TooLarge if not)."""
        limits = self.limits
        body = check_fields(payload, GENERATE_FIELDS, frozenset({"prompt"}))
        prompt = body["prompt"]
        if not isinstance(prompt, str) or not prompt.strip():
            message = "prompt must be a non-empty string"
            raise InvalidInput(message, code="invalid_prompt")
        if len(prompt) > limits.max_prompt_chars:
            message = (
                f"the prompt is {len(prompt)} characters; the limit is {limits.max_prompt_chars}"
            )
            raise TooLarge(message, code="prompt_too_long")
        title = body.get("title")
        if title is not None and (
            not isinstance(title, str) or len(title) > limits.max_title_chars
        ):
            message = f"title must be a string of at most {limits.max_title_chars} characters"
            raise InvalidInput(message, code="invalid_title")
        fps = body.get("fps", 10.0)
        if isinstance(fps, bool) or not isinstance(fps, int | float) or not 0.1 <= fps <= 120:
            message = "fps must be a number from 0.1 to 120"
            raise InvalidInput(message, code="invalid_fps")
        seed = body.get("seed")
        if seed is None:
            seed = secrets.randbelow(2**31)
        return {
            "prompt": prompt,
            "frames": _int(body.get("frames", 24), "frames", 1, limits.max_frames),
            "style": _choice(body.get("style", "dense"), "style", limits.styles),
            "width": _int(body.get("width", 80), "width", 1, limits.max_width),
            "height": _int(body.get("height", 24), "height", 1, limits.max_height),
            "title": title if title is not None else prompt[: limits.max_title_chars],
            "visibility": _choice(body.get("visibility", "private"), "visibility", VISIBILITIES),
            "seed": _int(seed, "seed", 0, 2**63 - 1),
            "fps": float(fps),
        }

    def parse_conversion(self, form: dict[str, Any]) -> dict[str, Any]:
        """Checked options of a conversion request (the form fields besides ``file``)."""
        unknown = sorted(set(form) - CONVERT_FIELDS)
        if unknown:
            message = f"unknown form fields: {', '.join(unknown)}"
            raise InvalidInput(message, code="unknown_field")
        title = form.get("title")
        if title is not None and len(str(title)) > self.limits.max_title_chars:
            message = f"title must be at most {self.limits.max_title_chars} characters"
            raise InvalidInput(message, code="invalid_title")
        return {
            "width": _int(form.get("width", 80), "width", 1, self.limits.max_width),
            "style": _choice(form.get("style", "dense"), "style", self.limits.styles),
            "color": _choice(form.get("color", "truecolor"), "color", COLOR_MODES),
            "dither": _choice(form.get("dither", DITHER_MODES[0]), "dither", DITHER_MODES),
            "tone": _choice(form.get("tone", TONE_MODES[0]), "tone", TONE_MODES),
            "title": str(title) if title is not None else None,
            "visibility": _choice(form.get("visibility", "private"), "visibility", VISIBILITIES),
        }

    async def submit_generation(self, principal: Principal, payload: Any) -> dict[str, Any]:
        """Queue a generation job for ``principal``; ``{"job_id"}``."""
        user_id = writer_id(principal, "start jobs")
        params = self.parse_generation(payload)
        if principal.token_id:
            params["token_id"] = principal.token_id
        return await self.submit(user_id, "generation", params)

    async def submit_conversion(
        self,
        principal: Principal,
        options: dict[str, Any],
        chunks: AsyncIterator[bytes],
        *,
        filename: str = "",
    ) -> dict[str, Any]:
        """Store an upload at ``media/{user_id}/{media_id}``, then queue its conversion."""
        user_id = writer_id(principal, "start jobs")
        params = self.parse_conversion(options)
        media_id = new_id()
        key = media_key(user_id, media_id)
        head, rest = await _peek(chunks, 64)
        media = sniff_media(head)
        limit = self.limits.upload_max_bytes

        async def capped() -> AsyncIterator[bytes]:
            seen = 0
            for chunk in (head, rest):
                if isinstance(chunk, bytes):
                    seen += len(chunk)
                    if seen > limit:
                        raise _upload_too_large(limit)
                    if chunk:
                        yield chunk
                    continue
                async for part in chunk:
                    seen += len(part)
                    if seen > limit:
                        raise _upload_too_large(limit)
                    yield part

        info = await self.objects.put_stream(
            key,
            capped(),
            http_metadata=HttpMetadata(content_type=media.mime),
            custom_metadata={"user_id": user_id, "kind": media.kind},
        )
        params.update(
            media_key=key,
            media_kind=media.kind,
            media_format=media.format,
            media_size=info.size,
            filename=filename[:200],
        )
        if principal.token_id:
            params["token_id"] = principal.token_id
        try:
            return await self.submit(user_id, "conversion", params)
        except AsciihubError:
            await self.objects.delete(key)
            raise

    async def submit(
        self, user_id: str, kind: str, params: dict[str, Any], *, job_id: str | None = None
    ) -> dict[str, Any]:
        """Queue a job of ``kind`` (a key of JOB_QUEUES) with checked ``params``."""
        now = self.clock()
        job = JobRow(
            id=job_id or new_id(),
            user_id=user_id,
            kind=kind,
            status="queued",
            progress=0.0,
            params=params,
            created_at=now,
            updated_at=now,
        )
        await self.repo.insert(job)
        try:
            await self.publish(job)
        except AsciihubError:
            await self.repo.delete(job.id)
            message = "the job queue is unavailable; the job was not accepted, try again shortly"
            raise DependencyDown(message, code="queue_unavailable") from None
        log.info("event=job_queued id=%s kind=%s user=%s", job.id, kind, user_id)
        return {"job_id": job.id}

    async def publish(self, job: JobRow) -> str:
        """Send the job's message to its queue (again); the message id."""
        body = {"type": job.kind, "job_id": job.id}
        return await self.queue.send(JOB_QUEUES[job.kind], body)

    async def enqueue_thumbnail(self, artwork_id: str) -> None:
        """Ask for the thumbnail of an artwork that was created or changed."""
        await self.queue.send(THUMBNAIL_QUEUE, {"type": "thumbnail", "artwork_id": artwork_id})

    # --- reading -------------------------------------------------------------------
    async def get(self, principal: Principal, job_id: str) -> dict[str, Any]:
        """The job as its owner sees it; 404 for anyone else."""
        if principal.user_id is None or not is_valid_id(job_id):
            raise job_not_found()
        job = await self.repo.get(job_id)
        if job is None or job.user_id != principal.user_id:
            raise job_not_found()
        return job_json(job)

    # --- worker transitions ----------------------------------------------------------
    async def start(self, job_id: str) -> JobRow | None:
        """Mark the job running (one more attempt); None if it does not exist."""
        if not is_valid_id(job_id):
            return None
        return await self.repo.start(job_id, self.clock())

    async def progress(self, job_id: str, fraction: float) -> None:
        """Record progress of a running job."""
        await self.repo.set_progress(job_id, fraction, self.clock())
        if self.events is not None:
            await self.events.progress(job_id, fraction)

    async def frame(self, job_id: str, index: int, frame: dict[str, Any]) -> None:
        """Publish frame ``index`` of a running job to its watchers."""
        if self.events is not None:
            await self.events.frame(job_id, index, frame)

    async def finish(self, job_id: str, artwork_id: str | None, result: dict[str, Any]) -> bool:
        """Mark the job done with its artwork."""
        done = await self.repo.finish(
            job_id, artwork_id=artwork_id, result=result, now=self.clock()
        )
        if done and self.events is not None:
            await self.events.done(job_id, artwork_id)
        return done

    async def fail(self, job_id: str, code: str, message: str) -> bool:
        """Mark the job failed with an error code."""
        log.info("event=job_failed id=%s code=%s", job_id, code)
        failed = await self.repo.fail(job_id, code=code, message=message, now=self.clock())
        if failed and self.events is not None:
            await self.events.failed(job_id, code, message)
        return failed

    async def requeue(self, job_id: str) -> None:
        """Show a job whose delivery will be retried as ``queued`` again."""
        await self.repo.requeue(job_id, self.clock())

    # --- the sweeper -----------------------------------------------------------------
    async def sweep(self) -> dict[str, int]:
        """Settle jobs whose message is dead, then publish again jobs that stopped moving."""
        failed, outage_redriven = await self.reconcile_dead()
        redriven = await self.redrive_lost_thumbnails()
        now = self.clock()
        stale = await self.repo.stale(now - timedelta(seconds=self.requeue_after))
        published: list[str] = []
        for job in stale:
            try:
                await self.publish(job)
            except AsciihubError as exc:
                log.warning("event=job_republish_failed id=%s code=%s", job.id, exc.code)
                break
            published.append(job.id)
        await self.repo.touch(published, now)
        if published:
            log.warning("event=jobs_republished count=%d", len(published))
        return {
            "dead_failed": failed,
            "outage_redriven": outage_redriven,
            "republished": len(published),
            "thumbnails_redriven": redriven,
        }

    async def reconcile_dead(self) -> tuple[int, int]:
        """Settle every active job whose message sits in a dead-letter queue.

        A job whose artwork exists was done by a delivery that died after making it
        (the artwork id is derived from the job id), so it ends ``done``. A job whose
        deliveries all met a dependency down (:data:`OUTAGE_DEAD_CODE`) is published
        again while it is younger than ``outage_patience``, and its dead letter purged;
        past that it fails ``unavailable``. Any other ends ``failed`` with the dead
        letter's code. Returns (failed, published again).
        """
        failed = redriven = 0
        for queue_name in JOB_QUEUES.values():
            for dead in await self.queue.dead_list(queue_name, limit=1000):
                job_id = dead.body.get("job_id") if isinstance(dead.body, dict) else None
                if not isinstance(job_id, str):
                    continue
                job = await self.repo.get(job_id)
                if job is None or job.is_terminal:
                    continue
                if await self._finish_if_made(job):
                    continue
                if dead.error_code == OUTAGE_DEAD_CODE:
                    if await self._outlast_outage(job, queue_name, dead.id):
                        redriven += 1
                        continue
                    code = "unavailable"
                else:
                    code = dead.error_code
                if await self.fail(job_id, code, dead.error_message):
                    failed += 1
        return failed, redriven

    async def _outlast_outage(self, job: JobRow, queue_name: str, dead_id: str) -> bool:
        """Publish ``job`` again after an outage, unless it is past its patience."""
        age = (self.clock() - job.created_at).total_seconds()
        if age >= self.outage_patience:
            return False
        await self.requeue(job.id)
        await self.publish(job)  # sent before purged: a crash between repeats one, harmlessly
        # Touched, so this sweep's search for stalled jobs does not publish it twice.
        await self.repo.touch([job.id], self.clock())
        await self.queue.dead_purge(queue_name, [dead_id])
        log.warning("event=job_outlasts_outage id=%s age_s=%.0f", job.id, age)
        return True

    async def redrive_lost_thumbnails(self) -> int:
        """Send once more the thumbnail messages dead-lettered as ``worker_lost``.

        A worker that dies takes every message it holds with it, so a thumbnail batch
        can die of another job's crash: a thumbnail is cheap and idempotent, so it gets
        one second round (marked ``redriven``) before it is left in the dead letters.
        """
        dead = await self.queue.dead_list(THUMBNAIL_QUEUE, limit=1000)
        lost = [
            entry
            for entry in dead
            if entry.error_code == "worker_lost"
            and isinstance(entry.body, dict)
            and not entry.body.get("redriven")
        ]
        for entry in lost:  # sent before purged: a crash between repeats one, harmlessly
            await self.queue.send(THUMBNAIL_QUEUE, {**entry.body, "redriven": True})
        if lost:
            await self.queue.dead_purge(THUMBNAIL_QUEUE, [entry.id for entry in lost])
            log.warning("event=thumbnails_redriven count=%d", len(lost))
        return len(lost)

    async def _finish_if_made(self, job: JobRow) -> bool:
        if self.artworks is None or job.kind not in ARTWORK_KINDS:
            return False
        row = await self.artworks.get(artwork_id_for(job.id))
        if row is None:
            return False
        await self.enqueue_thumbnail(row.id)
        result = {"sha256": row.sha256, "frames": row.frame_count}
        log.warning("event=dead_job_was_done id=%s artwork=%s", job.id, row.id)
        return await self.finish(job.id, row.id, result)


async def _peek(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, AsyncIterator[bytes]]:
    head = b""
    async for chunk in chunks:
        head += chunk
        if len(head) >= size:
            break
    return head, chunks


def _upload_too_large(limit: int) -> TooLarge:
    message = f"the upload is larger than {limit} bytes (setting upload_max_bytes)"
    return TooLarge(message, code="upload_too_large")
