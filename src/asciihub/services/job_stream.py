"""Live job events for ``/ws/jobs/{id}``: progress, each frame, then done or failed.

The worker (any process) appends every event to the job's room log through the
realtime binding, so a watcher on another API process gets them in the order they
were made, and a late joiner reads the log from the start. Events are appended in
call order (one FIFO lock), and the log expires ``ttl`` seconds after the last one.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from typing import Any

from asciihub.engine.document import Frame
from asciihub.errors import AsciihubError
from asciihub.realtime.protocol import RoomHub

log = logging.getLogger(__name__)


def frame_json(frame: Frame) -> dict[str, Any]:
    """A frame as the document's JSON has it (colours base64)."""
    item: dict[str, Any] = {"text": frame.text, "duration_ms": frame.duration_ms}
    if frame.colors is not None:
        item["colors"] = base64.b64encode(frame.colors).decode("ascii")
    return item


def job_room(job_id: str) -> str:
    """The room id of a job's event log."""
    return f"job:{job_id}"


class JobEvents:
    """Publishes a job's progress, frames and outcome to its room log."""

    def __init__(self, hub: RoomHub, *, ttl: int = 3600) -> None:
        self.hub = hub
        self.ttl = ttl
        self._lock = asyncio.Lock()

    async def _emit(self, job_id: str, data: dict[str, Any]) -> None:
        async with self._lock:
            try:
                await self.hub.append(job_room(job_id), data, ttl=self.ttl)
            except AsciihubError as exc:  # watching is best effort; the job goes on
                log.warning(
                    "event=job_event_lost id=%s type=%s code=%s", job_id, data["type"], exc.code
                )

    async def progress(self, job_id: str, fraction: float) -> None:
        """The job is ``fraction`` done."""
        await self._emit(job_id, {"type": "progress", "progress": round(fraction, 4)})

    async def frame(self, job_id: str, index: int, frame: dict[str, Any]) -> None:
        """Frame number ``index`` (1-based) was made: ``{"text", "duration_ms", "colors"?}``."""
        await self._emit(job_id, {"type": "frame", "index": index, "frame": frame})

    async def done(self, job_id: str, artwork_id: str | None) -> None:
        """The job finished with its artwork."""
        await self._emit(job_id, {"type": "done", "progress": 1.0, "artwork_id": artwork_id})

    async def failed(self, job_id: str, code: str, message: str) -> None:
        """The job failed for good."""
        await self._emit(job_id, {"type": "failed", "error": {"code": code, "message": message}})
