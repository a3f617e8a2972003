"""The ``import`` job: an uploaded file (.cast, .txt, .ans, .json, .zip) to new artworks."""

from __future__ import annotations

import asyncio
import time

from asciihub.bootstrap import Services, import_limits
from asciihub.errors import NotFound
from asciihub.queue import BatchMessage
from asciihub.services.imports import ImportParser
from asciihub.services.jobs import artwork_id_for
from asciihub.worker.jobrun import create_once, finish_job, job_outcome, start_job


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one import job to ``done`` (or map its failure); one artwork per document."""
    job = await start_job(services, message)
    if job is None:
        return
    started = time.monotonic()
    async with job_outcome(services, job, message):
        params = job.params
        stored = await services.objects.get(str(params["media_key"]))
        if stored is None:
            text = "the uploaded file is gone; upload it again"
            raise NotFound(text, code="upload_missing")
        parser = ImportParser(import_limits(services.settings))
        title = params.get("title") if isinstance(params.get("title"), str) else None
        payloads = await asyncio.to_thread(
            parser.parse, str(params.get("filename") or ""), stored.data, title=title
        )
        rows = []
        for index, payload in enumerate(payloads):
            # Ids derived from the job id: a second delivery makes no second copy.
            artwork_id = artwork_id_for(job.id if index == 0 else f"{job.id}/{index}")
            rows.append(await create_once(services, job, artwork_id, payload))
            await services.background.jobs.progress(job.id, (index + 1) / len(payloads))
        extra = {"artwork_ids": [row.id for row in rows], "media_key": params.get("media_key")}
        await finish_job(services, job, rows[0], started, extra)
        await services.objects.delete(str(params["media_key"]))
