"""The scale-out room hub: a Redis Stream per room, read by every API process.

``append`` runs one Lua script: ``INCR`` the room's seq counter and ``XADD`` the entry
with the stream id ``{seq}-0``, so the stream id *is* the seq and every process sees one
order. Each process runs one ``XREAD BLOCK`` task per room it has listeners for and
hands entries to them. Ephemeral messages go over Pub/Sub (at most once, never
stored). Presence is a sorted set scored by expiry plus a hash of member data.
Durability of acknowledged entries follows the server's persistence (run Redis with
``appendonly yes`` and ``appendfsync always`` to survive a kill -9 of Redis itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import orjson
import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from asciihub.errors import Unavailable
from asciihub.realtime.keys import (
    channel,
    member_data_key,
    presence_key,
    seq_key,
    snapshot_key,
    stream_key,
)
from asciihub.realtime.protocol import (
    Listener,
    LogCompacted,
    Member,
    RoomEvent,
    Snapshot,
    Subscription,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

_APPEND = """
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], seq .. '-0', 'd', ARGV[1])
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
return seq
"""

_SNAPSHOT = """
local current = tonumber(redis.call('HGET', KEYS[1], 'seq') or '-1')
local seq = tonumber(ARGV[1])
if current >= seq then return 0 end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'data', ARGV[2])
redis.call('XTRIM', KEYS[2], 'MINID', (seq + 1) .. '-0')
return 1
"""

_PRESENCE_KEEP = 3600  # presence keys vanish an hour after the last heartbeat


def _unavailable(exc: Exception) -> Unavailable:
    message = f"Redis (rooms) is unreachable: {exc}"
    return Unavailable(message, code="rooms_unavailable")


class _StreamReader:
    """One XREAD BLOCK loop for one room, delivering to this process's listeners."""

    def __init__(self, hub: RedisRoomHub, room: str, start: int) -> None:
        self.hub = hub
        self.room = room
        self.listeners: set[Listener] = set()
        self.last = start
        self.task = asyncio.create_task(self._run(), name=f"room-reader:{room}")

    async def _run(self) -> None:
        key = stream_key(self.hub.namespace, self.room)
        while True:
            try:
                answer: Any = await self.hub.blocking.xread(
                    {key: f"{self.last}-0"}, count=500, block=self.hub.block_ms
                )
            except asyncio.CancelledError:
                raise
            except (redis_errors.RedisError, OSError) as exc:
                log.warning("event=room_read_failed room=%s error=%s", self.room, exc)
                await asyncio.sleep(0.5)
                continue
            for _stream, entries in answer or ():
                for entry_id, fields in entries:
                    seq = int(entry_id.split(b"-", 1)[0])
                    if seq <= self.last:
                        continue
                    self.last = seq
                    event = RoomEvent(self.room, seq, orjson.loads(fields[b"d"]))
                    for listener in list(self.listeners):
                        listener(event)


class _RedisSubscription:
    def __init__(self, hub: RedisRoomHub, room: str, listener: Listener) -> None:
        self.hub = hub
        self.room = room
        self.listener = listener

    async def close(self) -> None:
        await self.hub._unsubscribe(self.room, self.listener)


