"""The ``export_all`` job: a user's whole data as one ZIP, then the "ready" e-mail."""

from __future__ import annotations

import logging

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage
from asciihub.worker.jobrun import job_outcome, start_job

log = logging.getLogger(__name__)


async def handle(services: Services, message: BatchMessage) -> None:
    """Build, store and announce one export-all archive (idempotent on the job id)."""
    job = await start_job(services, message)
    if job is None:
        return
    export_all = services.background.export_all
    assert export_all is not None
    jobs = services.background.jobs
    async with job_outcome(services, job, message):

        async def progress(done: int, total: int) -> None:
            await jobs.progress(job.id, done / max(total, 1))

        result = await export_all.produce(job, progress=progress)
        await services.background.notifications.export_ready(
            job.user_id, job.id, export_all.download_url(job.id)
        )
        await jobs.finish(job.id, None, result)
        log.info("event=job_done id=%s kind=export_all bytes=%d", job.id, result["size"])
