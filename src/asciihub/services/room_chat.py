"""Chat in an artwork room: messages kept in the room's chat log, paged on join.

Chat lives in its own log, ``artwork:{id}:chat``, so it outlives epochs (a document
replaced outside the room keeps its conversation). Only signed-in people write; every
member of the room reads. A message may carry one image attachment (uploaded first
over HTTP, see :mod:`asciihub.services.room_chat_images`); then its text may be empty.
"""

from __future__ import annotations

import time
import unicodedata
from typing import Any

from asciihub.errors import InvalidInput, Unauthenticated
from asciihub.realtime.protocol import RoomEvent, RoomHub

PAGE = 50


def chat_room(artwork_id: str) -> str:
    """The chat log of an artwork room."""
    return f"artwork:{artwork_id}:chat"


def chat_json(event: RoomEvent) -> dict[str, Any]:
    """A logged chat entry as clients see it."""
    return {"seq": event.seq, **event.data}


def parse_chat(
    user_id: str,
    is_guest: bool,
    message: dict[str, Any],
    max_chars: int,
    image: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A client's ``chat`` message as a log entry; refused for guests and bad text.

    ``image`` is the checked attachment the message names; with one, text may be empty.
    """
    if is_guest:
        text = "log in to chat in this room"
        raise Unauthenticated(text, code="chat_needs_login")
    body = message.get("text", "" if image is not None else None)
    if not isinstance(body, str) or len(body) > max_chars or not (body.strip() or image):
        text = f"a chat message is text of 1 to {max_chars} characters (room_chat_max_chars)"
        if image is not None:
            text += "; with an image the text may be empty"
        raise InvalidInput(text, code="invalid_chat")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in body):
        text = "a chat message may not contain control characters"
        raise InvalidInput(text, code="invalid_chat")
    entry: dict[str, Any] = {"user_id": user_id, "text": body, "at": int(time.time() * 1000)}
    if image is not None:
        entry["image"] = image
    return entry


async def chat_page(hub: RoomHub, artwork_id: str, before: int | None) -> list[dict[str, Any]]:
    """Up to ``PAGE`` messages before seq ``before`` (None: the newest), oldest first."""
    room = chat_room(artwork_id)
    last = await hub.last_seq(room)
    end = last + 1 if before is None else min(before, last + 1)
    start = max(0, end - 1 - PAGE)
    events = await hub.read(room, start, limit=PAGE)
    return [chat_json(e) for e in events if (e.seq or 0) < end]
