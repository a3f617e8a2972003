"""``/ws/jobs/{id}``: a job's progress and frames as they are made, then its outcome.

Same access rule as ``GET /api/jobs/{id}`` (the owner only; anyone else gets close
4404). The socket first gets every event logged so far (a late joiner sees the frames
already made), then live ones, and closes with 1000 after ``done`` or ``failed``. A
watcher that reconnects sends ``?after=SEQ`` (its last event's seq) and gets only
what follows.
"""

from __future__ import annotations

import asyncio

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from asciihub.api.auth import principal_for
from asciihub.api.sockets import PROTOCOL_VERSION, Connection, encode
from asciihub.api.state import services
from asciihub.errors import AsciihubError, InvalidInput
from asciihub.realtime.protocol import RoomEvent
from asciihub.services.job_stream import job_room
from asciihub.services.room_feed import RoomFeed

_TERMINAL = ("done", "failed")


async def watch_job(websocket: WebSocket) -> None:
    """Stream one job's events to its owner."""
    built = services(websocket)
    conn = Connection(websocket, built.settings)
    await conn.accept()
    job_id = websocket.path_params["job_id"]
    finished = asyncio.Event()
    feed: RoomFeed | None = None
    try:
        after = _after(websocket.query_params.get("after"))
        job = await built.background.jobs.get(await principal_for(websocket), job_id)
        conn.send({"type": "hello", "v": PROTOCOL_VERSION, "job": job})

        async def forward(event: RoomEvent) -> None:
            if finished.is_set():
                return
            conn.send_text(encode({**event.data, "seq": event.seq}))
            if event.data.get("type") in _TERMINAL:
                finished.set()

        feed = RoomFeed(built.rooms, job_room(job_id), after=after, on_entry=forward)
        await feed.start()
        # A job that ended before its log existed (or after it expired) still ends here.
        if job["status"] in _TERMINAL and not await built.rooms.last_seq(job_room(job_id)):
            terminal = {"type": job["status"], "progress": job["progress"]}
            if job["status"] == "done":
                terminal["artwork_id"] = job.get("artwork_id")
            else:
                terminal["error"] = job.get("error")
            conn.send(terminal)
            finished.set()
        await _until_finished(conn, finished)
    except AsciihubError as exc:
        conn.fail(exc)
    finally:
        if feed is not None:
            await feed.close()
        await conn.finish()


def _after(value: str | None) -> int:
    """``?after=SEQ``: a reconnecting watcher's last seen seq (events after it follow)."""
    if value is None:
        return 0
    if not value.isdigit() or len(value) > 12:
        text = "after must be the seq of the last event you received (a whole number)"
        raise InvalidInput(text, code="invalid_after")
    return int(value)


async def _until_finished(conn: Connection, finished: asyncio.Event) -> None:
    """Wait for the terminal event while reading (and ignoring) what the client sends."""

    async def drain() -> None:
        async for _message in conn.messages():
            pass

    reader = asyncio.create_task(drain())
    waiter = asyncio.create_task(finished.wait())
    await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
    reader.cancel()
    waiter.cancel()


routes = [WebSocketRoute("/ws/jobs/{job_id}", watch_job, name="watch_job")]
