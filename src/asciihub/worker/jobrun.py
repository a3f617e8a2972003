"""What every job handler shares: reading the job a message names, mapping its errors.

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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from asciihub.bootstrap import Services
from asciihub.errors import (
    AsciihubError,
    DependencyDown,
    RateLimited,
    Unavailable,
)
from asciihub.queue import BatchMessage, PermanentFailure, RetryLater
from asciihub.services.job_runs import JobRow
from asciihub.services.jobs import OUTAGE_DEAD_CODE

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
