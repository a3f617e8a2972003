"""The ``import`` job: an uploaded file (.cast, .txt, .ans, .json, .zip) to new artworks."""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage
from asciihub.worker.jobrun import job_outcome, start_job


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one import job to ``done`` (or map its failure); one artwork per document."""
    job = await start_job(services, message)
    if job is None:
        return
    async with job_outcome(services, job, message):
        await services.background.runner.import_file(job)
