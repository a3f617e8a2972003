"""The ``export`` job: render an artwork to a file, store it, mail the download link.

The job carries ``export_id``; the export row names the artwork, the format and the
object key. Rendering is deterministic, so a redelivery writes the same bytes to the
same key (see :meth:`asciihub.services.job_runs.JobRunner.export`). An export makes no
artwork, so no thumbnail job follows it.
"""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage
from asciihub.worker.jobrun import job_outcome, start_job


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one export job to ``done`` (or map its failure)."""
    job = await start_job(services, message)
    if job is None:
        return
    async with job_outcome(services, job, message):
        await services.background.runner.export(job)
