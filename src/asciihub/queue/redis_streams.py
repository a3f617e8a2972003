"""The scale-out queue backend: Redis Streams with one consumer group per queue.

``XADD`` sends, ``XREADGROUP`` leases new messages, ``XACK`` + ``XDEL`` acknowledge,
and ``XAUTOCLAIM`` takes over messages idle longer than the visibility timeout (those
of a consumer that died). Delayed messages and delayed retries wait in a sorted set
and a Lua script moves the due ones into the stream. Dead letters go to a second
stream. Redis loses acknowledged messages unless AOF is on, so opening refuses a
server without it unless ``accept_queue_loss`` is set.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError, ResponseError

from asciihub.errors import DependencyDown
from asciihub.queue import _redis_scripts as scripts
from asciihub.queue import keys
from asciihub.queue._bodies import decode_body, encode_batch
from asciihub.queue.limits import (
    check_delay,
    check_max_messages,
    check_queue_name,
    check_visibility_timeout,
)
from asciihub.queue.protocol import ContentType, DeadMessage, Message, OutgoingMessage, QueueStats
from asciihub.queue.redis_durability import check_durability

log = logging.getLogger(__name__)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@contextlib.contextmanager
def _redis_errors(action: str) -> Iterator[None]:
    try:
        yield
    except RedisError as exc:
        log.warning("event=queue_redis_error action=%s error=%r", action, str(exc))
        message = f"the Redis queue failed to {action}: {exc}"
        raise DependencyDown(message, code="queue_unavailable") from exc


@dataclass(frozen=True, slots=True)
class _Header:
    id: str
    created_ms: int
    content_type: ContentType
    prior: int  # deliveries before this stream entry

    def pack(self, body: bytes, *, prior: int | None = None) -> bytes:
        fields = {"i": self.id, "t": self.created_ms, "c": self.content_type}
        fields["p"] = self.prior if prior is None else prior
        return orjson.dumps(fields) + b"\n" + body


def _unpack(packed: bytes) -> tuple[_Header, bytes]:
    head, _, body = packed.partition(b"\n")
    fields = orjson.loads(head)
    return _Header(fields["i"], fields["t"], fields["c"], fields["p"]), body


@dataclass(frozen=True, slots=True)
class _Held:
    queue: str
    entry_id: bytes
    header: _Header
    body: bytes
    attempts: int


def _utc_ms(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


class RedisStreamsJobQueue:
    """``JobQueue`` on Redis Streams; open with :meth:`open`."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        delivery_delay: float = 0.0,
        consumer_name: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = client
        self.delivery_delay = check_delay(delivery_delay, what="delivery_delay")
        self.consumer_name = consumer_name or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        self._clock = clock
        self._groups: set[str] = set()
        self._held: dict[str, _Held] = {}
        self._scripts = {
            name: client.register_script(getattr(scripts, name))
            for name in ("RECEIVE", "ACK", "REQUEUE", "DEAD_LETTER", "EXTEND", "DEAD_RETRY")
        }
        self._scripts["DEAD_PURGE_ALL"] = client.register_script(scripts.DEAD_PURGE_ALL)
        self._scripts["STATS"] = client.register_script(scripts.STATS)

    @classmethod
    async def open(
        cls, url: str, *, accept_queue_loss: bool = False, **options: Any
    ) -> RedisStreamsJobQueue:
        """Connect, check that Redis keeps what it acknowledges, and return the queue."""
        # A command that meets a connection Redis closed (pooled before a restart) is
        # sent once more on a new one instead of failing; delivery is at-least-once.
        client = aioredis.Redis.from_url(url, decode_responses=False, retry=Retry(NoBackoff(), 1))
        try:
            with _redis_errors("connect"):
                await client.ping()
                await check_durability(client, accept_queue_loss=accept_queue_loss)
        except BaseException:
            await client.aclose()
            raise
        return cls(client, **options)

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    async def _ensure_group(self, queue: str) -> None:
        if queue in self._groups:
            return
        try:
            await self._redis.xgroup_create(keys.stream_key(queue), keys.REDIS_GROUP, "0", True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._groups.add(queue)

    # --- producers -----------------------------------------------------------------
    async def send(
        self,
        queue: str,
        body: Any,
        *,
        content_type: ContentType = "json",
        delay_seconds: float | None = None,
    ) -> str:
        """XADD one message (or park it in the delayed set); return its id."""
        ids = await self.send_batch(
            queue, [OutgoingMessage(body, content_type)], delay_seconds=delay_seconds
        )
        return ids[0]

    async def send_batch(
        self,
        queue: str,
        messages: Sequence[OutgoingMessage],
        *,
        delay_seconds: float | None = None,
    ) -> list[str]:
        """Store up to 100 messages in one MULTI/EXEC transaction; return their ids."""
        batch = encode_batch(
            queue, messages, default_delay=self.delivery_delay, delay_seconds=delay_seconds
        )
        now_ms = self._now_ms()
        ids: list[str] = []
        pipe = self._redis.pipeline(transaction=len(batch) > 1)
        for item, raw, delay in batch:
            header = _Header(uuid.uuid4().hex, now_ms, item.content_type, 0)
            packed = header.pack(raw)
            if delay > 0:
                pipe.zadd(keys.delayed_key(queue), {header.id: now_ms + int(delay * 1000)})
                pipe.hset(keys.delayed_data_key(queue), header.id, packed)
            else:
                pipe.xadd(keys.stream_key(queue), {"m": packed})
            ids.append(header.id)
        with _redis_errors("send"):
            if len(pipe) == 1:  # one XADD: skip the pipeline machinery
                await self._redis.xadd(keys.stream_key(queue), {"m": packed})
            else:
                await pipe.execute()
        return ids

    # --- consumers -----------------------------------------------------------------
    async def receive(
        self, queue: str, *, max_messages: int = 10, visibility_timeout: float = 30.0
    ) -> list[Message]:
        """Move due delayed messages in, reclaim expired leases, then read new ones."""
        check_queue_name(queue)
        count = check_max_messages(max_messages)
        idle_ms = int(check_visibility_timeout(visibility_timeout) * 1000)
        keys_ = [
            keys.stream_key(queue),
            keys.delayed_key(queue),
            keys.delayed_data_key(queue),
            keys.claim_cursor_key(queue),
        ]
        args: list[Any] = [keys.REDIS_GROUP, self.consumer_name, count, idle_ms, self._now_ms()]
        with _redis_errors("receive"):
            await self._ensure_group(queue)
            try:
                deleted, rows = await self._scripts["RECEIVE"](keys_, args)
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                self._groups.discard(queue)
                await self._ensure_group(queue)
                deleted, rows = await self._scripts["RECEIVE"](keys_, args)
        if deleted:
            log.warning("event=queue_claim_deleted queue=%s count=%d", queue, deleted)
        messages = []
        for entry_id, packed, deliveries in rows:
            header, raw = _unpack(packed)
            attempts = header.prior + int(deliveries)
            self._held[header.id] = _Held(queue, entry_id, header, raw, attempts)
            body = decode_body(raw, header.content_type)
            messages.append(
                Message(header.id, queue, _utc_ms(header.created_ms), body, header.content_type,
                        attempts)
            )  # fmt: skip
        return messages

    def _by_queue(self, ids: Sequence[str]) -> dict[str, list[_Held]]:
        groups: dict[str, list[_Held]] = {}
        for ident in dict.fromkeys(ids):
            held = self._held.get(ident)
            if held is not None:
                groups.setdefault(held.queue, []).append(held)
        return groups

    def _forget(self, items: Sequence[_Held]) -> None:
        for held in items:
            self._held.pop(held.header.id, None)

    async def ack(self, ids: Sequence[str]) -> int:
        """XACK and XDEL held messages."""
        done = 0
        for queue, items in self._by_queue(ids).items():
            args: list[Any] = [keys.REDIS_GROUP, self.consumer_name]
            args += [h.entry_id for h in items]
            with _redis_errors("ack"):
                done += await self._scripts["ACK"]([keys.stream_key(queue)], args)
            self._forget(items)
        return done

    async def _requeue(self, ids: Sequence[str], delay: float, *, counts: bool) -> int:
        done, now_ms = 0, self._now_ms()
        due_ms = now_ms + int(delay * 1000) if delay > 0 else 0
        for queue, items in self._by_queue(ids).items():
            args: list[Any] = [keys.REDIS_GROUP, self.consumer_name, now_ms]
            for held in items:
                prior = held.attempts if counts else held.attempts - 1
                args += [
                    held.entry_id,
                    held.header.id,
                    due_ms,
                    held.header.pack(held.body, prior=prior),
                ]
            names = [keys.stream_key(queue), keys.delayed_key(queue), keys.delayed_data_key(queue)]
            with _redis_errors("retry"):
                done += await self._scripts["REQUEUE"](names, args)
            self._forget(items)
        return done

    async def retry(self, ids: Sequence[str], *, delay_seconds: float = 0.0) -> int:
        """Re-add held messages as new entries, now or via the delayed set."""
        return await self._requeue(ids, check_delay(delay_seconds), counts=True)

    async def release(self, ids: Sequence[str]) -> int:
        """Re-add held messages at once without counting this delivery."""
        return await self._requeue(ids, 0.0, counts=False)

    async def dead_letter(self, ids: Sequence[str], *, code: str, message: str) -> int:
        """Move held messages to the dead-letter stream."""
        done = 0
        for queue, items in self._by_queue(ids).items():
            args: list[Any] = [keys.REDIS_GROUP, self.consumer_name, code, message, self._now_ms()]
            for held in items:
                args += [held.entry_id, held.header.pack(held.body, prior=held.attempts)]
            names = [keys.stream_key(queue), keys.dead_key(queue)]
            with _redis_errors("dead-letter"):
                done += await self._scripts["DEAD_LETTER"](names, args)
            self._forget(items)
        return done

    async def extend_lease(self, ids: Sequence[str], *, visibility_timeout: float) -> list[str]:
        """Reset the idle time of held messages (XCLAIM JUSTID); return those still held.

        Every consumer of a queue uses its own visibility timeout as XAUTOCLAIM's idle
        threshold, so the lease after a heartbeat lasts that long, whatever is passed.
        """
        check_visibility_timeout(visibility_timeout)
        kept: list[str] = []
        for queue, items in self._by_queue(ids).items():
            args: list[Any] = [keys.REDIS_GROUP, self.consumer_name]
            args += [h.entry_id for h in items]
            with _redis_errors("extend leases"):
                still = set(await self._scripts["EXTEND"]([keys.stream_key(queue)], args))
            lost = [h for h in items if h.entry_id not in still]
            self._forget(lost)
            kept += [h.header.id for h in items if h.entry_id in still]
        return kept

    # --- the dead-letter queue and stats ----------------------------------------------
    async def _dead_entries(self, queue: str, limit: int | None) -> list[tuple[bytes, Any]]:
        check_queue_name(queue)
        with _redis_errors("read dead letters"):
            if limit is not None:
                first: Any = await self._redis.xrange(keys.dead_key(queue), count=limit)
                return list(first)
            entries: list[tuple[bytes, Any]] = []
            start: bytes = b"-"
            while True:
                page: Any = await self._redis.xrange(keys.dead_key(queue), start, count=500)
                if not page:
                    return entries
                entries += page
                start = b"(" + page[-1][0]

    async def dead_list(self, queue: str, *, limit: int = 100) -> list[DeadMessage]:
        """The oldest ``limit`` entries of the dead-letter stream."""
        result = []
        for _, fields in await self._dead_entries(queue, limit):
            header, raw = _unpack(fields[b"m"])
            result.append(
                DeadMessage(
                    header.id, queue, _utc_ms(header.created_ms),
                    decode_body(raw, header.content_type), header.content_type, header.prior,
                    _utc_ms(int(fields[b"at"])), _text(fields[b"code"]), _text(fields[b"error"]),
                )
            )  # fmt: skip
        return result

    async def _dead_pick(self, queue: str, ids: Sequence[str] | None) -> list[Any]:
        wanted = None if ids is None else set(ids)
        picked: list[Any] = []
        for entry_id, fields in await self._dead_entries(queue, None):
            header, raw = _unpack(fields[b"m"])
            if wanted is None or header.id in wanted:
                picked += [entry_id, header.pack(raw, prior=0)]
        return picked

    async def dead_retry(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Move dead messages back to the stream with attempts reset."""
        picked = await self._dead_pick(queue, ids)
        if not picked:
            return 0
        names = [keys.dead_key(queue), keys.stream_key(queue)]
        with _redis_errors("retry dead letters"):
            return int(await self._scripts["DEAD_RETRY"](names, picked))

    async def dead_purge(self, queue: str, ids: Sequence[str] | None = None) -> int:
        """Delete dead messages of ``queue``."""
        if ids is None:
            check_queue_name(queue)
            with _redis_errors("purge dead letters"):
                return int(await self._scripts["DEAD_PURGE_ALL"]([keys.dead_key(queue)], []))
        entry_ids = (await self._dead_pick(queue, ids))[::2]
        if not entry_ids:
            return 0
        with _redis_errors("purge dead letters"):
            return int(await self._redis.xdel(keys.dead_key(queue), *entry_ids))

    async def ping(self) -> None:
        """``PING``."""
        with _redis_errors("ping"):
            await self._redis.ping()

    async def stats(self, queue: str) -> QueueStats:
        """Counts from XLEN, XPENDING and ZCARD in one script."""
        check_queue_name(queue)
        names = [keys.stream_key(queue), keys.delayed_key(queue), keys.dead_key(queue)]
        with _redis_errors("read stats"):
            length, pending, delayed, dead = await self._scripts["STATS"](names, [keys.REDIS_GROUP])
        return QueueStats(queue, max(length - pending, 0), delayed, pending, dead)

    async def close(self) -> None:
        """Leave the consumer groups (when holding nothing) and disconnect."""
        try:
            for queue in self._groups:
                stream = keys.stream_key(queue)
                mine = await self._redis.xpending_range(
                    stream, keys.REDIS_GROUP, "-", "+", 1, consumername=self.consumer_name
                )
                if not mine:
                    await self._redis.xgroup_delconsumer(
                        stream, keys.REDIS_GROUP, self.consumer_name
                    )
        except RedisError as exc:
            log.warning("event=queue_redis_close_failed error=%r", str(exc))
        finally:
            await self._redis.aclose()
