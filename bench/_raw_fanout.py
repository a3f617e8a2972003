"""The baseline of the rooms bench: a bare ASGI WebSocket fan-out, nothing else.

Every text message any socket sends is sent to every socket (the sender included),
with no rooms, no log, no persistence and no checks: what uvicorn and the
``websockets`` protocol cost on this machine.
"""

from __future__ import annotations

import asyncio
from typing import Any

SOCKETS: set[Any] = set()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Accept, then forward each message to everybody."""
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    SOCKETS.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None or text.startswith('{"type":"hello"'):
                continue
            out = {"type": "websocket.send", "text": text}
            await asyncio.gather(*(peer(out) for peer in list(SOCKETS)), return_exceptions=True)
    finally:
        SOCKETS.discard(send)
