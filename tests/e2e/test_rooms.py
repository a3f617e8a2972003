"""``/ws/jobs`` and ``/ws/artworks`` on a real ``asciihub serve`` (embedded backends).

Real sockets: uvicorn on a free port, the ``websockets`` client of bench/_room_client.
Waits are on messages with deadlines; nothing sleeps to synchronise.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pytest
import websockets
from bench._room_client import RoomClient, open_socket, read_until_closed, watch_job

from asciihub.realtime.keys import SQLITE_LOG, SQLITE_SNAPSHOTS
from asciihub.services.collab import key_between
from tests.e2e.rooms_setup import (
    GRID,
    new_artwork,
    new_owner,
    patch_frames,
    read_artwork,
    share,
)
from tests.e2e.servers import running_server

pytestmark = pytest.mark.e2e


@pytest.fixture
async def server(data_dir: Path) -> AsyncIterator[str]:
    """One embedded ``asciihub serve``; saves debounced briefly, presence quick."""
    env = {
        "ASCIIHUB_ROOM_SAVE_DEBOUNCE": "0.2",
        "ASCIIHUB_ROOM_PRESENCE_DEBOUNCE": "0.05",
        "ASCIIHUB_ROOM_SNAPSHOT_EVERY": "50",
        "ASCIIHUB_ROOM_MAX_MESSAGE_BYTES": "4096",
    }
    with running_server(data_dir, env) as (url, _proc):
        yield url


def random_op(rng: random.Random, frames: list[str]) -> dict[str, object]:
    """A seeded random op over the known frames (some will become noops)."""
    roll = rng.random()
    if roll < 0.7:
        cells = [
            [rng.randrange(6), rng.randrange(16), rng.choice("#*+o@"), None, None]
            for _ in range(rng.randint(1, 6))
        ]
        return {"kind": "stroke", "frame": rng.choice(frames), "cells": cells}
    if roll < 0.8:
        return {"kind": rng.choice(["undo", "redo"])}
    if roll < 0.9:
        return {
            "kind": "frame_update",
            "id": rng.choice(frames),
            "duration_ms": rng.randint(20, 400),
        }
    return {"kind": "resize", "width": rng.randint(8, 16), "height": rng.randint(3, 6)}


async def test_job_stream_sends_every_frame_in_order_then_done(server: str) -> None:
    owner = await new_owner(server)
    async with httpx.AsyncClient(base_url=server, headers=owner.headers) as http:
        made = await http.post(
            "/api/generate",
            json={
                "prompt": "a lighthouse",
                "frames": 8,
                "style": "simple",
                "width": 24,
                "height": 8,
            },
        )
        assert made.status_code == 202, made.text
        job_id = made.json()["job_id"]
    messages = await watch_job(server, job_id, token=owner.token)
    kinds = [m["type"] for m in messages]
    assert kinds[0] == "hello" and kinds[-1] == "done"
    frames = [m for m in messages if m["type"] == "frame"]
    assert [f["index"] for f in frames] == list(range(1, 9))
    assert all(f["frame"]["text"] for f in frames)
    art = await read_artwork(server, owner, messages[-1]["artwork_id"])
    assert [f["text"] for f in art["frames"]] == [f["frame"]["text"] for f in frames]
    # A late joiner gets the whole story again; somebody else gets nothing.
    again = await watch_job(server, job_id, token=owner.token)
    assert [m["type"] for m in again] == kinds
    # A watcher that reconnects with ?after=SEQ gets only what follows; junk is refused.
    sock = await open_socket(server, f"/ws/jobs/{job_id}?after=3", token=owner.token)
    resumed = await read_until_closed(sock)
    assert resumed[0]["type"] == "hello"
    assert [m["seq"] for m in resumed[1:]] == [m["seq"] for m in messages[1:] if m["seq"] > 3]
    sock = await open_socket(server, f"/ws/jobs/{job_id}?after=x", token=owner.token)
    refused_after = await read_until_closed(sock)
    assert refused_after[-1]["error"]["code"] == "invalid_after" and sock.close_code == 4400
    stranger = await new_owner(server)
    sock = await open_socket(server, f"/ws/jobs/{job_id}", token=stranger.token)
    refused = await read_until_closed(sock)
    assert refused[-1]["error"]["code"] == "job_not_found"
    assert sock.close_code == 4404


async def test_editors_converge_and_the_room_saves(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner)
    edit_link = await share(server, owner, art["id"], "edit")
    clients = [
        RoomClient(
            server,
            art["id"],
            client_id=f"ed{n}",
            token=owner.token if n % 2 else None,
            share=None if n % 2 else edit_link,
        )
        for n in range(4)
    ]
    for client in clients:
        welcome = await client.connect()
        assert welcome["role"] == "editor" and welcome["resync"] == "snapshot"
    rng = random.Random(7)

    async def edit(client: RoomClient) -> None:
        for _ in range(25):
            await client.op(random_op(rng, ["f0", "f1"]))

    await asyncio.gather(*(edit(c) for c in clients))
    total = 100
    for client in clients:
        await client.wait_until(lambda c=client: c.seq >= total)  # type: ignore[misc]
    digests = {c.replica.confirmed_digest() for c in clients if c.replica}
    assert len(digests) == 1
    assert all(not c.replica.pending() for c in clients if c.replica)
    expected = clients[0].replica
    assert expected is not None
    document = expected.confirmed().to_document(fps=art["fps"])
    for client in clients:
        await client.close()
    # The last editor left: the room writes a new version of the document.
    deadline = asyncio.get_running_loop().time() + 20
    while True:
        stored = await read_artwork(server, owner, art["id"])
        saved = [(f["text"], f["duration_ms"]) for f in stored["frames"]]
        if saved == [(f.text, f.duration_ms) for f in document.frames]:
            break
        assert asyncio.get_running_loop().time() < deadline, stored["frames"]
        await asyncio.sleep(0.05)


async def test_reconnect_replays_missed_effects_or_sends_a_snapshot(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner)
    writer = RoomClient(server, art["id"], client_id="writer", token=owner.token)
    reader = RoomClient(server, art["id"], client_id="reader", token=owner.token)
    await writer.connect()
    await reader.connect()
    for n in range(5):
        await writer.op({"kind": "stroke", "frame": "f0", "cells": [[0, n, "a", None, None]]})
    await reader.wait_until(lambda: reader.seq >= 5)
    await reader.drop()  # mid-stream, abruptly
    for n in range(5):
        await writer.op({"kind": "stroke", "frame": "f1", "cells": [[1, n, "b", None, None]]})
    await writer.wait_until(lambda: writer.seq >= 10)
    welcome = await reader.connect()
    assert welcome["resync"] == "replay" and welcome["replay_from"] == 5
    await reader.wait_until(lambda: reader.seq >= 10)
    assert reader.replica and writer.replica
    assert reader.replica.confirmed_digest() == writer.replica.confirmed_digest()

    # Past a compaction (a snapshot every 50 entries) the answer is a snapshot.
    await reader.drop()
    for n in range(60):
        await writer.op({"kind": "stroke", "frame": "f0", "cells": [[2, n % 16, "c", None, None]]})
    await writer.wait_until(lambda: writer.seq >= 70)
    welcome = await reader.connect()
    assert welcome["resync"] == "snapshot" and welcome["seq"] >= 70
    await reader.wait_until(lambda: reader.seq >= 70)
    assert reader.replica.confirmed_digest() == writer.replica.confirmed_digest()
    await writer.close()
    await reader.close()


async def test_replaced_document_starts_a_new_epoch(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner)
    client = RoomClient(server, art["id"], client_id="c1", token=owner.token)
    first = await client.connect()
    await client.op({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "x", None, None]]})
    await client.wait_until(lambda: client.seq >= 1)
    # Let the room's own save land first, so the PATCH does not race it (409).
    deadline = asyncio.get_running_loop().time() + 20
    while (await read_artwork(server, owner, art["id"]))["frames"][0]["text"][0] != "x":
        assert asyncio.get_running_loop().time() < deadline, "the room did not save"
        await asyncio.sleep(0.05)
    await patch_frames(server, owner, art["id"], "replaced\nby a PATCH")
    await client.wait_until(lambda: client.closed.is_set())
    assert client.resets == 1 and client.close_code == 4409
    welcome = await client.connect()
    assert welcome["epoch"] != first["epoch"] and welcome["resync"] == "snapshot"
    assert client.replica is not None
    text = client.replica.confirmed().to_document(fps=10).frames[0].text
    assert text.startswith("replaced")
    await client.close()


async def test_presence_counts_people_once_and_notices_abrupt_disconnects(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    other = await new_owner(server)
    tabs = [RoomClient(server, art["id"], client_id=f"tab{n}", token=owner.token) for n in range(2)]
    guest = RoomClient(server, art["id"], client_id="guest1", token=other.token)
    for client in [*tabs, guest]:
        await client.connect()
    await guest.wait_until(lambda: guest.viewers.get("count") == 2)
    assert guest.role == "viewer" and guest.viewers["editors"] == 1
    await tabs[0].drop()  # the owner still has a tab open: still two people
    await tabs[1].drop()
    await guest.wait_until(lambda: guest.viewers.get("count") == 1)
    assert guest.viewers["editors"] == 0
    await guest.close()


async def test_permission_refusals(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner)
    view_link = await share(server, owner, art["id"], "view")
    viewer = RoomClient(server, art["id"], client_id="v1", share=view_link)
    welcome = await viewer.connect()
    assert welcome["role"] == "viewer"
    await viewer.send({"type": "op", "op_id": 1, "op": {"kind": "undo"}})
    await viewer.wait_until(lambda: viewer.closed.is_set())
    assert viewer.close_code == 4403
    assert viewer.errors[-1]["error"]["code"] == "read_only"
    # A private artwork without credentials is not found.
    stranger = RoomClient(server, art["id"], client_id="s1")
    with pytest.raises(ConnectionError, match="4404"):
        await stranger.connect()
    # A cookie from another site's page: the handshake is refused.
    with pytest.raises(websockets.InvalidStatus):
        await open_socket(
            server, f"/ws/artworks/{art['id']}", token=owner.token, origin="https://evil.example"
        )


async def test_a_bearer_token_without_origin_is_not_a_browser(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    path = f"/ws/artworks/{art['id']}"
    sock = await open_socket(server, path, token=owner.token, origin=None)
    await sock.send(orjson.dumps({"type": "hello", "v": 1, "client_id": "script"}).decode())
    welcome = orjson.loads(await sock.recv())
    assert welcome["type"] == "welcome" and welcome["role"] == "editor"
    await sock.close()
    # Without a token (anonymous, or a cookie) a missing Origin is still refused, and a
    # browser Origin is checked even when a token comes with it.
    for token, origin in ((None, None), (owner.token, "https://evil.example")):
        with pytest.raises(websockets.InvalidStatus):
            await open_socket(server, path, token=token, origin=origin)
    # An unknown token is refused whatever the Origin.
    with pytest.raises(websockets.InvalidStatus):
        await open_socket(server, path, token="ah_" + "x" * 43, origin=None)


async def test_bad_messages_get_close_codes_and_others_are_served(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    steady = RoomClient(server, art["id"], client_id="steady", token=owner.token)
    await steady.connect()
    cases = [
        ("x" * 5000, 1009),
        ("not json", 4400),
        ('{"no": "type"}', 4400),
        ('{"type": "hello"}', None),
    ]
    for raw, code in cases:
        sock = await open_socket(server, f"/ws/artworks/{art['id']}", token=owner.token)
        if code is None:  # a hello, then an unknown type: refused but served
            await sock.send(raw)
            await sock.send('{"type": "dance"}')
            replies = [orjson.loads(await sock.recv()) for _ in range(2)]
            assert replies[-1]["error"]["code"] == "unknown_type"
            await sock.close()
            continue
        await sock.send(raw)
        replies = await read_until_closed(sock)
        assert sock.close_code == code, raw[:20]
        assert replies[-1]["type"] == "error"
    op_id = await steady.op({"kind": "stroke", "frame": "f0", "cells": [[0, 0, "k", None, None]]})
    await steady.wait_until(lambda: steady.seq >= 1)
    assert op_id == 1 and not steady.errors
    # An op that fails validation is refused by op id; the socket stays.
    await steady.send(
        {"type": "op", "op_id": 2, "op": {"kind": "stroke", "frame": "f0", "cells": "no"}}
    )
    await steady.wait_until(lambda: bool(steady.errors))
    assert steady.errors[0]["op_id"] == 2 and not steady.closed.is_set()
    await steady.close()


async def test_watch_together_playback_reaches_viewers(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public", frames=3)
    host = RoomClient(server, art["id"], client_id="host", token=owner.token)
    viewers = [
        RoomClient(server, art["id"], client_id=f"w{n}", keep_replica=False) for n in range(3)
    ]
    await host.connect()
    for viewer in viewers:
        await viewer.connect()
    await host.send({"type": "playback", "playing": True, "position_ms": 150, "rate": 2.0})
    for viewer in viewers:
        await viewer.wait_until(lambda v=viewer: v.playback.get("playing") is True)  # type: ignore[misc]
        assert viewer.playback["position_ms"] == 150 and viewer.playback["rate"] == 2.0
        assert viewer.playback["at"] <= viewer.playback["server_time"]
    # A late viewer gets the state in its welcome; viewers may not host.
    late = RoomClient(server, art["id"], client_id="late", keep_replica=False)
    welcome = await late.connect()
    assert (
        welcome["playback"]["playing"] is True
        and welcome["playback"]["at"] == viewers[0].playback["at"]
    )
    await late.send({"type": "playback", "playing": False, "position_ms": 0})
    await late.wait_until(lambda: late.closed.is_set())
    assert late.close_code == 4403
    for client in [host, *viewers]:
        await client.close()
    assert GRID


async def test_a_stalled_reader_is_closed_and_resyncs(data_dir: Path) -> None:
    env = {
        "ASCIIHUB_ROOM_SEND_QUEUE": "8",
        "ASCIIHUB_ROOM_PRESENCE_DEBOUNCE": "0.05",
        "ASCIIHUB_ROOM_PING_INTERVAL": "600",  # so only the send queue can drop it
        "ASCIIHUB_ROOM_PRESENCE_TTL": "600",
    }
    with running_server(data_dir, env) as (url, _proc):
        owner = await new_owner(url)
        wide = "\n".join("." * 200 for _ in range(50))
        async with httpx.AsyncClient(base_url=url, headers=owner.headers) as http:
            made = await http.post(
                "/api/artworks",
                json={"title": "big", "visibility": "public", "frames": [{"text": wide}]},
            )
            art = made.json()
        editor = RoomClient(url, art["id"], client_id="editor", token=owner.token)
        await editor.connect()
        # A viewer that reads nothing: its client stops reading after one message.
        stalled = await open_socket(
            url, f"/ws/artworks/{art['id']}", max_queue=1, receive_buffer=4096
        )
        await stalled.send('{"type": "hello", "v": 1, "client_id": "stalled"}')
        await editor.wait_until(lambda: editor.viewers.get("count") == 2)
        # Copies of the 200x50 frame: each effect lists 10,000 cells (about 250 KB), so
        # the kernel buffers fill after a few MB and then the send queue of 8.
        key = "a0"
        for n in range(60):
            key = key_between(key, None)
            op = {"kind": "frame_add", "id": f"c{n}", "key": key, "duration_ms": 100}
            await editor.op({**op, "copy_of": "f0"})
            await editor.wait_until(lambda n=n: editor.seq >= n + 1, timeout=60)  # type: ignore[misc]
            if editor.viewers.get("count") == 1:
                break
        # The server closed the stalled socket (4000) instead of queueing for it.
        await editor.wait_until(lambda: editor.viewers.get("count") == 1, timeout=30)
        stalled.transport.abort()
        assert not editor.closed.is_set()
        back = RoomClient(url, art["id"], client_id="stalled", keep_replica=True)
        welcome = await back.connect()
        assert (
            welcome["seq"] == editor.seq and back.replica is not None and editor.replica is not None
        )
        assert back.replica.confirmed_digest() == editor.replica.confirmed_digest()
        await back.close()
        await editor.close()


async def test_chat_is_kept_with_the_room_and_paged_on_join(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    writer = RoomClient(
        server, art["id"], client_id="chatty", token=owner.token, keep_replica=False
    )
    await writer.connect()
    seen: list[dict[str, object]] = []
    writer.on_message = lambda m: seen.append(m) if m["type"] == "chat" else None
    for n in range(55):
        await writer.send({"type": "chat", "text": f"message {n}"})
    await writer.wait_until(lambda: len(seen) == 55)
    assert [m["text"] for m in seen] == [f"message {n}" for n in range(55)]
    assert [m["seq"] for m in seen] == list(range(1, 56))
    # A guest may read but not write; the socket stays open.
    guest = RoomClient(server, art["id"], client_id="guest", keep_replica=False)
    welcome = await guest.connect()
    assert [m["text"] for m in welcome["chat"]] == [f"message {n}" for n in range(5, 55)]
    await guest.send({"type": "chat", "text": "hello?"})
    await guest.wait_until(lambda: bool(guest.errors))
    assert guest.errors[0]["error"]["code"] == "chat_needs_login" and not guest.closed.is_set()
    pages: list[dict[str, object]] = []
    guest.on_message = lambda m: pages.append(m) if m["type"] == "chat_history" else None
    await guest.send({"type": "chat_history", "before": welcome["chat"][0]["seq"]})
    await guest.wait_until(lambda: bool(pages))
    older = pages[0]["messages"]
    assert isinstance(older, list) and [m["text"] for m in older] == [
        f"message {n}" for n in range(5)
    ]
    await guest.close()
    await writer.close()


async def test_cursors_are_relayed_but_never_logged_and_floods_are_closed(server: str) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    mover = RoomClient(server, art["id"], client_id="mover", token=owner.token)
    watcher = RoomClient(server, art["id"], client_id="watcher", keep_replica=False)
    await mover.connect()
    await watcher.connect()
    cursors: list[dict[str, object]] = []
    watcher.on_message = lambda m: cursors.append(m) if m["type"] == "cursor" else None
    await mover.send({"type": "cursor", "frame": "f0", "row": 2, "col": 3, "selection": None})
    await watcher.wait_until(lambda: bool(cursors))
    assert cursors[0]["row"] == 2 and cursors[0]["col"] == 3 and cursors[0]["user_id"]
    assert mover.seq == 0 and watcher.seq == 0  # nothing entered the log
    # More than room_rate_burst (200) messages at once: closed with 4429.
    flood = await open_socket(server, f"/ws/artworks/{art['id']}", token=owner.token)
    await flood.send('{"type": "hello", "v": 1}')
    for _ in range(260):
        try:
            await flood.send('{"type": "ping"}')
        except websockets.ConnectionClosed:
            break
    replies = await read_until_closed(flood)
    assert flood.close_code == 4429
    assert replies[-1]["error"]["code"] == "rate_limited"
    pongs: list[dict[str, object]] = []
    watcher.on_message = lambda m: pongs.append(m) if m["type"] == "pong" else None
    await watcher.send({"type": "ping"})
    await watcher.wait_until(lambda: bool(pongs))  # the others are still served
    assert not watcher.closed.is_set()
    await mover.close()
    await watcher.close()


async def test_the_control_log_is_compacted_and_rooms_reopen_from_its_snapshot(
    server: str, data_dir: Path
) -> None:
    owner = await new_owner(server)
    art = await new_artwork(server, owner, visibility="public")
    host = RoomClient(server, art["id"], client_id="host", token=owner.token)
    viewer = RoomClient(server, art["id"], client_id="viewer", keep_replica=False)
    await host.connect()
    await viewer.connect()
    for n in range(60):  # the snapshot comes every 50 entries (room_snapshot_every)
        await host.send({"type": "playback", "playing": n % 2 == 0, "position_ms": n * 10})
    await viewer.wait_until(lambda: viewer.playback.get("position_ms") == 590)
    room = f"artwork:{art['id']}"
    with sqlite3.connect(data_dir / "rooms.sqlite3") as db:
        kept = db.execute(f"SELECT min(seq), count(*) FROM {SQLITE_LOG} WHERE room = ?", (room,))
        first, count = kept.fetchone()
        (snap_seq,) = db.execute(
            f"SELECT seq FROM {SQLITE_SNAPSHOTS} WHERE room = ?", (room,)
        ).fetchone()
    assert snap_seq == 50 and first == 51 and count == 11  # one epoch entry + 60 plays
    await host.close()
    await viewer.close()
    # Reopened from the snapshot plus the rest of the log: the last playback holds.
    again = RoomClient(server, art["id"], client_id="again", token=owner.token)
    welcome = await again.connect()
    assert welcome["playback"]["position_ms"] == 590 and welcome["playback"]["playing"] is False
    # An outside change still starts a new epoch after the compaction.
    await patch_frames(server, owner, art["id"], "replaced after compaction")
    await again.wait_until(lambda: again.closed.is_set())
    assert again.close_code == 4409
    fresh = await again.connect()
    assert fresh["epoch"] != welcome["epoch"]
    await again.close()
