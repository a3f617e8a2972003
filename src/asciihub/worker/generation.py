"""The ``generation`` job: a prompt to frames, then one artwork (see services.job_runs)."""

from __future__ import annotations

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage
from asciihub.worker.jobrun import job_outcome, start_job


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one generation job to ``done`` (or map its failure)."""
    job = await start_job(services, message)
    if job is None:
        return
    async with job_outcome(services, job, message):
        await services.background.runner.generate(job)
