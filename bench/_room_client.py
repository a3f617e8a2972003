"""A small Python client of asciihub's WebSockets (tests and the rooms bench use it).

:class:`RoomClient` speaks the ``/ws/artworks/{id}`` protocol of docs/realtime.md: it
sends ``hello`` (with its epoch and last seq when resuming), keeps a
:class:`~asciihub.services.collab.Replica` of the document, sends ops and resends
its pending ones after a reconnect. :func:`watch_job` reads a ``/ws/jobs/{id}``
stream to its end.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import orjson
import websockets
from websockets.asyncio.client import ClientConnection

from asciihub.services.collab import Effect, Replica


def ws_url(base_url: str, path: str) -> str:
    """``http://host:port`` + path as a ``ws://`` URL."""
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{path}"


async def open_socket(
    base_url: str,
    path: str,
    *,
    token: str | None = None,
    cookie: str | None = None,
    origin: str | None = "",
    max_size: int | None = 16 * 1024 * 1024,
    max_queue: int | None = 16,
    receive_buffer: int | None = None,
) -> ClientConnection:
    """Connect with a token or cookie; ``origin`` "" means the server's own origin."""
    headers: dict[str, str] = {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    chosen = base_url if origin == "" else origin
    sock = None
    if receive_buffer is not None:  # a small kernel buffer: a reader that stalls fast
        parts = urlsplit(base_url)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, (parts.hostname, parts.port))
    return await websockets.connect(
        ws_url(base_url, path),
        additional_headers=headers,
        origin=chosen,  # type: ignore[arg-type]
        max_size=max_size,
        compression=None,
        open_timeout=20,
        max_queue=max_queue,
        sock=sock,
    )


async def watch_job(base_url: str, job_id: str, *, token: str) -> list[dict[str, Any]]:
    """Every message of a job's stream until the server closes it."""
    got: list[dict[str, Any]] = []
    async with await open_socket(base_url, f"/ws/jobs/{job_id}", token=token) as sock:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in sock:
                message = orjson.loads(raw)
                message["_received"] = time.monotonic()
                got.append(message)
    return got


class RoomClient:
    """One editor or viewer of an artwork room."""

    def __init__(
        self,
        base_url: str,
        artwork_id: str,
        *,
        client_id: str,
        token: str | None = None,
        share: str | None = None,
        keep_replica: bool = True,
    ) -> None:
        self.base_url = base_url
        self.artwork_id = artwork_id
        self.client_id = client_id
        self.token = token
        self.share = share
        self.keep_replica = keep_replica
        self.replica: Replica | None = None
        self.epoch: str | None = None
        self.seq = 0
        self.role = ""
        self.viewers: dict[str, Any] = {}
        self.playback: dict[str, Any] = {}
        self.errors: list[dict[str, Any]] = []
        self.resets = 0
        self.welcomes: list[dict[str, Any]] = []
        self.sent_at: dict[int, float] = {}
        self.round_trips: list[float] = []
        self.on_message: Callable[[dict[str, Any]], None] | None = None
        self.sock: ClientConnection | None = None
        self.closed: asyncio.Event = asyncio.Event()
        self.close_code: int | None = None
        self._changed = asyncio.Event()
        self._reader: asyncio.Task[None] | None = None

    @property
    def path(self) -> str:
        """The room's path (with the share token when given)."""
        suffix = f"?share={self.share}" if self.share else ""
        return f"/ws/artworks/{self.artwork_id}{suffix}"

    async def connect(self, *, resume: bool = True) -> dict[str, Any]:
        """Open the socket, say hello, wait for ``welcome``; resend pending ops."""
        self.closed.clear()
        self.close_code = None
        self.sock = await open_socket(self.base_url, self.path, token=self.token)
        hello: dict[str, Any] = {"type": "hello", "v": 1, "client_id": self.client_id}
        if resume and self.epoch is not None:
            hello.update(epoch=self.epoch, last_seq=self.seq)
        count = len(self.welcomes)
        self._reader = asyncio.create_task(self._read(self.sock))
        with contextlib.suppress(websockets.ConnectionClosed):  # refused at once: see below
            await self.sock.send(orjson.dumps(hello).decode())
        await self.wait_until(lambda: len(self.welcomes) > count or self.closed.is_set())
        if self.closed.is_set() and len(self.welcomes) == count:
            raise ConnectionError(f"closed before welcome: {self.close_code} {self.errors}")
        if self.replica is not None:
            for op_id, op in self.replica.pending():
                await self._send({"type": "op", "op_id": op_id, "op": op})
        return self.welcomes[-1]

    async def _read(self, sock: ClientConnection) -> None:
        try:
            async for raw in sock:
                self._handle(orjson.loads(raw))
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = sock.close_code
            self.closed.set()
            self._changed.set()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "welcome":
            self._welcome(message)
        elif kind == "effect":
            self._effect(message)
        elif kind == "viewers":
            self.viewers = message
        elif kind == "playback":
            self.playback = message
        elif kind == "reset":
            self.resets += 1
        elif kind == "error":
            self.errors.append(message)
            if self.replica is not None and isinstance(message.get("op_id"), int):
                self.replica.reject(message["op_id"])
        if self.on_message is not None:
            self.on_message(message)
        self._changed.set()

    def _welcome(self, message: dict[str, Any]) -> None:
        self.role = message["role"]
        self.playback = message.get("playback", {})
        if "snapshot" in message:
            if self.keep_replica:
                if self.replica is None or message["epoch"] != self.epoch:
                    self.replica = Replica(
                        message["snapshot"], client_id=self.client_id, user_id=message["user_id"]
                    )
                else:
                    self.replica.resync(message["snapshot"])
            self.seq = int(message["seq"])
        self.epoch = message["epoch"]
        self.welcomes.append(message)

    def _effect(self, message: dict[str, Any]) -> None:
        if self.replica is not None:
            body = {k: v for k, v in message.items() if k != "type"}
            self.replica.receive(Effect.from_json(body))
        self.seq = max(self.seq, int(message["seq"]))
        if message.get("client_id") == self.client_id:
            sent = self.sent_at.pop(int(message["op_id"]), None)
            if sent is not None:
                self.round_trips.append(time.perf_counter() - sent)

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.sock is not None
        await self.sock.send(orjson.dumps(message).decode())

    async def op(self, op: dict[str, Any]) -> int:
        """Apply an op locally and send it; its op id."""
        assert self.replica is not None
        op_id, checked = self.replica.local(op)
        self.sent_at[op_id] = time.perf_counter()
        await self._send({"type": "op", "op_id": op_id, "op": checked})
        return op_id

    async def send(self, message: dict[str, Any]) -> None:
        """Send any message."""
        await self._send(message)

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 20.0) -> None:
        """Wait (with a deadline) until ``predicate()`` holds after some message."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self._changed.clear()
                await self._changed.wait()

    async def drop(self) -> None:
        """Cut the connection without a closing handshake (an abrupt disconnect)."""
        if self.sock is not None:
            self.sock.transport.abort()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader

    async def close(self) -> None:
        """Close cleanly."""
        if self.sock is not None:
            await self.sock.close()
        if self._reader is not None:
            with contextlib.suppress(Exception):
                await self._reader


async def read_until_closed(sock: ClientConnection) -> list[dict[str, Any]]:
    """Every message until the server closes the socket (then see ``sock.close_code``)."""
    got: list[dict[str, Any]] = []
    with contextlib.suppress(websockets.ConnectionClosed):
        async for raw in sock:
            got.append(orjson.loads(raw))
    return got
