"""What every job handler shares: error mapping, progress throttling, one artwork per job.

Errors of a job become queue outcomes here, in one place:

* bad input (any 4xx error but 429): the job is ``failed`` with the error's code and
  the message is dead-lettered (:class:`PermanentFailure`);
* a dependency down or rate limiting (503, 429) or an unexpected exception: the job
  shows ``queued`` again and the message is retried (:class:`RetryLater`); on its last
  delivery the job is ``failed`` with the error's code instead;
* but one of the deployment's stores down on the last delivery (:class:`DependencyDown`,
  wherever the job meets it) dead-letters the message as ``dependency_unavailable`` with
  the job left active: the sweeper publishes it again once the outage is over, until
  the job is ``jobs_outage_patience`` old (see :func:`outage_outcome`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from asciihub.bootstrap import Services
from asciihub.errors import (
    AsciihubError,
    Conflict,
    DependencyDown,
    PreconditionFailed,
    RateLimited,
    Unavailable,
)
from asciihub.queue import BatchMessage, PermanentFailure, RetryLater
from asciihub.services.artworks import object_key
from asciihub.services.jobs import OUTAGE_DEAD_CODE
from asciihub.services.principals import Principal
from asciihub.storage.metadata.jobs import JobRow
from asciihub.storage.metadata.protocol import ArtworkRow

log = logging.getLogger(__name__)


def is_last_delivery(services: Services, message: BatchMessage) -> bool:
    """True when a retry of ``message`` would send it to the dead-letter queue."""
    return message.attempts > services.settings.queue_max_retries


@asynccontextmanager
async def job_outcome(
    services: Services, job: JobRow, message: BatchMessage
) -> AsyncIterator[None]:
    """Map what the job's work raises to the job row and the queue outcome."""
    jobs = services.background.jobs
    try:
        yield
    except (PermanentFailure, RetryLater, MemoryError):
        raise  # MemoryError: the worker decides (see asciihub.worker.memory)
    except DependencyDown:
        raise  # one of our stores down: outage_outcome decides
    except AsciihubError as exc:
        transient = isinstance(exc, RateLimited | Unavailable) or exc.status >= 500
        if not transient:
            await jobs.fail(job.id, exc.code, exc.message)
            raise PermanentFailure(exc.message, code=exc.code) from exc
        if is_last_delivery(services, message):
            await jobs.fail(job.id, exc.code, exc.message)
            raise PermanentFailure(exc.message, code=exc.code) from exc
        await jobs.requeue(job.id)
        delay = getattr(exc, "retry_after", None)
        raise RetryLater(exc.message, delay_seconds=float(delay) if delay else None) from exc
    except Exception as exc:  # the worker loop: a bug in one job must not kill the others
        log.exception("event=job_crashed id=%s kind=%s", job.id, job.kind)
        text = f"{type(exc).__name__}: {exc}"
        if is_last_delivery(services, message):
            await jobs.fail(job.id, "internal_error", text)
            raise PermanentFailure(text, code="internal_error") from exc
        await jobs.requeue(job.id)
        raise RetryLater(text) from exc


@asynccontextmanager
async def outage_outcome(services: Services, message: BatchMessage) -> AsyncIterator[None]:
    """Map a store down to a retry, or on the last delivery to an outage dead letter.

    Wraps the whole handling of a job message, reading the job row included, since a
    database outage stops it there. The job row is not touched: the database may be the
    dependency that is down, and the job is not over.
    """
    try:
        yield
    except DependencyDown as exc:
        if is_last_delivery(services, message):
            log.warning("event=job_met_outage message=%s code=%s", message.id, exc.code)
            raise PermanentFailure(exc.message, code=OUTAGE_DEAD_CODE) from exc
        try:
            body = message.body
            job_id = body.get("job_id") if isinstance(body, dict) else None
            if isinstance(job_id, str):
                await services.background.jobs.requeue(job_id)
        except DependencyDown:
            pass  # the database is the one down; the row shows the job as it was
        raise RetryLater(exc.message) from exc  # the queue's backoff, not the HTTP hint


class ProgressRecorder:
    """Writes a job's progress at most every ``interval`` seconds."""

    def __init__(self, services: Services, job_id: str, total: int) -> None:
        self.jobs = services.background.jobs
        self.job_id = job_id
        self.total = max(1, total)
        self.interval = services.settings.jobs_progress_interval
        self._last = time.monotonic()

    async def done(self, count: int, frame: dict[str, Any] | None = None) -> None:
        """``count`` of ``total`` steps are done; ``frame`` (the last one made) is published."""
        if frame is not None:
            await self.jobs.frame(self.job_id, count, frame)
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        # The last step is recorded by finishing the job, so progress stays below 1 here.
        await self.jobs.progress(self.job_id, min(count / self.total, 0.99))


async def create_once(
    services: Services, job: JobRow, artwork_id: str, payload: dict[str, Any]
) -> ArtworkRow:
    """The job's artwork: made now, or found from an earlier delivery (never two)."""
    principal = Principal(user_id=job.user_id)
    repo = services.artworks_repo
    for _ in range(3):
        row = await repo.get(artwork_id)
        if row is not None:
            return row
        try:
            await services.artworks.create(principal, payload, artwork_id=artwork_id)
        except PreconditionFailed:
            # An earlier delivery died between writing the object and its row.
            if await repo.get(artwork_id) is None:
                await services.objects.delete(object_key(job.user_id, artwork_id))
        except Conflict:
            continue  # a concurrent delivery inserted the row first
    row = await repo.get(artwork_id)
    if row is None:
        message = "the artwork could not be stored; retrying"
        raise DependencyDown(message, code="artwork_store_failed")
    return row


async def finish_job(
    services: Services, job: JobRow, row: ArtworkRow, started: float, extra: dict[str, Any]
) -> None:
    """Mark the job done with its artwork and record a ``generations`` data point."""
    result = {"sha256": row.sha256, "frames": row.frame_count, **extra}
    if job.attempts > 1:
        # An earlier delivery may have died after the artwork was made and before
        # its thumbnail was asked for; asking twice is harmless.
        await services.background.jobs.enqueue_thumbnail(row.id)
    await services.background.jobs.finish(job.id, row.id, result)
    duration_ms = (time.monotonic() - started) * 1000
    params = job.params
    services.background.analytics.write_data_point(
        "generations",
        blobs=[str(params.get("style", "")), job.kind, row.id, str(params.get("token_id", ""))],
        doubles=[float(row.frame_count), duration_ms, float(row.width), float(row.height)],
        index=job.user_id,
    )
    log.info(
        "event=job_done id=%s kind=%s artwork=%s ms=%.0f", job.id, job.kind, row.id, duration_ms
    )


async def start_job(services: Services, message: BatchMessage) -> JobRow | None:
    """The job a message names, marked running; None when there is nothing to do."""
    body = message.body
    job_id = body.get("job_id") if isinstance(body, dict) else None
    if not isinstance(job_id, str):
        text = "a job message carries {'job_id': ...}"
        raise PermanentFailure(text, code="invalid_job_message")
    job = await services.background.jobs.start(job_id)
    if job is None:
        log.info("event=job_missing id=%s", job_id)
        return None
    if job.status == "done":
        log.info("event=job_already_done id=%s", job_id)
        return None
    return job
