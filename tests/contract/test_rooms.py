"""The realtime binding's contract (Durable Objects rows O1-O4, O9), on every backend.

One order per room with gapless seqs, persist before delivery, replay from a seq,
compaction behind a snapshot, presence with expiry, ephemeral messages outside the
log. Waits are on events with a deadline, never sleeps.
"""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import textwrap

import pytest
from tests.contract.conftest import RoomBackend

from asciihub.errors import ConfigError
from asciihub.realtime import LogCompacted, RoomEvent, RoomHub, Snapshot, open_room_hub


class Collector:
    """A listener that records events and wakes a waiter at a given count."""

    def __init__(self) -> None:
        self.events: list[RoomEvent] = []
        self._changed = asyncio.Event()

    def __call__(self, event: RoomEvent) -> None:
        self.events.append(event)
        self._changed.set()

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[RoomEvent]:
        async with asyncio.timeout(timeout):
            while len(self.events) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.events


async def test_append_gives_gapless_seqs_per_room(room_backend: RoomBackend) -> None:
    hub: RoomHub = await room_backend.open()
    assert await hub.last_seq("a") == 0
    seqs = [await hub.append("a", {"n": n}) for n in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    assert await hub.append("b", {"n": 0}) == 1
    assert await hub.last_seq("a") == 5
    events = await hub.read("a", 2)
    assert [(e.seq, e.data["n"]) for e in events] == [(3, 2), (4, 3), (5, 4)]
    assert [e.seq for e in await hub.read("a", 0, limit=2)] == [1, 2]
    assert await hub.read("a", 5) == []


async def test_concurrent_appends_from_two_hubs_get_one_order(room_backend: RoomBackend) -> None:
    first, second = await room_backend.open(), await room_backend.open()
    if room_backend.name == "sqlite":
        second = first  # the embedded backend serves one process
    results = await asyncio.gather(
        *(hub.append("r", {"i": i}) for i, hub in enumerate([first, second] * 20))
    )
    assert sorted(results) == list(range(1, 41))
    events = await first.read("r")
    assert [e.seq for e in events] == list(range(1, 41))
    assert sorted(e.data["i"] for e in events) == list(range(40))


async def test_subscribers_get_every_later_entry_in_order(room_backend: RoomBackend) -> None:
    writer = await room_backend.open()
    reader = writer if room_backend.name == "sqlite" else await room_backend.open()
    await writer.append("room", {"before": True})
    seen = Collector()
    subscription = await reader.subscribe("room", seen)
    for n in range(30):
        await writer.append("room", {"n": n})
    events = await seen.wait_for(30)
    assert [e.seq for e in events] == list(range(2, 32))
    assert [e.data["n"] for e in events] == list(range(30))
    await subscription.close()
    await writer.append("room", {"after": True})
    assert len(seen.events) == 30


async def test_ephemeral_messages_reach_listeners_and_never_the_log(
    room_backend: RoomBackend,
) -> None:
    writer = await room_backend.open()
    reader = writer if room_backend.name == "sqlite" else await room_backend.open()
    seen = Collector()
    await reader.subscribe("room", seen)
    await writer.publish("room", {"cursor": [1, 2]})
    await writer.append("room", {"op": 1})
    events = await seen.wait_for(2)
    assert {(e.seq, str(e.data)) for e in events} == {
        (None, "{'cursor': [1, 2]}"),
        (1, "{'op': 1}"),
    }
    assert [e.data for e in await writer.read("room")] == [{"op": 1}]


async def test_snapshot_compacts_the_log(room_backend: RoomBackend) -> None:
    hub: RoomHub = await room_backend.open()
    for n in range(10):
        await hub.append("doc", {"n": n})
    assert await hub.load_snapshot("doc") is None
    await hub.save_snapshot("doc", Snapshot(6, {"state": "at 6"}))
    await hub.save_snapshot("doc", Snapshot(4, {"state": "older"}))  # ignored
    snap = await hub.load_snapshot("doc")
    assert snap == Snapshot(6, {"state": "at 6"})
    assert [e.seq for e in await hub.read("doc", 6)] == [7, 8, 9, 10]
    with pytest.raises(LogCompacted) as caught:
        await hub.read("doc", 3)
    assert caught.value.code == "room_log_compacted"
    assert await hub.append("doc", {"n": 10}) == 11
    assert await hub.last_seq("doc") == 11


async def test_presence_expires_without_heartbeat(room_backend: RoomBackend) -> None:
    hub: RoomHub = await room_backend.open()
    await hub.join("p", "conn-1", "alice", ttl=30, data={"role": "viewer"})
    await hub.join("p", "conn-2", "alice", ttl=30, data={})
    await hub.join("p", "conn-3", "bob", ttl=10, data={})
    members = await hub.members("p")
    assert [(m.member_id, m.user_id) for m in members] == [
        ("conn-1", "alice"),
        ("conn-2", "alice"),
        ("conn-3", "bob"),
    ]
    assert members[0].data == {"role": "viewer"}
    room_backend.clock.now += 15
    await hub.join("p", "conn-2", "alice", ttl=30, data={})  # a heartbeat
    room_backend.clock.now += 20
    assert [m.member_id for m in await hub.members("p")] == ["conn-2"]
    await hub.leave("p", "conn-2")
    assert await hub.members("p") == []


async def test_delete_room_forgets_everything(room_backend: RoomBackend) -> None:
    hub: RoomHub = await room_backend.open()
    await hub.append("gone", {"n": 1})
    await hub.save_snapshot("gone", Snapshot(1, {}))
    await hub.delete_room("gone")
    assert await hub.last_seq("gone") == 0
    assert await hub.load_snapshot("gone") is None
    assert await hub.read("gone") == []


async def test_ping(room_backend: RoomBackend) -> None:
    hub: RoomHub = await room_backend.open()
    await hub.ping()


_WRITER = """
import asyncio, os, sys
from asciihub.realtime import open_room_hub

async def main():
    hub = await open_room_hub(sys.argv[1])
    for n in range(int(sys.argv[2])):
        await hub.append("crash", {"n": n})
    print("acked", flush=True)
    os.kill(os.getpid(), 9)

asyncio.run(main())
"""


async def test_acknowledged_entries_survive_kill_9(room_backend: RoomBackend) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        textwrap.dedent(_WRITER),
        room_backend.url,
        "25",
        stdout=subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert out.strip() == b"acked"
    assert proc.returncode == -9
    hub: RoomHub = await room_backend.open()
    events = await hub.read("crash")
    assert [e.data["n"] for e in events] == list(range(25))
    assert await hub.append("crash", {"n": 25}) == 26


async def test_unknown_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="rooms_url"):
        await open_room_hub("kafka://x")
    with pytest.raises(ConfigError, match="names no file"):
        await open_room_hub("sqlite://")


async def test_memory_url_keeps_nothing_after_close() -> None:
    hub = await open_room_hub("memory://")
    assert await hub.append("x", {}) == 1
    await hub.close()
    again = await open_room_hub("memory://")
    assert await again.last_seq("x") == 0
    await again.close()


async def test_redis_without_an_append_only_file_is_reported(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import redis.asyncio as aioredis

    from asciihub.realtime.redis import RedisRoomHub

    admin = aioredis.Redis.from_url(redis_url)
    answer = (await admin.config_get("appendonly"))["appendonly"]
    await admin.aclose()
    caplog.set_level(logging.WARNING, logger="asciihub.realtime.redis")
    hub = await open_room_hub(redis_url, namespace="persistence-check")
    assert isinstance(hub, RedisRoomHub)
    warned = [r for r in caplog.records if "rooms_redis_not_persistent" in r.getMessage()]
    assert hub.persistent is (answer == "yes")  # asked at start-up
    assert bool(warned) is (answer != "yes")
    await hub.ping()  # the health check still passes, and says it only once
    again = [r for r in caplog.records if "rooms_redis_not_persistent" in r.getMessage()]
    assert len(again) == len(warned)
    await hub.close()
