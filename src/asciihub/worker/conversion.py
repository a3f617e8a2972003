"""The ``conversion`` job: an uploaded image, GIF or video to one artwork."""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time
from collections.abc import Callable
from typing import Any

from asciihub.bootstrap import Services
from asciihub.engine.document import Frame
from asciihub.errors import NotFound
from asciihub.queue import BatchMessage
from asciihub.services.jobs import artwork_id_for
from asciihub.worker.jobrun import (
    ProgressRecorder,
    create_once,
    finish_job,
    job_outcome,
    start_job,
)


def _convert(
    data: bytes, params: dict[str, Any], services: Services, on_frame: Callable[[int], None]
) -> list[Frame]:
    """Convert the upload (in a worker thread); animations and video frame by frame."""
    from asciihub.engine import convert, convert_animation

    options: dict[str, Any] = {
        "width": int(params["width"]),
        "style": str(params["style"]),
        "color": str(params["color"]),
        "cell_aspect": services.settings.engine_cell_aspect,
        "limits": services.background.engine_limits,
    }
    if params.get("media_kind") == "image":
        return [convert(data, **options)]
    frames: list[Frame] = []
    suffix = "." + str(params.get("media_format") or "bin")
    with tempfile.TemporaryDirectory(prefix="asciihub-convert-") as folder:
        path = os.path.join(folder, "upload" + suffix)
        with open(path, "wb") as handle:
            handle.write(data)
        for frame in convert_animation(path, frame_limit=services.settings.max_frames, **options):
            frames.append(frame)
            on_frame(len(frames))
    return frames


async def handle(services: Services, message: BatchMessage) -> None:
    """Run one conversion job to ``done`` (or map its failure)."""
    job = await start_job(services, message)
    if job is None:
        return
    started = time.monotonic()
    async with job_outcome(services, job, message):
        artwork_id = artwork_id_for(job.id)
        params = job.params
        row = await services.artworks_repo.get(artwork_id)
        if row is None:
            stored = await services.objects.get(str(params["media_key"]))
            if stored is None:
                text = "the uploaded file is gone; upload it again"
                raise NotFound(text, code="upload_missing")
            loop = asyncio.get_running_loop()
            progress = ProgressRecorder(services, job.id, services.settings.max_frames)

            def on_frame(count: int) -> None:
                asyncio.run_coroutine_threadsafe(progress.done(count), loop)

            frames = await asyncio.to_thread(_convert, stored.data, params, services, on_frame)
            raw = []
            for frame in frames:
                item: dict[str, Any] = {"text": frame.text, "duration_ms": frame.duration_ms}
                if frame.colors is not None:
                    item["colors"] = base64.b64encode(frame.colors).decode("ascii")
                if frame.backgrounds is not None:
                    item["backgrounds"] = base64.b64encode(frame.backgrounds).decode("ascii")
                raw.append(item)
            fps = 1000 / max(1, frames[0].duration_ms) if len(frames) > 1 else None
            payload: dict[str, Any] = {
                "title": params.get("title") or params.get("filename") or None,
                "visibility": params.get("visibility", "private"),
                "frames": raw,
            }
            if fps is not None:
                payload["fps"] = min(120.0, max(0.1, fps))
            row = await create_once(services, job, artwork_id, payload)
        await finish_job(services, job, row, started, {"media_key": params.get("media_key")})
        await services.objects.delete(str(params["media_key"]))
