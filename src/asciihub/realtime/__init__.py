"""The realtime binding (Durable Objects role): rooms with one order of events each.

:func:`open_room_hub` is the only code that knows URL schemes: ``sqlite:///abs/path``
(the embedded default: in-process fan-out, log and snapshots durable in a file),
``memory://`` (the same, kept in RAM only: tests) and ``redis://host:port/db``
(optionally ``?namespace=NAME``; any API process may hold any socket).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from asciihub.errors import ConfigError
from asciihub.realtime.protocol import (
    Listener,
    LogCompacted,
    Member,
    RoomEvent,
    RoomHub,
    Snapshot,
    Subscription,
)

__all__ = [
    "Listener",
    "LogCompacted",
    "Member",
    "RoomEvent",
    "RoomHub",
    "Snapshot",
    "Subscription",
    "open_room_hub",
]


async def open_room_hub(
    url: str, *, namespace: str | None = None, clock: Callable[[], float] = time.time
) -> RoomHub:
    """Open the hub named by ``url``; ConfigError for an unknown scheme."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("memory", "sqlite"):
        from asciihub.realtime.memory import MemoryRoomHub

        if scheme == "memory":
            return MemoryRoomHub(None, clock=clock)
        rest = url[len("sqlite://") :]
        if not rest:
            message = f"rooms_url {url!r} names no file; use sqlite:///absolute/path.sqlite3"
            raise ConfigError(message)
        return MemoryRoomHub(Path(unquote(rest)), clock=clock)
    if scheme in ("redis", "rediss", "unix"):
        from asciihub.realtime.redis import RedisRoomHub

        parts = urlsplit(url)
        query = parse_qsl(parts.query, keep_blank_values=True)
        given = [value for name, value in query if name == "namespace"]
        rest_query = [(name, value) for name, value in query if name != "namespace"]
        plain = urlunsplit(parts._replace(query=urlencode(rest_query)))
        chosen = (given[-1] if given else "") or namespace or "asciihub"
        hub = RedisRoomHub(plain, namespace=chosen, clock=clock)
        await hub.check_persistence()  # a warning at start-up when Redis keeps no AOF
        return hub
    message = (
        f"rooms_url {url!r} has an unknown scheme; use sqlite:///path, memory:// "
        "or redis://host:port/db"
    )
    raise ConfigError(message)
