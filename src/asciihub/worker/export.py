"""The ``export`` job: render an artwork to a file, store it, mail the download link.

The job carries ``export_id``; the export row names the artwork, the format and the
object key ``exports/{user_id}/{export_id}.{ext}``. Rendering is deterministic, so a
redelivery writes the same bytes to the same key. The "export ready" mail is queued
before the job is marked done, so a delivery that dies in between sends it again on
the next delivery, and its id ``export-{export_id}`` makes the mailer send it once.
An export makes no artwork, so no thumbnail job follows it.
"""

from __future__ import annotations

import logging
import time

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage, PermanentFailure
from asciihub.worker.jobrun import ProgressRecorder, job_outcome, start_job

log = logging.getLogger(__name__)


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one export job to ``done`` (or map its failure)."""
    job = await start_job(services, message)
    if job is None:
        return
    started = time.monotonic()
    exports = services.background.exports
    async with job_outcome(services, job, message):
        export_id = job.params.get("export_id")
        if not isinstance(export_id, str):
            text = "an export job carries params.export_id"
            await services.background.jobs.fail(job.id, "invalid_job_message", text)
            raise PermanentFailure(text, code="invalid_job_message")
        progress = ProgressRecorder(services, job.id, 2)
        row = await exports.produce(export_id)
        await progress.done(1)
        await services.background.notifications.export_ready(
            row.user_id, row.id, exports.download_url(row.id)
        )
        result = {
            "export_id": row.id,
            "format": row.format,
            "size": row.size,
            "sha256": row.sha256,
        }
        await services.background.jobs.finish(job.id, None, result)
        log.info(
            "event=job_done id=%s kind=export export=%s ms=%.0f",
            job.id,
            row.id,
            (time.monotonic() - started) * 1000,
        )
