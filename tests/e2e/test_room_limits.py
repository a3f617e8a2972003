"""The per-room connection cap and the ping timeout on a real ``asciihub serve``.

Small settings keep the run short: a room of two sockets, pings every 0.3 s answered
within 0.6 s. Waits are on messages with deadlines; nothing sleeps to synchronise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from bench._room_client import RoomClient

from tests.e2e.rooms_setup import new_artwork, new_owner
from tests.e2e.servers import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture
async def server(data_dir: Path) -> AsyncIterator[str]:
    """A server whose rooms hold two sockets and drop a silent peer within a second."""
    env = {
        "ASCIIHUB_ROOM_MAX_CONNECTIONS": "2",
        "ASCIIHUB_ROOM_PING_INTERVAL": "0.3",
        "ASCIIHUB_ROOM_PING_TIMEOUT": "0.6",
        "ASCIIHUB_ROOM_PRESENCE_TTL": "600",  # so only the ping timeout can drop a socket
        "ASCIIHUB_ROOM_PRESENCE_DEBOUNCE": "0.05",
    }
    with running_server(data_dir, env) as (url, _proc):
        yield url


async def test_a_full_room_refuses_the_extra_socket_and_serves_the_others(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    editor = RoomClient(server, art["id"], client_id="editor", token=owner.token)
    viewer = RoomClient(server, art["id"], client_id="viewer", keep_replica=False)
    await editor.connect()
    await viewer.connect()
    extra = RoomClient(server, art["id"], client_id="extra", keep_replica=False)
    with pytest.raises(ConnectionError, match="1013"):
        await extra.connect()
    assert extra.close_code == 1013
    assert extra.errors[-1]["error"]["code"] == "room_full"
    # The two inside keep working: an op reaches both.
    await editor.op({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "#", None, None]]})
    await editor.wait_until(lambda: editor.seq == 1)
    await viewer.wait_until(lambda: viewer.seq == 1)
    assert not editor.closed.is_set() and not viewer.closed.is_set()
    # A place freed is a place taken.
    await viewer.close()
    welcome = await extra.connect()
    assert welcome["seq"] == 1 and welcome["role"] == "viewer"
    await extra.close()
    await editor.close()


async def test_a_peer_that_stops_answering_pings_is_dropped(server: str) -> None:
    owner = await new_owner(server)
    other = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    watcher = RoomClient(server, art["id"], client_id="watcher", token=owner.token)
    silent = RoomClient(server, art["id"], client_id="silent", token=other.token)
    await watcher.connect()
    await silent.connect()
    await watcher.wait_until(lambda: watcher.viewers.get("count") == 2)
    assert silent.sock is not None
    silent.sock.transport.pause_reading()  # pings wait unread, so no pong goes back
    await watcher.wait_until(lambda: watcher.viewers.get("count") == 1, timeout=15)
    # The watcher answers its pings: still in the room and served after many rounds.
    assert not watcher.closed.is_set()
    await watcher.op({"kind": "stroke", "frame": "f0", "cells": [[1, 1, "o", None, None]]})
    await watcher.wait_until(lambda: watcher.seq == 1)
    silent.sock.transport.abort()
    await watcher.close()
