"""The ``generation`` job: a prompt to frames (frame by frame), then one artwork."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from asciihub.bootstrap import Services
from asciihub.queue import BatchMessage
from asciihub.services.jobs import artwork_id_for
from asciihub.worker.jobrun import (
    ProgressRecorder,
    create_once,
    finish_job,
    job_outcome,
    start_job,
)


async def produce_frames(
    services: Services, params: dict[str, Any], progress: ProgressRecorder
) -> list[dict[str, Any]]:
    """Run the generator one frame at a time off the event loop; raw frame dicts."""
    frames: list[dict[str, Any]] = []
    iterator = services.background.generator.generate(
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
        item: dict[str, Any] = {"text": frame.text, "duration_ms": duration}
        frames.append(item)
        await progress.done(len(frames), item)
    return frames


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one generation job to ``done`` (or map its failure)."""
    job = await start_job(services, message)
    if job is None:
        return
    started = time.monotonic()
    async with job_outcome(services, job, message):
        artwork_id = artwork_id_for(job.id)
        row = await services.artworks_repo.get(artwork_id)
        if row is None:
            params = job.params
            progress = ProgressRecorder(services, job.id, int(params["frames"]))
            frames = await produce_frames(services, params, progress)
            payload = {
                "title": params.get("title"),
                "prompt": params["prompt"],
                "visibility": params.get("visibility", "private"),
                "fps": float(params.get("fps") or 10.0),
                "frames": frames,
            }
            row = await create_once(services, job, artwork_id, payload)
        await finish_job(services, job, row, started, {"seed": job.params.get("seed")})
