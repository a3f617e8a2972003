"""A lean WebSocket viewer for the fan-out bench: RFC 6455 over an asyncio protocol.

A thousand viewers of the ``websockets`` client in one process cost the bench about as
much CPU per broadcast as the server spends sending it, so the last receipt measured
the client's queue more than the server. This viewer does the least a real client
must: the opening handshake, masked text frames out, unmasked frames in (with
continuations), pongs for pings and a close reply. Each text message is parsed with
orjson and its arrival time kept when it carries an integer ``op_id``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import struct
import time
from typing import Any
from urllib.parse import urlsplit

import orjson

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def _frame(opcode: int, payload: bytes) -> bytes:
    """One masked client frame (FIN set)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 1 << 16:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    key = (mask * (length // 4 + 1))[:length]
    body = (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(length, "big")
    return head + mask + body


class LeanViewer(asyncio.Protocol):
    """A viewer socket recording when each tagged message arrives (``seen[op_id]``)."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}
        self.changed = asyncio.Event()
        self.welcomed = asyncio.Event()
        self.closed = asyncio.Event()
        self._open: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self._accept = b""
        self._parts: list[bytes] = []

    async def open(self, base_url: str, path: str, *, hello: bool) -> None:
        """Connect, upgrade (Origin: the server's own), then say hello when asked."""
        parts = urlsplit(base_url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        loop = asyncio.get_running_loop()
        self._open = loop.create_future()
        key = base64.b64encode(os.urandom(16))
        self._accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        await loop.create_connection(lambda: self, host, port)
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {parts.scheme}://{host}:{port}\r\n\r\n"
        )
        assert self._transport is not None
        self._transport.write(request.encode())
        async with asyncio.timeout(20):
            await self._open
            if hello:
                self.send_text('{"type":"hello","v":1}')
                await self.welcomed.wait()

    def send_text(self, text: str) -> None:
        """Send one text message."""
        assert self._transport is not None
        self._transport.write(_frame(TEXT, text.encode()))

    async def close(self) -> None:
        """Send a close frame and wait (briefly) for the server's."""
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.write(_frame(CLOSE, struct.pack("!H", 1000)))
        try:
            async with asyncio.timeout(5):
                await self.closed.wait()
        except TimeoutError:
            self._transport.abort()

    # --- asyncio.Protocol -----------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        if self._open is not None and not self._open.done():
            self._open.set_exception(ConnectionError("closed before the upgrade"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self._buffer = bytes(self._buffer[:end]), self._buffer[end + 4 :]
            assert self._open is not None
            if not head.startswith(b"HTTP/1.1 101") or self._accept not in head:
                self._open.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
                return
            self._upgraded = True
            self._open.set_result(None)
        self._frames()

    def _frames(self) -> None:
        buffer = self._buffer
        now = time.perf_counter()
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self._frame_in(first & 0x80 != 0, first & 0x0F, payload, now)

    def _frame_in(self, fin: bool, opcode: int, payload: bytes, now: float) -> None:
        assert self._transport is not None
        if opcode == PING:
            self._transport.write(_frame(PONG, payload))
        elif opcode == CLOSE:
            if not self._transport.is_closing():
                self._transport.write(_frame(CLOSE, payload[:2]))
                self._transport.close()
        elif opcode in (TEXT, BINARY, 0x0):
            self._parts.append(payload)
            if fin:
                message, self._parts = b"".join(self._parts), []
                self._message(message, now)

    def _message(self, raw: bytes, now: float) -> None:
        data = orjson.loads(raw)
        kind = data.get("type")
        if kind == "welcome":
            self.welcomed.set()
        tag = data.get("op_id") if kind in ("effect", "raw") else None
        if isinstance(tag, int):
            self.seen[tag] = now
            self.changed.set()
