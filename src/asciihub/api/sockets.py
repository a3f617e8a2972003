"""What every WebSocket of asciihub shares: bounded sends, limits, errors to close codes.

A :class:`Connection` owns one accepted socket. Outgoing messages go through a
bounded queue drained by one sender task, so a slow reader never blocks a broadcast:
when its queue is full it is closed with 4000 (``slow_consumer``) and resyncs on
reconnect, and server memory per socket stays bounded. Volatile messages (cursors)
are dropped instead once the queue is half full. Incoming messages are checked for
size (1009), JSON shape (4400) and rate (4429, a token bucket per socket). Close codes
and message types are listed in docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketState

from asciihub.errors import AsciihubError
from asciihub.settings import Settings

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_TRY_LATER = 1013
CLOSE_SLOW = 4000
CLOSE_INVALID = 4400
CLOSE_RATE = 4429


def close_code_for(error: AsciihubError) -> int:
    """The close code of an error: 4000 + its HTTP status (4401, 4403, 4404, 4409 ...).

    Unavailable (503) closes with 1013 (try again later), anything else with 1011.
    """
    if 400 <= error.status < 500:
        return 4000 + error.status
    return CLOSE_TRY_LATER if error.status == 503 else CLOSE_SERVER_ERROR


def error_message(code: str, message: str) -> dict[str, Any]:
    """The ``error`` message sent before a close or for a refused op."""
    return {"type": "error", "error": {"code": code, "message": message}}


def encode(message: dict[str, Any]) -> str:
    """One message as JSON text (encode once, send to many)."""
    return orjson.dumps(message).decode()


class TokenBucket:
    """``rate`` per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> bool:
        """Spend one token; False when none is left."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Connection:
    """One accepted WebSocket with a bounded send queue and input limits."""

    def __init__(self, websocket: WebSocket, settings: Settings) -> None:
        self.websocket = websocket
        self.settings = settings
        self.queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=settings.room_send_queue)
        self.bucket = TokenBucket(settings.room_rate_per_second, settings.room_rate_burst)
        self.closing: tuple[int, str] | None = None
        self._closing = asyncio.Event()
        self._sender: asyncio.Task[None] | None = None

    async def accept(self) -> None:
        """Accept the handshake and start the sender."""
        await self.websocket.accept()
        self._sender = asyncio.create_task(self._send_loop())

    @property
    def is_open(self) -> bool:
        """True until a close was decided."""
        return self.closing is None

    def send_text(self, text: str) -> bool:
        """Queue a durable message; a full queue closes the socket (4000)."""
        if self.closing is not None:
            return False
        try:
            self.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.close(CLOSE_SLOW, "slow_consumer")
            return False
        return True

    def send(self, message: dict[str, Any]) -> bool:
        """Queue one message."""
        return self.send_text(encode(message))

    def send_volatile(self, text: str) -> None:
        """Queue a message that may be dropped (cursors) when the reader lags."""
        if self.closing is None and self.queue.qsize() < self.queue.maxsize // 2:
            self.queue.put_nowait(text)

    def close(self, code: int, reason: str = "") -> None:
        """Close soon with ``code``: the sender stops, the socket closes."""
        if self.closing is not None:
            return
        self.closing = (code, reason)
        self._closing.set()  # the receive loop stops at once, even for a silent peer
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)
        if self.queue.full() and self._sender is not None:
            self._sender.cancel()  # a stalled reader: do not wait for its queue
            asyncio.get_running_loop().create_task(self._close_now())

    def fail(self, error: AsciihubError) -> None:
        """Send an ``error`` message, then close with the error's code."""
        if self.closing is None:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(encode(error_message(error.code, error.message)))
        self.close(close_code_for(error), error.code)

    async def _send_loop(self) -> None:
        try:
            while True:
                text = await self.queue.get()
                if text is None:
                    break
                await self.websocket.send_text(text)
        except asyncio.CancelledError:
            return
        except Exception:  # the peer went away; the receive side sees the disconnect
            self.closing = self.closing or (CLOSE_NORMAL, "gone")
            return
        await self._close_now()

    async def _close_now(self) -> None:
        code, reason = self.closing or (CLOSE_NORMAL, "")
        if self.websocket.application_state == WebSocketState.CONNECTED:
            # A stalled reader never lets the close frame out: do not wait for it.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(code, reason[:120]), timeout=2)

    async def messages(self) -> AsyncIterator[dict[str, Any]]:
        """Incoming JSON objects until the peer leaves or the socket is closed.

        An oversized message closes with 1009, anything but a JSON object with a string
        ``type`` with 4400, too many messages with 4429.
        """
        limit = self.settings.room_max_message_bytes
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            while self.closing is None:
                receiving = asyncio.ensure_future(self.websocket.receive())
                await asyncio.wait({receiving, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not receiving.done():
                    receiving.cancel()
                    return
                data = self._check(receiving.result(), limit)
                if data is not None:
                    yield data
        finally:
            closing.cancel()

    def _check(self, message: Any, limit: int) -> dict[str, Any] | None:
        """The JSON object one received ASGI message carries, or None (then closing)."""
        if message["type"] == "websocket.disconnect":
            self.closing = self.closing or (int(message.get("code") or 1000), "gone")
            return None
        raw = message.get("text")
        if raw is None:
            raw = message.get("bytes") or b""
        size = len(raw.encode() if isinstance(raw, str) else raw)
        if size > limit:
            text = f"messages are at most {limit} bytes (room_max_message_bytes)"
            self._refuse(CLOSE_TOO_BIG, "message_too_large", text)
            return None
        if not self.bucket.take():
            text = "too many messages; slow down (room_rate_per_second)"
            self._refuse(CLOSE_RATE, "rate_limited", text)
            return None
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("type"), str):
            text = 'each message is a JSON object with a "type"'
            self._refuse(CLOSE_INVALID, "invalid_message", text)
            return None
        return data

    def _refuse(self, code: int, error_code: str, text: str) -> None:
        if self.closing is None:
            with contextlib.suppress(asyncio.QueueFull):
                self.queue.put_nowait(encode(error_message(error_code, text)))
        self.close(code, error_code)

    async def finish(self) -> None:
        """Wait for queued messages and the close (a few seconds at most)."""
        if self.closing is None:
            self.close(CLOSE_NORMAL, "")
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                self._sender.cancel()
        await self._close_now()
