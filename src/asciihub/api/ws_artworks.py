"""``/ws/artworks/{id}``: viewers, watch-together playback, editing, cursors.

Who may enter: whoever may view the artwork (its visibility, the owner, a share
link in ``?share=`` or ``X-Share-Token``); the owner (with a write-scoped session or
token) and edit-link holders edit, everyone else watches. The first message is
``hello``; see docs/realtime.md for the rest.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from asciihub.api.auth import principal_for, share_grant
from asciihub.api.sockets import Connection, error_message
from asciihub.api.state import services
from asciihub.errors import AsciihubError, Forbidden, InvalidInput, Unauthenticated
from asciihub.services.rooms import LiveRoom

_CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class SocketPeer:
    """A connection as a room member."""

    def __init__(
        self, conn: Connection, *, user_id: str, presence_key: str, role: str, client_id: str
    ) -> None:
        self.conn = conn
        self.member_id = secrets.token_hex(8)
        self.user_id = user_id
        self.presence_key = presence_key
        self.role = role
        self.client_id = client_id
        self.last_cursor = 0.0

    def send_text(self, text: str) -> bool:
        """Queue a message that must arrive."""
        return self.conn.send_text(text)

    def send_volatile(self, text: str) -> None:
        """Queue a droppable message."""
        self.conn.send_volatile(text)

    def close(self, code: int, reason: str = "") -> None:
        """Close soon."""
        self.conn.close(code, reason)


def _hello(message: dict[str, Any]) -> str:
    if message.get("type") != "hello":
        text = 'the first message must be {"type": "hello", ...}'
        raise InvalidInput(text, code="expected_hello")
    client_id = message.get("client_id")
    if client_id is None:
        return secrets.token_hex(8)
    if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
        text = "client_id must be 1 to 64 letters, digits, _ or -"
        raise InvalidInput(text, code="invalid_client_id")
    return client_id


async def artwork_room(websocket: WebSocket) -> None:
    """One socket in an artwork's room."""
    built = services(websocket)
    conn = Connection(websocket, built.settings)
    await conn.accept()
    artwork_id = websocket.path_params["artwork_id"]
    room: LiveRoom | None = None
    peer: SocketPeer | None = None
    try:
        principal = await principal_for(websocket)
        grant = await share_grant(websocket)
        row = await built.artworks.row_for(principal, artwork_id, grant=grant)
        owner = principal.user_id == row.user_id and principal.can_write()
        can_edit = owner or (grant is not None and grant.allows(artwork_id, "edit"))
        messages = conn.messages()
        first = await anext(messages, None)
        if first is None:
            return
        client_id = _hello(first)
        person = principal.user_id or f"guest:{client_id}"
        peer = SocketPeer(
            conn,
            user_id=person,
            presence_key=person,
            role="editor" if can_edit else "viewer",
            client_id=client_id,
        )
        room = await built.live_rooms.enter(artwork_id)
        await room.join(peer, first.get("epoch"), first.get("last_seq"))
        async for message in messages:
            await _handle(room, peer, conn, message, built.settings.room_cursor_interval)
    except AsciihubError as exc:
        conn.fail(exc)
    finally:
        if room is not None:
            if peer is not None:
                await room.leave(peer)
            await built.live_rooms.release(room)
        await conn.finish()


async def _handle(
    room: LiveRoom, peer: SocketPeer, conn: Connection, message: dict[str, Any], interval: float
) -> None:
    kind = message["type"]
    try:
        if kind == "op":
            await room.submit(peer, message)
        elif kind == "cursor":
            now = time.monotonic()
            if now - peer.last_cursor >= interval:
                peer.last_cursor = now
                await room.cursor(peer, message)
        elif kind == "playback":
            await room.playback(peer, message)
        elif kind == "chat":
            await room.chat(peer, message)
        elif kind == "chat_history":
            await room.chat_history(peer, message)
        elif kind == "time":
            conn.send(
                {
                    "type": "time",
                    "client_time": message.get("client_time"),
                    "server_time": int(time.time() * 1000),
                }
            )
        elif kind == "ping":
            conn.send({"type": "pong"})
        else:
            text = f"unknown message type {kind!r}"
            raise InvalidInput(text, code="unknown_type")
    except Forbidden:
        raise
    except (InvalidInput, Unauthenticated) as exc:
        # A refused op leaves the socket open: the client drops it from its pending ops.
        refusal = error_message(exc.code, exc.message)
        if "op_id" in message:
            refusal["op_id"] = message["op_id"]
        conn.send(refusal)


routes = [WebSocketRoute("/ws/artworks/{artwork_id}", artwork_room, name="artwork_room")]