class RedisRoomHub:
    """Rooms on Redis Streams (log), Pub/Sub (ephemera) and sorted sets (presence)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "asciihub",
        clock: Callable[[], float] = time.time,
        block_ms: int = 5000,
    ) -> None:
        self.redis = aioredis.Redis.from_url(url)
        self.blocking = aioredis.Redis.from_url(url, socket_timeout=None)
        self.namespace = namespace
        self.clock = clock
        self.block_ms = block_ms
        self.readers: dict[str, _StreamReader] = {}
        self.ephemeral: dict[str, set[Listener]] = {}
        self._pubsub: Any = None
        self._pubsub_task: asyncio.Task[None] | None = None
        self._append = self.redis.register_script(_APPEND)
        self._snapshot = self.redis.register_script(_SNAPSHOT)
        self._lock = asyncio.Lock()
        self.persistent: bool | None = None
        """What ``CONFIG GET appendonly`` said last (None: not asked or no answer)."""

    async def _call(self, work: Callable[[], Awaitable[T]]) -> T:
        try:
            return await work()
        except (redis_errors.RedisError, OSError) as exc:
            raise _unavailable(exc) from exc

    # --- the log -------------------------------------------------------------------
    async def append(self, room: str, data: dict[str, Any], *, ttl: int | None = None) -> int:
        """``INCR`` + ``XADD`` in one script; the entry's seq."""
        keys = [seq_key(self.namespace, room), stream_key(self.namespace, room)]
        body = orjson.dumps(data)
        seq = await self._call(lambda: self._append(keys=keys, args=[body, int(ttl or 0)]))
        return int(seq)

    async def last_seq(self, room: str) -> int:
        """The room's seq counter."""
        value = await self._call(lambda: self.redis.get(seq_key(self.namespace, room)))
        return int(value) if value else 0

    async def read(self, room: str, after: int = 0, *, limit: int = 1000) -> Sequence[RoomEvent]:
        """``XRANGE`` from ``after + 1``; LogCompacted when a snapshot covers the gap."""
        snap_seq = await self._call(
            lambda: self.redis.hget(snapshot_key(self.namespace, room), "seq")
        )
        if snap_seq is not None and after < int(snap_seq):
            raise LogCompacted(room, after, int(snap_seq) + 1)
        entries: Any = await self._call(
            lambda: self.redis.xrange(
                stream_key(self.namespace, room), min=f"{after + 1}-0", count=limit
            )
        )
        return [
            RoomEvent(room, int(entry_id.split(b"-", 1)[0]), orjson.loads(fields[b"d"]))
            for entry_id, fields in entries
        ]

    # --- delivery ------------------------------------------------------------------
    async def subscribe(self, room: str, listener: Listener) -> Subscription:
        """Start (or join) the room's stream reader and its Pub/Sub channel."""
        async with self._lock:
            reader = self.readers.get(room)
            if reader is None:
                start = await self.last_seq(room)
                reader = _StreamReader(self, room, start)
                self.readers[room] = reader
            reader.listeners.add(listener)
            listeners = self.ephemeral.get(room)
            if listeners is None:
                listeners = self.ephemeral[room] = set()
                await self._call(lambda: self._channel_subscribe(room))
            listeners.add(listener)
        return _RedisSubscription(self, room, listener)

    async def _channel_subscribe(self, room: str) -> None:
        if self._pubsub is None:
            self._pubsub = self.blocking.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(channel(self.namespace, room))
        if self._pubsub_task is None:
            self._pubsub_task = asyncio.create_task(self._listen(), name="room-pubsub")

    async def _listen(self) -> None:
        prefix = f"{self.namespace}:room:{{"
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except (redis_errors.RedisError, OSError) as exc:
                log.warning("event=room_pubsub_failed error=%s", exc)
                await asyncio.sleep(0.5)
                continue
            if not message or message.get("type") != "message":
                continue
            name = message["channel"].decode()
            room = name[len(prefix) : name.rindex("}")]
            event = RoomEvent(room, None, orjson.loads(message["data"]))
            for listener in list(self.ephemeral.get(room, ())):
                listener(event)

    async def _unsubscribe(self, room: str, listener: Listener) -> None:
        async with self._lock:
            reader = self.readers.get(room)
            if reader is not None:
                reader.listeners.discard(listener)
                if not reader.listeners:
                    del self.readers[room]
                    reader.task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await reader.task
            listeners = self.ephemeral.get(room)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self.ephemeral[room]
                    if self._pubsub is not None:
                        with contextlib.suppress(redis_errors.RedisError, OSError):
                            await self._pubsub.unsubscribe(channel(self.namespace, room))

    async def publish(self, room: str, data: dict[str, Any]) -> None:
        """``PUBLISH`` on the room's channel."""
        body = orjson.dumps(data)
        await self._call(lambda: self.redis.publish(channel(self.namespace, room), body))

    # --- snapshots -----------------------------------------------------------------
    async def save_snapshot(self, room: str, snapshot: Snapshot) -> None:
        """Store a newer snapshot and ``XTRIM MINID`` past its seq, in one script."""
        keys = [snapshot_key(self.namespace, room), stream_key(self.namespace, room)]
        body = orjson.dumps(snapshot.data)
        await self._call(lambda: self._snapshot(keys=keys, args=[snapshot.seq, body]))

    async def load_snapshot(self, room: str) -> Snapshot | None:
        """The stored snapshot."""
        found = await self._call(lambda: self.redis.hgetall(snapshot_key(self.namespace, room)))
        if not found:
            return None
        return Snapshot(int(found[b"seq"]), orjson.loads(found[b"data"]))

    # --- presence ------------------------------------------------------------------
    async def join(
        self, room: str, member_id: str, user_id: str, *, ttl: float, data: dict[str, Any]
    ) -> None:
        """``ZADD`` the member with its expiry, ``HSET`` its data."""
        zkey, hkey = presence_key(self.namespace, room), member_data_key(self.namespace, room)
        body = orjson.dumps({"u": user_id, "d": data})

        async def work() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zadd(zkey, {member_id: self.clock() + ttl})
                pipe.hset(hkey, member_id, body)
                pipe.expire(zkey, _PRESENCE_KEEP)
                pipe.expire(hkey, _PRESENCE_KEEP)
                await pipe.execute()

        await self._call(work)

    async def leave(self, room: str, member_id: str) -> None:
        """Remove a member."""
        zkey, hkey = presence_key(self.namespace, room), member_data_key(self.namespace, room)

        async def work() -> None:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrem(zkey, member_id)
                pipe.hdel(hkey, member_id)
                await pipe.execute()

        await self._call(work)

    async def members(self, room: str) -> Sequence[Member]:
        """Trim expired members, then list the rest."""
        zkey, hkey = presence_key(self.namespace, room), member_data_key(self.namespace, room)
        now = self.clock()

        async def work() -> list[Member]:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.zrangebyscore(zkey, "-inf", now)
                pipe.zremrangebyscore(zkey, "-inf", now)
                pipe.zrange(zkey, 0, -1, withscores=True)
                pipe.hgetall(hkey)
                gone, _removed, live, data = await pipe.execute()
            if gone:
                await self.redis.hdel(hkey, *gone)
            found = []
            for member_id, score in live:
                raw = data.get(member_id)
                info: dict[str, Any] = orjson.loads(raw) if raw else {"u": "", "d": {}}
                found.append(Member(member_id.decode(), str(info["u"]), float(score), info["d"]))
            return sorted(found, key=lambda member: member.member_id)

        return await self._call(work)

    async def delete_room(self, room: str) -> None:
        """Delete every key of the room."""
        names = [
            fn(self.namespace, room)
            for fn in (stream_key, seq_key, snapshot_key, presence_key, member_data_key)
        ]
        await self._call(lambda: self.redis.delete(*names))

    async def ping(self) -> None:
        """``PING``, then the persistence check (a warning, never a failure)."""
        await self._call(self.redis.ping)
        await self.check_persistence()

    async def check_persistence(self) -> bool | None:
        """Whether Redis keeps an append-only file; logs a warning when it does not.

        The kill -9 promise of an acknowledged edit rests on Redis persisting the room
        streams. None when Redis cannot say (down, or ``CONFIG`` is forbidden, as on
        some managed services); the warning is logged when the answer turns to no.
        """
        try:
            answer = await self.redis.config_get("appendonly")
        except (redis_errors.RedisError, OSError):
            return None
        found: dict[Any, Any] = dict(answer)
        value = found.get("appendonly", found.get(b"appendonly"))
        if isinstance(value, bytes):
            value = value.decode()
        if value is None:
            return None
        persistent = str(value).lower() == "yes"
        if not persistent and self.persistent is not False:
            log.warning(
                "event=rooms_redis_not_persistent appendonly=%s hint=%s",
                value,
                "acknowledged room edits survive a Redis restart only with appendonly yes",
            )
        self.persistent = persistent
        return persistent

    async def purge_expired(self) -> int:
        """Nothing to do: Redis expires a room's keys itself."""
        return 0

    async def close(self) -> None:
        """Stop readers and the Pub/Sub task; close connections."""
        tasks = [reader.task for reader in self.readers.values()]
        if self._pubsub_task is not None:
            tasks.append(self._pubsub_task)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.readers.clear()
        self.ephemeral.clear()
        if self._pubsub is not None:
            with contextlib.suppress(redis_errors.RedisError, OSError):
                await self._pubsub.aclose()
        await self.redis.aclose()
        await self.blocking.aclose()
